package columnar

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestPlainWriterBuildsADataset writes a samples table and an embedding
// table from plain values, the embeddings in batches that straddle row
// groups, and opens the result as a dataset: the vectors come back in
// place of their ids.
func TestPlainWriterBuildsADataset(t *testing.T) {
	ctx := context.Background()
	const n, dim = 70_000, 3 // more than one 64 Ki row group
	dir := t.TempDir()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "f" + string(rune('a'+i%26))
	}
	writeFile(t, filepath.Join(dir, "samples.parquet"), func(f *os.File) error {
		return WritePlain(ctx, f, []PlainColumn{
			{Name: SampleIDColumn, Values: ids},
			{Name: "file_name", Values: names},
		}, nil)
	})
	require.NoError(t, os.Mkdir(filepath.Join(dir, "embeddings"), 0o755))
	writeFile(t, filepath.Join(dir, "embeddings", "m.parquet"), func(f *os.File) error {
		pw := NewPlainWriter(f, WriterOptions{Metadata: map[string]string{"k": "v"}})
		// Rows in reverse dataset order, in uneven batches.
		for hi := n; hi > 0; {
			lo := max(0, hi-40_000)
			batch := make([]uuid.UUID, 0, hi-lo)
			vals := make([]float32, 0, (hi-lo)*dim)
			for i := hi - 1; i >= lo; i-- {
				batch = append(batch, ids[i])
				vals = append(vals, float32(i), float32(-i), 0.5)
			}
			if err := pw.Write(ctx, []PlainColumn{
				{Name: SampleIDColumn, Values: batch},
				{Name: EmbeddingColumn, Values: Vectors{Dim: dim, Values: vals}},
			}); err != nil {
				return err
			}
			hi = lo
		}
		return pw.Close()
	})

	ds, err := Open(ctx, dir)
	require.NoError(t, err)
	require.Equal(t, n, ds.Len())
	m, err := ds.ReadEmbeddings(ctx, "m")
	require.NoError(t, err)
	for _, i := range []int{0, 1, 39_999, 40_000, 65_535, 65_536, n - 1} {
		require.Equal(t, []float32{float32(i), float32(-i), 0.5}, m.Row(i), "row %d", i)
	}
	st, err := Stat(filepath.Join(dir, "embeddings", "m.parquet"))
	require.NoError(t, err)
	require.Equal(t, "v", st.Metadata["k"])
	require.Len(t, st.Columns, 2)
	require.Equal(t, ColumnInfo{Name: SampleIDColumn, Type: "uuid"}, st.Columns[0])

	cols, _, err := ReadPlainColumns(ctx, filepath.Join(dir, "embeddings", "m.parquet"), []string{EmbeddingColumn})
	require.NoError(t, err)
	require.Len(t, cols, 1)
	v := cols[0].Values.(Vectors)
	require.Equal(t, dim, v.Dim)
	require.Equal(t, n, v.Len())
	require.Equal(t, []float32{float32(n - 1), float32(-(n - 1)), 0.5}, v.Values[:dim])
	require.Nil(t, cols[0].Null)
}

// TestPlainWriterBatchesMustAgree: a later batch with other columns, other
// types or unexpected nulls is refused, and so is a writer with no batch.
func TestPlainWriterBatchesMustAgree(t *testing.T) {
	ctx := context.Background()
	first := []PlainColumn{{Name: "a", Values: []int64{1}}, {Name: "b", Values: []string{"x"}}}
	for _, c := range []struct {
		name  string
		batch []PlainColumn
		want  string
	}{
		{"fewer columns", first[:1], "batch has 1 columns, the first batch 2"},
		{"renamed", []PlainColumn{first[0], {Name: "c", Values: []string{"y"}}}, `batch column 1 is "c", in the first batch "b"`},
		{"retyped", []PlainColumn{first[0], {Name: "b", Values: []int64{2}}}, `column "b": batch type int64, first batch utf8`},
		{"nulls", []PlainColumn{first[0], {Name: "b", Values: []string{""}, Null: []bool{true}}}, `column "b" has nulls, but the first batch declared it non-null`},
		{"vector dims", []PlainColumn{first[0], {Name: "b", Values: Vectors{Dim: 2, Values: []float32{1}}}}, `column "b": 1 values are not whole vectors of dimension 2`},
		{"null vectors", []PlainColumn{first[0], {Name: "b", Values: Vectors{Dim: 1, Values: []float32{1}}, Null: []bool{false}}}, `column "b": vectors cannot be null`},
	} {
		t.Run(c.name, func(t *testing.T) {
			pw := NewPlainWriter(&bytes.Buffer{}, WriterOptions{})
			require.NoError(t, pw.Write(ctx, first))
			require.EqualError(t, pw.Write(ctx, c.batch), c.want)
		})
	}
	require.EqualError(t, NewPlainWriter(&bytes.Buffer{}, WriterOptions{}).Close(), "plain table: no batch written, so no schema")
}

// TestReadPlainVectors reads list columns of each float width, as other
// engines write them, with null rows.
func TestReadPlainVectors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		null bool // a null row (pqarrow writes none in a FixedSizeList)
	}{
		{"list<float16>", arrow.ListOf(arrow.FixedWidthTypes.Float16), true},
		{"list<float32>", arrow.ListOf(arrow.PrimitiveTypes.Float32), true},
		{"fixed_size_list<float64, 2>", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float64), false},
		{"large_list<float32>", arrow.LargeListOf(arrow.PrimitiveTypes.Float32), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "v", Type: c.typ, Nullable: true}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
			defer b.Release()
			rows := [][]float32{{1, 2}, nil, {-0.5, 3}}
			if !c.null {
				rows[1] = []float32{0, 0}
			}
			for i, r := range rows {
				b.Field(0).(*array.StringBuilder).Append(string(rune('a' + i)))
				lb := b.Field(1).(array.ListLikeBuilder)
				if r == nil {
					lb.AppendNull()
					continue
				}
				lb.Append(true)
				for _, x := range r {
					switch vb := lb.ValueBuilder().(type) {
					case *array.Float16Builder:
						vb.Append(float16.New(x))
					case *array.Float32Builder:
						vb.Append(x)
					case *array.Float64Builder:
						vb.Append(float64(x))
					}
				}
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			path := filepath.Join(t.TempDir(), "t.parquet")
			writeFile(t, path, func(f *os.File) error {
				w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
				if err != nil {
					return err
				}
				if err := w.Write(rec); err != nil {
					return err
				}
				return w.Close()
			})
			cols, _, err := ReadPlainColumns(ctx, path, []string{"v", "id"})
			require.NoError(t, err)
			require.Equal(t, "v", cols[0].Name)
			require.Equal(t, Vectors{Dim: 2, Values: []float32{1, 2, 0, 0, -0.5, 3}}, cols[0].Values)
			if c.null {
				require.Equal(t, []bool{false, true, false}, cols[0].Null)
			} else {
				require.Nil(t, cols[0].Null)
			}
			require.Equal(t, []string{"a", "b", "c"}, cols[1].Values)
		})
	}
}

// TestReadPlainVectorsRefused: ragged lists, null elements and lists of
// other types are errors naming the column and row.
func TestReadPlainVectorsRefused(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		rows [][]any
		want string
	}{
		{"ragged", arrow.ListOf(arrow.PrimitiveTypes.Float32), [][]any{{float32(1)}, {float32(1), float32(2)}}, `column "v": row 1 has 2 values, the first vector 1`},
		{"null element", arrow.ListOf(arrow.PrimitiveTypes.Float32), [][]any{{float32(1), nil}}, `column "v": row 0: element 1 is null`},
		{"empty", arrow.ListOf(arrow.PrimitiveTypes.Float32), [][]any{{}}, `column "v": vector dimension 0 outside 1..1048576`},
		{"strings", arrow.ListOf(arrow.BinaryTypes.String), [][]any{{"a"}}, `column "v": type utf8[], want a list of float16, float32 or float64`},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := arrow.NewSchema([]arrow.Field{{Name: "v", Type: c.typ, Nullable: true}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
			defer b.Release()
			lb := b.Field(0).(*array.ListBuilder)
			for _, r := range c.rows {
				lb.Append(true)
				for _, x := range r {
					switch x := x.(type) {
					case nil:
						lb.ValueBuilder().AppendNull()
					case float32:
						lb.ValueBuilder().(*array.Float32Builder).Append(x)
					case string:
						lb.ValueBuilder().(*array.StringBuilder).Append(x)
					}
				}
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			path := filepath.Join(t.TempDir(), "t.parquet")
			writeFile(t, path, func(f *os.File) error {
				w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
				if err != nil {
					return err
				}
				if err := w.Write(rec); err != nil {
					return err
				}
				return w.Close()
			})
			_, _, err := ReadPlainColumns(ctx, path, nil)
			require.EqualError(t, err, path+": "+c.want)
		})
	}
}

func writeFile(t *testing.T, path string, write func(*os.File) error) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, write(f))
	if err := f.Close(); !errors.Is(err, os.ErrClosed) { // pqarrow closes the file itself
		require.NoError(t, err)
	}
}

// TestEmbeddingWriterOptions: row groups of about 8 MB of vectors, at
// least one row and at most 64 Ki rows, snappy.
func TestEmbeddingWriterOptions(t *testing.T) {
	for dim, rows := range map[int]int64{1: 65536, 3: 65536, 32: 65536, 512: 4096, 768: 2730, 1 << 20: 2, 1 << 22: 1} {
		o := EmbeddingWriterOptions(dim)
		require.Equal(t, rows, o.RowGroupRows, "dim %d", dim)
		require.Equal(t, compress.Codecs.Snappy, o.Compression)
	}
}
