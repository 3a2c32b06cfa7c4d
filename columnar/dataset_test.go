package columnar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/uuid"
)

func TestOpenSamples(t *testing.T) {
	for _, it := range idTypes {
		t.Run(fmt.Sprint("idType=", it), func(t *testing.T) {
			dir := t.TempDir()
			ids := testIDs(5, 3)
			put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, it))
			d := mustOpen(t, dir)
			want := make([]string, len(ids))
			for i, id := range ids {
				want[i] = textOf(it, id)
			}
			if d.Dir() != dir || d.Len() != 5 || !slices.Equal(idsOf(t, d), want) {
				t.Fatalf("Dir %q Len %d IDs %v", d.Dir(), d.Len(), idsOf(t, d))
			}
			for i, id := range ids {
				if r, ok, err := d.LookupText(context.Background(), want[i]); err != nil || !ok || r != i {
					t.Errorf("LookupText(%s) = %d, %v, %v; want %d", want[i], r, ok, err, i)
				}
				var typed any = id
				switch it {
				case idString:
					typed = id.String()
				case idInt32:
					typed = int32(intOf(id, 32))
				case idInt64:
					typed = intOf(id, 64)
				}
				if r, ok, err := d.Lookup(context.Background(), typed); err != nil || !ok || r != i {
					t.Errorf("Lookup(%v) = %d, %v, %v; want %d", typed, r, ok, err, i)
				}
			}
			unknown := map[idType]string{idUUID: uuid.New().String(), idString: "nope", idInt32: "-5", idInt64: "-5"}[it]
			if _, ok, err := d.LookupText(context.Background(), unknown); err != nil || ok {
				t.Errorf("LookupText of an unknown id: %v, %v", ok, err)
			}
			if it != idString {
				_, _, err := d.LookupText(context.Background(), "x y")
				var ie *IDError
				if !errors.As(err, &ie) || ie.Kind != d.IDKind() {
					t.Errorf("LookupText of text that is no id: %v", err)
				}
				want := map[idType]string{
					idUUID:  `"x y" is not a sample id (UUID): invalid UUID length: 3`,
					idInt32: `"x y" is not a sample id (integer): not a decimal integer`,
					idInt64: `"x y" is not a sample id (integer): not a decimal integer`,
				}[it]
				if err.Error() != want {
					t.Errorf("LookupText error %q, want %q", err, want)
				}
				if it == idInt32 {
					_, _, err := d.LookupText(context.Background(), "4294967296")
					if want := `"4294967296" is not a sample id (integer): outside the range of int32`; err == nil || err.Error() != want {
						t.Errorf("LookupText of an int64 in an int32 dataset: %v, want %q", err, want)
					}
				}
			}
			if _, _, err := d.Lookup(context.Background(), 1.5); err == nil || !strings.Contains(err.Error(), "a Go float64 is not a") {
				t.Errorf("Lookup of a float: %v", err)
			}
			sc := d.SampleSchema()
			if got := fieldNames(sc); got != "sample_id, size, split" {
				t.Errorf("schema fields %s", got)
			}
			if got := sc.Field(0).Type; !arrow.TypeEqual(got, idArrow(it)) {
				t.Errorf("sample_id schema type %s, want %s", got, idArrow(it))
			}
			tbl, err := d.SampleTable(context.Background(), []string{"split", SampleIDColumn, "size"})
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Release()
			if got := fieldNames(tbl.Schema()); got != "split, sample_id, size" || tbl.NumRows() != 5 {
				t.Fatalf("columns %s, %d rows", got, tbl.NumRows())
			}
			idc := tbl.Column(1).Data().Chunk(0)
			sizes := tbl.Column(2).Data().Chunk(0).(*array.Int64)
			if !arrow.TypeEqual(idc.DataType(), idArrow(it)) {
				t.Errorf("SampleTable id type %s", idc.DataType())
			}
			for i := range ids {
				if idc.ValueStr(i) != want[i] || sizes.Value(i) != int64(i*10) {
					t.Errorf("row %d: id %s size %d", i, idc.ValueStr(i), sizes.Value(i))
				}
			}
			all, err := d.SampleTable(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldNames(all.Schema()); got != "sample_id, size, split" {
				t.Errorf("nil names read %s", got)
			}
			all.Release()
			_, err = d.SampleTable(context.Background(), []string{"size", "nope"})
			if err == nil || !strings.Contains(err.Error(), `unknown column "nope" (columns: sample_id, size, split)`) {
				t.Errorf("unknown column error %v", err)
			}
			if d.TablePath("samples") != filepath.Join(dir, "samples.parquet") || d.TablePath("tags") != "" ||
				d.TablePath("annotations") != "" || d.TablePath("embeddings/x") != "" {
				t.Error("TablePath of absent tables")
			}
			if d.AnnotationSchema() != nil || len(d.TagNames()) != 0 || len(d.Models()) != 0 {
				t.Error("dataset without optional tables reports some")
			}
		})
	}
}

func TestUnknownNames(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(3, 1)
	writeCanonical(t, dir, ids, testVecs(3, 4, 1, nil), 4, 2)
	put(t, filepath.Join(dir, "tags.parquet"), record(schemaOf(SampleIDColumn, UUIDType(), "keep", arrow.FixedWidthTypes.Boolean), []any{ids[0], true}))
	d := mustOpen(t, dir)
	if _, err := d.ReadEmbeddings(context.Background(), "clip"); err == nil || !strings.Contains(err.Error(), `unknown model "clip" (models: m)`) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := d.Tag("drop"); err == nil || !strings.Contains(err.Error(), `unknown tag "drop" (tags: keep)`) {
		t.Errorf("unknown tag: %v", err)
	}
	if _, _, err := d.AnnotationTable(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "has no annotations table") {
		t.Errorf("no annotations: %v", err)
	}
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(6, 4)
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	// Tags rows are in another order and miss sample 5: mapped by id.
	sc := schemaOf(SampleIDColumn, arrow.BinaryTypes.String, "b", arrow.FixedWidthTypes.Boolean, "a", arrow.FixedWidthTypes.Boolean)
	put(t, filepath.Join(dir, "tags.parquet"), record(sc,
		[]any{ids[3].String(), true, false},
		[]any{ids[0].String(), false, true},
		[]any{ids[1].String(), true, true},
		[]any{ids[4].String(), false, false},
		[]any{ids[2].String(), true, false},
	))
	d := mustOpen(t, dir)
	if got := d.TagNames(); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("TagNames() = %v", got)
	}
	for name, want := range map[string][]int{"b": {1, 2, 3}, "a": {0, 1}} {
		bm, err := d.Tag(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := bm.Indexes(); bm.Len() != 6 || !slices.Equal(got, want) {
			t.Errorf("tag %s = %v over %d rows, want %v", name, got, bm.Len(), want)
		}
		bm.Set(5) // the caller's copy: must not change the dataset
	}
	if bm, _ := d.Tag("a"); bm.Get(5) {
		t.Error("Tag returned shared state")
	}
	if d.TablePath("tags") != filepath.Join(dir, "tags.parquet") {
		t.Error("TablePath(tags)")
	}
}

func TestAnnotations(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(4, 5)
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	sc := schemaOf(SampleIDColumn, arrow.BinaryTypes.String, LabelColumn, arrow.BinaryTypes.String,
		"type", arrow.BinaryTypes.String, "confidence", arrow.PrimitiveTypes.Float64, "x", arrow.PrimitiveTypes.Float32)
	put(t, filepath.Join(dir, "annotations.parquet"), record(sc,
		[]any{ids[2].String(), "cat", "classification", 0.9, nil},
		[]any{ids[0].String(), "dog", "object_detection", 0.5, 10.0},
		[]any{ids[2].String(), "dog", nil, nil, 3.0},
	))
	d := mustOpen(t, dir)
	if got := fieldNames(d.AnnotationSchema()); got != "sample_id, label, type, confidence, x" {
		t.Fatalf("annotation schema %s", got)
	}
	sample, tbl, err := d.AnnotationTable(context.Background(), []string{LabelColumn, "confidence"})
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if !slices.Equal(sample, []int32{2, 0, 2}) {
		t.Errorf("Sample = %v, want [2 0 2]", sample)
	}
	if got := fieldNames(tbl.Schema()); got != "label, confidence" {
		t.Errorf("columns %s", got)
	}
	labels := tbl.Column(0).Data().Chunk(0).(*array.String)
	if labels.Value(0) != "cat" || labels.Value(1) != "dog" || labels.Value(2) != "dog" {
		t.Errorf("labels %v", labels)
	}
	_, all, err := d.AnnotationTable(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Release()
	// The reference keeps its own type (UUID text, matched to UUIDs).
	if got := all.Column(0).DataType(); got.ID() != arrow.STRING {
		t.Errorf("annotation sample_id type %s, want utf8", got)
	}
	if _, _, err := d.AnnotationTable(context.Background(), []string{"nope"}); err == nil || !strings.Contains(err.Error(), `unknown column "nope"`) {
		t.Errorf("unknown column: %v", err)
	}
}

// TestWinnowEncoding reads back what Writer writes with the low-level
// Parquet metadata: the encodings other engines rely on.
func TestWinnowEncoding(t *testing.T) {
	dir := t.TempDir()
	const dim = 8
	ids := testIDs(20, 6)
	writeCanonical(t, dir, ids, testVecs(20, dim, 6, nil), dim, 8)
	tagsSc := arrow.NewSchema([]arrow.Field{{Name: SampleIDColumn, Type: UUIDType()}, {Name: "keep", Type: arrow.FixedWidthTypes.Boolean}}, nil)
	writeWinnow(t, filepath.Join(dir, "tags.parquet"), []arrow.RecordBatch{record(tagsSc, []any{ids[0], true}, []any{ids[1], false})})

	open := func(name string) *file.Reader {
		r, err := file.OpenParquetFile(filepath.Join(dir, name), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	for _, name := range []string{"samples.parquet", "embeddings/m.parquet", "tags.parquet"} {
		sc := open(name).MetaData().Schema
		c := sc.Column(sc.ColumnIndexByName(SampleIDColumn))
		if c.PhysicalType() != parquet.Types.FixedLenByteArray || c.TypeLength() != 16 {
			t.Errorf("%s: sample_id is %s(%d), want FIXED_LEN_BYTE_ARRAY(16)", name, c.PhysicalType(), c.TypeLength())
		}
		if _, ok := c.LogicalType().(schema.UUIDLogicalType); !ok {
			t.Errorf("%s: sample_id logical type %s, want UUID", name, c.LogicalType())
		}
		if c.SchemaNode().RepetitionType() != parquet.Repetitions.Required {
			t.Errorf("%s: sample_id is %s, want required", name, c.SchemaNode().RepetitionType())
		}
	}

	r := open("embeddings/m.parquet")
	as, err := pqarrow.FromParquet(r.MetaData().Schema, nil, r.MetaData().KeyValueMetadata())
	if err != nil {
		t.Fatal(err)
	}
	et := as.Field(as.FieldIndices(EmbeddingColumn)[0]).Type
	if !arrow.TypeEqual(et, arrow.FixedSizeListOfNonNullable(dim, arrow.PrimitiveTypes.Float32)) {
		t.Errorf("stored embedding type %s, want fixed_size_list<float32, %d>", et, dim)
	}
	var leaf *schema.Column
	for i := 0; i < r.MetaData().Schema.NumColumns(); i++ {
		if c := r.MetaData().Schema.Column(i); r.MetaData().Schema.ColumnRoot(i).Name() == EmbeddingColumn {
			leaf = c
		}
	}
	if leaf == nil || leaf.PhysicalType() != parquet.Types.Float || leaf.MaxRepetitionLevel() != 1 {
		t.Errorf("embedding leaf %v, want a repeated FLOAT", leaf)
	}

	sc := open("tags.parquet").MetaData().Schema
	c := sc.Column(sc.ColumnIndexByName("keep"))
	if c.PhysicalType() != parquet.Types.Boolean || c.SchemaNode().RepetitionType() != parquet.Repetitions.Required {
		t.Errorf("tag column is %s %s, want required BOOLEAN", c.SchemaNode().RepetitionType(), c.PhysicalType())
	}
}

// TestAlternativeEncodings reads a dataset whose tables use the encodings
// other engines write and checks it yields the same ids, matrix, tags and
// annotations as the canonical dataset.
func TestAlternativeEncodings(t *testing.T) {
	const n, dim = 300, 12
	ids := testIDs(n, 9)
	vecs := testVecs(n, dim, 9, func(i int) bool { return i%9 == 4 })

	canon := t.TempDir()
	writeCanonical(t, canon, ids, vecs, dim, 64)

	alt := t.TempDir()
	// samples: string ids, a folder of three parts (lexical order).
	for i, lo := range []int{0, 100, 250} {
		hi := []int{100, 250, n}[i]
		put(t, filepath.Join(alt, "samples", fmt.Sprintf("part-%05d.parquet", i)), samplesRecord(ids[lo:hi], idString))
	}
	os.WriteFile(filepath.Join(alt, "samples", "_SUCCESS"), nil, 0o644)
	// embeddings: a folder of parts, List<float64> with null lists for
	// missing vectors, rows in reverse order, string ids.
	var eids []uuid.UUID
	var evecs [][]float32
	for i := n - 1; i >= 0; i-- {
		eids, evecs = append(eids, ids[i]), append(evecs, vecs[i])
	}
	f64 := arrow.ListOf(arrow.PrimitiveTypes.Float64)
	writeParquet(t, filepath.Join(alt, "embeddings", "m", "a.parquet"), rowGroups(150, 40, func(lo, hi int) arrow.RecordBatch {
		return embRecord(eids[lo:hi], evecs[lo:hi], idString, f64, true)
	}), compress.Codecs.Snappy)
	// The second part omits missing vectors and uses FixedSizeList<float64>.
	var bids []uuid.UUID
	var bvecs [][]float32
	for i := 150; i < n; i++ {
		if evecs[i] != nil {
			bids, bvecs = append(bids, eids[i]), append(bvecs, evecs[i])
		}
	}
	writeParquet(t, filepath.Join(alt, "embeddings", "m", "b.parquet"), rowGroups(len(bids), 40, func(lo, hi int) arrow.RecordBatch {
		return embRecord(bids[lo:hi], bvecs[lo:hi], idString, arrow.FixedSizeListOf(dim, arrow.PrimitiveTypes.Float64), false)
	}), compress.Codecs.Gzip)

	c, a := mustOpen(t, canon), mustOpen(t, alt)
	if !slices.Equal(idsOf(t, c), idsOf(t, a)) {
		t.Fatal("ids differ")
	}
	// The ids keep their type: strings there, UUIDs here.
	if at, ct := a.SampleSchema().Field(0).Type, c.SampleSchema().Field(0).Type; at.ID() != arrow.STRING || !arrow.TypeEqual(ct, UUIDType()) {
		t.Errorf("id types %v and %v, want utf8 and uuid", at, ct)
	}
	if a.IDKind() != StringIDs || c.IDKind() != UUIDIDs {
		t.Errorf("id kinds %v and %v", a.IDKind(), c.IDKind())
	}
	if a.TablePath("embeddings/m") != filepath.Join(alt, "embeddings", "m") {
		t.Errorf("TablePath(embeddings/m) = %q", a.TablePath("embeddings/m"))
	}
	mc, err := c.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	ma, err := a.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, ma, mc)
	equalMatrix(t, ma, wantMatrix(vecs, dim))
	for _, d := range []*Dataset{c, a} {
		tbl, err := d.SampleTable(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		last := tbl.Column(0).Data().Chunk(len(tbl.Column(0).Data().Chunks()) - 1)
		if tbl.NumRows() != n || last.ValueStr(last.Len()-1) != ids[n-1].String() {
			t.Errorf("SampleTable: %d rows, last id %s", tbl.NumRows(), last.ValueStr(last.Len()-1))
		}
		tbl.Release()
	}
}

// Example opens a dataset and reads one model's embeddings.
func Example() {
	dir, _ := os.MkdirTemp("", "winnow-example")
	defer os.RemoveAll(dir)
	ids := []uuid.UUID{uuid.MustParse("00000000-0000-4000-8000-000000000001"), uuid.MustParse("00000000-0000-4000-8000-000000000002")}
	write := func(path string, rec arrow.RecordBatch) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		f, _ := os.Create(path)
		defer f.Close()
		w, _ := NewWriter(f, rec.Schema(), WriterOptions{})
		w.Write(rec)
		w.Close()
	}
	sc := arrow.NewSchema([]arrow.Field{{Name: SampleIDColumn, Type: UUIDType()}}, nil)
	write(filepath.Join(dir, "samples.parquet"), record(sc, []any{ids[0]}, []any{ids[1]}))
	write(filepath.Join(dir, "embeddings", "clip.parquet"), record(EmbeddingSchema(2), []any{ids[1], []float32{0.5, 1}}))

	ctx := context.Background()
	d, err := Open(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := d.ReadEmbeddings(ctx, "clip")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), d.Models(), m.Dim, m.Present.Indexes(), m.Row(1))
	// Output: 2 [clip] 2 [1] [0.5 1]
}

// TestManyRowGroups reads tables of many row groups, whose row groups are
// decoded concurrently: ids, sample columns and tags must come back in
// table order. Tags in dataset order are checked without lookups; a table
// with two rows swapped in a late row group, or holding only a prefix of
// the samples, must map exactly as row-by-row lookups do.
func TestManyRowGroups(t *testing.T) {
	const n, rg = 1000, 37
	ids := testIDs(n, 9)
	tagSchema := schemaOf(SampleIDColumn, UUIDType(), "odd", arrow.FixedWidthTypes.Boolean)
	for _, c := range []struct {
		name string
		rows func() []int // sample of each tags row
	}{
		{"in order", func() []int { return seq(n) }},
		{"swapped late", func() []int { r := seq(n); r[900], r[951] = r[951], r[900]; return r }},
		{"prefix", func() []int { return seq(n / 3) }},
		{"swapped first", func() []int { r := seq(n); r[0], r[1] = r[1], r[0]; return r }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeParquet(t, filepath.Join(dir, "samples.parquet"), rowGroups(n, rg, func(lo, hi int) arrow.RecordBatch {
				rec := samplesRecord(ids[lo:hi], idUUID)
				return rec
			}), compress.Codecs.Zstd)
			rows := c.rows()
			writeParquet(t, filepath.Join(dir, "tags.parquet"), rowGroups(len(rows), rg, func(lo, hi int) arrow.RecordBatch {
				var rs [][]any
				for _, s := range rows[lo:hi] {
					rs = append(rs, []any{ids[s], s%2 == 1})
				}
				return record(tagSchema, rs...)
			}), compress.Codecs.Snappy)
			d := mustOpen(t, dir)
			if !slices.Equal(idsOf(t, d), texts(ids)) {
				t.Fatal("ids out of order")
			}
			tbl, err := d.SampleTable(context.Background(), []string{"size"})
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Release()
			row := 0
			for _, a := range tbl.Column(0).Data().Chunks() {
				for _, v := range a.(*array.Int64).Int64Values() {
					// samplesRecord numbers sizes per record: i*10 within it.
					if want := int64(row%rg) * 10; v != want {
						t.Fatalf("size of row %d = %d, want %d", row, v, want)
					}
					row++
				}
			}
			bm, err := d.Tag("odd")
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			for s := range n {
				if s%2 == 1 && slices.Contains(rows, s) {
					want = append(want, s)
				}
			}
			if got := bm.Indexes(); !slices.Equal(got, want) {
				t.Fatalf("tag odd = %d rows, want %d", len(got), len(want))
			}
		})
	}
}

func seq(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

// TestIDsAcrossPages reads sample ids from row groups of many small data
// pages, as UUIDs and as strings: PLAIN required UUID pages are taken
// whole, others value by value, and every page boundary must be crossed
// without losing or repeating a row. A tags table of such pages is checked
// against the samples page by page: in dataset order, and with two rows
// swapped in its last page (then mapped by id).
func TestIDsAcrossPages(t *testing.T) {
	const n = 3000
	ids := testIDs(n, 12)
	props := parquet.NewWriterProperties(parquet.WithDataPageSize(512), parquet.WithMaxRowGroupLength(1100),
		parquet.WithDictionaryDefault(false), parquet.WithCompression(compress.Codecs.Snappy), parquet.WithBatchSize(50))
	write := func(t *testing.T, path string, rec arrow.RecordBatch) {
		writeParquetWith(t, path, []arrow.RecordBatch{rec}, props, pqarrow.DefaultWriterProps())
	}
	for _, it := range []idType{idUUID, idString} {
		for _, swap := range []bool{false, true} {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, it))
			rd, err := file.OpenParquetFile(filepath.Join(dir, "samples.parquet"), false)
			if err != nil {
				t.Fatal(err)
			}
			pages := 0
			for g := 0; g < rd.NumRowGroups(); g++ {
				pr, err := rd.RowGroup(g).GetColumnPageReader(0)
				if err != nil {
					t.Fatal(err)
				}
				for pr.Next() {
					pages++
				}
			}
			rd.Close()
			if pages < 10 || rd.NumRowGroups() < 3 {
				t.Fatalf("fixture has %d pages in %d row groups; want many", pages, rd.NumRowGroups())
			}
			order := seq(n)
			if swap {
				order[n-2], order[n-1] = order[n-1], order[n-2]
			}
			// Required ids, as winnow writes them: the page path.
			sc := arrow.NewSchema([]arrow.Field{{Name: SampleIDColumn, Type: UUIDType()},
				{Name: "odd", Type: arrow.FixedWidthTypes.Boolean}}, nil)
			var rs [][]any
			for _, s := range order {
				rs = append(rs, []any{ids[s], s%2 == 1})
			}
			write(t, filepath.Join(dir, "tags.parquet"), record(sc, rs...))
			d := mustOpen(t, dir)
			if !slices.Equal(idsOf(t, d), texts(ids)) {
				t.Fatalf("idType %v: ids differ after crossing %d pages", it, pages)
			}
			bm, err := d.Tag("odd")
			if err != nil {
				t.Fatal(err)
			}
			for s := range n {
				if bm.Get(s) != (s%2 == 1) {
					t.Fatalf("idType %v swap %v: sample %d tagged %v", it, swap, s, bm.Get(s))
				}
			}
		}
	}
}

// idsOf returns d's sample ids in their text form, failing t if they
// cannot be read.
func idsOf(t testing.TB, d *Dataset) []string {
	t.Helper()
	ids, err := d.IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, ids.Len())
	for i := range out {
		out[i] = ids.String(i)
	}
	return out
}

// texts returns ids in their text form.
func texts(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
