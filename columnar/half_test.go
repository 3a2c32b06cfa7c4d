package columnar

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/winnow-data/winnow/strategies"
)

// TestToHalfMatchesStrategies: columnar's rounding to float16 is
// strategies' (which the engine and the old conversion after the read
// use), bit for bit, around every float16 value, on the midpoints between
// neighbours (the ties), and on random float32 bit patterns; encodeHalf
// equals strategies.EncodeFloat16 (its F16C or AVX-512 kernel).
func TestToHalfMatchesStrategies(t *testing.T) {
	check := func(b uint32) {
		x := math.Float32frombits(b)
		if got, want := toHalf(x), strategies.ToFloat16(x); got != want {
			t.Fatalf("toHalf(%g = %#08x) = %#04x, strategies.ToFloat16 %#04x", x, b, got, want)
		}
	}
	for h := range 1 << 16 {
		x := math.Float32bits(strategies.FromFloat16(uint16(h)))
		next := math.Float32bits(strategies.FromFloat16(uint16(h + 1)))
		mid := x + (next-x)/2 // the tie with the next float16 (same sign, for h&0x7fff < 0x7c00)
		for d := uint32(0); d <= 4; d++ {
			check(x + d)
			check(x - d)
			if h&0x7fff < 0x7c00 {
				check(mid + d)
				check(mid - d)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 16))
	src := make([]float32, 1<<20)
	for i := range src {
		b := r.Uint32()
		check(b)
		src[i] = math.Float32frombits(b)
	}
	got, want := make([]uint16, len(src)), make([]uint16, len(src))
	encodeHalf(got, src)
	strategies.EncodeFloat16(want, src)
	for i := range got {
		// NaN payloads may differ between kernels; every NaN is refused
		// before it reaches a matrix.
		if got[i] != want[i] && !(math.IsNaN(float64(src[i])) && got[i]&0x7c00 == 0x7c00 && want[i]&0x7c00 == 0x7c00) {
			t.Fatalf("encodeHalf(%g) = %#04x, EncodeFloat16 %#04x", src[i], got[i], want[i])
		}
	}
}

// checkHalfReads reads model WithFloat16, page by page and with ReadBatch
// only, and compares the float16 matrices with f32, the float32 read,
// rounded afterwards: bit for bit.
func checkHalfReads(t *testing.T, d *Dataset, model string, f32 *Matrix) {
	t.Helper()
	for _, opts := range [][]ReadOption{{WithFloat16()}, {WithFloat16(), withoutPages()}} {
		h, err := d.ReadEmbeddings(context.Background(), model, opts...)
		if err != nil {
			t.Fatalf("float16 read (%d options): %v", len(opts), err)
		}
		equalHalf(t, h, f32)
	}
}

// equalHalf checks that h is f32 (float32 or float16) rounded to float16.
func equalHalf(t *testing.T, h, f32 *Matrix) {
	t.Helper()
	if h.Data != nil || len(h.F16) != f32.Rows()*f32.Dim || h.Dim != f32.Dim {
		t.Fatalf("want a float16 %d×%d matrix, got Data %d F16 %d dim %d", f32.Rows(), f32.Dim, len(h.Data), len(h.F16), h.Dim)
	}
	if !slices.Equal(h.Present.Words(), f32.Present.Words()) {
		t.Fatalf("present rows differ: got %v, want %v", h.Present.Indexes(), f32.Present.Indexes())
	}
	want := f32.F16
	if want == nil {
		want = make([]uint16, len(f32.Data))
		strategies.EncodeFloat16(want, f32.Data)
	}
	for i := range want {
		if h.F16[i] != want[i] {
			t.Fatalf("element %d (row %d, col %d): %#04x, want %#04x", i, i/h.Dim, i%h.Dim, h.F16[i], want[i])
		}
	}
}

// TestFloat16ReadDuckDB reads every model of the DuckDB-written fixtures
// (FLOAT[] and FLOAT[8] columns with NULL rows, strings ids, hive
// partitions) WithFloat16, on both paths.
func TestFloat16ReadDuckDB(t *testing.T) {
	for _, name := range []string{"wide", "strings", "partitioned"} {
		t.Run(name, func(t *testing.T) {
			d := mustOpen(t, filepath.Join("..", "testdata", "duckdb", name))
			if len(d.Models()) == 0 {
				t.Fatal("no models")
			}
			for _, model := range d.Models() {
				m, err := d.ReadEmbeddings(context.Background(), model)
				if err != nil {
					t.Fatal(err)
				}
				checkHalfReads(t, d, model, m)
			}
		})
	}
}

// TestFloat16ReadMixedParts: a table of float16 and float32 parts reads
// WithFloat16 as the float32 read rounded (the float16 values unchanged);
// a table of float16 only reads the same with the option or without.
func TestFloat16ReadMixedParts(t *testing.T) {
	const n, dim = 40, 6
	ids := testIDs(n, 41)
	vecs := testVecs(n, dim, 41, func(i int) bool { return i%9 == 2 })
	for _, v := range vecs {
		for j := range v {
			v[j] = strategies.FromFloat16(strategies.ToFloat16(v[j])) // exact in float16
		}
	}
	dir := t.TempDir()
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	f16 := arrow.FixedWidthTypes.Float16
	write := func(part string, lo, hi int, typ arrow.DataType) {
		put(t, filepath.Join(dir, "embeddings", "m", part), embRecord(ids[lo:hi], vecs[lo:hi], idUUID, typ, true))
	}
	write("a.parquet", 0, 25, arrow.ListOf(f16))
	write("b.parquet", 25, n, arrow.ListOf(f16))
	d := mustOpen(t, dir)
	stored, err := d.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if stored.F16 == nil {
		t.Fatal("a float16 table read as float32")
	}
	checkHalfReads(t, d, "m", stored)

	// Values that need rounding in the float32 part.
	for i := 25; i < n; i++ {
		for j := range vecs[i] {
			vecs[i][j] *= 1.0001
		}
	}
	write("b.parquet", 25, n, arrow.ListOf(arrow.PrimitiveTypes.Float32))
	d = mustOpen(t, dir)
	mixed, err := d.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if mixed.F16 != nil {
		t.Fatal("a mixed table read as float16 without the option")
	}
	checkHalfReads(t, d, "m", mixed)
}

// TestFloat16ReadObjects: an object-level model read WithFloat16.
func TestFloat16ReadObjects(t *testing.T) {
	dir, _, _ := objectDataset(t)
	d := mustOpen(t, dir)
	om, err := d.ReadObjectEmbeddings(context.Background(), "crops")
	if err != nil {
		t.Fatal(err)
	}
	oh, err := d.ReadObjectEmbeddings(context.Background(), "crops", WithFloat16())
	if err != nil {
		t.Fatal(err)
	}
	equalHalf(t, &oh.Matrix, &om.Matrix)
	if !slices.Equal(oh.Sample, om.Sample) {
		t.Errorf("samples %v, want %v", oh.Sample, om.Sample)
	}
}

// TestFloat16ReadRange: finite values float16 cannot hold are one error
// after the read, counting the vectors, naming the first in dataset order
// and its first such value, the same on every path and element type;
// 65519 rounds to 65504 and is no error; a NaN anywhere is the usual
// non-finite error, not this one.
func TestFloat16ReadRange(t *testing.T) {
	const n, dim = 300, 8
	ids := testIDs(n, 23)
	plain := []parquet.WriterProperty{parquet.WithDictionaryDefault(false), parquet.WithDataPageSize(700)}
	f32, f64 := arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64
	for _, c := range []struct {
		name     string
		typ      arrow.DataType
		nullable bool
		props    []parquet.WriterProperty
	}{
		{"fixed float32 pages", EmbeddingType(dim), false, plain},
		{"list float32 null lists pages", arrow.ListOf(f32), true, plain},
		{"list float32 dictionary", arrow.ListOf(f32), true, nil},
		// Pages smaller than a vector: vectors split across pages go
		// element by element.
		{"list float32 tiny pages", arrow.ListOf(f32), true, []parquet.WriterProperty{parquet.WithDictionaryDefault(false), parquet.WithDataPageSize(20), parquet.WithBatchSize(3)}},
		{"fixed float64 pages", arrow.FixedSizeListOf(dim, f64), false, plain},
		{"list float64 dictionary", arrow.ListOf(f64), true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			vecs := testVecs(n, dim, 23, func(i int) bool { return c.nullable && i%10 == 4 })
			vecs[280][2], vecs[280][5] = -1e6, 70000
			vecs[31][7] = 70000 // the first in dataset order, though listed later
			vecs[31][0] = 65520 // ... whose first such value this is
			vecs[150][3] = 65519
			vecs[200][0], vecs[200][1] = 1e5, 2e5 // one vector, counted once
			order := make([]int, n)
			for i := range order {
				order[i] = (i + 100) % n // row 31 in the last row group
			}
			write := func() *Dataset {
				dir := t.TempDir()
				put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
				var eids = slices.Clone(ids)
				var evecs = slices.Clone(vecs)
				for i, o := range order {
					eids[i], evecs[i] = ids[o], vecs[o]
				}
				writeParquetWith(t, filepath.Join(dir, "embeddings", "m.parquet"), rowGroups(n, 128, func(lo, hi int) arrow.RecordBatch {
					return embRecord(eids[lo:hi], evecs[lo:hi], idUUID, c.typ, c.nullable)
				}), parquet.NewWriterProperties(append([]parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd)}, c.props...)...), pqarrow.NewArrowWriterProperties())
				return mustOpen(t, dir)
			}
			d := write()
			if _, err := d.ReadEmbeddings(context.Background(), "m"); err != nil {
				t.Fatalf("float32 read: %v", err)
			}
			want := fmt.Sprintf(`: column "embedding": 3 vectors have values beyond float16's range of ±65504 (first: sample %s, value 65520)`, ids[31])
			for _, opts := range [][]ReadOption{{WithFloat16()}, {WithFloat16(), withoutPages()}} {
				m, err := d.ReadEmbeddings(context.Background(), "m", opts...)
				var re *Float16RangeError
				if !errors.As(err, &re) || m != nil {
					t.Fatalf("got %v, %v; want a *Float16RangeError", m, err)
				}
				if re.Count != 3 || re.Row != 31 || re.Value != 65520 || re.ID != ids[31].String() || re.Space != "sample" || !strings.HasSuffix(err.Error(), want) {
					t.Errorf("got %+v: %v\nwant …%s", re, err, want)
				}
			}
			vecs[290][6] = float32(math.NaN())
			d = write()
			for _, opts := range [][]ReadOption{{WithFloat16()}, {WithFloat16(), withoutPages()}} {
				_, err := d.ReadEmbeddings(context.Background(), "m", opts...)
				var re *Float16RangeError
				if want := "sample " + ids[290].String() + ": vector element 6 is NaN"; errors.As(err, &re) || err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("got %v, want …%s", err, want)
				}
			}
		})
	}
}

// TestFloat16ReadProgress: a read WithFloat16 reports its progress as any
// read, ending at the table's rows.
func TestFloat16ReadProgress(t *testing.T) {
	dir := t.TempDir()
	const n, dim = 500, 4
	writeCanonical(t, dir, testIDs(n, 9), testVecs(n, dim, 9, func(i int) bool { return i%5 == 0 }), dim, 37)
	d := mustOpen(t, dir)
	for _, opts := range [][]ReadOption{{}, {withoutPages()}} {
		var calls []int64
		var total int64
		m, err := d.ReadEmbeddings(context.Background(), "m", append(opts, WithFloat16(), WithProgress(func(done, tot int64) {
			calls = append(calls, done) // serialised by the reader
			total = tot
		}))...)
		if err != nil {
			t.Fatal(err)
		}
		if m.F16 == nil || total != 400 || len(calls) != 11 || calls[len(calls)-1] != 400 || !slices.IsSorted(calls) {
			t.Errorf("float16 %v, progress %v of %d", m.F16 != nil, calls, total)
		}
	}
}
