package pipeline

// Interop: tables other engines wrote, in the shapes they write them,
// select exactly what the same data selects in winnow's conventional
// layout. The DuckDB fixtures under testdata/duckdb are made by
// benchmarks/duckdb/fixtures.mjs (committed, so that CI needs no node);
// their values follow formulas that this file computes again, so the
// conventional copy is built from the formulas, not from reading the
// fixtures.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// The fixtures' formulas (see fixtures.mjs).
const interopN, interopDim = 40, 8

func interopVec(i int) []float32 {
	if i%10 == 3 {
		return nil
	}
	v := make([]float32, interopDim)
	for j := range v {
		v[j] = float32((i*31+j*17)%97) / 8
	}
	return v
}

func interopW(i int) float64     { return float64((i * 7) % 10) }
func interopSplit(i int) string  { return []string{"train", "val", "test"}[i%3] }
func interopLabel(i int) string  { return strconv.Itoa(i % 4) }
func interopUUID(i int) string   { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
func interopString(i int) string { return fmt.Sprintf("img-%03d", i) }

// conventional writes the same samples in winnow's layout: samples in
// the given order (order[r] is the formula index of dataset row r), with
// ids of Arrow type idType made by id; embeddings/m as
// FixedSizeList<float32>; annotations with string labels when labels.
func conventional(t *testing.T, order []int, idType arrow.DataType, id func(int) string, labels bool) string {
	t.Helper()
	dir := t.TempDir()
	put := func(name string, rec arrow.RecordBatch) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		w, err := columnar.NewWriter(f, rec.Schema(), columnar.WriterOptions{})
		require.NoError(t, err)
		require.NoError(t, w.Write(rec))
		require.NoError(t, w.Close())
	}
	appendID := func(b array.Builder, i int) {
		switch b := b.(type) {
		case *extensions.UUIDBuilder:
			b.Append(uuid.MustParse(id(i)))
		case *array.StringBuilder:
			b.Append(id(i))
		case *array.Int64Builder:
			v, err := strconv.ParseInt(id(i), 10, 64)
			require.NoError(t, err)
			b.Append(v)
		}
	}
	ss := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: idType}, {Name: "w", Type: arrow.PrimitiveTypes.Float64}, {Name: "split", Type: arrow.BinaryTypes.String}}, nil)
	sb := array.NewRecordBuilder(memory.DefaultAllocator, ss)
	es := columnar.EmbeddingSchema(interopDim)
	es = arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: idType}, es.Field(1)}, nil)
	eb := array.NewRecordBuilder(memory.DefaultAllocator, es)
	as := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: idType}, {Name: "label", Type: arrow.BinaryTypes.String}}, nil)
	ab := array.NewRecordBuilder(memory.DefaultAllocator, as)
	for _, i := range order {
		appendID(sb.Field(0), i)
		sb.Field(1).(*array.Float64Builder).Append(interopW(i))
		sb.Field(2).(*array.StringBuilder).Append(interopSplit(i))
		if v := interopVec(i); v != nil {
			appendID(eb.Field(0), i)
			lb := eb.Field(1).(*array.FixedSizeListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Float32Builder).AppendValues(v, nil)
		}
		appendID(ab.Field(0), i)
		ab.Field(1).(*array.StringBuilder).Append(interopLabel(i))
	}
	put("samples.parquet", sb.NewRecordBatch())
	put("embeddings/m.parquet", eb.NewRecordBatch())
	if labels {
		put("annotations.parquet", ab.NewRecordBatch())
	}
	return dir
}

// picks runs a few selections on dir and returns their picks' ids.
func picks(t *testing.T, dir, model string, labels bool) map[string][]string {
	t.Helper()
	ctx := context.Background()
	ds, err := Open(dir)
	require.NoError(t, err)
	out := map[string][]string{}
	run := func(name string, where string, do func(sel *Selection) (*Result, error)) {
		q := ds.Query()
		if where != "" {
			q, err = q.Where(where)
			require.NoError(t, err)
		}
		sel, err := q.Selection()
		require.NoError(t, err)
		sel.Options.DropMissing = true
		sel.Options.DryRun = true
		res, err := do(sel)
		require.NoError(t, err, name)
		for _, p := range res.Picks {
			out[name] = append(out[name], p.SampleID)
		}
	}
	run("diverse", "", func(s *Selection) (*Result, error) { return s.Diverse(ctx, 7, "d", model) })
	run("diverse train", `split == "train" and w > 2`, func(s *Selection) (*Result, error) { return s.Diverse(ctx, 4, "d", model) })
	run("typical", "", func(s *Selection) (*Result, error) { return s.Typical(ctx, 5, "t", model) })
	run("weighted", "", func(s *Selection) (*Result, error) { return s.MetadataWeighting(ctx, 6, "w", "w") })
	if labels {
		run("balanced", "", func(s *Selection) (*Result, error) {
			return s.MultiStrategies(ctx, 8, "b", []Strategy{EmbeddingDiversity{Model: model}, AnnotationBalancing{Target: Uniform}})
		})
	}
	return out
}

// orderOf returns the formula index of every dataset row of dir, from
// its ids (id maps an index to its id text).
func orderOf(t *testing.T, dir string, id func(int) string) []int {
	t.Helper()
	ds, err := Open(dir)
	require.NoError(t, err)
	rows := make([]int, ds.Len())
	for r := range rows {
		rows[r] = r
	}
	ids, err := ds.Columnar().IDStrings(context.Background(), rows)
	require.NoError(t, err)
	index := map[string]int{}
	for i := range interopN {
		index[id(i)] = i
	}
	order := make([]int, len(ids))
	for r, s := range ids {
		i, ok := index[s]
		require.True(t, ok, "unexpected id %s", s)
		order[r] = i
	}
	return order
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestInteropDuckDBStrings: DuckDB's tables with string ids, a FLOAT[]
// embeddings table in reverse order, and integer labels.
func TestInteropDuckDBStrings(t *testing.T) {
	dir := copyDataset(t, "../testdata/duckdb/strings")
	want := picks(t, conventional(t, seq(interopN), arrow.BinaryTypes.String, interopString, true), "m", true)
	got := picks(t, dir, "m", true)
	require.Equal(t, want, got)
	require.Len(t, got["diverse"], 7)
}

// TestInteropDuckDBWide: one DuckDB table holding integer ids, metadata
// and two vector columns (FLOAT[] with NULLs and FLOAT[8]), each a model.
func TestInteropDuckDBWide(t *testing.T) {
	dir := copyDataset(t, "../testdata/duckdb/wide")
	conv := conventional(t, seq(interopN), arrow.PrimitiveTypes.Int64, strconv.Itoa, false)
	want := picks(t, conv, "m", false)
	for _, model := range []string{"vector", "fixed"} {
		require.Equal(t, want, picks(t, dir, model, false), model)
	}
}

// TestInteropDuckDBPartitioned: DuckDB's PARTITION_BY (split) folders
// with UUID ids; dataset order is the partitions' lexical order, and the
// key is a queryable column.
func TestInteropDuckDBPartitioned(t *testing.T) {
	dir := copyDataset(t, "../testdata/duckdb/partitioned")
	order := orderOf(t, dir, interopUUID)
	require.Equal(t, "test", interopSplit(order[0]), "partitions in lexical order")
	want := picks(t, conventional(t, order, columnar.UUIDType(), interopUUID, false), "m", false)
	require.Equal(t, want, picks(t, dir, "m", false))
}

// TestInteropFloat16: pqarrow-written float16 vectors (FixedSizeList and a
// nullable List part) select what the float32 copy selects.
func TestInteropFloat16(t *testing.T) {
	dir := t.TempDir()
	conv := conventional(t, seq(interopN), columnar.UUIDType(), interopUUID, true)
	for _, name := range []string{"samples.parquet", "annotations.parquet"} {
		b, err := os.ReadFile(filepath.Join(conv, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	f16 := arrow.FixedWidthTypes.Float16
	write := func(name string, typ arrow.DataType, rows []int) {
		sc := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: columnar.UUIDType()}, {Name: "embedding", Type: typ, Nullable: true}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		for _, i := range rows {
			b.Field(0).(*extensions.UUIDBuilder).Append(uuid.MustParse(interopUUID(i)))
			v := interopVec(i)
			var vb *array.Float16Builder
			switch lb := b.Field(1).(type) {
			case *array.FixedSizeListBuilder:
				lb.Append(true)
				vb = lb.ValueBuilder().(*array.Float16Builder)
			case *array.ListBuilder:
				if v == nil {
					lb.AppendNull()
					continue
				}
				lb.Append(true)
				vb = lb.ValueBuilder().(*array.Float16Builder)
			}
			for _, x := range v {
				vb.Append(float16.New(x))
			}
		}
		path := filepath.Join(dir, "embeddings", "m", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		require.NoError(t, err)
		require.NoError(t, w.Write(b.NewRecordBatch()))
		require.NoError(t, w.Close())
	}
	var first []int
	for i := range 20 {
		if interopVec(i) != nil {
			first = append(first, i)
		}
	}
	write("a.parquet", arrow.FixedSizeListOfNonNullable(interopDim, f16), first)
	var rest []int
	for i := 20; i < interopN; i++ {
		rest = append(rest, i)
	}
	write("b.parquet", arrow.ListOf(f16), rest)
	ds, err := Open(dir)
	require.NoError(t, err)
	m, err := ds.Columnar().ReadEmbeddings(context.Background(), "m")
	require.NoError(t, err)
	require.True(t, m.Float16(), "float16 vectors stay 16-bit")
	require.Equal(t, picks(t, conv, "m", true), picks(t, dir, "m", true))
}

// TestInteropFixturesAreWhatTheySay guards the committed DuckDB fixtures:
// the shapes the tests above rely on.
func TestInteropFixturesAreWhatTheySay(t *testing.T) {
	for _, c := range []struct {
		path string
		want []string // column types as winnow shows them
	}{
		{"../testdata/duckdb/strings/samples.parquet", []string{"sample_id utf8", "w float64", "split utf8"}},
		{"../testdata/duckdb/strings/embeddings/m.parquet", []string{"sample_id utf8", "embedding float32[]"}},
		{"../testdata/duckdb/strings/annotations.parquet", []string{"sample_id utf8", "label int64"}},
		{"../testdata/duckdb/wide/samples.parquet", []string{"sample_id int64", "w int64", "split utf8", "vector float32[]", "fixed float32[]"}},
		{"../testdata/duckdb/partitioned/samples", []string{"sample_id uuid", "w int64", "split utf8"}},
	} {
		st, err := columnar.Stat(c.path)
		require.NoError(t, err)
		var got []string
		for _, col := range st.Columns {
			got = append(got, col.Name+" "+col.Type)
		}
		require.Equal(t, c.want, got, c.path)
	}
	parts, err := filepath.Glob("../testdata/duckdb/partitioned/samples/split=*/*.parquet")
	require.NoError(t, err)
	require.Equal(t, 3, len(parts))
	require.True(t, slices.IsSorted(parts))
}
