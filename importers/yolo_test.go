package importers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// pngBytes is a real PNG image of w by h pixels, written by image/png.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.Set(w/2, h/2, color.White)
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// jpegBytes is a real JPEG image of w by h pixels, written by image/jpeg;
// with orientation > 0 it carries an EXIF block (APP1 with a little- or
// big-endian TIFF IFD) recording that orientation, as cameras write it.
func jpegBytes(t testing.TB, w, h, orientation int, bigEndian bool) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)), nil))
	if orientation == 0 {
		return b.Bytes()
	}
	var bo binary.ByteOrder = binary.LittleEndian
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	if bigEndian {
		bo, tiff = binary.BigEndian, []byte("MM\x00*\x00\x00\x00\x08")
	}
	ifd := make([]byte, 2+2*12+4)
	bo.PutUint16(ifd, 2) // two entries: XResolution's tag first, then Orientation
	bo.PutUint16(ifd[2:], 0x011a)
	bo.PutUint16(ifd[4:], 5)
	bo.PutUint32(ifd[6:], 1)
	bo.PutUint16(ifd[14:], 0x0112)
	bo.PutUint16(ifd[16:], 3)
	bo.PutUint32(ifd[18:], 1)
	bo.PutUint16(ifd[22:], uint16(orientation))
	payload := append([]byte("Exif\x00\x00"), append(tiff, ifd...)...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	j := b.Bytes()
	return append(append(append([]byte{}, j[:2]...), seg...), j[2:]...)
}

func gifBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White}), nil))
	return b.Bytes()
}

// writeTree writes files (relative path → content) under a new folder.
func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, b, 0o644))
	}
	return dir
}

// yoloTree is an Ultralytics-style dataset: train and val splits, a
// names map in data.yaml, a PNG, a JPEG, a JPEG turned a quarter by its
// EXIF orientation, an image without a label file and one with an empty
// label file.
func yoloTree(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"data.yaml":             []byte("path: ../datasets/toy\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n  0: person\n  1: car\n  2: dog\n"),
		"images/train/a.png":    pngBytes(t, 640, 480),
		"images/train/b.jpg":    jpegBytes(t, 320, 240, 0, false),
		"images/val/c.jpg":      jpegBytes(t, 200, 100, 6, false), // displayed 100 wide, 200 high
		"images/val/d.png":      pngBytes(t, 64, 32),
		"labels/train/a.txt":    []byte("0 0.5 0.5 0.25 0.5\n\n1 0.1 0.1 0.2 0.2\n"),
		"labels/train/b.txt":    nil,
		"labels/val/c.txt":      []byte("2 0.5 0.5 1 1\r\n"),
		"labels/train.cache":    []byte("ultralytics cache, not a label file"),
		".git/images/x.png":     []byte("hidden: skipped"),
		"labels/classes.txt":    []byte("not read: data.yaml comes first\n"),
		"images/train/notes.md": []byte("not an image"),
	}
}

func TestYOLORoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := writeTree(t, yoloTree(t))
	out := filepath.Join(t.TempDir(), "ds")
	var last [2]int
	res, err := YOLO(ctx, dir, out, YOLOOptions{Progress: func(d, n int) { last = [2]int{d, n} }})
	require.NoError(t, err)
	require.Equal(t, &Result{Dir: out, Samples: 4, Annotations: 3, Labels: 3, Unannotated: 2}, res)
	require.Equal(t, [2]int{4, 4}, last)

	ds, err := columnar.Open(ctx, out)
	require.NoError(t, err)
	ad, err := ds.Annotations(ctx, columnar.WithLabel|columnar.WithSource|columnar.WithType)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 0, 2}, ad.Sample)

	s := table(t, filepath.Join(out, "samples.parquet"))
	require.Equal(t, []string{"sample_id", "file_name", "width", "height", "file_path", "split"}, columnNames(t, filepath.Join(out, "samples.parquet")))
	require.Equal(t, []string{"images/train/a.png", "images/train/b.jpg", "images/val/c.jpg", "images/val/d.png"}, s["file_name"].Values)
	require.Equal(t, []int64{640, 320, 100, 64}, s["width"].Values)
	require.Equal(t, []int64{480, 240, 200, 32}, s["height"].Values)
	require.Equal(t, []string{"train", "train", "val", "val"}, s["split"].Values)
	require.Nil(t, s["split"].Null)
	abs, _ := filepath.Abs(dir)
	require.Equal(t, filepath.Join(abs, "images", "val", "c.jpg"), s["file_path"].Values.([]string)[2])
	require.Equal(t, SampleID("images/train/a.png").String(), s["sample_id"].Values.([]string)[0])

	a := table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []string{"sample_id", "annotation_id", "label", "source", "type", "x", "y", "width", "height", "yolo_class"}, columnNames(t, filepath.Join(out, "annotations.parquet")))
	require.Equal(t, []string{"person", "car", "dog"}, a["label"].Values)
	require.Equal(t, []int64{0, 1, 2}, a["yolo_class"].Values)
	require.Equal(t, []float64{240, 0, 0}, a["x"].Values)
	require.Equal(t, []float64{120, 0, 0}, a["y"].Values)
	require.Equal(t, []float64{160, 128, 100}, a["width"].Values)
	require.Equal(t, []float64{240, 96, 200}, a["height"].Values)
	require.Equal(t, []string{"ground_truth", "ground_truth", "ground_truth"}, a["source"].Values)
	// The annotation id of a.png's second box is that of line 3 (a blank
	// line 2 counts), as Python's uuid.uuid5 computes it.
	require.Equal(t, []string{SampleID("images/train/a.png").String(), SampleID("images/train/a.png").String(), SampleID("images/val/c.jpg").String()}, a["sample_id"].Values)
	require.Equal(t, yoloAnnotationID("images/train/a.png", 3).String(), a["annotation_id"].Values.([]string)[1])

	out2 := filepath.Join(t.TempDir(), "ds")
	_, err = YOLO(ctx, dir, out2, YOLOOptions{})
	require.NoError(t, err)
	s2 := table(t, filepath.Join(out2, "samples.parquet"))
	require.Equal(t, s["sample_id"], s2["sample_id"])
	require.Equal(t, treeBytes(t, filepath.Join(out, "annotations.parquet")), treeBytes(t, filepath.Join(out2, "annotations.parquet")))
}

func TestYOLOAnnotationIDMatchesPython(t *testing.T) {
	require.Equal(t, "ece6b33f-4992-58e2-ac01-c5e89a427561", yoloAnnotationID("images/train/a.png", 2).String())
	require.Equal(t, "b005bebc-81a1-5c93-af4b-2d41a05d9fa8", cocoAnnotationID(42).String())
}

// TestYOLOLayouts: a flat images/ labels/ folder with classes.txt, and
// Roboflow's train/images with a names list, with predictions (a sixth
// field) that need a source.
func TestYOLOLayouts(t *testing.T) {
	ctx := context.Background()
	flat := writeTree(t, map[string][]byte{
		"classes.txt":     []byte("cat\ndog\n\n"),
		"images/x.gif":    gifBytes(t, 10, 20),
		"images/y.JPEG":   jpegBytes(t, 30, 40, 8, true),
		"labels/x.txt":    []byte("1 0.5 0.5 0.5 0.5"),
		"labels/y.txt":    []byte("0.0 0.5 0.5 1 1\n"),
		"other/readme.md": []byte("ignored"),
	})
	out := filepath.Join(t.TempDir(), "ds")
	_, err := YOLO(ctx, flat, out, YOLOOptions{})
	require.NoError(t, err)
	s := table(t, filepath.Join(out, "samples.parquet"))
	require.NotContains(t, s, "split")
	require.Equal(t, []string{"images/x.gif", "images/y.JPEG"}, s["file_name"].Values)
	require.Equal(t, []int64{10, 40}, s["width"].Values) // y is turned a quarter (orientation 8)
	require.Equal(t, []int64{20, 30}, s["height"].Values)
	a := table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []string{"dog", "cat"}, a["label"].Values)
	require.Equal(t, []float64{2.5, 0}, a["x"].Values)
	require.Equal(t, []float64{5, 40}, a["width"].Values)

	robo := writeTree(t, map[string][]byte{
		"data.yaml":          []byte("names: ['car', 'bus']\n"),
		"train/images/p.png": pngBytes(t, 100, 50),
		"train/labels/p.txt": []byte("0 0.5 0.5 0.2 0.2 0.9\n1 0.5 0.5 0.1 0.1\n"),
		"valid/images/q.png": pngBytes(t, 100, 50),
		"valid/labels/q.txt": []byte("1 0.25 0.5 0.5 1 0.25\n"),
	})
	out = filepath.Join(t.TempDir(), "ds")
	_, err = YOLO(ctx, robo, out, YOLOOptions{})
	require.EqualError(t, err, filepath.Join(robo, "train", "labels", "p.txt")+": line 1 has a confidence, so these annotations are predictions: name their source (a model name)")
	requireNothingWritten(t, out)
	_, err = YOLO(ctx, robo, out, YOLOOptions{Source: "yolov8n"})
	require.NoError(t, err)
	s = table(t, filepath.Join(out, "samples.parquet"))
	require.Equal(t, []string{"train", "valid"}, s["split"].Values)
	a = table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []string{"car", "bus", "bus"}, a["label"].Values)
	require.Equal(t, []any{0.9, nil, 0.25}, masked(a["confidence"]))
	require.Equal(t, []string{"yolov8n", "yolov8n", "yolov8n"}, a["source"].Values)
	require.Equal(t, []float64{20, 22.5, 0}, a["y"].Values)

	// Names from a file given explicitly win over the folder's.
	names := filepath.Join(t.TempDir(), "names.txt")
	require.NoError(t, os.WriteFile(names, []byte("a\nb\n"), 0o644))
	out = filepath.Join(t.TempDir(), "ds")
	_, err = YOLO(ctx, robo, out, YOLOOptions{Source: "m", Names: names})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "b"}, table(t, filepath.Join(out, "annotations.parquet"))["label"].Values)
}

// TestYOLOMalformed: every malformed input is an error with its message
// naming the file and line, and nothing is written.
func TestYOLOMalformed(t *testing.T) {
	const a = "labels/train/a.txt"
	for _, c := range []struct {
		name  string
		edit  map[string][]byte // files replaced (nil content: removed)
		file  string            // the file the error names, relative; "" for none
		want  string            // the message after "FILE: "
		plain bool              // not an *InputError
	}{
		{name: "label line with 4 fields", edit: map[string][]byte{a: []byte("0 0.5 0.5 0.25\n")}, file: a,
			want: "1: 4 fields, want 5 (class cx cy w h) or 6 (class cx cy w h confidence)"},
		{name: "label line with 9 fields", edit: map[string][]byte{a: []byte("0 0.5 0.5 0.25 0.5\n0 0.1 0.1 0.2 0.1 0.3 0.2 0.2\n")}, file: a,
			want: "2: 8 fields, a polygon? winnow imports boxes: 5 fields (class cx cy w h) or 6 (with a confidence)"},
		{name: "class index out of range", edit: map[string][]byte{a: []byte("\n\n3 0.5 0.5 0.25 0.5\n")}, file: a,
			want: "3: class 3 is not defined in DATA (classes 0 to 2)"},
		{name: "class not a number", edit: map[string][]byte{a: []byte("car 0.5 0.5 0.25 0.5\n")}, file: a, want: `1: class "car" is not a class index`},
		{name: "negative class", edit: map[string][]byte{a: []byte("-1 0.5 0.5 0.25 0.5\n")}, file: a, want: "1: class -1 is not defined in DATA (classes 0 to 2)"},
		{name: "coordinate not a number", edit: map[string][]byte{a: []byte("0 0.5 x 0.25 0.5\n")}, file: a, want: `1: cy "x" is not a number`},
		{name: "coordinate NaN", edit: map[string][]byte{a: []byte("0 0.5 0.5 NaN 0.5\n")}, file: a, want: `1: w "NaN" is not a number`},
		{name: "pixel coordinates", edit: map[string][]byte{a: []byte("0 320 240 50 60\n")}, file: a,
			want: "1: cx 320 is outside [0, 1]: YOLO coordinates are fractions of the image's width and height"},
		{name: "box outside the image", edit: map[string][]byte{a: []byte("0 0.9 0.5 0.5 0.5\n")}, file: a,
			want: "1: box [x=416 y=120 w=320 h=240] reaches beyond the 640x480 image (by more than 1 pixel)"},
		{name: "confidence above 1", edit: map[string][]byte{a: []byte("0 0.5 0.5 0.25 0.5 1.5\n")}, file: a, want: "1: confidence 1.5 is outside [0, 1]"},
		{name: "label without image", edit: map[string][]byte{"labels/val/e.txt": []byte("0 0.5 0.5 0.1 0.1\n")}, file: "labels/val/e.txt",
			want: "a label file without an image (looked for IMAGES/val/e.*)"},
		{name: "unsupported image format", edit: map[string][]byte{"images/val/e.webp": []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")}, file: "images/val/e.webp",
			want: "a WebP image; winnow reads the sizes of PNG, JPEG and GIF images"},
		{name: "truncated PNG", edit: map[string][]byte{"images/val/e.png": pngBytes(t, 8, 8)[:20]}, file: "images/val/e.png", want: "read image header: unexpected EOF"},
		{name: "image that is text", edit: map[string][]byte{"images/val/e.jpg": []byte("hello")}, file: "images/val/e.jpg",
			want: "not an image format winnow knows; winnow reads the sizes of PNG, JPEG and GIF images"},
		{name: "names missing in data.yaml", edit: map[string][]byte{"data.yaml": []byte("nc: 3\n")}, file: "data.yaml", want: "no names (the class names)"},
		{name: "nc disagrees with names", edit: map[string][]byte{"data.yaml": []byte("nc: 4\nnames: [a, b, c]\n")}, file: "data.yaml", want: "nc is 4, but names defines 3 classes"},
		{name: "duplicate class names", edit: map[string][]byte{"data.yaml": []byte("names:\n  - a\n  - b\n  - a\n")}, file: "data.yaml", want: `4: classes 0 and 2 are both named "a"`},
		{name: "names key not an index", edit: map[string][]byte{"data.yaml": []byte("names:\n  zero: a\n")}, file: "data.yaml", want: `2: names: key "zero" is not a class index (0, 1, ...)`},
		{name: "names not a list", edit: map[string][]byte{"data.yaml": []byte("names: person\n")}, file: "data.yaml", want: "1: names is not a list or a map of class names"},
		{name: "invalid YAML", edit: map[string][]byte{"data.yaml": []byte("names: [a, b\n")}, file: "data.yaml", want: "yaml: line 1: did not find expected ',' or ']'"},
		{name: "no names file", edit: map[string][]byte{"data.yaml": nil, "labels/classes.txt": nil}, plain: true, want: "ROOT: no class names: found no data.yaml or classes.txt"},
		{name: "classes.txt with an empty line", edit: map[string][]byte{"data.yaml": nil, "labels/classes.txt": []byte("a\n\nb\n")}, file: "labels/classes.txt", want: "2: empty line: class 1 has no name"},
		{name: "two images one label file", edit: map[string][]byte{"images/train/a.jpg": jpegBytes(t, 8, 8, 0, false)}, plain: true,
			want: "images/train/a.jpg and images/train/a.png would share the label file ROOT/labels/train/a.txt; rename one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := yoloTree(t)
			for p, b := range c.edit {
				if b == nil {
					delete(files, p)
				} else {
					files[p] = b
				}
			}
			dir := writeTree(t, files)
			out := filepath.Join(t.TempDir(), "ds")
			_, err := YOLO(context.Background(), dir, out, YOLOOptions{})
			require.Error(t, err)
			want := c.want
			want = replaceAll(want, "DATA", filepath.Join(dir, "data.yaml"))
			want = replaceAll(want, "IMAGES", filepath.Join(dir, "images"))
			want = replaceAll(want, "ROOT", dir)
			if c.file != "" {
				sep := ": "
				if want[0] >= '0' && want[0] <= '9' {
					sep = ":"
				}
				want = filepath.Join(dir, filepath.FromSlash(c.file)) + sep + want
			}
			require.Equal(t, want, err.Error())
			var ie *InputError
			require.Equal(t, !c.plain, errors.As(err, &ie), "%T", err)
			requireNothingWritten(t, out)
		})
	}
}

func replaceAll(s, old, new string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte(old), []byte(new)))
}

// TestYOLONoImages: a folder without an images folder is refused.
func TestYOLONoImages(t *testing.T) {
	dir := writeTree(t, map[string][]byte{"data.yaml": []byte("names: [a]\n"), "pics/a.png": pngBytes(t, 4, 4)})
	out := filepath.Join(t.TempDir(), "ds")
	_, err := YOLO(context.Background(), dir, out, YOLOOptions{})
	require.EqualError(t, err, dir+`: no images: YOLO keeps them in a folder named "images" (images/, images/train/ or train/images/)`)
	requireNothingWritten(t, out)
}

// TestYOLOClipBoxes: boxes reaching beyond the image are cut to it.
func TestYOLOClipBoxes(t *testing.T) {
	files := yoloTree(t)
	files["labels/train/a.txt"] = []byte("0 0.9 0.5 0.5 0.5\n")
	dir := writeTree(t, files)
	out := filepath.Join(t.TempDir(), "ds")
	_, err := YOLO(context.Background(), dir, out, YOLOOptions{ClipBoxes: true})
	require.NoError(t, err)
	a := table(t, filepath.Join(out, "annotations.parquet"))
	require.Equal(t, []float64{416, 0}, a["x"].Values)
	require.Equal(t, []float64{224, 100}, a["width"].Values)
}

// TestImageSize reads sizes from real headers, with EXIF orientations in
// both byte orders, and ignores orientations that do not turn the image.
func TestImageSize(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		b    []byte
		w, h int
	}{
		{"png", pngBytes(t, 7, 5), 7, 5},
		{"gif", gifBytes(t, 3, 9), 3, 9},
		{"jpeg", jpegBytes(t, 33, 17, 0, false), 33, 17},
		{"jpeg orientation 1", jpegBytes(t, 33, 17, 1, false), 33, 17},
		{"jpeg orientation 3 (upside down)", jpegBytes(t, 33, 17, 3, true), 33, 17},
		{"jpeg orientation 5", jpegBytes(t, 33, 17, 5, true), 17, 33},
		{"jpeg orientation 6", jpegBytes(t, 33, 17, 6, false), 17, 33},
		{"jpeg orientation 7", jpegBytes(t, 33, 17, 7, false), 17, 33},
		{"jpeg orientation 8", jpegBytes(t, 33, 17, 8, true), 17, 33},
		{"jpeg bad orientation 9", jpegBytes(t, 33, 17, 9, false), 33, 17},
	} {
		p := filepath.Join(dir, "img")
		require.NoError(t, os.WriteFile(p, c.b, 0o644))
		w, h, err := imageSize(p)
		require.NoError(t, err, c.name)
		require.Equal(t, [2]int{c.w, c.h}, [2]int{w, h}, c.name)
	}
}

// TestYOLOCancelled: a cancelled import writes nothing.
func TestYOLOCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := writeTree(t, yoloTree(t))
	out := filepath.Join(t.TempDir(), "ds")
	_, err := YOLO(ctx, dir, out, YOLOOptions{})
	require.ErrorIs(t, err, context.Canceled)
	requireNothingWritten(t, out)
}
