package columnar

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// lakeDataset writes tables as a data lake holds them, under names that
// are not winnow's: images (int64 ids image_id, a wide pixel vector
// column), a model table with its own id column and a vector column
// named vector, labels with integer categories, and box crops keyed by
// box id. It returns the folder.
func lakeDataset(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	const n = 12
	vecs := testVecs(n, 3, 81, nil)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "image_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "split", Type: arrow.BinaryTypes.String},
		{Name: "pixels", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(100 + i))
		b.Field(1).(*array.StringBuilder).Append([]string{"train", "val"}[i%2])
		appendVec(b.Field(2), vecs[i])
	}
	put(t, filepath.Join(dir, "lake", "images", "country=de", "part-0.parquet"), b.NewRecordBatch())
	esc := arrow.NewSchema([]arrow.Field{{Name: "img", Type: arrow.PrimitiveTypes.Int32}, {Name: "vector", Type: arrow.FixedSizeListOfNonNullable(3, arrow.PrimitiveTypes.Float32)}}, nil)
	eb := array.NewRecordBuilder(memory.DefaultAllocator, esc)
	for i := n - 1; i >= 0; i-- {
		eb.Field(0).(*array.Int32Builder).Append(int32(100 + i))
		appendVec(eb.Field(1), vecs[i])
	}
	put(t, filepath.Join(dir, "lake", "clip", "v1.parquet"), eb.NewRecordBatch())
	asc := schemaOf("box_id", arrow.BinaryTypes.String, "image_id", arrow.PrimitiveTypes.Int64, "category", arrow.PrimitiveTypes.Int64, "score", arrow.PrimitiveTypes.Float64)
	put(t, filepath.Join(dir, "lake", "labels.parquet"), record(asc,
		[]any{"b0", int64(101), int64(3), 0.9}, []any{"b1", int64(100), int64(7), 0.5}, []any{"b2", int64(101), int64(3), nil}))
	csc := arrow.NewSchema([]arrow.Field{{Name: "box_id", Type: arrow.BinaryTypes.String}, {Name: "embedding", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)}}, nil)
	put(t, filepath.Join(dir, "lake", "crops.parquet"), record(csc, []any{"b2", []float32{1, 2}}, []any{"b0", []float32{3, 4}}))
	return dir
}

const lakeManifest = `# the lake's tables, mapped in place
samples:
  path: lake/images
  id: image_id
embeddings:
  clip:
    path: lake/clip/*.parquet
    id: img
  pixels:
    vector: pixels
  crops:
    path: lake/crops.parquet
    annotation_id: box_id
annotations:
  path: lake/labels.parquet
  label: category
  id: box_id
  confidence: score
output: out
`

func writeManifest(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, ManifestName)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestManifest opens tables mapped in place by a manifest: a partitioned
// folder with integer ids, a globbed model table with its own id and
// vector column names, a wide column, an object-level model, annotations
// with integer labels, and a separate output folder.
func TestManifest(t *testing.T) {
	ctx := context.Background()
	dir := lakeDataset(t)
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	writeManifest(t, dir, lakeManifest)
	d := mustOpen(t, dir) // finds winnow.yaml
	lay := d.Layout()
	if lay.Manifest != filepath.Join(dir, ManifestName) || lay.Samples.ID != "image_id" || lay.Output != filepath.Join(dir, "out") {
		t.Errorf("layout %+v", lay)
	}
	want := []ModelMapping{
		{Name: "clip", Path: filepath.Join(dir, "lake/clip/*.parquet"), ID: "img", Vector: "vector"},
		{Name: "crops", Path: filepath.Join(dir, "lake/crops.parquet"), ID: "box_id", Vector: "embedding", Object: true},
		{Name: "pixels", Vector: "pixels"},
	}
	if !slices.Equal(lay.Models, want) {
		t.Errorf("models\n%+v\nwant\n%+v", lay.Models, want)
	}
	if a := lay.Annotations; a.Sample != "image_id" || a.Label != "category" || a.ID != "box_id" || a.Confidence != "score" || a.Source != "" {
		t.Errorf("annotations %+v", a)
	}
	if !slices.Equal(d.Models(), []string{"clip", "pixels"}) || !slices.Equal(d.ObjectModels(), []string{"crops"}) {
		t.Errorf("models %v, object models %v", d.Models(), d.ObjectModels())
	}
	clip, err := d.ReadEmbeddings(ctx, "clip")
	if err != nil {
		t.Fatal(err)
	}
	pixels, err := d.ReadEmbeddings(ctx, "pixels")
	if err != nil {
		t.Fatal(err)
	}
	equalMatrix(t, clip, pixels)
	om, err := d.ReadObjectEmbeddings(ctx, "crops")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(om.Sample, []int32{1, 0, 1}) || om.Present.Get(1) || om.Row(2)[1] != 2 {
		t.Errorf("object matrix %+v", om)
	}
	a, err := d.Annotations(ctx, WithLabel|WithConfidence)
	if err != nil {
		t.Fatal(err)
	}
	if a.Label.Values[a.Label.Codes[1]] != "7" || a.Confidence.Values[0] != 0.9 {
		t.Errorf("annotations %+v", a)
	}
	if got := columnTexts(t, d, "country"); got[0] != "de" {
		t.Errorf("partition key %v", got)
	}
	// winnow writes to the output folder, not beside the data.
	path, _, err := d.TagsTarget()
	if err != nil || path != filepath.Join(dir, "out", "tags.parquet") || d.RecordsDir() != filepath.Join(dir, "out", "selections") ||
		d.LockPath() != filepath.Join(dir, "out", ".tags.lock") {
		t.Errorf("writes go to %s %s %s (%v)", path, d.RecordsDir(), d.LockPath(), err)
	}
	tag := bitmap.New(d.Len())
	tag.Set(4)
	writeTagsFileAt(t, d, path, []string{"t"}, []*bitmap.Bitmap{tag})
	d = mustOpen(t, filepath.Join(dir, ManifestName)) // the manifest file itself
	if got := mustTag(t, d, "t"); !slices.Equal(got.Indexes(), []int{4}) || !d.Sealed() {
		t.Errorf("tag %v, sealed %v", got.Indexes(), d.Sealed())
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "images", "tags.parquet")); err == nil {
		t.Error("a tags table was written beside the data")
	}
}

// writeTagsFileAt writes d's tags table to path.
func writeTagsFileAt(t testing.TB, d *Dataset, path string, names []string, bits []*bitmap.Bitmap) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := d.WriteTags(context.Background(), f, names, bits, TagsMeta{}); err != nil {
		t.Fatal(err)
	}
}

// TestManifestErrors: every mistake in a manifest is an error naming the
// file, the line and the entry.
func TestManifestErrors(t *testing.T) {
	base := lakeDataset(t)
	m := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	for _, c := range []struct {
		name, manifest, want string
	}{
		{"unknown top-level key", m("samples: lake/images", "embedings: {}"),
			`winnow.yaml:2: embedings: unknown key "embedings" at the top level (known: samples, embeddings, annotations, output)`},
		{"unknown nested key", m("samples:", "  path: lake/images", "  idd: image_id"),
			`winnow.yaml:3: samples.idd: unknown key "idd" in samples (known: path, id)`},
		{"not YAML", "samples: [", `winnow.yaml: not YAML: line 1: did not find expected node content`},
		{"empty", "", `winnow.yaml: empty manifest; it needs at least samples`},
		{"no samples", m("output: ."), `winnow.yaml:1: samples: missing: the manifest must say where the samples table is`},
		{"a list for a name", m("samples:", "  path: [a, b]"), `winnow.yaml:2: samples.path: want a name, got a list`},
		{"missing table", m("samples: lake/nope.parquet"), `winnow.yaml:1: samples: stat ` + filepath.Join(base, "lake/nope.parquet") + `: no such file or directory`},
		{"glob matching nothing", m("samples: lake/*.csv"), `winnow.yaml:1: samples: table ` + filepath.Join(base, "lake/*.csv") + `: the pattern matches no file`},
		{"missing id column", m("samples:", "  path: lake/images", "  id: img_id"),
			`winnow.yaml:3: samples.id: ` + filepath.Join(base, "lake/images") + `: missing required column "img_id" (columns: image_id, split, pixels, country)`},
		{"id column of the wrong type", m("samples:", "  path: lake/images", "  id: pixels"),
			`winnow.yaml:3: samples.id: ` + filepath.Join(base, "lake/images") + `: column "pixels" has type float32[], want a UUID`},
		{"missing vector column", m("samples:", "  path: lake/images", "  id: image_id", "embeddings:", "  clip:", "    path: lake/clip/v1.parquet", "    id: img", "    vector: vec"),
			`winnow.yaml:8: embeddings.clip.vector: ` + filepath.Join(base, "lake/clip/v1.parquet") + `: missing required column "vec" (columns: img, vector)`},
		{"vector column of the wrong type", m("samples:", "  path: lake/images", "  id: image_id", "embeddings:", "  s:", "    vector: split"),
			`winnow.yaml:6: embeddings.s.vector: ` + filepath.Join(base, "lake/images") + `: column "split" has type utf8, want a list or fixed-size list of float16, float32 or float64`},
		{"model reference missing", m("samples:", "  path: lake/images", "  id: image_id", "embeddings:", "  clip: lake/clip/v1.parquet"),
			`winnow.yaml:5: embeddings.clip.id: ` + filepath.Join(base, "lake/clip/v1.parquet") + `: missing required column "image_id" (columns: img, vector)`},
		{"wide model without a vector", m("samples: lake/images", "embeddings:", "  w:", "    id: x"),
			`winnow.yaml:4: embeddings.w: a model in the samples table (no path) has no id column of its own`},
		{"both id kinds", m("samples: lake/images", "embeddings:", "  c:", "    path: lake/crops.parquet", "    id: box_id", "    annotation_id: box_id"),
			`winnow.yaml:4: embeddings.c: give id (a sample-level model) or annotation_id (an object-level one), not both`},
		{"object model without annotations", m("samples:", "  path: lake/images", "  id: image_id", "embeddings:", "  c:", "    path: lake/crops.parquet", "    annotation_id: box_id"),
			`winnow.yaml:7: embeddings.c.annotation_id: an object-level model needs the annotations table, which the dataset lacks`},
		{"annotation label of the wrong type", m("samples:", "  path: lake/images", "  id: image_id", "annotations:", "  path: lake/labels.parquet", "  label: score"),
			`winnow.yaml:6: annotations.label: ` + filepath.Join(base, "lake/labels.parquet") + `: column "score" has type float64, want string or integer`},
		{"annotation column missing", m("samples:", "  path: lake/images", "  id: image_id", "annotations:", "  path: lake/labels.parquet", "  label: category", "  source: model"),
			`winnow.yaml:7: annotations.source: ` + filepath.Join(base, "lake/labels.parquet") + `: missing required column "model" (columns: box_id, image_id, category, score)`},
		{"annotations without labels", m("samples:", "  path: lake/images", "  id: image_id", "annotations:", "  path: lake/labels.parquet"),
			`winnow.yaml:4: annotations.label: ` + filepath.Join(base, "lake/labels.parquet") + `: missing required column "label" (columns: box_id, image_id, category, score)`},
		{"output missing", m("samples: lake/images", "output: nowhere"),
			`winnow.yaml:2: output: ` + filepath.Join(base, "nowhere") + ` is not a folder (winnow writes its tags there; create it first)`},
		{"key given twice", m("samples: lake/images", "samples: lake/images"), `winnow.yaml:2: samples: given twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeManifest(t, base, c.manifest)
			_, err := Open(context.Background(), base)
			if err == nil {
				t.Fatalf("no error, want %s", c.want)
			}
			got := strings.ReplaceAll(err.Error(), path, ManifestName)
			if !strings.Contains(got, c.want) {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			var me *ManifestError
			if !strings.HasPrefix(c.want, "winnow.yaml: ") && !asManifestError(err, &me) {
				t.Errorf("not a *ManifestError: %T", err)
			}
		})
	}
}

func asManifestError(err error, me **ManifestError) bool {
	for err != nil {
		if e, ok := err.(*ManifestError); ok {
			*me = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestManifestRoundTrip writes a layout as a manifest and reads it back.
func TestManifestRoundTrip(t *testing.T) {
	dir := lakeDataset(t)
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	writeManifest(t, dir, lakeManifest)
	lay, err := ReadManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	text, err := lay.MarshalManifest(map[string]string{"samples.id": "guessed: the only integer column named *_id"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "  # guessed: the only integer column named *_id\n  id: image_id") {
		t.Errorf("no comment:\n%s", text)
	}
	path := writeManifest(t, dir, string(text))
	again, err := ReadManifest(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	again.Manifest = lay.Manifest
	if !slices.Equal(again.Models, lay.Models) || again.Samples != lay.Samples || *again.Annotations != *lay.Annotations || again.Output != lay.Output {
		t.Errorf("round trip\n%+v\n%+v\n%s", again, lay, text)
	}
}

// TestGuessManifest guesses the roles of the lake's tables, laid out in
// one folder, from their names and types, and the manifest it writes
// opens to the same data.
func TestGuessManifest(t *testing.T) {
	ctx := context.Background()
	lake := lakeDataset(t)
	dir := filepath.Join(lake, "lake")
	// The model table references the images by their id column's name.
	esc := arrow.NewSchema([]arrow.Field{{Name: "image_id", Type: arrow.PrimitiveTypes.Int64}, {Name: "vector", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)}}, nil)
	put(t, filepath.Join(dir, "clip", "v1.parquet"), record(esc, []any{int64(100), []float32{1, 2, 3}}, []any{int64(103), []float32{0, 0, 1}}))
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a table"), 0o644)
	lay, guesses, err := GuessManifest(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if lay.Samples != (SamplesMapping{Path: filepath.Join(dir, "images"), ID: "image_id"}) {
		t.Errorf("samples %+v", lay.Samples)
	}
	want := []ModelMapping{
		{Name: "clip", Path: filepath.Join(dir, "clip"), ID: "image_id", Vector: "vector"},
		{Name: "crops", Path: filepath.Join(dir, "crops.parquet"), ID: "box_id", Vector: "embedding", Object: true},
		{Name: "pixels", Vector: "pixels"},
	}
	if !slices.Equal(lay.Models, want) {
		t.Errorf("models\n%+v\nwant\n%+v", lay.Models, want)
	}
	if a := lay.Annotations; a == nil || a.Label != "category" || a.Sample != "image_id" || a.ID != "box_id" || a.Confidence != "score" {
		t.Errorf("annotations %+v", a)
	}
	keys := map[string]string{}
	for _, g := range guesses {
		keys[g.Key] = g.Value
		if g.Why == "" {
			t.Errorf("guess %+v says not why", g)
		}
	}
	if keys["samples.id"] != "image_id" || keys["annotations.label"] != "category" || keys["embeddings.crops.annotation_id"] != "box_id" {
		t.Errorf("guesses %+v", guesses)
	}
	text, err := lay.MarshalManifest(nil)
	if err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, string(text))
	d := mustOpen(t, dir)
	if !slices.Equal(d.Models(), []string{"clip", "pixels"}) || d.Layout().Samples.Path != lay.Samples.Path {
		t.Errorf("reopened: models %v layout %+v", d.Models(), d.Layout())
	}
	m, err := d.ReadEmbeddings(ctx, "clip")
	if err != nil || !m.Present.Get(3) || m.Present.Count() != 2 {
		t.Errorf("clip: %v %v", m, err)
	}
}

// TestGuessManifestErrors: a folder without a samples-like table, and
// a samples table without an id-like column.
func TestGuessManifestErrors(t *testing.T) {
	dir := t.TempDir()
	put(t, filepath.Join(dir, "labels.parquet"), record(schemaOf("image_id", arrow.PrimitiveTypes.Int64, "label", arrow.BinaryTypes.String), []any{int64(1), "a"}))
	_, _, err := GuessManifest(context.Background(), dir)
	if want := "no table looks like the samples (a table with a column sample_id, image_id"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
	put(t, filepath.Join(dir, "samples.parquet"), record(schemaOf("path", arrow.BinaryTypes.String, "w", arrow.PrimitiveTypes.Float64), []any{"a.jpg", 1.0}))
	_, _, err = GuessManifest(context.Background(), dir)
	if want := "samples.parquet has no column that looks like the sample id"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}
