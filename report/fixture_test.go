package report

// Test helpers that make real selections on a copy of the bundled MNIST
// fixture with the pipeline API. Like load.go, this is the only test file
// that touches pipeline.

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/pipeline"
)

// copyFixture copies testdata/mnist into a temporary folder: tests never
// write into testdata/.
func copyFixture(t testing.TB) string {
	t.Helper()
	src := filepath.Join("..", "testdata", "mnist")
	dst := filepath.Join(t.TempDir(), "mnist")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// selectOn runs one selection on dir and stores it as tag.
func selectOn(t testing.TB, dir, tag, where, pre string, n int, list ...pipeline.Strategy) *pipeline.Result {
	t.Helper()
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	q := ds.Query()
	if where != "" {
		if q, err = q.Where(where); err != nil {
			t.Fatal(err)
		}
	}
	sel, err := q.Selection()
	if err != nil {
		t.Fatal(err)
	}
	sel.Options.Preselected = pre
	res, err := sel.MultiStrategies(context.Background(), n, tag, list)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// addTag stores the first n samples of dir as tag.
func addTag(t testing.TB, dir, tag, where string) {
	t.Helper()
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ds.Query().Where(where)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.AddTag(context.Background(), tag); err != nil {
		t.Fatal(err)
	}
}

// readRecord reads tag's record straight from the pipeline, as the truth
// a report is compared with.
func readRecord(t testing.TB, dir, tag string) *pipeline.Record {
	t.Helper()
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ds.ReadRecord(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// rewriteTable rewrites the Parquet table at path through edit, which
// gets the columns by name and returns the new schema's fields and
// columns.
func rewriteTable(t testing.TB, path string, edit func(fields []arrow.Field, cols []arrow.Array) ([]arrow.Field, []arrow.Array)) {
	t.Helper()
	tbl, err := columnar.ReadTable(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	fields := tbl.Schema().Fields()
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		if cols[i], err = array.Concatenate(tbl.Column(i).Data().Chunks(), memory.DefaultAllocator); err != nil {
			t.Fatal(err)
		}
	}
	fields, cols = edit(fields, cols)
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, cols, int64(cols[0].Len()))
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := columnar.NewWriter(f, schema, columnar.WriterOptions{})
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

// addImages writes the first n digits of dir as 28×28 PNGs under images/
// (from their pixel embeddings) and adds a file_path column naming an
// image for every digit, relative to the dataset folder, so reports show
// thumbnails of those n.
func addImages(t testing.TB, dir string, n int) {
	t.Helper()
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ds.Columnar().ReadEmbeddings(context.Background(), "pixels")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for r := 0; r < ds.Len(); r++ {
		name := filepath.Join("images", fmt.Sprintf("t10k-%05d.png", r))
		b.Append(name)
		if r >= n {
			continue
		}
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for i, v := range m.Row(r) {
			img.Pix[i] = uint8(v*255 + 0.5)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	paths := b.NewArray()
	defer paths.Release()
	rewriteTable(t, filepath.Join(dir, "samples.parquet"), func(fields []arrow.Field, cols []arrow.Array) ([]arrow.Field, []arrow.Array) {
		return append(fields, arrow.Field{Name: "file_path", Type: arrow.BinaryTypes.String, Nullable: true}), append(cols, paths)
	})
}
