package importers

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// cocoDoc is a COCO instances file as the published format describes it
// (https://cocodataset.org/#format-data), with the fields winnow ignores
// (info, licenses, segmentation polygons and RLE, coco_url) present as in
// the real files.
func cocoDoc() map[string]any {
	return map[string]any{
		"info":     map[string]any{"description": "COCO 2017 Dataset", "version": "1.0", "year": 2017},
		"licenses": []any{map[string]any{"id": 1, "name": "Attribution-NonCommercial-ShareAlike License", "url": "http://creativecommons.org/licenses/by-nc-sa/2.0/"}},
		"images": []any{
			map[string]any{"license": 4, "file_name": "000000397133.jpg", "coco_url": "http://images.cocodataset.org/val2017/000000397133.jpg", "height": 427, "width": 640, "date_captured": "2013-11-14 17:02:52", "id": 397133},
			map[string]any{"license": 1, "file_name": "000000037777.jpg", "height": 230, "width": 352, "id": 37777},
			map[string]any{"license": 1, "file_name": "000000252219.jpg", "height": 428, "width": 640, "id": 252219}, // no annotations
		},
		"annotations": []any{
			map[string]any{"segmentation": [][]float64{{510.66, 423.01, 511.72, 420.03, 510.45, 423.01}}, "area": 702.1057, "iscrowd": 0, "image_id": 397133, "bbox": []float64{473.07, 395.93, 38.65, 28.67}, "category_id": 18, "id": 1768},
			map[string]any{"segmentation": [][]float64{{289.74, 443.39, 302.29, 445.32}}, "area": 27718.476, "iscrowd": 0, "image_id": 397133, "bbox": []float64{0.5, 0, 639.5, 427}, "category_id": 1, "id": 1773},
			map[string]any{"segmentation": map[string]any{"counts": []int{272, 2, 4, 4, 4, 4, 2, 9}, "size": []int{230, 352}}, "area": 2882, "iscrowd": 1, "image_id": 37777, "bbox": []float64{0, 34, 351.5, 195}, "category_id": 1, "id": 900100037777},
			map[string]any{"segmentation": [][]float64{{1, 2, 3, 4, 5, 6}}, "area": 0.0, "iscrowd": 0, "image_id": 37777, "bbox": []float64{296.65, 188.33, 1.03, 0.0}, "category_id": 18, "id": 918},
		},
		"categories": []any{
			map[string]any{"supercategory": "person", "id": 1, "name": "person"},
			map[string]any{"supercategory": "animal", "id": 18, "name": "dog"},
		},
	}
}

func writeCOCO(t *testing.T, doc any) string {
	t.Helper()
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "instances_val2017.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestCOCORoundTrip(t *testing.T) {
	ctx := context.Background()
	in := writeCOCO(t, cocoDoc())
	imgs := t.TempDir()
	out := filepath.Join(t.TempDir(), "ds")
	var progress [][2]int
	res, err := COCO(ctx, in, out, COCOOptions{ImagesDir: imgs, Progress: func(d, n int) { progress = append(progress, [2]int{d, n}) }})
	require.NoError(t, err)
	require.Equal(t, &Result{Dir: out, Samples: 3, Annotations: 4, Labels: 2, Unannotated: 1}, res)
	fi, _ := os.Stat(in)
	require.Equal(t, [2]int{int(fi.Size()), int(fi.Size())}, progress[len(progress)-1])

	// The dataset opens, and its annotations read as winnow reads them.
	ds, err := columnar.Open(ctx, out)
	require.NoError(t, err)
	require.Equal(t, 3, ds.Len())
	ad, err := ds.Annotations(ctx, columnar.WithLabel|columnar.WithSource|columnar.WithType)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 0, 1, 1}, ad.Sample)
	require.Equal(t, []string{"dog", "person"}, ad.Label.Values)
	require.Equal(t, []string{"ground_truth"}, ad.Source.Values)
	require.Equal(t, []string{"object_detection"}, ad.Type.Values)

	s := table(t, filepath.Join(out, "samples.parquet"))
	require.Equal(t, []string{"sample_id", "file_name", "width", "height", "file_path", "coco_image_id"}, columnNames(t, filepath.Join(out, "samples.parquet")))
	// The id of a file name, as Python's uuid.uuid5 computes it.
	require.Equal(t, "9aaead8f-8f58-52be-9dd5-6efda7ca1548", s["sample_id"].Values.([]string)[0])
	require.Equal(t, []string{"000000397133.jpg", "000000037777.jpg", "000000252219.jpg"}, s["file_name"].Values)
	require.Equal(t, []int64{640, 352, 640}, s["width"].Values)
	require.Equal(t, []int64{427, 230, 428}, s["height"].Values)
	require.Equal(t, []int64{397133, 37777, 252219}, s["coco_image_id"].Values)
	abs, _ := filepath.Abs(imgs)
	require.Equal(t, filepath.Join(abs, "000000037777.jpg"), s["file_path"].Values.([]string)[1])

	a := table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []string{"sample_id", "annotation_id", "label", "source", "type", "x", "y", "width", "height", "area", "iscrowd", "supercategory", "coco_annotation_id", "coco_category_id"},
		columnNames(t, filepath.Join(out, "annotations.parquet")))
	ids := s["sample_id"].Values.([]string)
	require.Equal(t, []string{ids[0], ids[0], ids[1], ids[1]}, a["sample_id"].Values)
	require.Equal(t, []string{"dog", "person", "person", "dog"}, a["label"].Values)
	require.Equal(t, []float64{473.07, 0.5, 0, 296.65}, a["x"].Values)
	require.Equal(t, []float64{395.93, 0, 34, 188.33}, a["y"].Values)
	require.Equal(t, []float64{38.65, 639.5, 351.5, 1.03}, a["width"].Values)
	require.Equal(t, []float64{28.67, 427, 195, 0}, a["height"].Values)
	require.Equal(t, []float64{702.1057, 27718.476, 2882, 0}, a["area"].Values)
	require.Equal(t, []bool{false, false, true, false}, a["iscrowd"].Values)
	require.Equal(t, []string{"animal", "person", "person", "animal"}, a["supercategory"].Values)
	require.Equal(t, []int64{1768, 1773, 900100037777, 918}, a["coco_annotation_id"].Values)
	require.Equal(t, []int64{18, 1, 1, 18}, a["coco_category_id"].Values)
	require.Nil(t, a["area"].Null)
	require.Equal(t, uuid.NewSHA1(uuid.MustParse(Namespace), []byte("coco/annotation/1768")).String(), a["annotation_id"].Values.([]string)[0])

	// A re-import gives the same bytes; without --force it is refused.
	out2 := filepath.Join(t.TempDir(), "ds")
	_, err = COCO(ctx, in, out2, COCOOptions{ImagesDir: imgs})
	require.NoError(t, err)
	require.Equal(t, treeBytes(t, out), treeBytes(t, out2))
	_, err = COCO(ctx, in, out, COCOOptions{})
	var ee *ExistsError
	require.ErrorAs(t, err, &ee)
	require.EqualError(t, err, out+" is not empty")
}

// TestCOCOForceReplacesADataset: with Force, a dataset is replaced whole
// (its tags go too); a folder that is not a dataset never is.
func TestCOCOForceReplacesADataset(t *testing.T) {
	ctx := context.Background()
	in := writeCOCO(t, cocoDoc())
	out := filepath.Join(t.TempDir(), "ds")
	_, err := COCO(ctx, in, out, COCOOptions{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "tags.parquet"), []byte("old"), 0o644))
	_, err = COCO(ctx, in, out, COCOOptions{Force: true, Source: "relabelled"})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(out, "tags.parquet"))
	require.True(t, os.IsNotExist(err))
	require.Equal(t, []string{"relabelled"}, uniq(table(t, filepath.Join(out, "annotations.parquet"))["source"].Values.([]string)))
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".ds.*"))
	require.Empty(t, left)

	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, "notes.txt"), []byte("mine"), 0o644))
	_, err = COCO(ctx, in, home, COCOOptions{Force: true})
	require.EqualError(t, err, home+" holds files but no dataset (no samples table); not replacing it")
	b, _ := os.ReadFile(filepath.Join(home, "notes.txt"))
	require.Equal(t, "mine", string(b))

	empty := t.TempDir()
	_, err = COCO(ctx, in, empty, COCOOptions{})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(empty, "samples.parquet"))
	require.NoError(t, err)
}

func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// TestCOCOScoresAndMissingFields: annotations with a score are
// predictions (a confidence column, and a source is required); an
// instances file without annotations is images only.
func TestCOCOScoresAndMissingFields(t *testing.T) {
	ctx := context.Background()
	doc := cocoDoc()
	anns := doc["annotations"].([]any)
	anns[0].(map[string]any)["score"] = 0.75
	delete(anns[1].(map[string]any), "area")
	delete(doc["categories"].([]any)[0].(map[string]any), "supercategory")
	in := writeCOCO(t, doc)
	out := filepath.Join(t.TempDir(), "ds")
	_, err := COCO(ctx, in, out, COCOOptions{})
	require.EqualError(t, err, in+": annotations[0] (id 1768) has a confidence, so these annotations are predictions: name their source (a model name)")
	var se *SourceError
	require.ErrorAs(t, err, &se)
	requireNothingWritten(t, out)

	_, err = COCO(ctx, in, out, COCOOptions{Source: "detector_v2"})
	require.NoError(t, err)
	a := table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []any{0.75, nil, nil, nil}, masked(a["confidence"]))
	require.Equal(t, []any{702.1057, nil, 2882.0, 0.0}, masked(a["area"]))
	require.Equal(t, []any{"animal", nil, nil, "animal"}, masked(a["supercategory"]))

	delete(doc, "annotations")
	in = writeCOCO(t, doc)
	out = filepath.Join(t.TempDir(), "ds")
	res, err := COCO(ctx, in, out, COCOOptions{})
	require.NoError(t, err)
	require.Equal(t, 3, res.Unannotated)
	_, err = os.Stat(filepath.Join(out, "annotations.parquet"))
	require.True(t, os.IsNotExist(err))
}

// TestCOCOClipBoxes: a box beyond the image is cut to it when asked; one
// within the tolerance is kept as it is.
func TestCOCOClipBoxes(t *testing.T) {
	ctx := context.Background()
	doc := cocoDoc()
	anns := doc["annotations"].([]any)
	anns[0].(map[string]any)["bbox"] = []float64{600, -5, 60, 20}   // 640x427: reaches 20 right, 5 up
	anns[1].(map[string]any)["bbox"] = []float64{-0.5, 0, 641, 427} // within a pixel
	in := writeCOCO(t, doc)
	out := filepath.Join(t.TempDir(), "ds")
	_, err := COCO(ctx, in, out, COCOOptions{})
	require.EqualError(t, err, in+": annotations[0] (id 1768): image 397133 (000000397133.jpg): box [x=600 y=-5 w=60 h=20] reaches beyond the 640x427 image (by more than 1 pixel)")
	requireNothingWritten(t, out)
	_, err = COCO(ctx, in, out, COCOOptions{ClipBoxes: true})
	require.NoError(t, err)
	a := table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []float64{600, -0.5}, a["x"].Values.([]float64)[:2])
	require.Equal(t, []float64{0, 0}, a["y"].Values.([]float64)[:2])
	require.Equal(t, []float64{40, 641}, a["width"].Values.([]float64)[:2])
	require.Equal(t, []float64{15, 427}, a["height"].Values.([]float64)[:2])
}

// TestCOCOMalformed: each malformed input is an *InputError with its
// message, and nothing is written.
func TestCOCOMalformed(t *testing.T) {
	set := func(list string, i int, key string, v any) func(map[string]any) {
		return func(d map[string]any) { d[list].([]any)[i].(map[string]any)[key] = v }
	}
	del := func(list string, i int, key string) func(map[string]any) {
		return func(d map[string]any) { delete(d[list].([]any)[i].(map[string]any), key) }
	}
	for _, c := range []struct {
		name string
		doc  func(map[string]any)
		raw  string // the file's text instead of the document
		want string
	}{
		{name: "box outside the image", doc: set("annotations", 1, "bbox", []float64{100, 100, 600, 20}),
			want: "annotations[1] (id 1773): image 397133 (000000397133.jpg): box [x=100 y=100 w=600 h=20] reaches beyond the 640x427 image (by more than 1 pixel)"},
		{name: "negative box size", doc: set("annotations", 1, "bbox", []float64{100, 100, -6, 20}),
			want: "annotations[1] (id 1773): image 397133 (000000397133.jpg): box [x=100 y=100 w=-6 h=20] has a negative size"},
		{name: "bbox of 3 numbers", doc: set("annotations", 2, "bbox", []float64{1, 2, 3}),
			want: "annotations[2] (id 900100037777): bbox has 3 numbers, want 4 ([x, y, width, height])"},
		{name: "unknown category id", doc: set("annotations", 3, "category_id", 99),
			want: "annotations[3] (id 918): category_id 99 is not among the 2 categories"},
		{name: "unknown image id", doc: set("annotations", 3, "image_id", 5),
			want: "annotations[3] (id 918): image_id 5 is not among the 3 images"},
		{name: "duplicate image ids", doc: set("images", 2, "id", 397133),
			want: "images[2] (id 397133): duplicate image id: images[0] has id 397133 too"},
		{name: "duplicate file names", doc: set("images", 1, "file_name", "000000397133.jpg"),
			want: `images[1] (id 37777): duplicate file_name "000000397133.jpg": images[0] (id 397133) has it too`},
		{name: "duplicate annotation ids", doc: set("annotations", 3, "id", 1768),
			want: "annotations[3] (id 1768): duplicate annotation id: annotations[0] has id 1768 too"},
		{name: "duplicate category ids", doc: set("categories", 1, "id", 1),
			want: "categories[1] (id 1): duplicate category id: categories[0] has id 1 too"},
		{name: "duplicate category names", doc: set("categories", 1, "name", "person"),
			want: `categories[1] (id 18): duplicate category name "person": categories[0] (id 1) has it too`},
		{name: "image without size", doc: del("images", 0, "width"), want: "images[0] (id 397133): no width and height"},
		{name: "image of size 0", doc: set("images", 0, "height", 0), want: "images[0] (id 397133): size 640x0, want positive width and height"},
		{name: "image without file name", doc: del("images", 1, "file_name"), want: "images[1] (id 37777): no file_name"},
		{name: "image without id", doc: del("images", 1, "id"), want: "images[1]: no id"},
		{name: "annotation without bbox", doc: del("annotations", 0, "bbox"), want: "annotations[0] (id 1768): no bbox"},
		{name: "annotation without id", doc: del("annotations", 0, "id"), want: "annotations[0]: no id"},
		{name: "annotation without image", doc: del("annotations", 0, "image_id"), want: "annotations[0] (id 1768): no image_id"},
		{name: "iscrowd 2", doc: set("annotations", 0, "iscrowd", 2), want: "annotations[0] (id 1768): iscrowd is 2, want 0 or 1"},
		{name: "negative area", doc: set("annotations", 0, "area", -1), want: "annotations[0] (id 1768): area is -1, want 0 or more"},
		{name: "score above 1", doc: set("annotations", 0, "score", 1.5), want: "annotations[0] (id 1768): score 1.5 is outside [0, 1]"},
		{name: "string image id", doc: set("images", 1, "id", "abc"), want: `images[1]: field "id" is string, want an integer`},
		{name: "fractional category id", doc: set("annotations", 0, "category_id", 1.5), want: `annotations[0]: field "category_id" is number 1.5, want an integer`},
		{name: "bbox of strings", doc: set("annotations", 0, "bbox", []string{"a"}), want: `annotations[0]: field "bbox" is string, want a number`},
		{name: "images not an array", doc: func(d map[string]any) { d["images"] = map[string]any{} }, want: `"images" is an object, want an array`},
		{name: "no images", doc: func(d map[string]any) { delete(d, "images") }, want: `not a COCO instances file: no "images" array`},
		{name: "top level an array", raw: `[{"images": []}]`, want: "not a COCO file: the top level is an array, want an object"},
		{name: "truncated", raw: `{"images": [{"id": 1, "file_name": "a.jpg", "width": 3, "height": 4}, {"id": 2,`, want: "images[1]: the file ends before the JSON does (truncated?)"},
		{name: "syntax error", raw: `{"images": [{"id": 1, "file_name": "a.jpg", "width": 3 "height": 4}]}`, want: `images[0]: invalid JSON at line 1, column 56: invalid character '"' after object key:value pair`},
		{name: "syntax error on line 4", raw: "{\n\"images\": [\n{\"id\": 1},\n{\"id\": 2 x}]}", want: `images[1]: invalid JSON at line 4, column 10: invalid character 'x' after object key:value pair`},
		{name: "duplicate key", raw: `{"images": [], "images": []}`, want: `key "images" appears twice`},
		{name: "trailing data", raw: `{"images": []} {}`, want: "data after the top-level object"},
		{name: "empty file", raw: ``, want: "the file ends before the JSON does (truncated?)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var in string
			if c.doc != nil {
				doc := cocoDoc()
				c.doc(doc)
				in = writeCOCO(t, doc)
			} else {
				in = filepath.Join(t.TempDir(), "instances.json")
				require.NoError(t, os.WriteFile(in, []byte(c.raw), 0o644))
			}
			out := filepath.Join(t.TempDir(), "ds")
			_, err := COCO(context.Background(), in, out, COCOOptions{})
			require.Error(t, err)
			var ie *InputError
			require.True(t, errors.As(err, &ie), "%T: %v", err, err)
			require.Equal(t, in+": "+c.want, err.Error())
			requireNothingWritten(t, out)
		})
	}
}

// TestCOCOCancelled: a cancelled import writes nothing.
func TestCOCOCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := writeCOCO(t, cocoDoc())
	out := filepath.Join(t.TempDir(), "ds")
	_, err := COCO(ctx, in, out, COCOOptions{})
	require.ErrorIs(t, err, context.Canceled)
	requireNothingWritten(t, out)
}

// TestCOCOImagesDirMissing: a file_path folder that does not exist is an
// error before anything is read.
func TestCOCOImagesDirMissing(t *testing.T) {
	in := writeCOCO(t, cocoDoc())
	out := filepath.Join(t.TempDir(), "ds")
	_, err := COCO(context.Background(), in, out, COCOOptions{ImagesDir: filepath.Join(t.TempDir(), "nope")})
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "images folder: stat "), err.Error())
	requireNothingWritten(t, out)
}
