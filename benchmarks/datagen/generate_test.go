package datagen

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/columnar"
)

func generate(t *testing.T, cfg Config) (string, *Summary) {
	t.Helper()
	dir := t.TempDir()
	sum, err := Generate(context.Background(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

func small() Config {
	return Config{N: 3000, Dim: 16, Clusters: 10, Seed: 7, RowGroupRows: 1000}
}

func TestGenerateDeterministic(t *testing.T) {
	a, _ := generate(t, small())
	b, _ := generate(t, small())
	files := listFiles(t, a)
	want := []string{"annotations.parquet", "embeddings/synthetic.parquet", "samples.parquet", "tags.parquet"}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	for _, f := range files {
		if mixed := mixedEncodings(t, filepath.Join(a, f)); len(mixed) > 0 {
			t.Errorf("%s: columns %v fell back from dictionary encoding; shrink the test so bytes are reproducible", f, mixed)
		}
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	// The tags table is sealed, as winnow writes it (the seal is part of
	// the bytes compared above, so it is reproducible too).
	f, err := os.Open(filepath.Join(a, "tags.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.MetaData().KeyValueMetadata().FindValue("winnow.seal.v1"); v == nil || len(*v) != 64 {
		t.Errorf("tags.parquet is not sealed: %v", v)
	}
	cfg := small()
	cfg.Seed, cfg.NoAnnotations, cfg.NoTags = 8, true, true
	c, _ := generate(t, cfg)
	for _, f := range []string{"embeddings/synthetic.parquet", "samples.parquet"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(c, f))
		if bytes.Equal(x, y) {
			t.Errorf("%s is the same for seeds 7 and 8", f)
		}
	}
}

// within reports whether a count is within 5 binomial standard deviations
// of n·p: a generous bound that a correct generator misses with
// negligible probability, and a wrong share misses clearly.
func within(count, n int, p float64) bool {
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(count)-float64(n)*p) <= 5*sd+1
}

func TestGenerateContents(t *testing.T) {
	cfg := small()
	dir, sum := generate(t, cfg)
	n := cfg.N

	for _, f := range []string{"samples.parquet", "embeddings/synthetic.parquet", "annotations.parquet", "tags.parquet"} {
		pt, lt, l := parquetColumn(t, filepath.Join(dir, f), "sample_id")
		if pt != parquet.Types.FixedLenByteArray || l != 16 || !lt.Equals(schema.UUIDLogicalType{}) {
			t.Errorf("%s sample_id is %v(%d) %v, want FIXED_LEN_BYTE_ARRAY(16) UUID", f, pt, l, lt)
		}
	}
	if got := rowGroups(t, filepath.Join(dir, "samples.parquet")); got != 3 {
		t.Errorf("samples has %d row groups, want 3 of 1000 rows", got)
	}

	s := readTable(t, filepath.Join(dir, "samples.parquet"))
	if !sameFields(s.schema, SamplesSchema()) || s.rows != n || sum.Samples != int64(n) {
		t.Fatalf("samples: %d rows (summary %d), schema %v", s.rows, sum.Samples, s.schema)
	}
	if !strings.Contains(s.meta["winnow.datagen"], "seed=7") {
		t.Errorf("samples metadata %v does not record the seed", s.meta)
	}
	ids := s.cols["sample_id"].(*extensions.UUIDArray)
	row := map[uuid.UUID]int{}
	for i := range n {
		row[ids.Value(i)] = i
	}
	if len(row) != n {
		t.Fatalf("%d distinct sample ids in %d rows", len(row), n)
	}
	if got := s.cols["file_name"].(*array.String).Value(42); got != "img_000000042.jpg" {
		t.Errorf("file_name[42] = %q", got)
	}
	for _, c := range []string{"sample_id", "file_name", "width", "height", "created_at", "cluster", "split", "num_objects"} {
		if s.cols[c].NullN() != 0 {
			t.Errorf("column %s has %d nulls, want none", c, s.cols[c].NullN())
		}
	}
	for c, p := range map[string]float64{"weather": weatherNulls, "difficulty": difficultyNulls, "brightness": brightnessNulls} {
		if got := s.cols[c].NullN(); got == 0 || !within(got, n, p) {
			t.Errorf("column %s has %d nulls in %d rows, want about %.0f%%", c, got, n, 100*p)
		}
	}
	w := s.cols["width"].(*array.Int64)
	h := s.cols["height"].(*array.Int64)
	ts := s.cols["created_at"].(*array.Timestamp)
	diff := s.cols["difficulty"].(*array.Float64)
	bright := s.cols["brightness"].(*array.Float64)
	weather := s.cols["weather"].(*array.String)
	narrow, query := 0, 0
	weatherCount := map[string]int{}
	for i := range n {
		if w.Value(i) < minWidth || w.Value(i) > maxWidth || h.Value(i) < 1 {
			t.Fatalf("row %d is %dx%d", i, w.Value(i), h.Value(i))
		}
		if v := int64(ts.Value(i)); v < createdBase || v > createdBase+createdSpan+createdJit {
			t.Fatalf("row %d created_at %d out of range", i, v)
		}
		if diff.IsValid(i) && diff.Value(i) < 0 {
			t.Fatalf("row %d difficulty %v < 0", i, diff.Value(i))
		}
		if bright.IsValid(i) && (bright.Value(i) < 0 || bright.Value(i) > 1) {
			t.Fatalf("row %d brightness %v", i, bright.Value(i))
		}
		if weather.IsValid(i) {
			weatherCount[weather.Value(i)]++
		}
		if w.Value(i) < 256 {
			narrow++
			if weather.IsValid(i) && (weather.Value(i) == "rain" || weather.Value(i) == "snow") {
				query++
			}
		}
	}
	pNarrow := float64(256-minWidth) / float64(maxWidth-minWidth+1)
	if !within(narrow, n, pNarrow) {
		t.Errorf("width < 256 on %d of %d samples, want about %.0f%%", narrow, n, 100*pNarrow)
	}
	if !within(query, n, pNarrow*0.3) {
		t.Errorf("width < 256 and weather in (rain, snow) on %d of %d samples, want about %.1f%%", query, n, 100*pNarrow*0.3)
	}
	for i, v := range weatherValues {
		if !within(weatherCount[v], n, weatherShares[i]) {
			t.Errorf("weather %s on %d of %d samples, want %.0f%%", v, weatherCount[v], n, 100*weatherShares[i])
		}
	}

	e := readTable(t, filepath.Join(dir, "embeddings", "synthetic.parquet"))
	if !sameFields(e.schema, arrowSchemaEmb(16)) || e.rows != n || sum.Embeddings != int64(n) {
		t.Fatalf("embeddings: %d rows, schema %v", e.rows, e.schema)
	}
	vals := e.cols["embedding"].(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
	for i := range n {
		if e.cols["sample_id"].(*extensions.UUIDArray).Value(i) != ids.Value(i) {
			t.Fatalf("embedding row %d is not sample %d", i, i)
		}
		norm := 0.0
		for _, v := range vals[i*16 : (i+1)*16] {
			norm += float64(v) * float64(v)
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Fatalf("embedding %d has squared norm %v, want 1", i, norm)
		}
	}

	a := readTable(t, filepath.Join(dir, "annotations.parquet"))
	if !sameFields(a.schema, AnnotationsSchema()) || a.rows == 0 || sum.Annotations != int64(a.rows) {
		t.Fatalf("annotations: %d rows (summary %d), schema %v", a.rows, sum.Annotations, a.schema)
	}
	gt := make([]int, n)
	labels := map[string]int{}
	src := a.cols["source"].(*array.String)
	for i := range a.rows {
		r, ok := row[a.cols["sample_id"].(*extensions.UUIDArray).Value(i)]
		if !ok {
			t.Fatalf("annotation %d belongs to no sample", i)
		}
		x, y := a.cols["x"].(*array.Float64).Value(i), a.cols["y"].(*array.Float64).Value(i)
		bw, bh := a.cols["width"].(*array.Float64).Value(i), a.cols["height"].(*array.Float64).Value(i)
		if x < 0 || y < 0 || bw <= 0 || bh <= 0 || x+bw > float64(w.Value(r)) || y+bh > float64(h.Value(r)) {
			t.Fatalf("annotation %d box (%v,%v,%v,%v) outside its %dx%d image", i, x, y, bw, bh, w.Value(r), h.Value(r))
		}
		conf := a.cols["confidence"].(*array.Float64).Value(i)
		switch src.Value(i) {
		case "ground_truth":
			gt[r]++
			labels[a.cols["label"].(*array.String).Value(i)]++
			if conf != 1 {
				t.Fatalf("ground truth annotation %d has confidence %v", i, conf)
			}
		case "model_v3":
			if conf <= 0 || conf >= 1 {
				t.Fatalf("model annotation %d has confidence %v", i, conf)
			}
		default:
			t.Fatalf("annotation %d has source %q", i, src.Value(i))
		}
	}
	objects := s.cols["num_objects"].(*array.Int64)
	for i := range n {
		if int64(gt[i]) != objects.Value(i) {
			t.Fatalf("sample %d has %d ground-truth boxes but num_objects %d", i, gt[i], objects.Value(i))
		}
	}
	// Class frequencies follow Zipf: the most common class is about
	// twice the second and about ten times the tenth.
	nGT := 0
	for _, c := range labels {
		nGT += c
	}
	classes := zipf(len(classNames), zipfS)
	for k, name := range classNames {
		p := classes[k]
		if k > 0 {
			p -= classes[k-1]
		}
		if !within(labels[name], nGT, p) {
			t.Errorf("class %s on %d of %d ground-truth boxes, want %.1f%%", name, labels[name], nGT, 100*p)
		}
	}

	tg := readTable(t, filepath.Join(dir, "tags.parquet"))
	if !sameFields(tg.schema, TagsSchema()) || tg.rows != n {
		t.Fatalf("tags: %d rows, schema %v", tg.rows, tg.schema)
	}
	rev := tg.cols["reviewed"].(*array.Boolean)
	tagged := 0
	for i := range n {
		if tg.cols["sample_id"].(*extensions.UUIDArray).Value(i) != ids.Value(i) {
			t.Fatalf("tags row %d is not sample %d", i, i)
		}
		if rev.Value(i) {
			tagged++
		}
	}
	if rev.NullN() != 0 || int64(tagged) != sum.Tagged || !within(tagged, n, reviewedShare) {
		t.Errorf("reviewed on %d of %d samples (summary %d, %d nulls), want about 10%%", tagged, n, sum.Tagged, rev.NullN())
	}
}

func arrowSchemaEmb(dim int) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "sample_id", Type: extensions.NewUUIDType()},
		{Name: "embedding", Type: arrow.FixedSizeListOfNonNullable(int32(dim), arrow.PrimitiveTypes.Float32)},
	}, nil)
}

// TestGenerateClusters checks the mixture: cluster sizes follow Zipf's
// law, and every vector is closer to its own cluster's mean than to any
// other's.
func TestGenerateClusters(t *testing.T) {
	cfg := Config{N: 12000, Dim: 32, Clusters: 20, Seed: 3, NoAnnotations: true, NoTags: true}
	dir, sum := generate(t, cfg)
	s := readTable(t, filepath.Join(dir, "samples.parquet"))
	cl := s.cols["cluster"].(*array.Int64)
	sizes := make([]int64, cfg.Clusters)
	for i := range cfg.N {
		sizes[cl.Value(i)]++
	}
	if !slices.Equal(sizes, sum.ClusterSizes) {
		t.Fatalf("cluster column sizes %v, summary %v", sizes, sum.ClusterSizes)
	}
	h := 0.0
	for k := range cfg.Clusters {
		h += 1 / float64(k+1)
	}
	for k, got := range sizes {
		p := 1 / float64(k+1) / h
		if !within(int(got), cfg.N, p) {
			t.Errorf("cluster %d has %d samples, want about %.0f (Zipf)", k, got, p*float64(cfg.N))
		}
	}

	e := readTable(t, filepath.Join(dir, "embeddings", "synthetic.parquet"))
	vals := e.cols["embedding"].(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
	mean := make([]float64, cfg.Clusters*cfg.Dim)
	for i := range cfg.N {
		k := int(cl.Value(i))
		for j := range cfg.Dim {
			mean[k*cfg.Dim+j] += float64(vals[i*cfg.Dim+j]) / float64(sizes[k])
		}
	}
	wrong := 0
	for i := range cfg.N {
		best, bestD := -1, math.Inf(1)
		for k := range cfg.Clusters {
			d := 0.0
			for j := range cfg.Dim {
				x := float64(vals[i*cfg.Dim+j]) - mean[k*cfg.Dim+j]
				d += x * x
			}
			if d < bestD {
				best, bestD = k, d
			}
		}
		if best != int(cl.Value(i)) {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d vectors are closer to another cluster's mean than to their own", wrong, cfg.N)
	}
}

// TestGenerateLayoutIndependent checks that parts and row-group size change
// only how rows are stored, not the rows: the part files concatenated
// equal the single file.
func TestGenerateLayoutIndependent(t *testing.T) {
	one, _ := generate(t, small())
	cfg := small()
	cfg.Parts, cfg.RowGroupRows = 3, 700
	parts, _ := generate(t, cfg)
	want := []string{
		"annotations/part-00000.parquet", "annotations/part-00001.parquet", "annotations/part-00002.parquet",
		"embeddings/synthetic/part-00000.parquet", "embeddings/synthetic/part-00001.parquet", "embeddings/synthetic/part-00002.parquet",
		"samples/part-00000.parquet", "samples/part-00001.parquet", "samples/part-00002.parquet",
		"tags.parquet",
	}
	if got := listFiles(t, parts); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	if got := rowGroups(t, filepath.Join(parts, "samples", "part-00000.parquet")); got != 2 {
		t.Errorf("part 0 (1000 rows) has %d row groups, want 2 of at most 700", got)
	}
	for _, tbl := range []string{"samples", "annotations", "embeddings/synthetic", "tags"} {
		whole := readTable(t, filepath.Join(one, tbl+".parquet"))
		var pieces []table
		if tbl == "tags" {
			pieces = []table{readTable(t, filepath.Join(parts, "tags.parquet"))}
		} else {
			for p := range 3 {
				pieces = append(pieces, readTable(t, filepath.Join(parts, tbl, fmt.Sprintf("part-%05d.parquet", p))))
			}
		}
		if tbl == "samples" && pieces[0].rows != 1000 {
			t.Errorf("samples part 0 has %d rows, want 1000", pieces[0].rows)
		}
		for name, col := range whole.cols {
			var chunks []arrow.Array
			for _, p := range pieces {
				chunks = append(chunks, p.cols[name])
			}
			got, err := array.Concatenate(chunks, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			if !array.Equal(got, col) {
				t.Errorf("%s.%s: parts differ from the single file", tbl, name)
			}
			got.Release()
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	cfg := small()
	cfg.MissingEmbeddings, cfg.NoAnnotations, cfg.NoTags, cfg.Model, cfg.Compression = 0.25, true, true, "clip", "snappy"
	dir, sum := generate(t, cfg)
	if got := listFiles(t, dir); !slices.Equal(got, []string{"embeddings/clip.parquet", "samples.parquet"}) {
		t.Fatalf("files %v", got)
	}
	e := readTable(t, filepath.Join(dir, "embeddings", "clip.parquet"))
	if int64(e.rows) != sum.Embeddings || !within(cfg.N-e.rows, cfg.N, 0.25) {
		t.Errorf("%d of %d samples have vectors (summary %d), want about 75%%", e.rows, cfg.N, sum.Embeddings)
	}
	// Dropping vectors must not change the samples themselves.
	base, _ := generate(t, small())
	if !array.Equal(readTable(t, filepath.Join(dir, "samples.parquet")).cols["sample_id"],
		readTable(t, filepath.Join(base, "samples.parquet")).cols["sample_id"]) {
		t.Error("sample ids depend on MissingEmbeddings")
	}

	// Overwrite replaces an earlier run's tables, also of the other form.
	cfg = small()
	cfg.Parts = 2
	if _, err := Generate(context.Background(), dir, cfg); err == nil || !strings.Contains(err.Error(), "samples.parquet already exists (overwrite to replace it)") {
		t.Fatalf("Generate over an existing dataset: %v", err)
	}
	cfg.Overwrite = true
	if _, err := Generate(context.Background(), dir, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "samples.parquet")); !os.IsNotExist(err) {
		t.Errorf("samples.parquet survived overwrite with parts: %v", err)
	}

	var buf bytes.Buffer
	cfg = small()
	cfg.Progress = &buf
	if _, err := Generate(context.Background(), t.TempDir(), cfg); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "3000 samples, ") {
		t.Errorf("progress %q, want a final line starting with the sample count", buf.String())
	}
	for _, l := range lines[:len(lines)-1] { // updates, if generating took over a second
		if !strings.Contains(l, "/3000 samples (") {
			t.Errorf("progress line %q, want rows written out of 3000", l)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"no samples", func(c *Config) { c.N = 0 }, "number of samples 0: want at least 1"},
		{"no dim", func(c *Config) { c.Dim = -1 }, "embedding dimension -1: want at least 1"},
		{"no clusters", func(c *Config) { c.Clusters = 0 }, "number of clusters 0: want at least 1"},
		{"row groups", func(c *Config) { c.RowGroupRows = -5 }, "row group size -5: want at least 1"},
		{"too many parts", func(c *Config) { c.Parts = 3001 }, "number of parts 3001: want 1 to 3000"},
		{"missing share", func(c *Config) { c.MissingEmbeddings = 1 }, "share of missing embeddings 1: want 0 <= share < 1"},
		{"NaN share", func(c *Config) { c.MissingEmbeddings = math.NaN() }, "share of missing embeddings NaN"},
		{"model path", func(c *Config) { c.Model = "../x" }, `model name "../x": want a plain file name`},
		{"compression", func(c *Config) { c.Compression = "gzip" }, `compression "gzip": want zstd, snappy or none`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := small()
			tc.cfg(&cfg)
			dir := filepath.Join(t.TempDir(), "ds")
			_, err := Generate(context.Background(), dir, cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %v, want one naming %q and %q", err, dir, tc.want)
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dir := t.TempDir()
		if _, err := Generate(ctx, dir, small()); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("Generate(cancelled) = %v", err)
		}
		if got := listFiles(t, dir); len(got) != 0 {
			t.Errorf("cancelled run left %v", got)
		}
	})
	t.Run("cancelled midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		dir := t.TempDir()
		var buf bytes.Buffer
		cfg := Config{N: 1 << 20, Dim: 64, Clusters: 10, RowGroupRows: 4096, Progress: &buf}
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		if _, err := Generate(ctx, dir, cfg); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("Generate(cancelled midway) = %v", err)
		}
		if el := time.Since(start); el > 20*time.Second {
			t.Errorf("Generate took %v to notice cancellation", el)
		}
		if got := listFiles(t, dir); len(got) != 0 {
			t.Errorf("cancelled run left %v", got)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o644)
		if _, err := Generate(context.Background(), f, small()); err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("Generate into a file = %v", err)
		}
	})
}

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "winnow-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sum, err := Generate(context.Background(), dir, Config{N: 1000, Dim: 8, Clusters: 5, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Samples, "samples,", sum.Embeddings, "vectors")
	fmt.Println("largest cluster first:", sum.ClusterSizes[0] > sum.ClusterSizes[4])
	// Output:
	// 1000 samples, 1000 vectors
	// largest cluster first: true
}

// BenchmarkGenerate measures writing a 65,536-sample, 768-d dataset with
// every table, the cost per sample of a large benchmark dataset.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{N: 64 * 1024, Dim: 768, Clusters: 100, Seed: 1, Overwrite: true}
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(context.Background(), dir, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.N*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// TestGenerateIDTypes writes datasets with string and integer ids that
// winnow opens with their own id kind, every table matched.
func TestGenerateIDTypes(t *testing.T) {
	for typ, kind := range map[string]columnar.IDKind{"string": columnar.StringIDs, "int64": columnar.IntIDs} {
		cfg := small()
		cfg.IDType = typ
		dir, sum := generate(t, cfg)
		ds, err := columnar.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if ds.IDKind() != kind || !ds.Sealed() {
			t.Errorf("%s: id kind %v, sealed %v", typ, ds.IDKind(), ds.Sealed())
		}
		m, err := ds.ReadEmbeddings(context.Background(), "synthetic")
		if err != nil || m.Present.Count() != int(sum.Embeddings) {
			t.Errorf("%s: embeddings %v", typ, err)
		}
		if _, err := ds.Annotations(context.Background(), columnar.WithLabel); err != nil {
			t.Errorf("%s: annotations %v", typ, err)
		}
	}
}

// TestGenerateFloat16 writes float16 vectors: the same vectors as the
// float32 run, rounded, read back 16-bit.
func TestGenerateFloat16(t *testing.T) {
	cfg := small()
	dir32, _ := generate(t, cfg)
	cfg.Float16 = true
	dir16, _ := generate(t, cfg)
	read := func(dir string) *columnar.Matrix {
		ds, err := columnar.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ds.ReadEmbeddings(context.Background(), "synthetic")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m32, m16 := read(dir32), read(dir16)
	if !m16.Float16() || m32.Float16() {
		t.Fatalf("float16 %v and %v", m16.Float16(), m32.Float16())
	}
	w := m16.Float32s()
	for i, v := range m32.Data {
		if d := math.Abs(float64(v - w[i])); d > 1e-3 {
			t.Fatalf("value %d: %v against float16 %v", i, v, w[i])
		}
	}
}
