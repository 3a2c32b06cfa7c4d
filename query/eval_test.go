package query

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func TestEvalSpec(t *testing.T) {
	all := []int{0, 1, 2, 3, 4, 5, 6}
	tests := []struct {
		query string
		want  []int
	}{
		// comparisons on integers (int64 with a null at row 2)
		{`width < 256`, []int{0, 4, 5}},
		{`width <= 256`, []int{0, 3, 4, 5}},
		{`width > 256`, []int{1, 6}},
		{`width >= 256`, []int{1, 3, 6}},
		{`width == 256`, []int{3}},
		{`width != 256`, []int{0, 1, 4, 5, 6}},
		{`width > -5`, []int{0, 1, 3, 4, 6}},
		{`width < 255.5`, []int{0, 4, 5}},
		{`width <= 255.5`, []int{0, 4, 5}},
		{`width > 255.5`, []int{1, 3, 6}},
		{`width >= 255.5`, []int{1, 3, 6}},
		{`width == 255.0`, []int{4}},
		{`width == 255.5`, nil},
		{`width != 255.5`, []int{0, 1, 3, 4, 5, 6}},
		{`width < 1e300`, []int{0, 1, 3, 4, 5, 6}},
		{`width > 1e300`, nil},
		{`width != 1e300`, []int{0, 1, 3, 4, 5, 6}},
		{`width > -1e300`, []int{0, 1, 3, 4, 5, 6}},
		{`width <= -1e300`, nil},
		{`width == -1e300`, nil},
		{`width != -1e300`, []int{0, 1, 3, 4, 5, 6}},
		{`width >= -9223372036854775808`, []int{0, 1, 3, 4, 5, 6}},
		{`width < -9223372036854775808`, nil},
		{`width > 9223372036854775807`, nil},
		{`width == 9223372036854775807`, nil},
		{`width in (100, 256, 7)`, []int{0, 3}},
		{`width in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 1000, -5)`, []int{0, 5, 6}},
		{`width in ()`, nil},
		{`height >= 80`, []int{3, 4, 6}},
		// unsigned: literals outside 0..255 clamp
		{`score > 199`, []int{1, 3}},
		{`score < -1`, nil},
		{`score >= -1`, all},
		{`score < 1000`, all},
		{`score == 255`, []int{3}},
		{`score != 300`, all},
		// floats
		{`difficulty > 0.5`, []int{2, 3}},
		{`difficulty <= 0`, []int{4, 5}},
		{`difficulty == 2`, []int{3}},
		{`difficulty in (0.5, 2)`, []int{0, 3}},
		// timestamps compare with date / RFC 3339 strings
		{`created_at >= "2024-01-01"`, []int{0, 1, 4, 5, 6}},
		{`created_at > "2024-01-01"`, []int{1, 4, 5, 6}},
		{`created_at == "2024-01-01T00:00:00Z"`, []int{0}},
		{`created_at == "2024-01-01T01:00:00+01:00"`, []int{0}},
		{`created_at < "2024-01-01 00:00:00.25"`, []int{0, 2}},
		{`created_at <= "2024-01-01T00:00:00.0000001Z"`, []int{0, 2}},
		{`created_at != "2024-01-01"`, []int{1, 2, 4, 5, 6}},
		{`created_at in ("2024-01-02", "2023-12-31T23:59:59Z")`, []int{2, 6}},
		{`day >= "2024-01-01"`, []int{0, 1, 4, 5, 6}},
		{`day > "2024-01-01T12:00:00Z"`, []int{1, 5, 6}},
		{`day < "2024-01-01T12:00:00Z"`, []int{0, 3, 4}},
		// strings (plain, large, dictionary)
		{`file_name == "a.jpg"`, []int{0}},
		{`file_name != "a.jpg"`, []int{1, 2, 3, 4, 5}},
		{`file_name > "d"`, []int{1, 3, 4, 5}},
		{`file_name <= "c.png"`, []int{0, 2}},
		{`file_path == "/local/x"`, []int{6}},
		{`weather in ("rain", "snow")`, []int{0, 1, 4, 6}},
		{`weather == "fog"`, []int{5}},
		{`weather != "fog"`, []int{0, 1, 2, 4, 6}},
		{`weather < "s"`, []int{0, 4, 5}},
		{`file_name in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "f.jpg", "c.png")`, []int{2, 5}},
		// text match
		{`file_path startswith "s3://bucket/cam2/"`, []int{3, 4}},
		{`file_name contains "night"`, []int{1, 3}},
		{`weather startswith "s"`, []int{1, 2, 6}},
		{`weather contains "o"`, []int{1, 5, 6}},
		// booleans
		{`flag == true`, []int{0, 3, 5}},
		{`flag != true`, []int{1, 4}},
		{`flag < true`, []int{1, 4}},
		{`flag in (false)`, []int{1, 4}},
		// UUID sample ids
		{`sample_id == "22222222-2222-2222-2222-222222222222"`, []int{2}},
		{`sample_id in ("22222222-2222-2222-2222-222222222222", "66666666-6666-6666-6666-666666666666")`, []int{2, 6}},
		{`sample_id > "44444444-4444-4444-4444-444444444444"`, []int{5, 6}},
		// null tests
		{`difficulty is null`, []int{1, 6}},
		{`difficulty is not null`, []int{0, 2, 3, 4, 5}},
		{`weather is null`, []int{3}},
		{`not weather is null`, []int{0, 1, 2, 4, 5, 6}},
		// null is unknown: not of it is still excluded
		{`not (width < 256)`, []int{1, 3, 6}},
		{`not weather in ("rain", "snow")`, []int{2, 5}},
		{`not flag == true`, []int{1, 4}},
		{`width > 256 or difficulty > 1`, []int{1, 2, 3, 6}},
		{`not (width > 256 or difficulty > 1)`, []int{0, 4, 5}},
		{`not (width > 256 and difficulty > 1)`, []int{0, 3, 4, 5}},
		{`not not (width < 256)`, []int{0, 4, 5}},
		{`width < 256 or difficulty is null`, []int{0, 1, 4, 5, 6}},
		// tags
		{`tagged("reviewed")`, []int{0, 3, 5}},
		{`not tagged("reviewed")`, []int{1, 2, 4, 6}},
		{`tagged("hard")`, nil},
		// annotations: one annotation must satisfy every condition
		{`annotation(label == "cat" and confidence > 0.5)`, []int{0, 1}},
		{`annotation()`, []int{0, 1, 3, 5, 6}},
		{`not annotation()`, []int{2, 4}},
		{`annotation(width > 100 and width < 100)`, nil},
		{`annotation(width > 100) and annotation(width < 100)`, []int{0, 1}},
		{`annotation(confidence is null)`, []int{3, 5}},
		{`annotation(not confidence > 0.5)`, []int{0, 1}},
		{`annotation(label == "cat" or label == "person")`, []int{0, 1, 3, 5, 6}},
		{`annotation(true)`, []int{0, 1, 3, 5, 6}},
		{`annotation(false)`, nil},
		{`count(annotation(label == "person")) >= 3`, []int{3}},
		{`count(annotation()) == 0`, []int{2, 4}},
		{`count(annotation(label == "cat")) < 2`, []int{0, 2, 3, 4, 5, 6}},
		{`count(annotation(label == "cat")) != 1`, []int{1, 2, 3, 4, 6}},
		{`count(annotation()) > 1`, []int{0, 1, 3}},
		{`count(annotation()) <= 1`, []int{2, 4, 5, 6}},
		// combinators
		{`width < 256 and weather in ("rain", "snow") and not tagged("reviewed")`, []int{4}},
		{`width < 256 and (weather == "fog" or tagged("reviewed"))`, []int{0, 5}},
		{`width < 256 and weather == "fog" or tagged("reviewed")`, []int{0, 3, 5}},
		{`true`, all},
		{`false`, nil},
		{`not true`, nil},
		{`not false`, all},
		{`true and false`, nil},
		{`true or false`, all},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			src := fixture()
			got, err := Eval(context.Background(), mustParse(t, tt.query), src)
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != 7 {
				t.Fatalf("bitmap over %d rows, want 7", got.Len())
			}
			if g := got.Indexes(); !slices.Equal(g, tt.want) && !(len(g) == 0 && len(tt.want) == 0) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
}

func TestEvalEmptyAndOr(t *testing.T) {
	src := fixture()
	for _, tt := range []struct {
		e    Expr
		want int
	}{
		{&AndExpr{}, 7},
		{&OrExpr{}, 0},
		{&NotExpr{Arg: &AndExpr{}}, 0},
		{&NotExpr{Arg: &OrExpr{}}, 7},
		{&AndExpr{Args: []Expr{&OrExpr{}}}, 0},
		{&AnnotationExpr{Where: &AndExpr{}}, 5},
	} {
		got, err := Eval(context.Background(), tt.e, src)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count() != tt.want {
			t.Errorf("%s: %d samples, want %d", tt.e, got.Count(), tt.want)
		}
	}
	if len(src.sampleReads) != 0 {
		t.Errorf("constant predicates read columns %v", src.sampleReads)
	}
}

// TestEvalReadsOnlyNamedColumns checks the projection: one SampleColumns
// call with each named column once, one AnnotationColumns call.
func TestEvalReadsOnlyNamedColumns(t *testing.T) {
	src := fixture()
	e := mustParse(t, `width < 3 or (width > 10 and weather == "x") or annotation(label == "cat") or count(annotation(confidence > 0.1)) > 1`)
	if _, err := Eval(context.Background(), e, src); err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"width", "weather"}}; !slices.EqualFunc(src.sampleReads, want, slices.Equal) {
		t.Errorf("SampleColumns calls %v, want %v", src.sampleReads, want)
	}
	if want := [][]string{{"label", "confidence"}}; !slices.EqualFunc(src.annReads, want, slices.Equal) {
		t.Errorf("AnnotationColumns calls %v, want %v", src.annReads, want)
	}
	// annotation() needs the sample rows only: an empty, non-nil list
	// (nil would mean every column).
	src = fixture()
	if _, err := Eval(context.Background(), mustParse(t, `annotation()`), src); err != nil {
		t.Fatal(err)
	}
	if len(src.annReads) != 1 || src.annReads[0] == nil || len(src.annReads[0]) != 0 {
		t.Errorf("annotation() read annotations columns %#v, want one call with an empty list", src.annReads)
	}
	src = fixture()
	if _, err := Eval(context.Background(), mustParse(t, `tagged("reviewed")`), src); err != nil {
		t.Fatal(err)
	}
	if len(src.sampleReads)+len(src.annReads) != 0 {
		t.Errorf("tag-only predicate read columns: %v %v", src.sampleReads, src.annReads)
	}
}

func TestEvalNoAnnotationsTable(t *testing.T) {
	src := fixture()
	src.anns = nil
	for q, want := range map[string]int{`annotation()`: 0, `count(annotation()) == 0`: 7, `not annotation()`: 7} {
		got, err := Eval(context.Background(), mustParse(t, q), src)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count() != want {
			t.Errorf("%s: %d samples, want %d", q, got.Count(), want)
		}
	}
}

func TestEvalCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Eval(ctx, mustParse(t, `width < 3`), fixture())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Eval with cancelled context: %v, want context.Canceled", err)
	}
}

func TestEvalBadSource(t *testing.T) {
	src := fixture()
	src.annSample = []int32{0, 0, 1, 1, 3, 3, 3, 5, 9}
	_, err := Eval(context.Background(), mustParse(t, `annotation()`), src)
	if err == nil || err.Error() != "evaluate predicate: annotation 8 belongs to sample row 9, outside the 7 samples" {
		t.Errorf("out-of-range annotation sample: %v", err)
	}
	src = fixture()
	src.tags["reviewed"] = bitmap.New(3)
	_, err = Eval(context.Background(), mustParse(t, `tagged("reviewed")`), src)
	if err == nil || err.Error() != `evaluate predicate: tag "reviewed" covers 3 samples, want 7` {
		t.Errorf("short tag: %v", err)
	}
}

// TestEvalDictionaryNullEntries covers dictionaries whose values hold a
// null: rows pointing at it are null, like rows with a null index.
func TestEvalDictionaryNullEntries(t *testing.T) {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: arrow.BinaryTypes.String}
	dict := qCol(arrow.BinaryTypes.String, "rain", nil, "snow")
	idx := qCol(arrow.PrimitiveTypes.Uint8, 0, 1, 2, nil, 0, 1)
	w := array.NewDictionaryArray(dt, idx, dict)
	src := &qSource{samples: qTable([]arrow.Field{{Name: "w", Type: dt, Nullable: true}}, []arrow.Array{w}, 4)}
	for q, want := range map[string][]int{
		`w == "rain"`:        {0, 4},
		`w != "rain"`:        {2},
		`not w == "rain"`:    {2},
		`w is null`:          {1, 3, 5},
		`w is not null`:      {0, 2, 4},
		`w startswith "s"`:   {2},
		`w in ("x", "snow")`: {2},
	} {
		got, err := Eval(context.Background(), mustParse(t, q), src)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Indexes(), want) {
			t.Errorf("%s: got %v, want %v", q, got.Indexes(), want)
		}
	}
}

// badReadSource returns samples columns that disagree with its schema.
type badReadSource struct {
	*qSource
	read arrow.Table
	err  error
}

func (s *badReadSource) SampleTable(context.Context, []string) (arrow.Table, error) {
	return s.read, s.err
}

func TestEvalBadReads(t *testing.T) {
	src := fixture()
	asString := qTable([]arrow.Field{{Name: "width", Type: arrow.BinaryTypes.String}},
		[]arrow.Array{qCol(arrow.BinaryTypes.String, "1", "2", "3", "4", "5", "6", "7")})
	short := qTable([]arrow.Field{{Name: "width", Type: arrow.PrimitiveTypes.Int64}},
		[]arrow.Array{qCol(arrow.PrimitiveTypes.Int64, 1, 2)})
	other := qTable([]arrow.Field{{Name: "height", Type: arrow.PrimitiveTypes.Int64}},
		[]arrow.Array{qCol(arrow.PrimitiveTypes.Int64, 1, 2, 3, 4, 5, 6, 7)})
	tests := []struct {
		src  *badReadSource
		want string
	}{
		{&badReadSource{qSource: src, err: errors.New("disk on fire")}, `evaluate predicate: read samples columns width: disk on fire`},
		{&badReadSource{qSource: src, read: asString}, `evaluate predicate: samples column "width": read as utf8, which does not match the schema's type`},
		{&badReadSource{qSource: src, read: short}, `evaluate predicate: samples columns have 2 rows, want 7`},
		{&badReadSource{qSource: src, read: other}, `evaluate predicate: samples column "width" was requested but not read`},
	}
	for _, tt := range tests {
		_, err := Eval(context.Background(), mustParse(t, `width < 3`), tt.src)
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
}

// TestEvalParallelMatchesSequential checks that splitting a long column
// across goroutines (at row boundaries that are not multiples of 64, and
// inside chunks) sets exactly the bits of the one-goroutine loop.
func TestEvalParallelMatchesSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	r := rand.New(rand.NewPCG(3, 4))
	n := parallelMinRows + 1234
	ints, strs := make([]any, n), make([]any, n)
	for i := range n {
		if r.IntN(7) > 0 {
			ints[i] = r.IntN(100)
			strs[i] = diffVocab[r.IntN(len(diffVocab))]
		}
	}
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	fields := []arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d", Type: dt, Nullable: true},
	}
	cols := []arrow.Array{qCol(arrow.PrimitiveTypes.Int64, ints...), qCol(arrow.BinaryTypes.String, strs...), qCol(dt, strs...)}
	for _, cuts := range [][]int{nil, {1}, {777, 100_001, 200_003}, randomCuts(r, 5000)} {
		src := &qSource{samples: qTable(fields, cols, cuts...)}
		for _, q := range []string{`i < 50`, `i is null`, `s in ("rain", "a")`, `d == "snow"`, `s contains "a"`, `d >= "b"`} {
			c, err := compile(mustParse(t, q), src)
			if err != nil {
				t.Fatal(err)
			}
			l := c.root.(*leaf)
			col := src.samples.Column(src.samples.Schema().FieldIndices(l.col)[0]).Data()
			seqT, seqK := bitmap.New(n), bitmap.New(n)
			base := 0
			for _, arr := range col.Chunks() {
				if err := evalChunk(l, arr, seqT.Words(), seqK.Words(), base); err != nil {
					t.Fatal(err)
				}
				base += arr.Len()
			}
			parT, parK := bitmap.New(n), bitmap.New(n)
			if err := evalParallel(l, col, n, parT.Words(), parK.Words()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqT.Words(), parT.Words()) || !slices.Equal(seqK.Words(), parK.Words()) {
				t.Errorf("%s with cuts %v: parallel and sequential bitmaps differ", q, cuts[:min(len(cuts), 4)])
			}
		}
	}
}

type nilTagSource struct{ *qSource }

func (nilTagSource) Tag(string) (*bitmap.Bitmap, error) { return nil, nil }

func TestEvalNilTag(t *testing.T) {
	_, err := Eval(context.Background(), mustParse(t, `tagged("reviewed")`), nilTagSource{fixture()})
	if err == nil || err.Error() != `evaluate predicate: read tag "reviewed": no bitmap` {
		t.Errorf("nil tag bitmap: %v", err)
	}
}
