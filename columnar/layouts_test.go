package columnar

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"
)

// columnTexts reads column name of the samples table as text, one value
// per sample ("null" for nulls).
func columnTexts(t *testing.T, d *Dataset, name string) []string {
	t.Helper()
	tbl, err := d.SampleTable(context.Background(), []string{name})
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var out []string
	for _, c := range tbl.Column(0).Data().Chunks() {
		for i := range c.Len() {
			if c.IsNull(i) {
				out = append(out, "null")
			} else {
				out = append(out, c.ValueStr(i))
			}
		}
	}
	return out
}

// TestHivePartitions reads a samples table partitioned into key=value
// folders as DuckDB, Spark and pyarrow write them: the keys become typed
// columns, parts are read in lexical order of their paths, marker files
// and hidden folders are skipped.
func TestHivePartitions(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(6, 21)
	sc := schemaOf(SampleIDColumn, UUIDType(), "w", arrow.PrimitiveTypes.Int64)
	parts := []struct {
		path string
		rows []int
	}{
		{"year=2023/day=2023-12-31/city=Berlin/data_0.parquet", []int{0, 1}},
		{"year=2024/day=2024-01-31/city=New%20York/data_0.parquet", []int{2}},
		{"year=2024/day=2024-02-29/city=__HIVE_DEFAULT_PARTITION__/part-00000-c000", []int{3, 4}},
		{"year=2025/day=2025-03-01/city=/data_0.parquet", []int{5}},
	}
	for _, p := range parts {
		var rows [][]any
		for _, r := range p.rows {
			rows = append(rows, []any{ids[r], int64(r)})
		}
		put(t, filepath.Join(dir, "samples", filepath.FromSlash(p.path)), record(sc, rows...))
	}
	// What engines leave beside the parts.
	os.WriteFile(filepath.Join(dir, "samples", "_SUCCESS"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "samples", "year=2023", "day=2023-12-31", "city=Berlin", ".data_0.parquet.crc"), []byte("crc"), 0o644)
	os.MkdirAll(filepath.Join(dir, "samples", "_temporary", "0"), 0o755)
	os.WriteFile(filepath.Join(dir, "samples", "_temporary", "0", "part-9.parquet"), []byte("junk"), 0o644)

	d := mustOpen(t, dir)
	if !slices.Equal(idsOf(t, d), texts(ids)) {
		t.Fatalf("ids %v", idsOf(t, d))
	}
	if got := fieldNames(d.SampleSchema()); got != "sample_id, w, year, day, city" {
		t.Fatalf("columns %s", got)
	}
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		want []string
	}{
		{"year", arrow.PrimitiveTypes.Int64, []string{"2023", "2023", "2024", "2024", "2024", "2025"}},
		{"day", arrow.FixedWidthTypes.Date32, []string{"2023-12-31", "2023-12-31", "2024-01-31", "2024-02-29", "2024-02-29", "2025-03-01"}},
		{"city", arrow.BinaryTypes.String, []string{"Berlin", "Berlin", "New York", "null", "null", "null"}},
		{"w", arrow.PrimitiveTypes.Int64, []string{"0", "1", "2", "3", "4", "5"}},
	} {
		f := d.SampleSchema().Field(d.SampleSchema().FieldIndices(c.name)[0])
		if !arrow.TypeEqual(f.Type, c.typ) {
			t.Errorf("%s: type %s, want %s", c.name, f.Type, c.typ)
		}
		if got := columnTexts(t, d, c.name); !slices.Equal(got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	// Streaming (the query's path) gives the keys batch by batch.
	got := make([]int64, d.Len())
	err := d.StreamSamples(context.Background(), []string{"year", "w"}, func(base int, cols []arrow.Array) error {
		for i := range cols[0].Len() {
			got[base+i] = cols[0].(*array.Int64).Value(i)*10 + cols[1].(*array.Int64).Value(i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{20230, 20231, 20242, 20243, 20244, 20255}; !slices.Equal(got, want) {
		t.Errorf("streamed %v, want %v", got, want)
	}
	st, err := Stat(filepath.Join(dir, "samples"))
	if err != nil || st.Parts != 4 || st.Rows != 6 {
		t.Errorf("Stat: %+v, %v", st, err)
	}
}

// TestHiveKeyTypes types partition values as DuckDB does, looking at
// every part's value.
func TestHiveKeyTypes(t *testing.T) {
	for _, c := range []struct {
		vals []string
		want arrow.DataType
	}{
		{[]string{"1", "-20", "300"}, arrow.PrimitiveTypes.Int64},
		{[]string{"2024", "2024b"}, arrow.BinaryTypes.String},
		{[]string{"1.5", "2"}, arrow.BinaryTypes.String}, // DuckDB tries no floats
		{[]string{"2024-01-02", "NULL"}, arrow.FixedWidthTypes.Date32},
		{[]string{"2024-01-02 10:00:00", "2024-01-02T11:30:00.25"}, &arrow.TimestampType{Unit: arrow.Microsecond}},
		{[]string{"2024-01-02", "2024-01-02 10:00:00"}, &arrow.TimestampType{Unit: arrow.Microsecond}},
		{[]string{"", "NULL"}, arrow.BinaryTypes.String},
	} {
		s := &source{keys: []hiveKey{{name: "k"}}}
		for _, v := range c.vals {
			s.vals = append(s.vals, []string{v})
			s.nulls = append(s.nulls, []bool{v == "" || v == "NULL"})
		}
		if got := s.keyType(0); !arrow.TypeEqual(got, c.want) {
			t.Errorf("%v: %s, want %s", c.vals, got, c.want)
		}
	}
	ts, err := parseHiveTimestamp("2024-01-02T11:30:00.25")
	if err != nil || !ts.Equal(time.Date(2024, 1, 2, 11, 30, 0, 250e6, time.UTC)) {
		t.Errorf("timestamp %v %v", ts, err)
	}
}

// TestHivePartitionErrors: parts under different keys are an error
// naming the part.
func TestHivePartitionErrors(t *testing.T) {
	dir := t.TempDir()
	ids := testIDs(2, 3)
	sc := schemaOf(SampleIDColumn, UUIDType())
	put(t, filepath.Join(dir, "samples", "year=2024", "month=1", "a.parquet"), record(sc, []any{ids[0]}))
	put(t, filepath.Join(dir, "samples", "year=2024", "b.parquet"), record(sc, []any{ids[1]}))
	_, err := Open(context.Background(), dir)
	want := filepath.Join(dir, "samples", "year=2024", "month=1", "a.parquet") + ": partition keys (year, month) differ from those of the first part " +
		filepath.Join(dir, "samples", "year=2024", "b.parquet") + " (year)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestFloat16Vectors reads float16 vectors, kept 16-bit, from a
// FixedSizeList part and a nullable List part; a table mixing float16
// and float32 parts is read as float32, the same values.
func TestFloat16Vectors(t *testing.T) {
	const n, dim = 30, 5
	ids := testIDs(n, 31)
	vecs := testVecs(n, dim, 31, func(i int) bool { return i%7 == 3 })
	// Values float16 holds exactly.
	for _, v := range vecs {
		for j := range v {
			v[j] = float16.New(v[j]).Float32()
		}
	}
	dir := t.TempDir()
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	f16 := arrow.FixedWidthTypes.Float16
	var a, b []int
	for i := range ids {
		if i < 20 && vecs[i] != nil {
			a = append(a, i)
		} else if i >= 20 {
			b = append(b, i)
		}
	}
	sub := func(rows []int) ([]uuid.UUID, [][]float32) {
		var is []uuid.UUID
		var vs [][]float32
		for _, r := range rows {
			is, vs = append(is, ids[r]), append(vs, vecs[r])
		}
		return is, vs
	}
	ai, av := sub(a)
	bi, bv := sub(b)
	writeParquet(t, filepath.Join(dir, "embeddings", "m", "a.parquet"), rowGroups(len(ai), 8, func(lo, hi int) arrow.RecordBatch {
		return embRecord(ai[lo:hi], av[lo:hi], idUUID, arrow.FixedSizeListOfNonNullable(dim, f16), false)
	}), compress.Codecs.Zstd)
	put(t, filepath.Join(dir, "embeddings", "m", "b.parquet"), embRecord(bi, bv, idUUID, arrow.ListOf(f16), true))

	d := mustOpen(t, dir)
	m, err := d.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Float16() || m.Data != nil || len(m.F16) != n*dim {
		t.Fatalf("want a float16 matrix, got F16 %d Data %d", len(m.F16), len(m.Data))
	}
	want := wantMatrix(vecs, dim)
	widened := &Matrix{Dim: dim, Data: m.Float32s(), Present: m.Present}
	equalMatrix(t, widened, want)
	for i, h := range m.F16 {
		if float16.New(want.Data[i]).Uint16() != h {
			t.Fatalf("value %d: bits %04x, want %04x", i, h, float16.New(want.Data[i]).Uint16())
		}
	}

	// A float32 part beside a float16 one: float32 storage.
	put(t, filepath.Join(dir, "embeddings", "m", "b.parquet"), embRecord(bi, bv, idUUID, arrow.ListOf(arrow.PrimitiveTypes.Float32), true))
	m, err = d.ReadEmbeddings(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if m.Float16() {
		t.Fatal("mixed float16 and float32 parts read as float16")
	}
	equalMatrix(t, m, want)

	// Non-finite float16 values are refused like float32 ones.
	bad := slices.Clone(bv)
	bad[1] = []float32{1, float32(math.Inf(1)), 0, 0, 0}
	put(t, filepath.Join(dir, "embeddings", "m", "b.parquet"), embRecord(bi, bad, idUUID, arrow.ListOf(f16), true))
	_, err = d.ReadEmbeddings(context.Background(), "m")
	if want := "sample " + ids[b[1]].String() + ": vector element 1 is +Inf"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestWideTable reads vectors from columns of the samples table itself:
// each vector column is a model named after it, and a null row has no
// vector.
func TestWideTable(t *testing.T) {
	const n, dim = 40, 3
	ids := testIDs(n, 41)
	vecs := testVecs(n, dim, 41, func(i int) bool { return i%5 == 2 })
	full := testVecs(n, dim+1, 42, nil)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: SampleIDColumn, Type: UUIDType()},
		{Name: "size", Type: arrow.PrimitiveTypes.Int64},
		{Name: "embedding", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32), Nullable: true},
		{Name: "vector", Type: arrow.FixedSizeListOfNonNullable(dim+1, arrow.PrimitiveTypes.Float64)},
	}, nil)
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "samples.parquet"), rowGroups(n, 16, func(lo, hi int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		for i := lo; i < hi; i++ {
			appendID(b.Field(0), ids[i])
			b.Field(1).(*array.Int64Builder).Append(int64(i))
			appendVec(b.Field(2), vecs[i])
			appendVec(b.Field(3), full[i])
		}
		return b.NewRecordBatch()
	}), compress.Codecs.Snappy)
	d := mustOpen(t, dir)
	if got := d.Models(); !slices.Equal(got, []string{"embedding", "vector"}) {
		t.Fatalf("models %v", got)
	}
	m, err := d.ReadEmbeddings(context.Background(), "embedding")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, m, wantMatrix(vecs, dim))
	m, err = d.ReadEmbeddings(context.Background(), "vector")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, m, wantMatrix(full, dim+1))
	if d.TablePath("embeddings/vector") != filepath.Join(dir, "samples.parquet") {
		t.Errorf("TablePath %q", d.TablePath("embeddings/vector"))
	}
	if dm, err := d.EmbeddingDim(context.Background(), "vector"); err != nil || dm != dim+1 {
		t.Errorf("EmbeddingDim %d %v", dm, err)
	}
}

// TestModelTableVectorColumn: a model table whose only vector column is
// not named embedding is read through that column.
func TestModelTableVectorColumn(t *testing.T) {
	const n, dim = 10, 4
	ids := testIDs(n, 51)
	vecs := testVecs(n, dim, 51, nil)
	dir := t.TempDir()
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	sc := arrow.NewSchema([]arrow.Field{{Name: SampleIDColumn, Type: UUIDType()}, {Name: "vector", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)}}, nil)
	var rows [][]any
	for i := range ids {
		rows = append(rows, []any{ids[i], vecs[i]})
	}
	put(t, filepath.Join(dir, "embeddings", "clip.parquet"), record(sc, rows...))
	d := mustOpen(t, dir)
	m, err := d.ReadEmbeddings(context.Background(), "clip")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, m, wantMatrix(vecs, dim))
	if mm, _ := d.Layout().model("clip"); mm.Vector != "vector" || mm.ID != SampleIDColumn {
		t.Errorf("mapping %+v", mm)
	}
}

// TestIntegerLabelsAndBoxes reads integer labels as their decimal text
// and integer boxes as numbers.
func TestIntegerLabelsAndBoxes(t *testing.T) {
	ids := testIDs(3, 61)
	dir := t.TempDir()
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	sc := schemaOf(SampleIDColumn, UUIDType(), LabelColumn, arrow.PrimitiveTypes.Int32,
		"x", arrow.PrimitiveTypes.Int32, "y", arrow.PrimitiveTypes.Int64, "width", arrow.PrimitiveTypes.Float32, "height", arrow.PrimitiveTypes.Int32)
	put(t, filepath.Join(dir, "annotations.parquet"), record(sc,
		[]any{ids[1], int64(3), int64(10), int64(20), 30.5, int64(40)},
		[]any{ids[0], int64(17), int64(0), int64(1), 2.0, int64(3)},
		[]any{ids[1], int64(3), nil, nil, nil, nil},
	))
	d := mustOpen(t, dir)
	a, err := d.Annotations(context.Background(), WithLabel|WithBox)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range a.Label.Codes {
		labels = append(labels, a.Label.Values[c])
	}
	if !slices.Equal(labels, []string{"3", "17", "3"}) || a.Label.Type != "int32" {
		t.Errorf("labels %v (%s)", labels, a.Label.Type)
	}
	if a.X.Values[0] != 10 || a.Y.Values[1] != 1 || a.Width.Values[0] != 30.5 || a.Height.Values[0] != 40 || !a.X.IsNull(2) {
		t.Errorf("box %v %v %v %v", a.X.Values, a.Y.Values, a.Width.Values, a.Height.Values)
	}
	if !d.HasAnnotationFields(WithBox|WithLabel) || d.HasAnnotationFields(WithSource) {
		t.Error("HasAnnotationFields")
	}
}

// objectDataset writes samples, annotations with ids, and an object-level
// model keyed by annotation id (in shuffled order, one annotation without
// a vector).
func objectDataset(t *testing.T) (dir string, annIDs []uuid.UUID, vecs [][]float32) {
	ids := testIDs(4, 71)
	annIDs = testIDs(6, 72)
	vecs = testVecs(6, 3, 72, func(i int) bool { return i == 4 })
	dir = t.TempDir()
	put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, idUUID))
	sc := schemaOf(AnnotationIDColumn, UUIDType(), SampleIDColumn, UUIDType(), LabelColumn, arrow.BinaryTypes.String)
	var rows [][]any
	for i, a := range annIDs {
		rows = append(rows, []any{a, ids[i%4], "box"})
	}
	put(t, filepath.Join(dir, "annotations.parquet"), record(sc, rows...))
	esc := arrow.NewSchema([]arrow.Field{{Name: AnnotationIDColumn, Type: UUIDType()}, {Name: EmbeddingColumn, Type: EmbeddingType(3)}}, nil)
	var erows [][]any
	for _, i := range []int{5, 0, 3, 1, 2} {
		erows = append(erows, []any{annIDs[i], vecs[i]})
	}
	put(t, filepath.Join(dir, "embeddings", "crops.parquet"), record(esc, erows...))
	return dir, annIDs, vecs
}

// TestObjectEmbeddings reads an object-level model into a matrix aligned
// to the annotations, with each annotation's sample.
func TestObjectEmbeddings(t *testing.T) {
	dir, _, vecs := objectDataset(t)
	d := mustOpen(t, dir)
	if !slices.Equal(d.ObjectModels(), []string{"crops"}) || len(d.Models()) != 0 {
		t.Fatalf("object models %v, models %v", d.ObjectModels(), d.Models())
	}
	om, err := d.ReadObjectEmbeddings(context.Background(), "crops")
	if err != nil {
		t.Fatal(err)
	}
	m := om.Matrix
	equalMatrix(t, &m, wantMatrix(vecs, 3))
	if !slices.Equal(om.Sample, []int32{0, 1, 2, 3, 0, 1}) {
		t.Errorf("samples %v", om.Sample)
	}
	if _, err := d.ReadObjectEmbeddings(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), `unknown object-level model "nope" (models: crops)`) {
		t.Errorf("unknown model: %v", err)
	}
	if dm, err := d.EmbeddingDim(context.Background(), "crops"); err != nil || dm != 3 {
		t.Errorf("EmbeddingDim %d %v", dm, err)
	}
}

// TestObjectEmbeddingErrors: repeated annotation ids, and a vector of an
// annotation the table lacks.
func TestObjectEmbeddingErrors(t *testing.T) {
	dir, annIDs, _ := objectDataset(t)
	esc := arrow.NewSchema([]arrow.Field{{Name: AnnotationIDColumn, Type: UUIDType()}, {Name: EmbeddingColumn, Type: EmbeddingType(3)}}, nil)
	stranger := uuid.MustParse("00000000-0000-4000-8000-00000000abcd")
	put(t, filepath.Join(dir, "embeddings", "crops.parquet"), record(esc, []any{stranger, []float32{1, 2, 3}}))
	d := mustOpen(t, dir)
	_, err := d.ReadObjectEmbeddings(context.Background(), "crops")
	if want := "crops.parquet: annotation id " + stranger.String() + " is not in annotations"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}

	ids := testIDs(4, 71)
	sc := schemaOf(AnnotationIDColumn, UUIDType(), SampleIDColumn, UUIDType(), LabelColumn, arrow.BinaryTypes.String)
	put(t, filepath.Join(dir, "annotations.parquet"), record(sc, []any{annIDs[0], ids[0], "a"}, []any{annIDs[1], ids[1], "b"}, []any{annIDs[0], ids[2], "c"}))
	d = mustOpen(t, dir)
	_, err = d.ReadObjectEmbeddings(context.Background(), "crops")
	if want := `annotations.parquet: column "annotation_id": duplicate annotation id ` + annIDs[0].String() + " (rows 0 and 2)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestDuckDBNullFixedArray reads DuckDB's NULL FLOAT[8] rows (a null list
// followed by 7 more null levels, see embeddings.go) as rows without a
// vector, like the NULL FLOAT[] rows beside them.
func TestDuckDBNullFixedArray(t *testing.T) {
	d := mustOpen(t, filepath.Join("..", "testdata", "duckdb", "wide"))
	fixed, err := d.ReadEmbeddings(context.Background(), "fixed")
	if err != nil {
		t.Fatal(err)
	}
	list, err := d.ReadEmbeddings(context.Background(), "vector")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, fixed, list)
	if fixed.Present.Count() != 36 || fixed.Present.Get(3) || fixed.Row(4)[1] != float32((4*31+17)%97)/8 {
		t.Errorf("present %d, row 3 %v, row 4 %v", fixed.Present.Count(), fixed.Present.Get(3), fixed.Row(4))
	}
	if _, err := d.ReadEmbeddings(context.Background(), "fixed", withoutPages()); err != nil {
		t.Errorf("ReadBatch path: %v", err)
	}
}
