package smoke

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
)

func square(x int) int { return x * x }

func init() { register.Function1x1(square) }

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

func TestPrism(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, []int{1, 2, 3})
	sq := beam.ParDo(s, square, in)
	passert.Sum(s, sq, "sum", 3, 14)
	if _, err := prism.Execute(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}
