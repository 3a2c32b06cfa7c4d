package columnar

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
)

// writeTagsFile writes d's tags table to dir/tags.parquet through
// WriteTags (sealed), the way tags.Add does, minus the lock and rename.
func writeTagsFile(t testing.TB, d *Dataset, names []string, bits []*bitmap.Bitmap) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(d.Dir(), "tags.parquet"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := d.WriteTags(context.Background(), f, names, bits, TagsMeta{}); err != nil {
		t.Fatal(err)
	}
}

// sealDataset writes samples (ids, in row groups of rg rows) and a sealed
// tags table with tag "odd" to a new folder and returns it.
func sealDataset(t testing.TB, ids []uuid.UUID, rg int) string {
	t.Helper()
	dir := t.TempDir()
	writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(len(ids), rg, func(lo, hi int) arrow.RecordBatch {
		return samplesRecord(ids[lo:hi], idUUID)
	}))
	d := mustOpen(t, dir)
	if d.vouched {
		t.Fatal("vouched without a tags table")
	}
	odd := bitmap.New(len(ids))
	for i := 1; i < len(ids); i += 2 {
		odd.Set(i)
	}
	writeTagsFile(t, d, []string{"odd"}, []*bitmap.Bitmap{odd})
	return dir
}

// checkOdd fails t unless d's tag "odd" holds exactly the odd rows.
func checkOdd(t testing.TB, d *Dataset) {
	t.Helper()
	b, err := d.Tag("odd")
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Len() {
		if b.Get(i) != (i%2 == 1) {
			t.Fatalf("tag odd: row %d is %v", i, b.Get(i))
		}
	}
}

func TestSealSkipsIDValidation(t *testing.T) {
	ids := testIDs(1000, 7)
	dir := sealDataset(t, ids, 300)
	d := mustOpen(t, dir)
	if !d.vouched || d.ids != nil {
		t.Fatalf("vouched %v, ids decoded %v: want the seal trusted and no ids decoded", d.vouched, d.ids != nil)
	}
	if d.Len() != len(ids) {
		t.Fatalf("Len %d, want %d", d.Len(), len(ids))
	}
	checkOdd(t, d)
	if got := idsOf(t, d); !slices.Equal(got, texts(ids)) {
		t.Fatal("ids decoded on demand differ from the written ones")
	}
	if r, ok, err := d.Lookup(context.Background(), ids[777]); err != nil || !ok || r != 777 {
		t.Fatalf("Lookup: %d %v %v", r, ok, err)
	}
	// A tags table written by a dataset opened through the seal is sealed
	// too.
	writeTagsFile(t, d, []string{"odd"}, []*bitmap.Bitmap{mustTag(t, d, "odd")})
	if d2 := mustOpen(t, dir); !d2.vouched {
		t.Fatal("tags table written from a sealed dataset is not sealed")
	}
}

func mustTag(t testing.TB, d *Dataset, name string) *bitmap.Bitmap {
	t.Helper()
	b, err := d.Tag(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealFooter checks where the seal lives: in the footer's key-value
// metadata, 64 hex digits, and not in the stored Arrow schema.
func TestSealFooter(t *testing.T) {
	dir := sealDataset(t, testIDs(10, 1), 4)
	f, err := os.Open(filepath.Join(dir, "tags.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	kv := r.MetaData().KeyValueMetadata()
	v := kv.FindValue(sealKey)
	if v == nil || len(*v) != sealLen || strings.Trim(*v, "0123456789abcdef") != "" || *v == string(sealPlaceholder) {
		t.Fatalf("seal value %v", v)
	}
	if s := kv.FindValue(arrowSchemaKey); s == nil || strings.Contains(*s, sealKey) {
		t.Fatal("Arrow schema missing, or it carries the seal")
	}
}

// TestSealBroken changes, in turn, each thing the seal vouches for; Open
// must then validate in full, and find what changed.
func TestSealBroken(t *testing.T) {
	ids := testIDs(500, 3)
	ctx := context.Background()
	t.Run("samples rewritten", func(t *testing.T) {
		dir := sealDataset(t, ids, 100)
		other := slices.Clone(ids)
		other[250][0] ^= 1
		writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(len(other), 100, func(lo, hi int) arrow.RecordBatch {
			return samplesRecord(other[lo:hi], idUUID)
		}))
		_, err := Open(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), "sample id "+ids[250].String()+" is not in samples") {
			t.Fatalf("error %v, want the tags table's id that left samples", err)
		}
	})
	t.Run("samples regrouped", func(t *testing.T) {
		// Same ids, other row groups: other bytes, so the seal does not
		// hold, but full validation finds nothing wrong.
		dir := sealDataset(t, ids, 100)
		writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(len(ids), 64, func(lo, hi int) arrow.RecordBatch {
			return samplesRecord(ids[lo:hi], idUUID)
		}))
		d := mustOpen(t, dir)
		if d.vouched || d.ids == nil {
			t.Fatal("seal trusted for a changed samples table")
		}
		checkOdd(t, d)
	})
	t.Run("tags reordered keeping the seal", func(t *testing.T) {
		// What a tool that preserves key-value metadata does when it sorts
		// the table: the seal's value survives, the digest does not.
		dir := sealDataset(t, ids, 100)
		path := filepath.Join(dir, "tags.parquet")
		tbl, err := ReadTable(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(path)
		r, err := file.NewParquetReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sealVal := *r.MetaData().KeyValueMetadata().FindValue(sealKey)
		f.Close()
		perm := rand.New(rand.NewPCG(1, 1)).Perm(len(ids))
		sc := arrow.NewSchema(tbl.Schema().Fields(), nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		oddCol := mustTagColumn(t, tbl, "odd")
		for _, p := range perm {
			appendID(b.Field(0), ids[p])
			b.Field(1).(*array.BooleanBuilder).Append(oddCol[p])
		}
		rec := b.NewRecordBatch()
		tbl.Release()
		md := arrow.NewMetadata([]string{sealKey}, []string{sealVal})
		rec2 := array.NewRecordBatch(arrow.NewSchema(sc.Fields(), &md), rec.Columns(), rec.NumRows())
		writeParquet(t, path, []arrow.RecordBatch{rec2}, 0)
		d := mustOpen(t, dir)
		if d.vouched {
			t.Fatal("seal trusted for a rewritten tags table")
		}
		checkOdd(t, d)
	})
	t.Run("tags byte flipped", func(t *testing.T) {
		dir := sealDataset(t, ids, 100)
		path := filepath.Join(dir, "tags.parquet")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Flip a byte of the first id (PLAIN, uncompressed within zstd's
		// raw block or not, the digest covers it either way).
		raw[len(raw)/4] ^= 0x40
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Open(ctx, dir)
		if err == nil && d.vouched {
			t.Fatal("seal trusted after a byte of the file changed")
		}
	})
	t.Run("samples replaced after open", func(t *testing.T) {
		dir := sealDataset(t, ids, 100)
		d := mustOpen(t, dir)
		other := slices.Clone(ids)
		other[0][15] ^= 1
		writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(len(other), 100, func(lo, hi int) arrow.RecordBatch {
			return samplesRecord(other[lo:hi], idUUID)
		}))
		_, err := d.IDs(ctx)
		if err == nil || !strings.Contains(err.Error(), "changed since the dataset was opened; open it again") {
			t.Fatalf("error %v, want the samples table named as changed", err)
		}
	})
}

func mustTagColumn(t testing.TB, tbl arrow.Table, name string) []bool {
	t.Helper()
	var out []bool
	for _, c := range tbl.Column(tbl.Schema().FieldIndices(name)[0]).Data().Chunks() {
		b := c.(*array.Boolean)
		for i := range b.Len() {
			out = append(out, b.Value(i))
		}
	}
	return out
}

// TestSealUnsealable: layouts the seal cannot vouch for are written
// without a usable seal and validated in full, never refused.
func TestSealUnsealable(t *testing.T) {
	ids := testIDs(200, 5)
	dir := t.TempDir()
	// Samples written by an old parquet-mr whose chunk ranges arrow-go
	// pads: no digest, so tags are written unsealed.
	props := parquet.NewWriterProperties(parquet.WithCreatedBy("parquet-mr version 1.2.8"))
	writeParquetWith(t, filepath.Join(dir, "samples.parquet"), []arrow.RecordBatch{samplesRecord(ids, idUUID)}, props, pqarrow.DefaultWriterProps())
	d := mustOpen(t, dir)
	if d.sumOK {
		t.Fatal("digest computed for a layout arrow-go pads")
	}
	odd := bitmap.New(len(ids))
	odd.Set(1)
	writeTagsFile(t, d, []string{"odd"}, []*bitmap.Bitmap{odd})
	d = mustOpen(t, dir)
	if d.vouched {
		t.Fatal("vouched without a digest")
	}
	if b := mustTag(t, d, "odd"); b.Count() != 1 || !b.Get(1) {
		t.Fatal("tag lost")
	}
}
