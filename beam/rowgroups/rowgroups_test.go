package rowgroups

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/winnow-data/winnow/columnar"
)

// osFS is the local file system, as Beam's local package implements it:
// OpenRead returns the *os.File.
type osFS = LocalFS

// streamFS serves files from memory as forward-only streams, like Beam's
// memfs (io.NopCloser over a bytes.Reader), and counts the bytes handed out.
type streamFS struct {
	files map[string][]byte
	sent  int64
}

type countingReader struct {
	r  io.Reader
	fs *streamFS
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.fs.sent += int64(n)
	return n, err
}

func (s *streamFS) OpenRead(_ context.Context, name string) (io.ReadCloser, error) {
	b, ok := s.files[name]
	if !ok {
		return nil, os.ErrNotExist
	}
	return io.NopCloser(&countingReader{bytes.NewReader(b), s}), nil
}

func (s *streamFS) Size(_ context.Context, name string) (int64, error) {
	b, ok := s.files[name]
	if !ok {
		return 0, os.ErrNotExist
	}
	return int64(len(b)), nil
}

// rangeFS adds ranged reads to streamFS.
type rangeFS struct{ *streamFS }

func (r rangeFS) OpenRange(_ context.Context, name string, off, n int64) (io.ReadCloser, error) {
	b := r.files[name]
	r.sent += n
	return io.NopCloser(bytes.NewReader(b[off : off+n])), nil
}

const dim = 8

// writeTable writes rows rows in row groups of group rows: id (16 bytes),
// embedding (dim float32), weight, label and a large incompressible blob
// column that readers of the other columns must not transfer.
func writeTable(t *testing.T, path string, rows, group int) {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: &arrow.FixedSizeBinaryType{ByteWidth: 16}},
		{Name: "embedding", Type: columnar.EmbeddingType(dim)},
		{Name: "weight", Type: arrow.PrimitiveTypes.Float64},
		{Name: "label", Type: arrow.BinaryTypes.String},
		{Name: "blob", Type: arrow.BinaryTypes.Binary},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < rows; i++ {
		id := make([]byte, 16)
		id[0], id[1] = byte(i), byte(i>>8)
		b.Field(0).(*array.FixedSizeBinaryBuilder).Append(id)
		lb := b.Field(1).(*array.FixedSizeListBuilder)
		lb.Append(true)
		for d := 0; d < dim; d++ {
			lb.ValueBuilder().(*array.Float32Builder).Append(float32(i*dim + d))
		}
		b.Field(2).(*array.Float64Builder).Append(float64(i) / 2)
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("c%d", i%3))
		blob := make([]byte, 512)
		for k := range blob {
			blob[k] = byte((i*7919 + k*104729) >> 3)
		}
		b.Field(4).(*array.BinaryBuilder).Append(blob)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := columnar.NewWriter(f, sc, columnar.WriterOptions{RowGroupRows: int64(group)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// decoded is one shard's values.
type decoded struct {
	ids    [][]byte
	vec    []float32
	weight []float64
	label  []string
}

func decode(t *testing.T, recs []arrow.RecordBatch, first int64) decoded {
	t.Helper()
	var d decoded
	for _, r := range recs {
		ids, err := FixedBytes(Column(r, "id"), first)
		if err != nil {
			t.Fatal(err)
		}
		v, dm, err := Float32Rows(Column(r, "embedding"), first)
		if err != nil || dm != dim {
			t.Fatalf("embedding: dim %d, %v", dm, err)
		}
		w, err := Float64s(Column(r, "weight"), first)
		if err != nil {
			t.Fatal(err)
		}
		l, _, err := Strings(Column(r, "label"))
		if err != nil {
			t.Fatal(err)
		}
		d.ids, d.vec, d.weight, d.label = append(d.ids, ids...), append(d.vec, v...), append(d.weight, w...), append(d.label, l...)
		first += r.NumRows()
		r.Release()
	}
	return d
}

// checkRows checks rows decoded rows whose values were written for rows
// first, first+1, ... of their file.
func checkRows(t *testing.T, d decoded, first, rows int64) {
	t.Helper()
	if int64(len(d.ids)) != rows || int64(len(d.weight)) != rows || int64(len(d.vec)) != rows*dim {
		t.Fatalf("%d ids, %d weights, %d values for %d rows", len(d.ids), len(d.weight), len(d.vec), rows)
	}
	for j := int64(0); j < rows; j++ {
		i := first + j
		if d.ids[j][0] != byte(i) || d.ids[j][1] != byte(i>>8) || d.weight[j] != float64(i)/2 || d.label[j] != fmt.Sprintf("c%d", i%3) || d.vec[j*dim+3] != float32(i*dim+3) {
			t.Fatalf("row %d decoded wrong: id %v weight %v label %q vec[3] %v", i, d.ids[j][:2], d.weight[j], d.label[j], d.vec[j*dim+3])
		}
	}
}

// TestPlanAndRead: every access path decodes every shard's rows exactly,
// and reads no byte of the unrequested blob column.
func TestPlanAndRead(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "part-0.parquet"), filepath.Join(dir, "part-1.parquet")
	writeTable(t, a, 1000, 100)
	writeTable(t, b, 250, 100) // groups of 100, 100, 50
	ctx := context.Background()
	data := map[string][]byte{}
	for _, p := range []string{a, b} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[p] = raw
	}
	cols := []string{"id", "embedding", "weight", "label"}
	for _, tc := range []struct {
		name   string
		fs     func() (FS, *int64)
		access string
	}{
		{"local", func() (FS, *int64) { return osFS{}, nil }, "readerat"},
		{"stream", func() (FS, *int64) { s := &streamFS{files: data}; return s, &s.sent }, "stream"},
		{"range", func() (FS, *int64) { s := &streamFS{files: data}; return rangeFS{s}, &s.sent }, "range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, sent := tc.fs()
			shards, err := Plan(ctx, fs, []string{a, b}, 250)
			if err != nil {
				t.Fatal(err)
			}
			type want struct {
				first, rows int64
				groups      []int
			}
			exp := []want{{0, 300, []int{0, 1, 2}}, {300, 300, []int{3, 4, 5}}, {600, 300, []int{6, 7, 8}}, {900, 100, []int{9}}, {1000, 250, []int{0, 1, 2}}}
			if len(shards) != len(exp) {
				t.Fatalf("%d shards, want %d", len(shards), len(exp))
			}
			for i, s := range shards {
				if s.FirstRow != exp[i].first || s.Rows != exp[i].rows || !slices.Equal(s.RowGroups, exp[i].groups) || s.Ordinal != i {
					t.Fatalf("shard %d: %+v, want %+v", i, s, exp[i])
				}
			}
			for _, s := range shards {
				before := int64(0)
				if sent != nil {
					before = *sent
				}
				recs, _, st, err := Read(ctx, fs, s, cols)
				if err != nil {
					t.Fatal(err)
				}
				if st.Access != tc.access {
					t.Fatalf("access %q, want %q", st.Access, tc.access)
				}
				fileFirst := s.FirstRow
				if s.Path == b {
					fileFirst -= 1000
				}
				checkRows(t, decode(t, recs, s.FirstRow), fileFirst, s.Rows)
				// The blob column holds 512 bytes a row, far more than the
				// rest: reading the other columns must not touch it.
				if st.Read > s.Rows*200 {
					t.Errorf("shard %d: read %d bytes for %d rows of small columns", s.Ordinal, st.Read, s.Rows)
				}
				if sent != nil && *sent-before != st.Read+st.Skipped {
					t.Errorf("shard %d: the file system sent %d bytes, stats say %d read + %d skipped", s.Ordinal, *sent-before, st.Read, st.Skipped)
				}
				if tc.access != "stream" && st.Skipped != 0 {
					t.Errorf("%s access skipped %d bytes", tc.access, st.Skipped)
				}
			}
		})
	}
}

func TestReadOneColumn(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.parquet")
	writeTable(t, p, 300, 100)
	ctx := context.Background()
	shards, err := Plan(ctx, osFS{}, []string{p}, 0)
	if err != nil || len(shards) != 1 || shards[0].Rows != 300 {
		t.Fatalf("plan: %+v, %v", shards, err)
	}
	recs, sc, st, err := Read(ctx, osFS{}, shards[0], []string{"weight"})
	if err != nil {
		t.Fatal(err)
	}
	if sc.NumFields() != 1 || sc.Field(0).Name != "weight" {
		t.Fatalf("schema %v", sc)
	}
	n := 0
	for _, r := range recs {
		w, err := Float64s(r.Column(0), int64(n))
		if err != nil {
			t.Fatal(err)
		}
		for j, x := range w {
			if x != float64(n+j)/2 {
				t.Fatalf("row %d: weight %v", n+j, x)
			}
		}
		n += len(w)
		r.Release()
	}
	if n != 300 || st.Read > 300*8+3*400 {
		t.Fatalf("%d rows, %d bytes read", n, st.Read)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	good := filepath.Join(dir, "t.parquet")
	writeTable(t, good, 10, 5)
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	fs := &streamFS{files: map[string][]byte{
		"short":     []byte("PAR1"),
		"nomagic":   bytes.Repeat([]byte{1}, 100),
		"encrypted": append(bytes.Repeat([]byte{1}, 100), []byte("PARE")...),
		"truncated": append([]byte("PAR1"), raw[len(raw)-8:]...),
		"good":      raw,
	}}
	for _, tc := range []struct{ path, want string }{
		{"missing", "plan missing: file does not exist"},
		{"short", "plan short: 4 bytes are too few for a parquet file"},
		{"nomagic", "plan nomagic: not a parquet file (no PAR1 magic at the end)"},
		{"encrypted", "plan encrypted: encrypted parquet files are not supported"},
		{"truncated", "plan truncated: footer of"},
	} {
		_, err := Plan(ctx, fs, []string{tc.path}, 0)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.path, err, tc.want)
		}
	}
	shards, err := Plan(ctx, fs, []string{"good"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := Read(ctx, fs, shards[0], []string{"nope"}); err == nil || err.Error() != `read good row groups [0 1]: no column "nope"` {
		t.Errorf("unknown column: %v", err)
	}
	bad := shards[0]
	bad.Footer = []byte{0xff, 0xff}
	if _, _, _, err := Read(ctx, fs, bad, []string{"id"}); err == nil || !strings.HasPrefix(err.Error(), "read good row groups [0 1]: corrupt shard footer") {
		t.Errorf("corrupt footer: %v", err)
	}
	// A file that changed since planning: shorter than the plan says.
	fs.files["good"] = raw[:len(raw)/2]
	want := fmt.Sprintf("read good row groups [0 1]: the file changed since the plan: %d bytes, planned %d", len(raw)/2, len(raw))
	if _, _, _, err := Read(ctx, fs, shards[0], []string{"id"}); err == nil || err.Error() != want {
		t.Errorf("file truncated after planning: %v, want %q", err, want)
	}
}

func TestPlanShards(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	writeTable(t, a, 1000, 100)
	writeTable(t, b, 600, 100)
	ctx := context.Background()
	for _, tc := range []struct{ shards, want int }{{1, 2}, {4, 5}, {16, 16}, {100, 16}} {
		got, err := PlanShards(ctx, osFS{}, []string{a, b}, tc.shards)
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, s := range got {
			rows += s.Rows
		}
		if len(got) != tc.want || rows != 1600 {
			t.Errorf("%d shards asked: %d shards of %d rows, want %d", tc.shards, len(got), rows, tc.want)
		}
	}
	if _, err := PlanShards(ctx, osFS{}, []string{a}, 0); err == nil || err.Error() != "plan: 0 shards, want at least 1" {
		t.Errorf("0 shards: %v", err)
	}
}

// f16List builds a fixed_size_list<float16> of rows (nil: a null row).
func f16List(t *testing.T, dim int, rows [][]uint16) arrow.Array {
	t.Helper()
	b := array.NewFixedSizeListBuilder(memory.DefaultAllocator, int32(dim), arrow.FixedWidthTypes.Float16)
	defer b.Release()
	vb := b.ValueBuilder().(*array.Float16Builder)
	for _, r := range rows {
		if r == nil {
			b.AppendNull() // appends dim null values too
			continue
		}
		b.Append(true)
		for _, h := range r {
			vb.Append(float16.FromBits(h))
		}
	}
	return b.NewArray()
}

// TestFloat16Vectors: float16 embeddings are widened exactly (subnormals
// included, which arrow-go's own widening gets wrong), and CopyRows
// copies a subset of table rows.
func TestFloat16Vectors(t *testing.T) {
	a := f16List(t, 2, [][]uint16{{0x3c00, 0x0001}, {0xc000, 0x7bff}, {0x3800, 0x8000}})
	defer a.Release()
	got, dim, err := Float32Rows(a, 10)
	want := []float32{1, 5.9604645e-08, -2, 65504, 0.5, float32(math.Copysign(0, -1))}
	if err != nil || dim != 2 || !slices.Equal(got, want) {
		t.Fatalf("Float32Rows = %v, %d, %v; want %v", got, dim, err, want)
	}
	dst := make([]float32, 4)
	if dim, err := CopyRows(a, 10, []int64{10, 12}, dst); err != nil || dim != 2 || !slices.Equal(dst, []float32{1, 5.9604645e-08, 0.5, 0}) {
		t.Fatalf("CopyRows = %v, %d, %v", dst, dim, err)
	}
	for _, c := range []struct {
		rows []int64
		want string
	}{
		{[]int64{9}, "row 9 is not among rows 10 to 12"},
		{[]int64{13}, "row 13 is not among rows 10 to 12"},
		{[]int64{10, 11, 12}, "copy of 3 rows of dimension 2 into 4 values"},
	} {
		if _, err := CopyRows(a, 10, c.rows, dst); err == nil || err.Error() != c.want {
			t.Errorf("CopyRows(%v): %v, want %q", c.rows, err, c.want)
		}
	}
	null := f16List(t, 2, [][]uint16{{0x3c00, 0x3c00}, nil})
	defer null.Release()
	if _, _, err := Float32Rows(null, 5); err == nil || err.Error() != "row 6: null embedding" {
		t.Errorf("null row: %v", err)
	}
	ib := array.NewFixedSizeListBuilder(memory.DefaultAllocator, 1, arrow.PrimitiveTypes.Int32)
	defer ib.Release()
	ib.Append(true)
	ib.ValueBuilder().(*array.Int32Builder).Append(1)
	ints := ib.NewArray()
	defer ints.Release()
	if _, _, err := Float32Rows(ints, 0); err == nil || err.Error() != "embedding values are int32, want float32 or float16" {
		t.Errorf("int32 values: %v", err)
	}
}
