package columnar

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
)

// readEmbeddingsArrow is the straightforward reader the fast path must
// match: the whole table through pqarrow into Arrow arrays, then one
// vector at a time into the matrix.
func readEmbeddingsArrow(t *testing.T, d *Dataset, model string) *Matrix {
	t.Helper()
	tbl, err := ReadTable(context.Background(), d.TablePath("embeddings/"+model), []string{SampleIDColumn, EmbeddingColumn})
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var rows []int
	ids, err := idsOfArray(tbl.Column(0).DataType(), tbl.Column(0).Data())
	if err != nil {
		t.Fatal(err)
	}
	for i := range ids.Len() {
		r, ok, err := d.LookupText(context.Background(), ids.String(i))
		if err != nil || !ok {
			t.Fatalf("id %s not in samples", ids.String(i))
		}
		rows = append(rows, r)
	}
	var vecs [][]float64
	for _, c := range tbl.Column(1).Data().Chunks() {
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				vecs = append(vecs, nil)
				continue
			}
			var vals arrow.Array
			var lo, hi int64
			switch l := c.(type) {
			case *array.FixedSizeList:
				vals = l.ListValues()
				n := int64(l.DataType().(*arrow.FixedSizeListType).Len())
				lo, hi = int64(l.Offset()+i)*n, int64(l.Offset()+i+1)*n
			case *array.List:
				vals = l.ListValues()
				lo, hi = l.ValueOffsets(i)
			case *array.LargeList:
				vals = l.ListValues()
				lo, hi = l.ValueOffsets(i)
			default:
				t.Fatalf("list type %T", c)
			}
			v := []float64{}
			for j := lo; j < hi; j++ {
				switch vals := vals.(type) {
				case *array.Float32:
					v = append(v, float64(vals.Value(int(j))))
				case *array.Float64:
					v = append(v, vals.Value(int(j)))
				case *array.Float16:
					v = append(v, float64(vals.Value(int(j)).Float32()))
				}
			}
			vecs = append(vecs, v)
		}
	}
	dim := 0
	for _, v := range vecs {
		if v != nil {
			dim = len(v)
			break
		}
	}
	m := &Matrix{Dim: dim, Data: make([]float32, d.Len()*dim), Present: bitmap.New(d.Len())}
	for i, v := range vecs {
		if v == nil {
			continue
		}
		m.Present.Set(rows[i])
		for j, x := range v {
			m.Data[rows[i]*dim+j] = float32(x)
		}
	}
	return m
}

func equalMatrix(t *testing.T, got, want *Matrix) {
	t.Helper()
	if got.Dim != want.Dim || got.Rows() != want.Rows() {
		t.Fatalf("got %d×%d matrix, want %d×%d", got.Rows(), got.Dim, want.Rows(), want.Dim)
	}
	if !slices.Equal(got.Present.Words(), want.Present.Words()) {
		t.Fatalf("present rows differ: got %v, want %v", got.Present.Indexes(), want.Present.Indexes())
	}
	for i := range got.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("element %d (row %d, col %d): got %v, want %v", i, i/got.Dim, i%got.Dim, got.Data[i], want.Data[i])
		}
	}
}

// wantMatrix is the matrix vecs describe, computed by hand.
func wantMatrix(vecs [][]float32, dim int) *Matrix {
	m := &Matrix{Dim: dim, Data: make([]float32, len(vecs)*dim), Present: bitmap.New(len(vecs))}
	for i, v := range vecs {
		if v != nil {
			m.Present.Set(i)
			copy(m.Data[i*dim:], v)
		}
	}
	return m
}

func TestReadEmbeddingsCanonical(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(10, 1)
	vecs := [][]float32{{1, 2, 3}, nil, {4, 5, 6}, {-1, 0, 1}, nil, {7, 8, 9}, {0.5, 0.25, 0.125}, {1, 1, 1}, nil, {3, 2, 1}}
	writeCanonical(t, dir, ids, vecs, 3, 4)
	d := mustOpen(t, dir)
	if got := d.Models(); !slices.Equal(got, []string{"m"}) {
		t.Fatalf("Models() = %v", got)
	}
	m, err := d.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, m, wantMatrix(vecs, 3))
}

// TestReadEmbeddingsFastMatchesArrow compares the low-level reader with
// the straightforward pqarrow reader over several layouts.
func TestReadEmbeddingsFastMatchesArrow(t *testing.T) {
	const n, dim = 700, 17
	f32, f64, f16 := arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Float16
	plain := []parquet.WriterProperty{parquet.WithDictionaryDefault(false)}
	cases := []struct {
		name     string
		rowGroup int
		missing  func(int) bool
		shuffle  bool
		it       idType
		typ      arrow.DataType
		nullable bool // store missing vectors as null lists rather than omitting rows
		codec    compress.Compression
		props    []parquet.WriterProperty
	}{
		{"one row group", 1 << 20, nil, false, idUUID, EmbeddingType(dim), false, compress.Codecs.Zstd, nil},
		{"many row groups", 64, nil, false, idUUID, EmbeddingType(dim), false, compress.Codecs.Snappy, nil},
		{"missing vectors", 50, func(i int) bool { return i%7 == 3 }, false, idUUID, EmbeddingType(dim), false, compress.Codecs.Zstd, nil},
		// pqarrow cannot write a null FixedSizeList entry, so null lists
		// are tested with List.
		{"null lists", 50, func(i int) bool { return i%5 == 0 }, false, idUUID, arrow.ListOf(f32), true, compress.Codecs.Uncompressed, nil},
		{"fixed nullable elements", 50, nil, false, idUUID, arrow.FixedSizeListOf(dim, f32), true, compress.Codecs.Zstd, nil},
		{"shuffled ids", 33, func(i int) bool { return i%11 == 0 }, true, idUUID, EmbeddingType(dim), false, compress.Codecs.Zstd, nil},
		{"string ids list float64", 100, func(i int) bool { return i%3 == 0 }, true, idString, arrow.ListOf(f64), true, compress.Codecs.Snappy, nil},
		{"list float32 nullable elements", 128, nil, false, idUUID, arrow.ListOf(f32), true, compress.Codecs.Zstd, nil},
		{"large list", 128, func(i int) bool { return i%2 == 0 }, false, idUUID, arrow.LargeListOf(f32), true, compress.Codecs.Zstd, nil},
		{"fixed float64", 90, nil, true, idString, arrow.FixedSizeListOf(dim, f64), false, compress.Codecs.Zstd, nil},
		// Without dictionaries (as winnow writes), decoded page by page.
		{"plain pages", 200, nil, false, idUUID, EmbeddingType(dim), false, compress.Codecs.Zstd, plain},
		{"plain pages v2", 200, func(i int) bool { return i%9 == 1 }, true, idUUID, EmbeddingType(dim), false, compress.Codecs.Snappy, append(plain, parquet.WithDataPageVersion(parquet.DataPageV2))},
		{"plain small pages", 300, nil, false, idUUID, EmbeddingType(dim), false, compress.Codecs.Zstd, append(plain, parquet.WithDataPageSize(300))},
		{"plain null lists", 70, func(i int) bool { return i%4 == 0 }, false, idUUID, arrow.ListOf(f32), true, compress.Codecs.Uncompressed, append(plain, parquet.WithDataPageSize(1000))},
		{"plain float64", 64, nil, true, idUUID, arrow.FixedSizeListOf(dim, f64), false, compress.Codecs.Zstd, plain},
		{"plain float16", 64, func(i int) bool { return i%6 == 5 }, false, idUUID, arrow.FixedSizeListOfNonNullable(dim, f16), false, compress.Codecs.Zstd, append(plain, parquet.WithDataPageSize(500))},
		{"dictionary float16", 64, nil, false, idUUID, arrow.ListOf(f16), true, compress.Codecs.Snappy, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ids := testIDs(n, 7)
			vecs := testVecs(n, dim, 8, c.missing)
			if c.typ.(arrow.ListLikeType).Elem().ID() == arrow.FLOAT16 {
				for _, v := range vecs {
					for j := range v {
						v[j] = float16.New(v[j]).Float32()
					}
				}
			}
			writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(n, 256, func(lo, hi int) arrow.RecordBatch { return samplesRecord(ids[lo:hi], idUUID) }))
			order := make([]int, n)
			for i := range order {
				order[i] = i
			}
			if c.shuffle {
				rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			var eids []uuid.UUID
			var evecs [][]float32
			for _, i := range order {
				if vecs[i] == nil && !c.nullable {
					continue
				}
				eids, evecs = append(eids, ids[i]), append(evecs, vecs[i])
			}
			writeParquetWith(t, filepath.Join(dir, "embeddings", "m.parquet"), rowGroups(len(eids), c.rowGroup, func(lo, hi int) arrow.RecordBatch {
				return embRecord(eids[lo:hi], evecs[lo:hi], c.it, c.typ, c.nullable)
			}), parquet.NewWriterProperties(append([]parquet.WriterProperty{parquet.WithCompression(c.codec)}, c.props...)...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
			d := mustOpen(t, dir)
			got, err := d.ReadEmbeddings(context.Background(), "m")
			if err != nil {
				t.Fatal(err)
			}
			batch, err := d.ReadEmbeddings(context.Background(), "m", withoutPages())
			if err != nil {
				t.Fatal(err)
			}
			if got.F16 != nil {
				got = &Matrix{Dim: got.Dim, Data: got.Float32s(), Present: got.Present}
				batch = &Matrix{Dim: batch.Dim, Data: batch.Float32s(), Present: batch.Present}
			}
			equalMatrix(t, got, batch)
			equalMatrix(t, got, readEmbeddingsArrow(t, d, "m"))
			equalMatrix(t, got, wantMatrix(vecs, dim))
			// Rounded as decoded, on both paths: the float32 matrix
			// rounded afterwards.
			checkHalfReads(t, d, "m", got)
		})
	}
}

func TestReadEmbeddingsCancelled(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(100, 2)
	writeCanonical(t, dir, ids, testVecs(100, 8, 2, nil), 8, 10)
	d := mustOpen(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.ReadEmbeddings(ctx, "m"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v, want context.Canceled", err)
	}
}

// TestReadEmbeddingsRepeatable reads a many-row-group table repeatedly:
// the parallel reader must give the same matrix every time (run with
// -race to check that workers write disjoint memory).
func TestReadEmbeddingsRepeatable(t *testing.T) {
	dir := t.TempDir()
	const n, dim = 2000, 5
	ids := testIDs(n, 3)
	vecs := testVecs(n, dim, 3, func(i int) bool { return i%13 == 0 })
	writeCanonical(t, dir, ids, vecs, dim, 37)
	d := mustOpen(t, dir)
	want := wantMatrix(vecs, dim)
	for range 5 {
		m, err := d.ReadEmbeddings(context.Background(), "m")
		if err != nil {
			t.Fatal(err)
		}
		equalMatrix(t, m, want)
	}
}

// TestPagesErrorsMatchBatch: the page decoder reports bad vectors with the
// same errors as the ReadBatch path.
func TestPagesErrorsMatchBatch(t *testing.T) {
	const n, dim = 300, 8
	ids := testIDs(n, 17)
	f32 := arrow.PrimitiveTypes.Float32
	plain := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithDataPageSize(700), parquet.WithCompression(compress.Codecs.Zstd))
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		edit func(ids []uuid.UUID, vecs [][]float32) ([]uuid.UUID, [][]float32)
		want string
	}{
		{"NaN", EmbeddingType(dim), func(ids []uuid.UUID, v [][]float32) ([]uuid.UUID, [][]float32) {
			v[200][3] = float32(math.NaN())
			return ids, v
		}, "vector element 3 is NaN"},
		{"Inf in float16", arrow.FixedSizeListOfNonNullable(dim, arrow.FixedWidthTypes.Float16), func(ids []uuid.UUID, v [][]float32) ([]uuid.UUID, [][]float32) {
			v[17][7] = 1e6 // beyond float16's range
			return ids, v
		}, "vector element 7 is +Inf"},
		{"short vector", arrow.ListOf(f32), func(ids []uuid.UUID, v [][]float32) ([]uuid.UUID, [][]float32) {
			v[150] = v[150][:dim-1]
			return ids, v
		}, "has a vector of dimension 7, want 8"},
		{"long vector", arrow.ListOf(f32), func(ids []uuid.UUID, v [][]float32) ([]uuid.UUID, [][]float32) {
			v[99] = append(v[99], 1)
			return ids, v
		}, "has a vector of dimension more than 8"},
		{"duplicate", EmbeddingType(dim), func(ids []uuid.UUID, v [][]float32) ([]uuid.UUID, [][]float32) {
			ids[250] = ids[5] // in another row group
			return ids, v
		}, "has more than one vector"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
			eids, vecs := c.edit(slices.Clone(ids), testVecs(n, dim, 17, nil))
			writeParquetWith(t, filepath.Join(dir, "embeddings", "m.parquet"), rowGroups(len(eids), 128, func(lo, hi int) arrow.RecordBatch {
				return embRecord(eids[lo:hi], vecs[lo:hi], idUUID, c.typ, false)
			}), plain, pqarrow.NewArrowWriterProperties())
			d := mustOpen(t, dir)
			_, errPages := d.ReadEmbeddings(context.Background(), "m")
			_, errBatch := d.ReadEmbeddings(context.Background(), "m", withoutPages())
			if errPages == nil || errBatch == nil || errPages.Error() != errBatch.Error() || !strings.Contains(errPages.Error(), c.want) {
				t.Errorf("pages: %v\nbatch: %v\nwant %s", errPages, errBatch, c.want)
			}
		})
	}
}

// TestReadEmbeddingsProgress: progress reports come one at a time, never
// decrease, and end at the table's rows.
func TestReadEmbeddingsProgress(t *testing.T) {
	dir := t.TempDir()
	const n, dim = 500, 4
	writeCanonical(t, dir, testIDs(n, 9), testVecs(n, dim, 9, func(i int) bool { return i%5 == 0 }), dim, 37)
	d := mustOpen(t, dir)
	var calls []int64
	var total int64
	_, err := d.ReadEmbeddings(context.Background(), "m", WithProgress(func(done, tot int64) {
		calls = append(calls, done) // serialised by the reader: no lock needed
		total = tot
	}))
	if err != nil {
		t.Fatal(err)
	}
	if total != 400 || len(calls) != 11 || calls[len(calls)-1] != 400 || !slices.IsSorted(calls) {
		t.Errorf("progress %v of %d", calls, total)
	}
}
