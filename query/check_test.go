package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"
)

// qSource is an in-memory Source over Arrow tables, recording which
// columns evaluation asked for.
type qSource struct {
	samples   arrow.Table
	anns      arrow.Table // nil: no annotations table
	annSample []int32
	tags      map[string]*bitmap.Bitmap
	tagOrder  []string

	sampleReads [][]string
	annReads    [][]string
}

func (s *qSource) Len() int                    { return int(s.samples.NumRows()) }
func (s *qSource) SampleSchema() *arrow.Schema { return s.samples.Schema() }
func (s *qSource) TagNames() []string          { return s.tagOrder }
func (s *qSource) Tag(name string) (*bitmap.Bitmap, error) {
	b, ok := s.tags[name]
	if !ok {
		return nil, fmt.Errorf("no tag %q", name)
	}
	return b, nil
}

func (s *qSource) AnnotationSchema() *arrow.Schema {
	if s.anns == nil {
		return nil
	}
	return s.anns.Schema()
}

func project(t arrow.Table, names []string) (arrow.Table, error) {
	var fields []arrow.Field
	var cols []arrow.Column
	for _, n := range names {
		idx := t.Schema().FieldIndices(n)
		if len(idx) == 0 {
			return nil, fmt.Errorf("no column %q", n)
		}
		fields = append(fields, t.Schema().Field(idx[0]))
		cols = append(cols, *t.Column(idx[0]))
	}
	return array.NewTable(arrow.NewSchema(fields, nil), cols, t.NumRows()), nil
}

func (s *qSource) SampleTable(_ context.Context, names []string) (arrow.Table, error) {
	s.sampleReads = append(s.sampleReads, slices.Clone(names))
	return project(s.samples, names)
}

func (s *qSource) AnnotationTable(_ context.Context, names []string) ([]int32, arrow.Table, error) {
	s.annReads = append(s.annReads, append(make([]string, 0, len(names)), names...))
	if names == nil {
		s.annReads[len(s.annReads)-1] = nil
	}
	t, err := project(s.anns, names)
	if err != nil {
		return nil, nil, err
	}
	return s.annSample, t, nil
}

// qCol builds an array of type t from Go values; nil is null.
func qCol(t arrow.DataType, vals ...any) arrow.Array {
	mem := memory.DefaultAllocator
	var b array.Builder
	if _, ok := t.(*extensions.UUIDType); ok {
		b = extensions.NewUUIDBuilder(mem)
	} else {
		b = array.NewBuilder(mem, t)
	}
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(int64(v.(int)))
		case *array.Int32Builder:
			b.Append(int32(v.(int)))
		case *array.Int16Builder:
			b.Append(int16(v.(int)))
		case *array.Int8Builder:
			b.Append(int8(v.(int)))
		case *array.Uint8Builder:
			b.Append(uint8(v.(int)))
		case *array.Uint16Builder:
			b.Append(uint16(v.(int)))
		case *array.Uint32Builder:
			b.Append(uint32(v.(int)))
		case *array.Uint64Builder:
			b.Append(v.(uint64))
		case *array.Float64Builder:
			b.Append(v.(float64))
		case *array.Float32Builder:
			b.Append(float32(v.(float64)))
		case *array.BooleanBuilder:
			b.Append(v.(bool))
		case *array.StringBuilder:
			b.Append(v.(string))
		case *array.LargeStringBuilder:
			b.Append(v.(string))
		case *array.BinaryDictionaryBuilder:
			if err := b.AppendString(v.(string)); err != nil {
				panic(err)
			}
		case *array.TimestampBuilder:
			unit := t.(*arrow.TimestampType).Unit
			b.Append(arrow.Timestamp(v.(time.Time).UnixNano() / int64(unit.Multiplier())))
		case *array.Date32Builder:
			b.Append(arrow.Date32FromTime(v.(time.Time)))
		case *extensions.UUIDBuilder:
			b.Append(v.(uuid.UUID))
		default:
			panic(fmt.Sprintf("qCol: no case for %T", b))
		}
	}
	return b.NewArray()
}

// qTable makes a table of the given columns, cut into chunks at the given
// row offsets so that evaluation crosses chunk boundaries that are not
// multiples of 64.
func qTable(fields []arrow.Field, cols []arrow.Array, cuts ...int) arrow.Table {
	data := make([][]arrow.Array, len(cols))
	for i, c := range cols {
		prev := 0
		for _, cut := range append(slices.Clone(cuts), c.Len()) {
			data[i] = append(data[i], array.NewSlice(c, int64(prev), int64(cut)))
			prev = cut
		}
	}
	return array.NewTableFromSlice(arrow.NewSchema(fields, nil), data)
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	weatherType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	tsType      = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	qIDs        = []uuid.UUID{
		uuid.MustParse("00000000-0000-0000-0000-000000000000"),
		uuid.MustParse("11111111-1111-1111-1111-111111111111"),
		uuid.MustParse("22222222-2222-2222-2222-222222222222"),
		uuid.MustParse("33333333-3333-3333-3333-333333333333"),
		uuid.MustParse("44444444-4444-4444-4444-444444444444"),
		uuid.MustParse("55555555-5555-5555-5555-555555555555"),
		uuid.MustParse("66666666-6666-6666-6666-666666666666"),
	}
)

// fixture is the hand-computed dataset of the spec tests:
//
//	row file_name     file_path           width height created_at              weather difficulty flag score
//	0   a.jpg         s3://bucket/cam1/a  100   50     2024-01-01T00:00:00Z    rain    0.5        true  1
//	1   night_b.jpg   s3://bucket/cam1/b  300   60     2024-06-15T12:00:00Z    snow    null       false 200
//	2   c.png         s3://bucket/cam1/c  null  70     2023-12-31T23:59:59Z    sun     1.5        null  3
//	3   d_night.jpg   s3://bucket/cam2/d  256   80     null                    null    2.0        true  255
//	4   e.jpg         s3://bucket/cam2/e  255   90     2024-01-01T00:00:00.5Z  rain    -1.0       false 0
//	5   f.jpg         null                -5    null   2025-03-01T00:00:00Z    fog     0.0        true  10
//	6   null          /local/x            1000  100    2024-01-02T00:00:00Z    snow    null       null  7
//
// tags: reviewed = {0, 3, 5}, hard = {}.
// annotations (sample label confidence width):
//
//	0 cat 0.9 150 | 0 dog 0.4 50 | 1 cat 0.3 120 | 1 cat 0.8 50 | 3 person 0.9 10
//	3 person null 20 | 3 person 0.7 30 | 5 cat null 200 | 6 person 0.6 150
func fixture() *qSource {
	fields := []arrow.Field{
		{Name: "sample_id", Type: extensions.NewUUIDType()},
		{Name: "file_name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "file_path", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "width", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "height", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "created_at", Type: tsType, Nullable: true},
		{Name: "weather", Type: weatherType, Nullable: true},
		{Name: "difficulty", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}
	ids := make([]any, len(qIDs))
	for i, id := range qIDs {
		ids[i] = id
	}
	cols := []arrow.Array{
		qCol(extensions.NewUUIDType(), ids...),
		qCol(arrow.BinaryTypes.String, "a.jpg", "night_b.jpg", "c.png", "d_night.jpg", "e.jpg", "f.jpg", nil),
		qCol(arrow.BinaryTypes.LargeString, "s3://bucket/cam1/a", "s3://bucket/cam1/b", "s3://bucket/cam1/c", "s3://bucket/cam2/d", "s3://bucket/cam2/e", nil, "/local/x"),
		qCol(arrow.PrimitiveTypes.Int64, 100, 300, nil, 256, 255, -5, 1000),
		qCol(arrow.PrimitiveTypes.Int32, 50, 60, 70, 80, 90, nil, 100),
		qCol(tsType, ts("2024-01-01T00:00:00Z"), ts("2024-06-15T12:00:00Z"), ts("2023-12-31T23:59:59Z"), nil,
			ts("2024-01-01T00:00:00.5Z"), ts("2025-03-01T00:00:00Z"), ts("2024-01-02T00:00:00Z")),
		qCol(weatherType, "rain", "snow", "sun", nil, "rain", "fog", "snow"),
		qCol(arrow.PrimitiveTypes.Float64, 0.5, nil, 1.5, 2.0, -1.0, 0.0, nil),
		qCol(arrow.FixedWidthTypes.Boolean, true, false, nil, true, false, true, nil),
		qCol(arrow.PrimitiveTypes.Uint8, 1, 200, 3, 255, 0, 10, 7),
		qCol(arrow.FixedWidthTypes.Date32, ts("2024-01-01T00:00:00Z"), ts("2024-06-15T00:00:00Z"), nil,
			ts("2023-01-01T00:00:00Z"), ts("2024-01-01T00:00:00Z"), ts("2025-03-01T00:00:00Z"), ts("2024-01-02T00:00:00Z")),
	}
	annFields := []arrow.Field{
		{Name: "label", Type: arrow.BinaryTypes.String},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "width", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}
	annCols := []arrow.Array{
		qCol(arrow.BinaryTypes.String, "cat", "dog", "cat", "cat", "person", "person", "person", "cat", "person"),
		qCol(arrow.PrimitiveTypes.Float64, 0.9, 0.4, 0.3, 0.8, 0.9, nil, 0.7, nil, 0.6),
		qCol(arrow.PrimitiveTypes.Float32, 150.0, 50.0, 120.0, 50.0, 10.0, 20.0, 30.0, 200.0, 150.0),
	}
	reviewed := bitmap.New(7)
	for _, i := range []int{0, 3, 5} {
		reviewed.Set(i)
	}
	return &qSource{
		samples:   qTable(fields, cols, 2, 5),
		anns:      qTable(annFields, annCols, 4),
		annSample: []int32{0, 0, 1, 1, 3, 3, 3, 5, 6},
		tags:      map[string]*bitmap.Bitmap{"reviewed": reviewed, "hard": bitmap.New(7)},
		tagOrder:  []string{"reviewed", "hard"},
	}
}

func TestCheckErrors(t *testing.T) {
	cols := "created_at, day, difficulty, file_name, file_path, flag, height, sample_id, score, weather, width"
	tests := []struct {
		query, want string
	}{
		{`widht < 3`, `1:1: unknown column "widht"; samples columns are: ` + cols + "\n  widht < 3\n  ^"},
		{`width < "abc"`, `1:9: column "width" has type int64, but "abc" is a string; compare it with a number` + "\n  width < \"abc\"\n          ^"},
		{`file_name == 3`, `1:14: column "file_name" has type string, but 3 is an integer; compare it with a string in double quotes`},
		{`weather in ("rain", 2.5)`, `1:21: column "weather" has type string, but 2.5 is a float; compare it with a string in double quotes`},
		{`flag < 3`, `1:8: column "flag" has type boolean, but 3 is an integer; compare it with true or false`},
		{`created_at > 5`, `1:14: column "created_at" has type timestamp[us, tz=UTC], but 5 is an integer; compare it with a date or time in double quotes, e.g. "2024-01-31" or "2024-01-31T12:00:00Z"`},
		{"width < 3 and\ncreated_at > \"2024-13-01\"", "2:14: column \"created_at\" has type timestamp[us, tz=UTC], but \"2024-13-01\" is not a valid date or time (write \"2024-01-31\", \"2024-01-31 12:00:00\" or RFC 3339 such as \"2024-01-31T12:00:00Z\")\n  created_at > \"2024-13-01\"\n               ^"},
		{`sample_id == "nope"`, `1:14: column "sample_id" has type uuid, but "nope" is a string; that is not a UUID`},
		{`width startswith "1"`, `1:1: column "width" has type int64; startswith needs a string column`},
		{`label == "cat"`, `1:1: column "label" is an annotations column; conditions on annotations go inside annotation(...)`},
		{`annotation(file_name == "a")`, `1:12: column "file_name" is a samples column, which cannot be used inside annotation(...); annotation columns are: confidence, label, width`},
		{`annotation(bogus == 1)`, `1:12: unknown annotation column "bogus"; annotation columns are: confidence, label, width`},
		{`annotation(tagged("reviewed"))`, `1:12: tagged("reviewed") inside annotation(...): tags belong to samples, not annotations`},
		{`annotation(annotation())`, `1:12: annotation(...) cannot be nested inside annotation(...)`},
		{`annotation(count(annotation()) > 1)`, `1:18: count(annotation(...)) cannot be nested inside annotation(...)`},
		{`tagged("nope")`, `1:1: unknown tag "nope"; the dataset's tags are: hard, reviewed`},
	}
	src := fixture()
	for _, tt := range tests {
		e, err := Parse(tt.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.query, err)
		}
		err = Check(e, src)
		if err == nil {
			t.Errorf("Check(%q) = nil, want error", tt.query)
			continue
		}
		got := err.Error()
		if !strings.Contains(tt.want, "\n") {
			got, _, _ = strings.Cut(got, "\n")
		}
		if got != tt.want {
			t.Errorf("Check(%q) error\n got: %s\nwant: %s", tt.query, got, tt.want)
		}
		if _, err := Eval(context.Background(), e, src); err == nil || err.Error() != Check(e, src).Error() {
			t.Errorf("Eval(%q) error = %v, want the Check error", tt.query, err)
		}
	}
	if len(src.sampleReads)+len(src.annReads) != 0 {
		t.Errorf("failed checks read columns: %v %v", src.sampleReads, src.annReads)
	}
}

func TestCheckBuiltErrors(t *testing.T) {
	src := fixture()
	tests := []struct {
		e    Expr
		want string
	}{
		{&CompareExpr{Column: "width", Op: Lt, Value: Literal{Kind: InvalidLit, Str: "Go value of type []int"}},
			`column "width" (int64): unsupported value: Go value of type []int`},
		{&CompareExpr{Column: "width", Op: Lt, Value: Literal{Kind: StringLit, Str: "x"}},
			`column "width" has type int64, but "x" is a string; compare it with a number`},
		{&CountExpr{Op: Ge, N: 1}, `count(...) without annotation(...)`},
		{&AndExpr{Args: []Expr{nil}}, `nil expression`},
		{&TaggedExpr{Tag: "x"}, `unknown tag "x"; the dataset's tags are: hard, reviewed`},
	}
	for _, tt := range tests {
		err := Check(tt.e, src)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Check(%s) = %v, want %s", tt.e, err, tt.want)
		}
	}
	// Without an annotations table or tags.
	bare := &qSource{samples: src.samples}
	for e, want := range map[string]string{
		`annotation(label == "x")`: `1:12: unknown annotation column "label": the dataset has no annotations table`,
		`tagged("x")`:              `1:1: unknown tag "x": the dataset has no tags`,
	} {
		err := Check(mustParse(t, e), bare)
		if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
			t.Errorf("Check(%s) = %v, want %s", e, err, want)
		}
	}
}

func mustParse(t testing.TB, s string) Expr {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

func TestCheckTimestampRange(t *testing.T) {
	nsType := &arrow.TimestampType{Unit: arrow.Nanosecond}
	src := &qSource{samples: qTable([]arrow.Field{{Name: "t", Type: nsType}}, []arrow.Array{qCol(nsType)})}
	err := Check(mustParse(t, `t > "2500-01-01"`), src)
	want := `1:5: column "t" has type timestamp[ns], but "2500-01-01" is out of range for a timestamp[ns] column`
	if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
		t.Errorf("got %v, want %s", err, want)
	}
	if err := Check(mustParse(t, `t > "2200-01-01"`), src); err != nil {
		t.Errorf("2200 in a ns column: %v", err)
	}
}
