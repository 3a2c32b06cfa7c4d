package columnar_test

// Fuzzing the dataset reader with mutated Parquet files: truncated files,
// flipped bytes, wrong magic, absurd row counts and metadata lengths, and
// whatever the fuzzer derives from them. Every input must end in an error
// or a consistent result: no panic (a panic in a reader goroutine kills
// the process, which the fuzzer reports), no hang, and no allocation out
// of proportion to the file (a file claiming 10^12 rows must fail, not
// exhaust memory).
//
//	go test -run '^$' -fuzz '^FuzzOpen$' -fuzztime 60s ./columnar/
//	go test -run '^$' -fuzz '^FuzzReadEmbeddings$' -fuzztime 60s ./columnar/

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
)

// fzMaxAlloc bounds what reading one small fuzzed dataset may allocate.
// The valid dataset needs well under 1 MB; the largest legal thing a
// mutated file can make the reader build is a 7 × 2^20 float32 matrix
// (28 MB, maxDim), so 256 MB can only be crossed by sizing a buffer from a
// claim in the file.
const fzMaxAlloc = 256 << 20

// fzRows is the number of samples of the fuzzed dataset.
const fzRows = 7

// fzFiles are the tables of the fuzzed dataset, in the order of FuzzOpen's
// table selector.
var fzFiles = []string{"samples.parquet", "annotations.parquet", "tags.parquet", "embeddings/m.parquet", "embeddings/l.parquet", "embeddings/h.parquet"}

// fzDataset returns the bytes of each table of a small valid dataset:
// samples with metadata of several types, annotations, tags, a
// FixedSizeList<float32, 3> model m and a List<float64> model l with a
// missing vector, written through columnar.Writer in two row groups each.
func fzDataset(t testing.TB) map[string][]byte {
	t.Helper()
	id := func(i int) string { return uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(i)}).String() }
	var samples, ann, tags, m, l, h, strSamples, intSamples []string
	for i := range fzRows {
		samples = append(samples, fmt.Sprintf(`{"sample_id": %q, "w": %g, "name": "img%d", "n": %d, "ok": %t}`, id(i), float64(i)/2, i, i*i, i%2 == 0))
		ann = append(ann, fmt.Sprintf(`{"sample_id": %q, "label": %q, "confidence": 0.5}`, id(i), []string{"cat", "dog"}[i%2]))
		tags = append(tags, fmt.Sprintf(`{"sample_id": %q, "seen": %t}`, id(i), i < 3))
		m = append(m, fmt.Sprintf(`{"sample_id": %q, "embedding": [%d, 1, -2.5]}`, id(i), i))
		if i != 4 {
			l = append(l, fmt.Sprintf(`{"sample_id": %q, "embedding": [%d.5, 0]}`, id(i), i))
		}
		h = append(h, fmt.Sprintf(`{"sample_id": %q, "embedding": [%d, 0.5, -2]}`, id(i), i))
		strSamples = append(strSamples, fmt.Sprintf(`{"sample_id": %q, "w": %g}`, id(i), float64(i)/2))
		intSamples = append(intSamples, fmt.Sprintf(`{"sample_id": %d, "w": %g}`, 1000+i, float64(i)/2))
	}
	u := columnar.UUIDType()
	schemas := map[string]*arrow.Schema{
		"samples.parquet": arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: u},
			{Name: "w", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, {Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
			{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}, nil),
		"annotations.parquet": arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: u},
			{Name: "label", Type: arrow.BinaryTypes.String}, {Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil),
		"tags.parquet":         arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: u}, {Name: "seen", Type: arrow.FixedWidthTypes.Boolean}}, nil),
		"embeddings/m.parquet": columnar.EmbeddingSchema(3),
		"embeddings/l.parquet": arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: u},
			{Name: "embedding", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true}}, nil),
		"embeddings/h.parquet": arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: u},
			{Name: "embedding", Type: arrow.FixedSizeListOfNonNullable(3, arrow.FixedWidthTypes.Float16)}}, nil),
		// Other id types for the samples, seeds of FuzzOpen only: UUID
		// text (which the UUID tags match by conversion) and integers.
		"samples-string": arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: arrow.BinaryTypes.String},
			{Name: "w", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil),
		"samples-int": arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "w", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil),
	}
	rows := map[string][]string{"samples.parquet": samples, "annotations.parquet": ann, "tags.parquet": tags, "embeddings/m.parquet": m,
		"embeddings/l.parquet": l, "embeddings/h.parquet": h, "samples-string": strSamples, "samples-int": intSamples}
	out := map[string][]byte{}
	for _, name := range append(slices.Clone(fzFiles), "samples-string", "samples-int") {
		rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schemas[name], strings.NewReader("["+strings.Join(rows[name], ",")+"]"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		w, err := columnar.NewWriter(&buf, rec.Schema(), columnar.WriterOptions{RowGroupRows: 4})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		out[name] = buf.Bytes()
	}
	// The tags table as winnow writes it: sealed for these samples, so the
	// fuzzers reach Open's sealed path and the seal's parser.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "samples.parquet"), out["samples.parquet"], 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := columnar.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := bitmap.New(fzRows)
	for i := range 3 {
		seen.Set(i)
	}
	f, err := os.Create(filepath.Join(dir, "tags.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ds.WriteTags(context.Background(), f, []string{"seen"}, []*bitmap.Bitmap{seen}, columnar.TagsMeta{}); err != nil {
		t.Fatal(err)
	}
	if out["tags.parquet"], err = os.ReadFile(f.Name()); err != nil {
		t.Fatal(err)
	}
	return out
}

// fzFooter returns where the Thrift footer of a Parquet file starts and
// ends, or ok=false if the file is too short to have one.
func fzFooter(b []byte) (start, end int, ok bool) {
	if len(b) < 12 {
		return 0, 0, false
	}
	end = len(b) - 8
	n := int(binary.LittleEndian.Uint32(b[end:]))
	if n > end-4 {
		return 0, 0, false
	}
	return end - n, end, true
}

// fzVarint appends the zigzag varint of v, as Thrift's compact protocol
// writes an i64.
func fzVarint(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

// fzClaim rewrites, inside the footer, every i64 field whose value is
// from (the row counts of the file, its row groups and their column
// chunks) to claim to, fixing the footer length. Thrift is
// self-delimiting, so the result is a well-formed file that lies about
// its size: the "absurd row count" case.
func fzClaim(b []byte, from, to int64) []byte {
	start, end, ok := fzFooter(b)
	if !ok {
		return b
	}
	old := fzVarint(nil, from)
	out := append([]byte(nil), b[:start]...)
	footer := b[start:end]
	for i := 0; i < len(footer); i++ {
		// A compact field header for an i64 has type nibble 6.
		if footer[i]&0x0f == 6 && footer[i]>>4 != 0 && bytes.HasPrefix(footer[i+1:], old) {
			out = append(out, footer[i])
			out = fzVarint(out, to)
			i += len(old)
			continue
		}
		out = append(out, footer[i])
	}
	n := len(out) - start
	out = binary.LittleEndian.AppendUint32(out, uint32(n))
	return append(out, "PAR1"...)
}

// fzAbsurd rewrites a valid file with rows rows, whose first row group
// holds group rows, to claim 10^12 rows consistently: the file's count and
// the first row group's (and the matching column chunk value counts) grow
// together, so the footer's sums still agree.
func fzAbsurd(b []byte, rows, group int64) []byte {
	const claim = 1e12
	return fzClaim(fzClaim(b, rows, claim), group, claim-(rows-group))
}

// fzSeed is one hand-made seed.
type fzSeed struct {
	name string
	data []byte
}

// fzMutations are the hand-made seeds derived from a valid file of rows
// rows whose first row group holds group rows, in a fixed order.
func fzMutations(b []byte, rows, group int64) []fzSeed {
	clone := func() []byte { return append([]byte(nil), b...) }
	seeds := []fzSeed{
		{"valid", clone()},
		{"empty", []byte{}},
		{"magic only", []byte("PAR1PAR1")},
		{"truncated 1", clone()[:len(b)-1]},
		{"truncated half", clone()[:len(b)/2]},
		{"truncated head", clone()[:64]},
		{"file rows 1e12", fzClaim(b, rows, 1e12)},
		{"all rows 1e12", fzAbsurd(b, rows, group)},
		{"rows max int64", fzClaim(b, rows, math.MaxInt64)},
		{"rows negative", fzClaim(b, rows, -1)},
		{"row group 1e9", fzClaim(b, group, 1e9)},
	}
	wrongTail := clone()
	copy(wrongTail[len(b)-4:], "PARX")
	wrongHead := clone()
	copy(wrongHead, "XAR1")
	seeds = append(seeds, fzSeed{"wrong magic tail", wrongTail}, fzSeed{"wrong magic head", wrongHead})
	for _, n := range []uint32{math.MaxUint32, 1 << 31, 0, uint32(len(b) - 8)} {
		c := clone()
		binary.LittleEndian.PutUint32(c[len(b)-8:], n)
		seeds = append(seeds, fzSeed{fmt.Sprintf("metadata length %d", n), c})
	}
	for _, at := range []int{4, len(b) / 3, len(b) / 2, len(b) - 20, len(b) - 9} {
		c := clone()
		c[at] ^= 0xff
		seeds = append(seeds, fzSeed{fmt.Sprintf("flip byte %d", at), c})
	}
	return seeds
}

// fzShape is the row count and first row group size of each table.
var fzShape = map[string][2]int64{
	"samples.parquet": {fzRows, 4}, "annotations.parquet": {fzRows, 4}, "tags.parquet": {fzRows, 4},
	"embeddings/m.parquet": {fzRows, 4}, "embeddings/l.parquet": {fzRows - 1, 4}, "embeddings/h.parquet": {fzRows, 4},
	"samples-string": {fzRows, 4}, "samples-int": {fzRows, 4},
}

// fzWrite writes the valid dataset into a new folder, with table replaced
// by data, and returns the folder.
func fzWrite(t testing.TB, files map[string][]byte, table string, data []byte) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if strings.HasPrefix(name, "samples-") {
			continue // seeds, not tables of the dataset
		}
		if name == table {
			b = data
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fzSwap puts data in place of table in dir for one execution and
// returns the function that restores the valid file. Fuzz targets reuse
// one folder (workers run inputs one at a time), which keeps an execution
// at a single file write.
func fzSwap(t *testing.T, dir, table string, data, valid []byte) func() {
	p := filepath.Join(dir, table)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(p, valid, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fzHang is how long reading one small fuzzed dataset may take: far more
// than any legal input needs (milliseconds), so only a loop that does not
// end (or one sized by a claim in the file) crosses it.
const fzHang = 20 * time.Second

// fzAlloc runs read (which must not call t's methods) and fails the test
// if it allocated more than fzMaxAlloc.
func fzAlloc(t *testing.T, read func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	read()
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > fzMaxAlloc {
		t.Fatalf("reading a %d-sample dataset allocated %d MB", fzRows, got>>20)
	}
}

// fzCheck runs fzReadAll on another goroutine and fails the test if it
// reports an inconsistency, allocated more than fzMaxAlloc, or did not
// finish within fzHang. (Go's fuzzer has no per-input timeout of its own.)
func fzCheck(t *testing.T, dir, mutated string) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var (
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		err = fzReadAll(dir, mutated)
	}()
	select {
	case <-done:
	case <-time.After(fzHang):
		t.Fatalf("reading a %d-sample dataset did not finish within %s", fzRows, fzHang)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > fzMaxAlloc {
		t.Fatalf("reading a %d-sample dataset allocated %d MB", fzRows, got>>20)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// fzReadAll runs Stat on the mutated table and every reader of the dataset
// in dir, and checks that what succeeds is consistent. Errors are expected
// for corrupt input.
func fzReadAll(dir, mutated string) error {
	ctx := context.Background()
	if st, err := columnar.Stat(filepath.Join(dir, mutated)); err == nil && st.Rows < 0 {
		return fmt.Errorf("Stat %s reports %d rows instead of an error", mutated, st.Rows)
	}
	ds, oerr := columnar.Open(ctx, dir)
	if oerr != nil {
		if oerr.Error() == "" {
			return fmt.Errorf("empty error message")
		}
		return nil
	}
	n := ds.Len()
	if n > fzRows {
		return fmt.Errorf("Open found %d samples in a table of %d rows", n, fzRows)
	}
	// Read what the mutated table can affect: everything depends on the
	// samples, the other tables only on themselves (keeps executions
	// fast).
	samples := mutated == "samples.parquet"
	if samples {
		if tbl, err := ds.SampleTable(ctx, nil); err == nil {
			if tbl.NumRows() != int64(n) {
				return fmt.Errorf("SampleTable: %d rows for %d samples", tbl.NumRows(), n)
			}
			tbl.Release()
		}
	}
	if ds.AnnotationSchema() != nil && (samples || mutated == "annotations.parquet") {
		if sample, tbl, err := ds.AnnotationTable(ctx, nil); err == nil {
			if int64(len(sample)) != tbl.NumRows() {
				return fmt.Errorf("AnnotationTable: %d sample rows for %d annotations", len(sample), tbl.NumRows())
			}
			for _, r := range sample {
				if r < 0 || int(r) >= n {
					return fmt.Errorf("annotation of sample row %d in a dataset of %d", r, n)
				}
			}
			tbl.Release()
		}
	}
	for _, tag := range ds.TagNames() {
		bm, err := ds.Tag(tag)
		if err != nil {
			return fmt.Errorf("listed tag %q: %v", tag, err)
		}
		if bm.Len() != n {
			return fmt.Errorf("tag %q covers %d rows, dataset has %d", tag, bm.Len(), n)
		}
	}
	for _, model := range ds.Models() {
		if !samples && mutated != "embeddings/"+model+".parquet" {
			continue
		}
		m, err := ds.ReadEmbeddings(ctx, model)
		if err != nil {
			continue
		}
		if m.Rows() != n || len(m.Data)+len(m.F16) != n*m.Dim || m.Dim < 0 || (m.Data != nil) == (m.F16 != nil) && n*m.Dim > 0 {
			return fmt.Errorf("model %s: %d×%d matrix with %d+%d values for %d samples", model, m.Rows(), m.Dim, len(m.Data), len(m.F16), n)
		}
		for i, v := range m.Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("model %s: value %d is %v", model, i, v)
			}
			if !m.Present.Get(i/max(m.Dim, 1)) && v != 0 {
				return fmt.Errorf("model %s: absent row %d holds %v", model, i/m.Dim, v)
			}
		}
	}
	return nil
}

// FuzzOpen feeds mutated samples, annotations and tags tables (table
// selects which: 0 samples, 1 annotations, 2 tags) to Open and every
// reader of the opened dataset.
func FuzzOpen(f *testing.F) {
	files := fzDataset(f)
	for ti, table := range fzFiles[:3] {
		for _, seed := range fzMutations(files[table], fzShape[table][0], fzShape[table][1]) {
			f.Add(uint8(ti), seed.data)
		}
	}
	for _, other := range []string{"samples-string", "samples-int"} {
		for _, seed := range fzMutations(files[other], fzShape[other][0], fzShape[other][1]) {
			f.Add(uint8(0), seed.data)
		}
	}
	dir := fzWrite(f, files, "", nil)
	f.Fuzz(func(t *testing.T, table uint8, data []byte) {
		name := fzFiles[int(table)%3]
		defer fzSwap(t, dir, name, data, files[name])()
		fzCheck(t, dir, name)
	})
}

// FuzzReadEmbeddings feeds mutated embeddings tables (model 0: the
// FixedSizeList<float32> table m, 1: the List<float64> table l, 2: the
// FixedSizeList<float16> table h) to ReadEmbeddings.
func FuzzReadEmbeddings(f *testing.F) {
	files := fzDataset(f)
	for mi, table := range fzFiles[3:] {
		for _, seed := range fzMutations(files[table], fzShape[table][0], fzShape[table][1]) {
			f.Add(uint8(mi), seed.data)
		}
	}
	dir := fzWrite(f, files, "", nil)
	f.Fuzz(func(t *testing.T, model uint8, data []byte) {
		name := fzFiles[3+int(model)%3]
		defer fzSwap(t, dir, name, data, files[name])()
		fzCheck(t, dir, name)
	})
}

// TestFuzzSeedsAreWhatTheySay checks the hand-made seeds: the valid files
// open and read, and a file rewritten to claim 10^12 rows is a different
// file that the readers reject with an error, allocating little.
func TestFuzzSeedsAreWhatTheySay(t *testing.T) {
	files := fzDataset(t)
	dir := fzWrite(t, files, "", nil)
	ds, err := columnar.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != fzRows || len(ds.TagNames()) != 1 || len(ds.Models()) != 3 {
		t.Fatalf("valid dataset: %d samples, tags %v, models %v", ds.Len(), ds.TagNames(), ds.Models())
	}
	for _, model := range ds.Models() {
		if _, err := ds.ReadEmbeddings(context.Background(), model); err != nil {
			t.Fatalf("valid model %s: %v", model, err)
		}
	}
	for _, table := range fzFiles {
		claim := fzAbsurd(files[table], fzShape[table][0], fzShape[table][1])
		if bytes.Equal(claim, files[table]) {
			t.Fatalf("%s: fzClaim changed nothing", table)
		}
		p := filepath.Join(t.TempDir(), "t.parquet")
		if err := os.WriteFile(p, claim, 0o644); err != nil {
			t.Fatal(err)
		}
		// Stat reads footers only: it may report the claim or reject it
		// (a list column whose value count cannot cover the rows), never
		// report anything else.
		if st, err := columnar.Stat(p); err == nil && st.Rows != 1e12 {
			t.Fatalf("%s: footer claims 10^12 rows, Stat reports %d", table, st.Rows)
		}
		dir := fzWrite(t, files, table, claim)
		var rerr error
		fzAlloc(t, func() {
			ctx := context.Background()
			ds, err := columnar.Open(ctx, dir)
			switch {
			case err != nil:
			case table == "annotations.parquet":
				_, _, err = ds.AnnotationTable(ctx, nil)
			case strings.HasPrefix(table, "embeddings/"):
				_, err = ds.ReadEmbeddings(ctx, strings.TrimSuffix(filepath.Base(table), ".parquet"))
			}
			rerr = err
		})
		if rerr == nil {
			t.Fatalf("%s claiming 10^12 rows was read without error", table)
		}
		t.Logf("%s claiming 10^12 rows: %v", table, rerr)
	}
}
