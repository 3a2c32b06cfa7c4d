package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/importers"
)

// importCOCOFile writes a small COCO instances file: four images (one
// without annotations), two categories, boxes in pixels.
func importCOCOFile(t *testing.T) string {
	t.Helper()
	doc := map[string]any{
		"images": []any{
			map[string]any{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80},
			map[string]any{"id": 2, "file_name": "b.jpg", "width": 100, "height": 80},
			map[string]any{"id": 3, "file_name": "c.jpg", "width": 100, "height": 80},
			map[string]any{"id": 4, "file_name": "d.jpg", "width": 100, "height": 80},
		},
		"annotations": []any{
			map[string]any{"id": 10, "image_id": 1, "category_id": 1, "bbox": []float64{1, 2, 30, 40}, "area": 1200, "iscrowd": 0, "segmentation": [][]float64{{1, 2, 31, 2, 31, 42}}},
			map[string]any{"id": 11, "image_id": 2, "category_id": 2, "bbox": []float64{0, 0, 100, 80}, "area": 8000, "iscrowd": 1},
			map[string]any{"id": 12, "image_id": 3, "category_id": 1, "bbox": []float64{5, 5, 5, 5}, "area": 25, "iscrowd": 0},
		},
		"categories": []any{map[string]any{"id": 1, "name": "cat"}, map[string]any{"id": 2, "name": "dog"}},
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "instances.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// TestImportThenSelect: a COCO file and a CSV of vectors become a dataset
// that winnow inspects and selects from.
func TestImportThenSelect(t *testing.T) {
	in := importCOCOFile(t)
	dir := filepath.Join(t.TempDir(), "ds")
	out := ok(t, "import", "coco", in, "--out", dir)
	require.Equal(t, "imported 4 samples and 3 annotations (2 labels) into "+dir+"; 1 samples have no annotation\n", out)

	csv := filepath.Join(t.TempDir(), "vecs.csv")
	require.NoError(t, os.WriteFile(csv, []byte("file_name,e0,e1\na.jpg,0,0\nb.jpg,1,0\nc.jpg,0,1\n"), 0o644))
	out = ok(t, "import", "embeddings", csv, "--model", "toy", "--out", dir)
	require.Equal(t, "imported 3 vectors of dimension 2 as model toy into "+dir+" (1 of the 4 samples have none)\n", out)

	out = ok(t, "inspect", dir)
	require.Contains(t, out, "dataset "+dir+": 4 samples")
	require.Contains(t, out, "toy")
	out = ok(t, "select", "diverse", dir, "--n", "2", "--tag", "two", "--drop-missing")
	require.Contains(t, out, "selected 2 of 3 candidates")
	out = ok(t, "query", dir, "--where", `annotation(label == "cat")`, "--count")
	require.Equal(t, "2\n", out)

	var res importers.Result
	dir2 := filepath.Join(t.TempDir(), "ds")
	require.NoError(t, json.Unmarshal([]byte(ok(t, "import", "coco", in, "--out", dir2, "--json")), &res))
	require.Equal(t, importers.Result{Dir: dir2, Samples: 4, Annotations: 3, Labels: 2, Unannotated: 1}, res)
	// Flags do not carry over from one run to the next.
	code, _, errs := winnow(t, "", "import", "coco", in, "--out", dir2)
	require.Equal(t, 1, code)
	require.Equal(t, "winnow: "+dir2+" is not empty; use --force to replace it\n", errs)
}

func TestImportYOLO(t *testing.T) {
	root := t.TempDir()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 20))))
	for p, data := range map[string][]byte{
		"classes.txt":        []byte("car\n"),
		"images/train/a.png": b.Bytes(),
		"labels/train/a.txt": []byte("0 0.5 0.5 0.5 0.5 0.9\n"),
	} {
		full := filepath.Join(root, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, data, 0o644))
	}
	dir := filepath.Join(t.TempDir(), "ds")
	code, _, errs := winnow(t, "", "import", "yolo", root, "--out", dir)
	require.Equal(t, 1, code)
	require.Equal(t, "winnow: "+filepath.Join(root, "labels", "train", "a.txt")+": line 1 has a confidence, so these annotations are predictions: name their source (a model name) with --source\n", errs)
	out := ok(t, "import", "yolo", root, "--out", dir, "--source", "yolov8n")
	require.Equal(t, "imported 1 samples and 1 annotations (1 labels) into "+dir+"\n", out)
	require.Equal(t, "1\n", ok(t, "query", dir, "--where", `annotation(label == "car" and source == "yolov8n")`, "--count"))
}

// TestImportErrors: usage mistakes exit 2, bad data 1 with the flag that
// fixes it, and nothing is written.
func TestImportErrors(t *testing.T) {
	in := importCOCOFile(t)
	dir := filepath.Join(t.TempDir(), "ds")
	ok(t, "import", "coco", in, "--out", dir)
	npy := filepath.Join(t.TempDir(), "e.npy")
	require.NoError(t, os.WriteFile(npy, append([]byte("\x93NUMPY\x01\x00\x46\x00"), []byte(fmt.Sprintf("%-69s\n", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }"))...), 0o644))
	f, _ := os.OpenFile(npy, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0, 0, 0x80, 0x3f})
	f.Close()
	for _, c := range []struct {
		args []string
		code int
		want string // stderr's first line, after "winnow: "
	}{
		{[]string{"import", "coco", in}, 2, "coco needs --out DIR, the dataset to write"},
		{[]string{"import", "coco", "--out", dir}, 2, "coco needs INSTANCES.json: winnow import coco INSTANCES.json --out DIR"},
		{[]string{"import", "coco", in, in, "--out", dir}, 2, "coco takes one INSTANCES.json, got 2 arguments: " + in + " " + in},
		{[]string{"import", "coco", in, "--out", dir}, 1, dir + " is not empty; use --force to replace it"},
		{[]string{"import", "embeddings", npy, "--out", dir}, 2, "embeddings needs --model, the name of the model"},
		{[]string{"import", "embeddings", npy, "--model", "m", "--out", dir}, 1, npy + " holds no ids: give a file of ids, one per line, in the vectors' order (--ids FILE)"},
		{[]string{"import", "nope"}, 2, `unknown import command "nope"; use one of coco, yolo, embeddings`},
	} {
		code, _, errs := winnow(t, "", c.args...)
		require.Equal(t, c.code, code, "%v: %s", c.args, errs)
		require.Equal(t, "winnow: "+c.want, strings.SplitN(errs, "\n", 2)[0], "%v", c.args)
	}
	ids := filepath.Join(t.TempDir(), "ids.txt")
	require.NoError(t, os.WriteFile(ids, []byte("a.jpg\n"), 0o644))
	code, _, errs := winnow(t, "", "import", "embeddings", npy, "--model", "m", "--out", dir, "--ids", ids)
	require.Equal(t, 1, code)
	require.Equal(t, "winnow: "+ids+`:1: "a.jpg" is not a sample id (UUID): invalid UUID length: 5 (to match file names, use --match file_name)`+"\n", errs)
	out := ok(t, "import", "embeddings", npy, "--model", "m", "--out", dir, "--ids", ids, "--match", "file_name")
	require.Equal(t, "imported 1 vectors of dimension 1 as model m into "+dir+" (3 of the 4 samples have none)\n", out)
	code, _, errs = winnow(t, "", "import", "embeddings", npy, "--model", "m", "--out", dir, "--ids", ids, "--match", "file_name")
	require.Equal(t, 1, code)
	require.Equal(t, "winnow: "+filepath.Join(dir, "embeddings", "m.parquet")+" exists; use --force to replace it\n", errs)
	ok(t, "import", "embeddings", npy, "--model", "m", "--out", dir, "--ids", ids, "--match", "file_name", "--force")
	// --force does not carry over to the next run in this process.
	code, _, _ = winnow(t, "", "import", "embeddings", npy, "--model", "m", "--out", dir, "--ids", ids, "--match", "file_name")
	require.Equal(t, 1, code)
}
