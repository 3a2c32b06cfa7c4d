package columnar

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestSampleColumnsDictionaryStrings: string columns come back
// dictionary-encoded from SampleColumns (for the predicate kernels) with
// the same values ReadTable gives as plain strings.
func TestSampleColumnsDictionaryStrings(t *testing.T) {
	ds := mustOpen(t, "../testdata/mnist")
	ctx := context.Background()
	got, err := ds.SampleTable(ctx, []string{"thickness", "width"})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if _, ok := got.Column(0).DataType().(*arrow.DictionaryType); !ok {
		t.Fatalf("thickness is %s, want a dictionary", got.Column(0).DataType())
	}
	if got.Column(1).DataType().ID() != arrow.INT64 {
		t.Fatalf("width is %s, want int64", got.Column(1).DataType())
	}
	plain, err := ReadTable(ctx, ds.TablePath("samples"), []string{"thickness"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Release()
	var want, have []string
	for _, c := range plain.Column(0).Data().Chunks() {
		s := c.(*array.String)
		for i := 0; i < s.Len(); i++ {
			want = append(want, s.Value(i))
		}
	}
	for _, c := range got.Column(0).Data().Chunks() {
		d := c.(*array.Dictionary)
		vals := d.Dictionary().(*array.String)
		for i := 0; i < d.Len(); i++ {
			have = append(have, vals.Value(d.GetValueIndex(i)))
		}
	}
	if len(want) != ds.Len() || len(have) != len(want) {
		t.Fatalf("read %d and %d values, want %d", len(have), len(want), ds.Len())
	}
	for i := range want {
		if want[i] != have[i] {
			t.Fatalf("row %d: dictionary read %q, plain read %q", i, have[i], want[i])
		}
	}
}
