package importers

// Importing a YOLO dataset folder, as Ultralytics and Darknet tools lay it
// out: images under a folder named images (images/, images/train/, or
// train/images/ as Roboflow exports), one text file of boxes per image
// under the matching labels folder, class names in data.yaml or
// classes.txt.
//
// An image's label file is found the way Ultralytics finds it: the last
// "images" folder of the image's path replaced by "labels", the extension
// by ".txt". Each line is "class cx cy w h" with the box's centre and size
// as fractions of the image's width and height, and optionally a sixth
// field, the confidence of a prediction. The image's size, read from its
// header, turns those fractions into pixels.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/workpool"
)

// YOLOOptions adjust YOLO.
type YOLOOptions struct {
	// Names is the file of class names: a YAML file with a names list or
	// map (data.yaml), or a text file of one name per line (classes.txt).
	// "" looks in the dataset folder for data.yaml, data.yml,
	// dataset.yaml, the only *.yaml or *.yml file, classes.txt, and
	// labels/classes.txt, in that order.
	Names string
	// Source is the annotations' source column; "" means "ground_truth",
	// unless the labels carry confidences (predictions): then Source is
	// required.
	Source string
	// ClipBoxes cuts boxes that reach beyond their image to the image
	// instead of refusing them.
	ClipBoxes bool
	// Force replaces a dataset already at the destination.
	Force bool
	// Progress, when set, is called with the images read so far and their
	// number.
	Progress func(done, total int)
}

// yoloImageExts are the image extensions Ultralytics reads; the importer
// reads the sizes of the PNG, JPEG and GIF ones and names the others.
var yoloImageExts = []string{".bmp", ".dng", ".gif", ".heic", ".jpeg", ".jpg", ".mpo", ".pfm", ".png", ".tif", ".tiff", ".webp"}

// yoloImage is one image of the folder and, once read, its boxes.
type yoloImage struct {
	rel   string // path from the dataset folder, with slashes: the file_name
	path  string // absolute
	label string // its label file's absolute path
	split string // the folder naming its split (train, val), or ""
	w, h  int
	boxes []yoloBox
}

// yoloBox is one label line.
type yoloBox struct {
	line     int
	class    int
	b        box
	conf     float64
	withConf bool
}

// YOLO imports the YOLO dataset folder dir as a new dataset in folder out:
// one sample per image (images without a label file included, in path
// order), one annotation per label line, boxes in pixels. out must not
// exist, or be an empty folder, or (with Force) hold a dataset, which is
// replaced. Malformed input is an *InputError and writes nothing.
func YOLO(ctx context.Context, dir, out string, opts YOLOOptions) (*Result, error) {
	if _, err := outState(filepath.Clean(out), opts.Force); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	names, err := yoloNames(root, opts.Names)
	if err != nil {
		return nil, err
	}
	outAbs, _ := filepath.Abs(out)
	images, labels, err := yoloFiles(ctx, root, outAbs)
	if err != nil {
		return nil, err
	}
	if len(images) == 0 {
		return nil, fmt.Errorf(`%s: no images: YOLO keeps them in a folder named "images" (images/, images/train/ or train/images/)`, dir)
	}
	for _, im := range images {
		delete(labels, im.label)
	}
	if len(labels) > 0 {
		orphans := slices.Sorted(func(yield func(string) bool) {
			for l := range labels {
				if !yield(l) {
					return
				}
			}
		})
		return nil, inputErr(orphans[0], 0, "", "a label file without an image (looked for %s.*)", labelImageStem(orphans[0]))
	}
	if err := readYOLOImages(ctx, images, names, opts); err != nil {
		return nil, err
	}
	samples, anns, res, err := yoloTables(images, names, opts)
	if err != nil {
		return nil, err
	}
	if err := writeDataset(ctx, out, opts.Force, samples, anns); err != nil {
		return nil, err
	}
	res.Dir = out
	return res, nil
}

// labelImageStem is where the image of a label file would be, without
// its extension (for messages).
func labelImageStem(label string) string {
	dir, base := filepath.Split(label)
	parts := strings.Split(filepath.ToSlash(filepath.Clean(dir)), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "labels" {
			parts[i] = "images"
			break
		}
	}
	return filepath.Join(filepath.FromSlash(strings.Join(parts, "/")), strings.TrimSuffix(base, ".txt"))
}

// yoloFiles walks root for images (files with an image extension below a
// folder named images) and label files (.txt below a folder named labels,
// classes.txt aside), skipping hidden entries and the destination skip.
func yoloFiles(ctx context.Context, root, skip string) ([]*yoloImage, map[string]bool, error) {
	var images []*yoloImage
	labels := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if p != root && (strings.HasPrefix(d.Name(), ".") || p == skip) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		parts := strings.Split(rel, "/")
		dirs := parts[:len(parts)-1]
		ext := strings.ToLower(filepath.Ext(d.Name()))
		if i := lastIndex(dirs, "images"); i >= 0 && slices.Contains(yoloImageExts, ext) {
			im := &yoloImage{rel: rel, path: p}
			lp := slices.Clone(parts)
			lp[i] = "labels"
			last := lp[len(lp)-1]
			lp[len(lp)-1] = strings.TrimSuffix(last, filepath.Ext(last)) + ".txt"
			im.label = filepath.Join(root, filepath.FromSlash(strings.Join(lp, "/")))
			switch {
			case i > 0:
				im.split = dirs[i-1]
			case len(dirs) > 1:
				im.split = dirs[1]
			}
			images = append(images, im)
		}
		if slices.Contains(dirs, "labels") && ext == ".txt" && d.Name() != "classes.txt" {
			labels[p] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Two images may share a label file (a.jpg and a.png): the second
	// would silently take the first's boxes.
	byLabel := map[string]*yoloImage{}
	for _, im := range images {
		if prev, dup := byLabel[im.label]; dup {
			return nil, nil, fmt.Errorf("%s and %s would share the label file %s; rename one", prev.rel, im.rel, im.label)
		}
		byLabel[im.label] = im
	}
	return images, labels, nil
}

// lastIndex is the index of the last s in list, or -1.
func lastIndex(list []string, s string) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == s {
			return i
		}
	}
	return -1
}

// classNames are a dataset's class names by class index; a name "" is an
// index that the names file does not define.
type classNames struct {
	file  string
	names []string
}

// name returns the name of class k, or an error saying which classes
// exist.
func (c *classNames) name(k int) (string, error) {
	if k >= 0 && k < len(c.names) && c.names[k] != "" {
		return c.names[k], nil
	}
	var defined []string
	for i, n := range c.names {
		if n != "" {
			defined = append(defined, strconv.Itoa(i))
		}
	}
	list := strings.Join(defined, ", ")
	if len(defined) == len(c.names) && len(c.names) > 2 {
		list = fmt.Sprintf("0 to %d", len(c.names)-1)
	}
	return "", fmt.Errorf("class %d is not defined in %s (classes %s)", k, c.file, list)
}

// yoloNames loads the class names from file, or finds the names file in
// root.
func yoloNames(root, file string) (*classNames, error) {
	if file == "" {
		var err error
		if file, err = findNames(root); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("class names: %w", err)
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml":
		return yamlNames(file, b)
	}
	return textNames(file, b)
}

// findNames finds the class names file of a dataset folder.
func findNames(root string) (string, error) {
	for _, n := range []string{"data.yaml", "data.yml", "dataset.yaml"} {
		if p := filepath.Join(root, n); isFile(p) {
			return p, nil
		}
	}
	var yamls []string
	for _, g := range []string{"*.yaml", "*.yml"} {
		m, _ := filepath.Glob(filepath.Join(root, g))
		yamls = append(yamls, m...)
	}
	if len(yamls) == 1 {
		return yamls[0], nil
	}
	if len(yamls) > 1 {
		return "", fmt.Errorf("%s has %d YAML files and no data.yaml; name the one with the class names", root, len(yamls))
	}
	for _, n := range []string{"classes.txt", filepath.Join("labels", "classes.txt")} {
		if p := filepath.Join(root, n); isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no class names: found no data.yaml or classes.txt", root)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// yamlNames reads the names (a list, or a map from class index) and the
// optional nc of an Ultralytics data.yaml.
func yamlNames(file string, b []byte) (*classNames, error) {
	var doc struct {
		Names yaml.Node `yaml:"names"`
		NC    *int      `yaml:"nc"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &InputError{File: file, Err: err}
	}
	c := &classNames{file: file}
	n := &doc.Names
	switch n.Kind {
	case 0:
		return nil, inputErr(file, 0, "", "no names (the class names)")
	case yaml.SequenceNode:
		for i, item := range n.Content {
			name, err := yamlName(file, item)
			if err != nil {
				return nil, err
			}
			if err := c.add(file, item.Line, i, name); err != nil {
				return nil, err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			k, err := strconv.Atoi(key.Value)
			if err != nil || key.Kind != yaml.ScalarNode || k < 0 || k > 1<<20 {
				return nil, inputErr(file, key.Line, "", "names: key %q is not a class index (0, 1, ...)", key.Value)
			}
			name, err := yamlName(file, val)
			if err != nil {
				return nil, err
			}
			if err := c.add(file, key.Line, k, name); err != nil {
				return nil, err
			}
		}
	default:
		return nil, inputErr(file, n.Line, "", "names is not a list or a map of class names")
	}
	if len(c.names) == 0 {
		return nil, inputErr(file, n.Line, "", "names lists no class")
	}
	if doc.NC != nil && *doc.NC != len(c.names) {
		return nil, inputErr(file, 0, "", "nc is %d, but names defines %d classes", *doc.NC, len(c.names))
	}
	return c, nil
}

func yamlName(file string, n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return "", inputErr(file, n.Line, "", "names: a class name must be a non-empty string")
	}
	return n.Value, nil
}

// add defines class k as name.
func (c *classNames) add(file string, line, k int, name string) error {
	if j := slices.Index(c.names, name); j >= 0 {
		return inputErr(file, line, "", "classes %d and %d are both named %q", j, k, name)
	}
	for len(c.names) <= k {
		c.names = append(c.names, "")
	}
	c.names[k] = name
	return nil
}

// textNames reads one class name per line (classes.txt).
func textNames(file string, b []byte) (*classNames, error) {
	lines := strings.Split(strings.TrimRight(string(b), " \t\r\n"), "\n")
	c := &classNames{file: file}
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			if len(lines) == 1 {
				return nil, inputErr(file, 0, "", "no class names")
			}
			return nil, inputErr(file, i+1, "", "empty line: class %d has no name", i)
		}
		if err := c.add(file, i+1, i, l); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readYOLOImages reads every image's size and label file, on all cores.
// The error is that of the first image in path order that fails.
func readYOLOImages(ctx context.Context, images []*yoloImage, names *classNames, opts YOLOOptions) error {
	var mu sync.Mutex
	done := 0
	return workpool.Run(0, len(images), func() func(int) error {
		return func(t int) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			im := images[t]
			w, h, err := imageSize(im.path)
			if err != nil {
				return &InputError{File: im.path, Err: err}
			}
			im.w, im.h = w, h
			b, err := os.ReadFile(im.label)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err == nil {
				if im.boxes, err = parseLabels(im.label, b, w, h, names, opts.ClipBoxes); err != nil {
					return err
				}
			}
			if opts.Progress != nil {
				mu.Lock()
				done++
				opts.Progress(done, len(images))
				mu.Unlock()
			}
			return nil
		}
	})
}

// parseLabels parses the label file at path, of an image of w by h
// pixels, into boxes in pixels.
func parseLabels(path string, b []byte, w, h int, names *classNames, clip bool) ([]yoloBox, error) {
	var boxes []yoloBox
	for i, line := range bytes.Split(b, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		bad := func(format string, args ...any) ([]yoloBox, error) {
			return nil, inputErr(path, i+1, "", format, args...)
		}
		switch {
		case len(f) < 5:
			return bad("%d fields, want 5 (class cx cy w h) or 6 (class cx cy w h confidence)", len(f))
		case len(f) > 6:
			return bad("%d fields, a polygon? winnow imports boxes: 5 fields (class cx cy w h) or 6 (with a confidence)", len(f))
		}
		class, err := strconv.Atoi(f[0])
		if err != nil {
			// Some tools write classes as floats ("0.0"), which
			// Ultralytics reads.
			v, ferr := strconv.ParseFloat(f[0], 64)
			if ferr != nil || v != math.Trunc(v) || v < 0 || v > 1<<20 {
				return bad("class %q is not a class index", f[0])
			}
			class = int(v)
		}
		if _, err := names.name(class); err != nil {
			return bad("%v", err)
		}
		var v [5]float64
		for k, name := range []string{"cx", "cy", "w", "h", "confidence"}[:len(f)-1] {
			x, err := strconv.ParseFloat(f[k+1], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return bad("%s %q is not a number", name, f[k+1])
			}
			if x < 0 || x > 1 {
				if k == 4 {
					return bad("confidence %s is outside [0, 1]", f[k+1])
				}
				return bad("%s %s is outside [0, 1]: YOLO coordinates are fractions of the image's width and height", name, f[k+1])
			}
			v[k] = x
		}
		W, H := float64(w), float64(h)
		bx := box{x: (v[0] - v[2]/2) * W, y: (v[1] - v[3]/2) * H, w: v[2] * W, h: v[3] * H}
		bx, err = checkBox(bx, int64(w), int64(h), clip)
		if err != nil {
			return bad("%v", err)
		}
		boxes = append(boxes, yoloBox{line: i + 1, class: class, b: bx, conf: v[4], withConf: len(f) == 6})
	}
	return boxes, nil
}

// yoloTables builds the samples and annotations columns.
func yoloTables(images []*yoloImage, names *classNames, opts YOLOOptions) (samples []columnar.PlainColumn, anns rowSource, res *Result, err error) {
	n := len(images)
	ids := make([]uuid.UUID, n)
	files, paths, splits := make([]string, n), make([]string, n), make([]string, n)
	widths, heights := make([]int64, n), make([]int64, n)
	noSplit := make([]bool, n)
	anySplit, anyNoSplit := false, false
	m := 0
	for i, im := range images {
		ids[i], files[i], paths[i] = SampleID(im.rel), im.rel, im.path
		widths[i], heights[i] = int64(im.w), int64(im.h)
		splits[i], noSplit[i] = im.split, im.split == ""
		anySplit, anyNoSplit = anySplit || im.split != "", anyNoSplit || im.split == ""
		m += len(im.boxes)
	}
	samples = []columnar.PlainColumn{
		{Name: columnar.SampleIDColumn, Values: ids},
		{Name: "file_name", Values: files},
		{Name: "width", Values: widths},
		{Name: "height", Values: heights},
		{Name: "file_path", Values: paths},
	}
	if anySplit {
		c := columnar.PlainColumn{Name: "split", Values: splits}
		if anyNoSplit {
			c.Null = noSplit
		}
		samples = append(samples, c)
	}
	res = &Result{Samples: n, Annotations: m}
	for _, nm := range names.names {
		if nm != "" {
			res.Labels++
		}
	}
	var (
		sample, annID = make([]uuid.UUID, 0, m), make([]uuid.UUID, 0, m)
		label         = make([]string, 0, m)
		x, y, w, h    = make([]float64, 0, m), make([]float64, 0, m), make([]float64, 0, m), make([]float64, 0, m)
		conf          = make([]float64, 0, m)
		noConf        = make([]bool, 0, m)
		class         = make([]int64, 0, m)
		anyConf       bool
	)
	for i, im := range images {
		if len(im.boxes) == 0 {
			res.Unannotated++
		}
		for _, b := range im.boxes {
			if b.withConf && opts.Source == "" {
				return nil, nil, nil, &SourceError{File: im.label, Where: fmt.Sprintf("line %d", b.line)}
			}
			name, _ := names.name(b.class) // checked by parseLabels
			sample, annID = append(sample, ids[i]), append(annID, yoloAnnotationID(im.rel, b.line))
			label = append(label, name)
			x, y, w, h = append(x, b.b.x), append(y, b.b.y), append(w, b.b.w), append(h, b.b.h)
			conf, noConf = append(conf, b.conf), append(noConf, !b.withConf)
			anyConf = anyConf || b.withConf
			class = append(class, int64(b.class))
		}
	}
	source := opts.Source
	if source == "" {
		source = DefaultSource
	}
	cols := wholeColumns{
		{Name: columnar.SampleIDColumn, Values: sample},
		{Name: "annotation_id", Values: annID},
		{Name: columnar.LabelColumn, Values: label},
		{Name: "source", Values: repeat(source, m)},
		{Name: "type", Values: repeat("object_detection", m)},
		{Name: "x", Values: x},
		{Name: "y", Values: y},
		{Name: "width", Values: w},
		{Name: "height", Values: h},
	}
	if anyConf {
		c := columnar.PlainColumn{Name: "confidence", Values: conf}
		if slices.Contains(noConf, true) {
			c.Null = noConf
		}
		cols = append(cols, c)
	}
	cols = append(cols, columnar.PlainColumn{Name: "yolo_class", Values: class})
	return samples, cols, res, nil
}
