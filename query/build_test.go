package query_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/query"
)

// TestBuilderMatchesText checks that every builder form makes the same
// expression as its text form.
func TestBuilderMatchesText(t *testing.T) {
	f, l, a := query.Field, query.Label, query.AnnotationField
	tests := []struct {
		e    query.Expr
		text string
	}{
		{f("width").Lt(256), `width < 256`},
		{f("width").Le(int8(-3)), `width <= -3`},
		{f("width").Gt(uint16(7)), `width > 7`},
		{f("width").Ge(2.5), `width >= 2.5`},
		{f("width").Ge(float32(2)), `width >= 2.0`},
		{f("file_name").Eq("a.jpg"), `file_name == "a.jpg"`},
		{f("flag").Ne(true), `flag != true`},
		{f("created_at").Ge(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), `created_at >= "2024-01-01T00:00:00Z"`},
		{f("sample_id").Eq(uuid.MustParse("11111111-1111-1111-1111-111111111111")), `sample_id == "11111111-1111-1111-1111-111111111111"`},
		{f("weather").In("rain", "snow"), `weather in ("rain", "snow")`},
		{f("weather").In([]string{"rain", "snow"}), `weather in ("rain", "snow")`},
		{f("n").In([]int{1, 2}, 3), `n in (1, 2, 3)`},
		{f("n").In(), `n in ()`},
		{f("difficulty").IsNull(), `difficulty is null`},
		{f("difficulty").IsNotNull(), `difficulty is not null`},
		{f("file_path").StartsWith("s3://bucket/cam2/"), `file_path startswith "s3://bucket/cam2/"`},
		{f("file_name").Contains("night"), `file_name contains "night"`},
		{query.Tagged("reviewed"), `tagged("reviewed")`},
		{query.Annotation(), `annotation()`},
		{query.Annotation(l().Eq("cat"), a("confidence").Gt(0.5)), `annotation(label == "cat" and confidence > 0.5)`},
		{query.Count(query.Annotation(l().Eq("person"))).Ge(3), `count(annotation(label == "person")) >= 3`},
		{query.Count(query.Annotation()).Lt(1), `count(annotation()) < 1`},
		{query.Count(query.Annotation()).Le(1), `count(annotation()) <= 1`},
		{query.Count(query.Annotation()).Gt(1), `count(annotation()) > 1`},
		{query.Count(query.Annotation()).Eq(1), `count(annotation()) == 1`},
		{query.Count(query.Annotation()).Ne(1), `count(annotation()) != 1`},
		{query.And(), `true`},
		{query.Or(), `false`},
		{query.And(f("a").Lt(1)), `a < 1`},
		{query.Or(f("a").Lt(1)), `a < 1`},
		{query.Or(query.And(f("a").Lt(1), f("b").Lt(2)), query.Not(f("c").Lt(3))), `a < 1 and b < 2 or not c < 3`},
		{query.And(query.Or(f("a").Lt(1), f("b").Lt(2)), f("c").Lt(3)), `(a < 1 or b < 2) and c < 3`},
		{f("and").Eq(1), "`and` == 1"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.text {
			t.Errorf("String() = %q, want %q", got, tt.text)
		}
		parsed, err := query.Parse(tt.text)
		if err != nil {
			t.Errorf("Where(%q): %v", tt.text, err)
			continue
		}
		if !query.Equal(tt.e, parsed) {
			t.Errorf("builder and Where(%q) differ: %s", tt.text, parsed)
		}
	}
}

// schemaSource answers the schema questions Check asks; it holds no data.
type schemaSource struct{}

func (schemaSource) Len() int { return 0 }
func (schemaSource) SampleSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{{Name: "width", Type: arrow.PrimitiveTypes.Int64}}, nil)
}
func (schemaSource) AnnotationSchema() *arrow.Schema { return nil }
func (schemaSource) TagNames() []string              { return nil }
func (schemaSource) SampleTable(context.Context, []string) (arrow.Table, error) {
	return nil, errors.New("no data")
}
func (schemaSource) AnnotationTable(context.Context, []string) ([]int32, arrow.Table, error) {
	return nil, nil, errors.New("no data")
}
func (schemaSource) Tag(string) (*bitmap.Bitmap, error) { return nil, errors.New("no tags") }

func TestBuilderBadValues(t *testing.T) {
	tests := []struct {
		e    query.Expr
		want string
	}{
		{query.Field("width").Lt([]int{1}), `column "width" (int64): unsupported value: Go value [1] of type []int`},
		{query.Field("width").Lt(uint64(1 << 63)), `column "width" (int64): unsupported value: 9223372036854775808 exceeds the int64 range`},
		{query.Field("width").Gt(math.Inf(1)), `column "width" (int64): unsupported value: +Inf (NaN and infinities cannot be compared)`},
		{query.Field("width").In(1, math.NaN()), `column "width" (int64): unsupported value: NaN (NaN and infinities cannot be compared)`},
		{query.Field("width").Eq(nil), `column "width" (int64): unsupported value: nil (comparisons with null are never true; use IsNull or IsNotNull)`},
		{query.Field("width").Lt("x"), `column "width" has type int64, but "x" is a string; compare it with a number`},
		{query.Field("widht").Lt(1), `unknown column "widht"; samples columns are: width`},
	}
	for _, tt := range tests {
		err := query.Check(tt.e, schemaSource{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("query.Check(%s) = %v, want %s", tt.e, err, tt.want)
		}
	}
}

func TestWhereSyntaxError(t *testing.T) {
	_, err := query.Parse("width <")
	want := "1:8: syntax error: expected a value (string, number, true or false), found end of text\n  width <\n         ^"
	if err == nil || err.Error() != want {
		t.Errorf("Where error:\n%v\nwant:\n%s", err, want)
	}
}

func ExampleField() {
	fmt.Println(query.Field("width").Lt(256))
	fmt.Println(query.Field("created_at").Ge("2024-01-01"))
	fmt.Println(query.Field("file_name").Eq("a.jpg"))
	// Output:
	// width < 256
	// created_at >= "2024-01-01"
	// file_name == "a.jpg"
}

func ExampleColumn_In() {
	fmt.Println(query.Field("weather").In("rain", "snow"))
	// Output: weather in ("rain", "snow")
}

func ExampleColumn_IsNull() {
	fmt.Println(query.Field("difficulty").IsNull())
	fmt.Println(query.Field("difficulty").IsNotNull())
	// Output:
	// difficulty is null
	// difficulty is not null
}

func ExampleColumn_StartsWith() {
	fmt.Println(query.Field("file_path").StartsWith("s3://bucket/cam2/"))
	// Output: file_path startswith "s3://bucket/cam2/"
}

func ExampleColumn_Contains() {
	fmt.Println(query.Field("file_name").Contains("night"))
	// Output: file_name contains "night"
}

func ExampleAnd() {
	e := query.And(
		query.Field("width").Lt(256),
		query.Field("weather").In("rain", "snow"),
		query.Not(query.Tagged("reviewed")),
	)
	fmt.Println(e)
	fmt.Println(query.And())
	// Output:
	// width < 256 and weather in ("rain", "snow") and not tagged("reviewed")
	// true
}

func ExampleOr() {
	e := query.Or(query.Field("weather").Eq("fog"), query.Tagged("hard"))
	fmt.Println(e)
	fmt.Println(query.Or())
	// Output:
	// weather == "fog" or tagged("hard")
	// false
}

func ExampleNot() {
	fmt.Println(query.Not(query.Or(query.Field("width").Lt(64), query.Field("height").Lt(64))))
	// Output: not (width < 64 or height < 64)
}

func ExampleTagged() {
	fmt.Println(query.Tagged("reviewed"))
	// Output: tagged("reviewed")
}

func ExampleAnnotation() {
	fmt.Println(query.Annotation(query.Label().Eq("cat"), query.AnnotationField("confidence").Gt(0.5)))
	fmt.Println(query.Annotation())
	// Output:
	// annotation(label == "cat" and confidence > 0.5)
	// annotation()
}

func ExampleCount() {
	fmt.Println(query.Count(query.Annotation(query.Label().Eq("person"))).Ge(3))
	// Output: count(annotation(label == "person")) >= 3
}

func ExampleParse() {
	e, err := query.Parse(`width < 256 AND (weather == "rain" or weather == "snow")`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)
	_, err = query.Parse(`width < 256 and weather in ("rain" "snow")`)
	fmt.Println(err)
	// Output:
	// width < 256 and (weather == "rain" or weather == "snow")
	// 1:36: syntax error: expected "," or ")" in the list, found "snow"
	//   width < 256 and weather in ("rain" "snow")
	//                                      ^
}
