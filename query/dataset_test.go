package query_test

// The evaluator over a real dataset: package columnar's Dataset as a
// query.Streamer, against the reference evaluator of the differential test.

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/testseam"
	"github.com/winnow-data/winnow/query"
)

// The evaluator streams a Dataset's samples columns.
var _ query.Streamer = (*columnar.Dataset)(nil)

func testIDs(n int, seed uint64) []uuid.UUID {
	r := rand.New(rand.NewPCG(seed, 1))
	ids := make([]uuid.UUID, n)
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(r.Uint32())
		}
	}
	return ids
}

func mustParse(t testing.TB, s string) query.Expr {
	t.Helper()
	e, err := query.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return e
}

func mustOpen(t testing.TB, dir string) *columnar.Dataset {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// writeWinnow writes recs, one row group each, as winnow writes tables.
func writeWinnow(t testing.TB, path string, recs []arrow.RecordBatch) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := columnar.NewWriter(f, recs[0].Schema(), columnar.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		if i > 0 {
			if err := w.NewRowGroup(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeTagsFile(t testing.TB, d *columnar.Dataset, names []string, bits []*bitmap.Bitmap) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(d.Dir(), "tags.parquet"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := d.WriteTags(context.Background(), f, names, bits, columnar.TagsMeta{}); err != nil {
		t.Fatal(err)
	}
}

func rowGroups(n, size int, build func(lo, hi int) arrow.RecordBatch) []arrow.RecordBatch {
	var recs []arrow.RecordBatch
	for lo := 0; lo < n || lo == 0; lo += size {
		recs = append(recs, build(lo, min(lo+size, n)))
	}
	return recs
}

// TestEvalDatasetDifferential runs the differential test through files:
// each random table is written as a dataset (samples in row groups of
// random size, mostly not multiples of 64; annotations; a sealed tags
// table), opened through the seal, and predicates are evaluated over the
// Dataset, which streams the samples columns row group by row group.
func TestEvalDatasetDifferential(t *testing.T) {
	tables, preds := 20, 30
	if testing.Short() {
		tables = 6
	}
	r := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	for ti := range tables {
		d := query.NewDiffCase(r)
		dir := t.TempDir()
		ids := testIDs(d.N, uint64(ti))
		withIDs := func(tbl arrow.Table, rows func(i int) uuid.UUID) []arrow.RecordBatch {
			fields := append([]arrow.Field{{Name: "sample_id", Type: extensions.NewUUIDType()}}, tbl.Schema().Fields()...)
			idb := extensions.NewUUIDBuilder(memory.DefaultAllocator)
			for i := range int(tbl.NumRows()) {
				idb.Append(rows(i))
			}
			cols := []arrow.Array{idb.NewArray()}
			for c := range int(tbl.NumCols()) {
				a, err := array.Concatenate(tbl.Column(c).Data().Chunks(), memory.DefaultAllocator)
				if err != nil {
					t.Fatal(err)
				}
				cols = append(cols, a)
			}
			rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, tbl.NumRows())
			size := r.IntN(150) + 1
			var recs []arrow.RecordBatch
			for lo := int64(0); lo < rec.NumRows() || lo == 0; lo += int64(size) {
				hi := min(lo+int64(size), rec.NumRows())
				recs = append(recs, rec.NewSlice(lo, hi))
				if hi == rec.NumRows() {
					break
				}
			}
			return recs
		}
		writeWinnow(t, filepath.Join(dir, "samples.parquet"), withIDs(d.Samples, func(i int) uuid.UUID { return ids[i] }))
		writeWinnow(t, filepath.Join(dir, "annotations.parquet"), withIDs(d.Annotations, func(i int) uuid.UUID { return ids[d.AnnOf[i]] }))
		ds := mustOpen(t, dir)
		writeTagsFile(t, ds, []string{"t1", "t2"}, []*bitmap.Bitmap{d.Tags["t1"], d.Tags["t2"]})
		if ds = mustOpen(t, dir); !ds.Sealed() {
			t.Fatalf("table %d: tags table not sealed", ti)
		}
		for range preds {
			e := d.RandomExpr()
			want := d.Matches(e)
			got, err := query.Eval(ctx, e, ds)
			if err != nil {
				t.Fatalf("table %d: Eval(%s) over the dataset: %v", ti, e, err)
			}
			if g := got.Indexes(); !slices.Equal(g, want) && len(g)+len(want) > 0 {
				t.Fatalf("table %d (%d rows) over the dataset: %s\n got %v\nwant %v", ti, d.N, e, g, want)
			}
		}
	}
}

// TestEvalScanBigRowGroups streams row groups of several decoded batches
// each (70,000 rows against batches of readBatchRows), where the reader
// shares a string column's dictionary across batches and the scan's
// allocator reuses the buffers of released batches (poisoned here, so a
// buffer still in use after its release shows); the matches must be
// those of the same columns evaluated whole.
func TestEvalScanBigRowGroups(t *testing.T) {
	if !testseam.Enabled {
		t.Log("released buffers are not poisoned in this build (run with -race to poison them)")
	}
	const n = 150000
	r := rand.New(rand.NewPCG(9, 9))
	weather := make([]any, n)
	width := make([]any, n)
	for i := range n {
		weather[i] = []string{"sun", "rain", "snow", "fog"}[r.IntN(4)]
		if r.IntN(10) == 0 {
			weather[i] = nil
		}
		width[i] = r.IntN(512)
	}
	fields := []arrow.Field{
		{Name: "weather", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "width", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}
	src := query.MemSource(fields, []arrow.Array{query.MemColumn(fields[0].Type, weather...), query.MemColumn(fields[1].Type, width...)})
	dir := t.TempDir()
	ids := testIDs(n, 9)
	sc := arrow.NewSchema(append([]arrow.Field{{Name: "sample_id", Type: extensions.NewUUIDType()}}, fields...), nil)
	writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(n, 70000, func(lo, hi int) arrow.RecordBatch {
		idb := extensions.NewUUIDBuilder(memory.DefaultAllocator)
		for _, id := range ids[lo:hi] {
			idb.Append(id)
		}
		return array.NewRecordBatch(sc, []arrow.Array{idb.NewArray(), query.MemColumn(fields[0].Type, weather[lo:hi]...), query.MemColumn(fields[1].Type, width[lo:hi]...)}, int64(hi-lo))
	}))
	ds := mustOpen(t, dir)
	for _, q := range []string{
		`weather in ("rain", "snow")`,
		`width < 256 and weather == "fog"`,
		`weather is null or width >= 500`,
		`not (weather != "sun")`,
	} {
		want, err := query.Eval(context.Background(), mustParse(t, q), src)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := query.Eval(context.Background(), mustParse(t, q), ds)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if !slices.Equal(got.Indexes(), want.Indexes()) {
				t.Fatalf("%s: %d matches over the dataset, %d over whole columns", q, got.Count(), want.Count())
			}
		}
	}
}

// TestEvalIDKinds queries the id column of datasets whose ids are
// strings, integers and UUIDs: the query sees the column's own type.
func TestEvalIDKinds(t *testing.T) {
	ctx := context.Background()
	ids := testIDs(4, 9)
	for _, c := range []struct {
		typ    arrow.DataType
		values []any
		where  string
		want   []int
	}{
		{arrow.BinaryTypes.String, []any{"img-1", "img-2", "img 3", "x"}, `sample_id in ("img-2", "x") or sample_id == "img 3"`, []int{1, 2, 3}},
		{arrow.PrimitiveTypes.Int64, []any{int64(10), int64(-4), int64(7), int64(99)}, `sample_id > 5 and sample_id != 99`, []int{0, 2}},
		{arrow.PrimitiveTypes.Int32, []any{int32(10), int32(-4), int32(7), int32(99)}, `sample_id in (-4, 99)`, []int{1, 3}},
		{extensions.NewUUIDType(), []any{ids[0], ids[1], ids[2], ids[3]}, `sample_id == "` + ids[2].String() + `"`, []int{2}},
	} {
		t.Run(c.typ.String(), func(t *testing.T) {
			dir := t.TempDir()
			sc := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: c.typ}, {Name: "w", Type: arrow.PrimitiveTypes.Int64}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
			for i, v := range c.values {
				switch ib := b.Field(0).(type) {
				case *array.StringBuilder:
					ib.Append(v.(string))
				case *array.Int64Builder:
					ib.Append(v.(int64))
				case *array.Int32Builder:
					ib.Append(v.(int32))
				case *extensions.UUIDBuilder:
					ib.Append(v.(uuid.UUID))
				}
				b.Field(1).(*array.Int64Builder).Append(int64(i))
			}
			writeWinnow(t, filepath.Join(dir, "samples.parquet"), []arrow.RecordBatch{b.NewRecordBatch()})
			ds := mustOpen(t, dir)
			got, err := query.Eval(ctx, mustParse(t, c.where), ds)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Indexes(), c.want) {
				t.Errorf("%s matched %v, want %v", c.where, got.Indexes(), c.want)
			}
		})
	}
}
