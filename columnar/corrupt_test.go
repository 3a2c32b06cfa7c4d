package columnar

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// corruptDataset writes a small valid dataset and returns its folder and
// the bytes of its samples and embeddings files.
func corruptDataset(t testing.TB) (dir string, samples, emb []byte) {
	dir = t.TempDir()
	ids := testIDs(40, 11)
	vecs := testVecs(40, 6, 11, func(i int) bool { return i%4 == 1 })
	writeCanonical(t, dir, ids, vecs, 6, 16)
	var eids = ids[:20]
	writeParquet(t, filepath.Join(dir, "embeddings", "l.parquet"), rowGroups(20, 7, func(lo, hi int) arrow.RecordBatch {
		return embRecord(eids[lo:hi], vecs[lo:hi], idString, arrow.ListOf(arrow.PrimitiveTypes.Float64), true)
	}), compress.Codecs.Snappy)
	samples, _ = os.ReadFile(filepath.Join(dir, "samples.parquet"))
	emb, _ = os.ReadFile(filepath.Join(dir, "embeddings", "m.parquet"))
	return dir, samples, emb
}

// readAll exercises every reader on dir; it fails the test only on a
// panic or an inconsistent result, since corrupt input may or may not
// still decode.
func readAll(t testing.TB, dir string) {
	ctx := context.Background()
	d, err := Open(ctx, dir)
	if err != nil {
		return
	}
	for _, model := range d.Models() {
		m, err := d.ReadEmbeddings(ctx, model)
		if err == nil && (m.Rows() != d.Len() || len(m.Data) != d.Len()*m.Dim) {
			t.Fatalf("model %s: %d×%d matrix with %d values for %d samples", model, m.Rows(), m.Dim, len(m.Data), d.Len())
		}
	}
	if tbl, err := d.SampleTable(ctx, nil); err == nil {
		tbl.Release()
	}
}

// TestCorruptBytesNeverPanic flips bytes spread over the samples and
// embeddings files in turn: readers must return errors, never panic.
// FuzzOpen and FuzzReadEmbeddings (fuzz_reader_test.go) search further.
func TestCorruptBytesNeverPanic(t *testing.T) {
	dir, samples, emb := corruptDataset(t)
	flips := 200 // per file; every byte would take a minute on 2 cores
	if testing.Short() {
		flips = 40
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"samples.parquet", samples}, {filepath.Join("embeddings", "m.parquet"), emb}} {
		path := filepath.Join(dir, f.name)
		step := max(1, len(f.data)/flips)
		for i := 0; i < len(f.data); i += step {
			b := append([]byte(nil), f.data...)
			b[i] ^= 0xff
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			readAll(t, dir)
		}
		os.WriteFile(path, f.data, 0o644)
	}
}
