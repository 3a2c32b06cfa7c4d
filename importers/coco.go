package importers

// Importing a COCO instances file (the object detection format of
// https://cocodataset.org/#format-data): "images", "annotations" and
// "categories" arrays in one JSON object, in any order.
//
// The file is decoded element by element with encoding/json's Decoder:
// the top-level object and its arrays by tokens, each image, annotation or
// category into a small struct whose fields are only those winnow keeps.
// A segmentation polygon or RLE, the bulk of every instances file, is
// scanned past and never held, so memory is a few dozen bytes per
// annotation, whatever the file's size. Everything is checked once the
// whole file is read (annotations may precede the images and categories
// they name), before anything is written.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/google/uuid"

	"github.com/winnow-data/winnow/columnar"
)

// COCOOptions adjust COCO.
type COCOOptions struct {
	// Source is the annotations' source column (which labeller or model
	// made them); "" means "ground_truth", unless the annotations carry a
	// score, which makes them predictions: then Source is required.
	Source string
	// ImagesDir, when set, gives every sample a file_path: the absolute
	// form of ImagesDir joined with the image's file_name. The folder must
	// exist; the images in it are not opened.
	ImagesDir string
	// ClipBoxes cuts boxes that reach beyond their image to the image
	// instead of refusing them (see checkBox).
	ClipBoxes bool
	// Force replaces a dataset already at the destination.
	Force bool
	// Progress, when set, is called with the bytes of the file read so
	// far and its size.
	Progress func(done, total int)
}

// Result is what a COCO or YOLO import wrote.
type Result struct {
	Dir         string // the dataset folder
	Samples     int
	Annotations int
	Labels      int // distinct labels (COCO categories, YOLO classes) defined
	Unannotated int // samples without any annotation
}

// DefaultSource is the source of imported annotations that carry no
// confidence, unless another is given.
const DefaultSource = "ground_truth"

// COCO imports the COCO instances file at path as a new dataset in folder
// out: one sample per image (in the file's order, images without
// annotations included), one annotation per COCO annotation with its box
// in pixels and its category's name as the label. out must not exist, or
// be an empty folder, or (with Force) hold a dataset, which is replaced.
// Malformed input is an *InputError and writes nothing.
func COCO(ctx context.Context, path, out string, opts COCOOptions) (*Result, error) {
	var imagesDir string
	if opts.ImagesDir != "" {
		abs, err := filepath.Abs(opts.ImagesDir)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("images folder: %w", err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("images folder %s is not a folder", opts.ImagesDir)
		}
		imagesDir = abs
	}
	// Refuse a taken destination before reading what may be a large file.
	if _, err := outState(filepath.Clean(out), opts.Force); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := parseCOCO(ctx, newProgressReader(f, fi.Size(), opts.Progress), path)
	var se *syntaxError
	if errors.As(err, &se) {
		err = se.locate(path)
	}
	if err != nil {
		return nil, err
	}
	samples, anns, res, err := data.tables(path, imagesDir, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := writeDataset(ctx, out, opts.Force, samples, anns); err != nil {
		return nil, err
	}
	res.Dir = out
	return res, nil
}

// rowSource is a table made batch by batch: columns(lo, hi) are rows
// [lo, hi) of its rows().
type rowSource interface {
	rows() int
	columns(lo, hi int) []columnar.PlainColumn
}

// wholeColumns is a rowSource of columns held whole.
type wholeColumns []columnar.PlainColumn

func (w wholeColumns) rows() int {
	if len(w) == 0 {
		return 0
	}
	return plainLen(w[0])
}

func (w wholeColumns) columns(lo, hi int) []columnar.PlainColumn {
	out := make([]columnar.PlainColumn, len(w))
	for i, c := range w {
		out[i] = slicePlain(c, lo, hi)
	}
	return out
}

// writeDataset writes the samples and (unless nil) annotations tables as
// a new dataset folder out.
func writeDataset(ctx context.Context, out string, force bool, samples []columnar.PlainColumn, anns rowSource) (err error) {
	d, err := startDataset(out, force)
	if err != nil {
		return err
	}
	defer d.abort() // after a commit, this deletes the replaced dataset
	if err := d.writeTable("samples.parquet", func(w io.Writer) error { return writeRows(ctx, w, wholeColumns(samples)) }); err != nil {
		return err
	}
	if anns != nil {
		if err := d.writeTable("annotations.parquet", func(w io.Writer) error { return writeRows(ctx, w, anns) }); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.commit()
}

// The elements of a COCO file, as decoded. Pointers tell a missing field
// from a zero one.
type (
	cocoImage struct {
		ID       *int64  `json:"id"`
		FileName *string `json:"file_name"`
		Width    *int64  `json:"width"`
		Height   *int64  `json:"height"`
	}
	cocoAnnotation struct {
		ID         *int64    `json:"id"`
		ImageID    *int64    `json:"image_id"`
		CategoryID *int64    `json:"category_id"`
		BBox       []float64 `json:"bbox"`
		Area       *float64  `json:"area"`
		IsCrowd    *int64    `json:"iscrowd"`
		Score      *float64  `json:"score"`
	}
	cocoCategory struct {
		ID            *int64  `json:"id"`
		Name          *string `json:"name"`
		Supercategory *string `json:"supercategory"`
	}
)

// cocoAnn is an annotation as kept until the table is written: 88
// bytes. img and cat are the indexes of its image and category, set once
// they are checked.
type cocoAnn struct {
	id, image, category int64
	bbox                box
	area, score         float64
	img, cat            int32
	hasArea, hasScore   bool
	crowd               bool
}

// cocoData is a parsed COCO file, unchecked.
type cocoData struct {
	images []cocoImage
	anns   blocks[cocoAnn]
	cats   []cocoCategory
	// Which top-level arrays the file has.
	hasImages, hasAnns bool
}

// parseCOCO decodes a COCO file, checking only the fields' types and the
// presence of each annotation's fields. file names the input in errors.
func parseCOCO(ctx context.Context, r io.Reader, file string) (*cocoData, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	c := &cocoData{}
	fail := func(where string, err error) error { return jsonError(file, where, err) }
	tok, err := dec.Token()
	if err != nil {
		return nil, fail("", err)
	}
	if tok != json.Delim('{') {
		return nil, inputErr(file, 0, "", "not a COCO file: the top level is %s, want an object", tokenKind(tok))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("", err)
		}
		key := tok.(string) // object keys are strings, or Token fails
		if seen[key] {
			return nil, inputErr(file, 0, "", "key %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "images":
			c.hasImages = true
			err = decodeArray(ctx, dec, file, key, func(i int) error {
				var im cocoImage
				if err := dec.Decode(&im); err != nil {
					return err
				}
				c.images = append(c.images, im)
				return nil
			})
		case "annotations":
			c.hasAnns = true
			err = decodeArray(ctx, dec, file, key, func(i int) error {
				var a cocoAnnotation
				if err := dec.Decode(&a); err != nil {
					return err
				}
				ann, err := a.kept(file, i)
				if err != nil {
					return err
				}
				c.anns.add(ann)
				return nil
			})
		case "categories":
			err = decodeArray(ctx, dec, file, key, func(i int) error {
				var cat cocoCategory
				if err := dec.Decode(&cat); err != nil {
					return err
				}
				c.cats = append(c.cats, cat)
				return nil
			})
		default: // info, licenses, and whatever else a tool adds
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fail(key, err)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fail("", err)
		}
		return nil, inputErr(file, 0, "", "data after the top-level object")
	}
	if !c.hasImages {
		return nil, inputErr(file, 0, "", `not a COCO instances file: no "images" array`)
	}
	return c, nil
}

// decodeArray reads the array value of key, calling elem for each
// element with the decoder before it; elem's errors are located at
// key[i].
func decodeArray(ctx context.Context, dec *json.Decoder, file, key string, elem func(i int) error) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(file, key, err)
	}
	if tok != json.Delim('[') {
		return inputErr(file, 0, "", "%q is %s, want an array", key, tokenKind(tok))
	}
	for i := 0; dec.More(); i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := dec.InputOffset()
		if err := elem(i); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return err
			}
			where := fmt.Sprintf("%s[%d]", key, i)
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return &syntaxError{where: where, start: start, err: se}
			}
			return jsonError(file, where, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return jsonError(file, key, err)
	}
	return nil
}

// kept checks an annotation's own fields and keeps what winnow imports.
// Its references (image, category) are checked once the file is read.
func (a *cocoAnnotation) kept(file string, i int) (cocoAnn, error) {
	if a.ID == nil {
		return cocoAnn{}, inputErr(file, 0, fmt.Sprintf("annotations[%d]", i), "no id")
	}
	bad := func(format string, args ...any) error {
		return inputErr(file, 0, fmt.Sprintf("annotations[%d] (id %d)", i, *a.ID), format, args...)
	}
	switch {
	case a.ImageID == nil:
		return cocoAnn{}, bad("no image_id")
	case a.CategoryID == nil:
		return cocoAnn{}, bad("no category_id")
	case a.BBox == nil:
		return cocoAnn{}, bad("no bbox")
	case len(a.BBox) != 4:
		return cocoAnn{}, bad("bbox has %d numbers, want 4 ([x, y, width, height])", len(a.BBox))
	case a.IsCrowd != nil && *a.IsCrowd != 0 && *a.IsCrowd != 1:
		return cocoAnn{}, bad("iscrowd is %d, want 0 or 1", *a.IsCrowd)
	case a.Area != nil && *a.Area < 0:
		return cocoAnn{}, bad("area is %s, want 0 or more", num(*a.Area))
	}
	k := cocoAnn{id: *a.ID, image: *a.ImageID, category: *a.CategoryID,
		bbox:  box{a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]},
		crowd: a.IsCrowd != nil && *a.IsCrowd == 1}
	if a.Area != nil {
		k.area, k.hasArea = *a.Area, true
	}
	if a.Score != nil {
		k.score, k.hasScore = *a.Score, true
	}
	return k, nil
}

// resolve checks annotation i's references and box against the images
// and categories, and records the indexes they resolve to. Its place is
// formatted only for an error: most annotations need none.
func (a *cocoAnn) resolve(file string, i int, imageAt, catAt map[int64]int32, widths, heights []int64, names []string, cats int, opts COCOOptions) error {
	where := func() string { return fmt.Sprintf("annotations[%d] (id %d)", i, a.id) }
	im, ok := imageAt[a.image]
	if !ok {
		return inputErr(file, 0, where(), "image_id %d is not among the %d images", a.image, len(names))
	}
	ci, ok := catAt[a.category]
	if !ok {
		return inputErr(file, 0, where(), "category_id %d is not among the %d categories", a.category, cats)
	}
	b, err := checkBox(a.bbox, widths[im], heights[im], opts.ClipBoxes)
	if err != nil {
		return inputErr(file, 0, where(), "image %d (%s): %v", a.image, names[im], err)
	}
	if a.hasScore && (a.score < 0 || a.score > 1) {
		return inputErr(file, 0, where(), "score %s is outside [0, 1]", num(a.score))
	}
	if a.hasScore && opts.Source == "" {
		return &SourceError{File: file, Where: where()}
	}
	a.bbox, a.img, a.cat = b, im, ci
	return nil
}

// tables checks the parsed file as a whole and builds the samples and
// annotations columns.
func (c *cocoData) tables(file, imagesDir string, opts COCOOptions) (samples []columnar.PlainColumn, anns rowSource, res *Result, err error) {
	imageAt := make(map[int64]int32, len(c.images))
	nameAt := make(map[string]int32, len(c.images))
	n := len(c.images)
	ids := make([]uuid.UUID, n)
	names := make([]string, n)
	widths, heights, cocoIDs := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, im := range c.images {
		where := fmt.Sprintf("images[%d]", i)
		if im.ID == nil {
			return nil, nil, nil, inputErr(file, 0, where, "no id")
		}
		where += fmt.Sprintf(" (id %d)", *im.ID)
		switch {
		case im.FileName == nil || *im.FileName == "":
			return nil, nil, nil, inputErr(file, 0, where, "no file_name")
		case im.Width == nil || im.Height == nil:
			return nil, nil, nil, inputErr(file, 0, where, "no width and height")
		case *im.Width <= 0 || *im.Height <= 0:
			return nil, nil, nil, inputErr(file, 0, where, "size %dx%d, want positive width and height", *im.Width, *im.Height)
		}
		if j, dup := imageAt[*im.ID]; dup {
			return nil, nil, nil, inputErr(file, 0, where, "duplicate image id: images[%d] has id %d too", j, *im.ID)
		}
		if j, dup := nameAt[*im.FileName]; dup {
			return nil, nil, nil, inputErr(file, 0, where, "duplicate file_name %q: images[%d] (id %d) has it too", *im.FileName, j, *c.images[j].ID)
		}
		imageAt[*im.ID], nameAt[*im.FileName] = int32(i), int32(i)
		ids[i], names[i] = SampleID(*im.FileName), *im.FileName
		widths[i], heights[i], cocoIDs[i] = *im.Width, *im.Height, *im.ID
	}
	samples = []columnar.PlainColumn{
		{Name: columnar.SampleIDColumn, Values: ids},
		{Name: "file_name", Values: names},
		{Name: "width", Values: widths},
		{Name: "height", Values: heights},
	}
	if imagesDir != "" {
		paths := make([]string, n)
		for i, name := range names {
			paths[i] = filepath.Join(imagesDir, filepath.FromSlash(name))
		}
		samples = append(samples, columnar.PlainColumn{Name: "file_path", Values: paths})
	}
	samples = append(samples, columnar.PlainColumn{Name: "coco_image_id", Values: cocoIDs})

	catAt := make(map[int64]int32, len(c.cats))
	catNamed := make(map[string]int32, len(c.cats))
	hasSuper := false
	for i, cat := range c.cats {
		where := fmt.Sprintf("categories[%d]", i)
		if cat.ID == nil {
			return nil, nil, nil, inputErr(file, 0, where, "no id")
		}
		where += fmt.Sprintf(" (id %d)", *cat.ID)
		if cat.Name == nil || *cat.Name == "" {
			return nil, nil, nil, inputErr(file, 0, where, "no name")
		}
		if j, dup := catAt[*cat.ID]; dup {
			return nil, nil, nil, inputErr(file, 0, where, "duplicate category id: categories[%d] has id %d too", j, *cat.ID)
		}
		if j, dup := catNamed[*cat.Name]; dup {
			return nil, nil, nil, inputErr(file, 0, where, "duplicate category name %q: categories[%d] (id %d) has it too", *cat.Name, j, *c.cats[j].ID)
		}
		catAt[*cat.ID], catNamed[*cat.Name] = int32(i), int32(i)
		hasSuper = hasSuper || cat.Supercategory != nil
	}
	res = &Result{Samples: n, Annotations: c.anns.len(), Labels: len(c.cats)}
	if !c.hasAnns {
		res.Unannotated = n
		return samples, nil, res, nil
	}

	source := opts.Source
	if source == "" {
		source = DefaultSource
	}
	t := &cocoAnnTable{anns: &c.anns, cats: c.cats, ids: ids, source: source, super: hasSuper}
	annotated := make([]bool, n)
	for i := range c.anns.len() {
		a := c.anns.at(i)
		if err := a.resolve(file, i, imageAt, catAt, widths, heights, names, len(c.cats), opts); err != nil {
			return nil, nil, nil, err
		}
		annotated[a.img] = true
		t.score = t.score || a.hasScore
		t.noArea = t.noArea || !a.hasArea
		t.noSuper = t.noSuper || c.cats[a.cat].Supercategory == nil
	}
	if err := uniqueIDs(file, &c.anns); err != nil {
		return nil, nil, nil, err
	}
	for _, a := range annotated {
		if !a {
			res.Unannotated++
		}
	}
	return samples, t, res, nil
}

// cocoAnnTable makes the annotations table's columns from the checked
// annotations, one batch of rows at a time, so that the table never
// exists whole as columns beside the annotations (about 150 bytes a row
// that a train2017-sized file would hold twice).
type cocoAnnTable struct {
	anns   *blocks[cocoAnn]
	cats   []cocoCategory
	ids    []uuid.UUID // the samples' ids
	source string
	// Which optional columns the table has, and whether they have nulls.
	score, noArea, super, noSuper bool
}

func (t *cocoAnnTable) rows() int { return t.anns.len() }

// columns are rows [lo, hi) of the annotations table.
func (t *cocoAnnTable) columns(lo, hi int) []columnar.PlainColumn {
	m := hi - lo
	var (
		sample, annID          = make([]uuid.UUID, m), make([]uuid.UUID, m)
		label, super           = make([]string, m), make([]string, m)
		x, y, w, h             = make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
		area, conf             = make([]float64, m), make([]float64, m)
		noArea, noConf, noSup  = make([]bool, m), make([]bool, m), make([]bool, m)
		crowd                  = make([]bool, m)
		cocoAnnIDs, cocoCatIDs = make([]int64, m), make([]int64, m)
	)
	for i := range m {
		a := t.anns.at(lo + i)
		cat := t.cats[a.cat]
		sample[i], annID[i], label[i] = t.ids[a.img], cocoAnnotationID(a.id), *cat.Name
		if cat.Supercategory != nil {
			super[i] = *cat.Supercategory
		} else {
			noSup[i] = true
		}
		x[i], y[i], w[i], h[i] = a.bbox.x, a.bbox.y, a.bbox.w, a.bbox.h
		area[i], noArea[i] = a.area, !a.hasArea
		conf[i], noConf[i] = a.score, !a.hasScore
		crowd[i] = a.crowd
		cocoAnnIDs[i], cocoCatIDs[i] = a.id, a.category
	}
	cols := []columnar.PlainColumn{
		{Name: columnar.SampleIDColumn, Values: sample},
		{Name: "annotation_id", Values: annID},
		{Name: columnar.LabelColumn, Values: label},
		{Name: "source", Values: repeat(t.source, m)},
		{Name: "type", Values: repeat("object_detection", m)},
		{Name: "x", Values: x},
		{Name: "y", Values: y},
		{Name: "width", Values: w},
		{Name: "height", Values: h},
	}
	if t.score {
		cols = append(cols, columnar.PlainColumn{Name: "confidence", Values: conf, Null: noConf})
	}
	cols = append(cols, nullable("area", area, noArea, t.noArea), columnar.PlainColumn{Name: "iscrowd", Values: crowd})
	if t.super {
		cols = append(cols, nullable("supercategory", super, noSup, t.noSuper))
	}
	return append(cols,
		columnar.PlainColumn{Name: "coco_annotation_id", Values: cocoAnnIDs},
		columnar.PlainColumn{Name: "coco_category_id", Values: cocoCatIDs})
}

// nullable is a column that is nullable in every batch when the table has
// a null anywhere (the first batch fixes the schema).
func nullable(name string, values any, null []bool, anyNull bool) columnar.PlainColumn {
	c := columnar.PlainColumn{Name: name, Values: values}
	if anyNull {
		c.Null = null
	}
	return c
}

// uniqueIDs checks that no two annotations share an id: they would share
// an annotation_id. Sorting a copy of the ids costs 16 bytes an annotation
// where a map would cost about 40.
func uniqueIDs(file string, anns *blocks[cocoAnn]) error {
	type idAt struct {
		id int64
		at int32
	}
	s := make([]idAt, anns.len())
	for i := range s {
		s[i] = idAt{anns.at(i).id, int32(i)}
	}
	slices.SortFunc(s, func(a, b idAt) int {
		if a.id != b.id {
			return cmpInt(a.id, b.id)
		}
		return cmpInt(a.at, b.at)
	})
	for i := 1; i < len(s); i++ {
		if s[i].id == s[i-1].id {
			return inputErr(file, 0, fmt.Sprintf("annotations[%d] (id %d)", s[i].at, s[i].id), "duplicate annotation id: annotations[%d] has id %d too", s[i-1].at, s[i].id)
		}
	}
	return nil
}

func cmpInt[T int32 | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// repeat is n copies of s (one string shared n times).
func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// tokenKind names a JSON token's kind for messages.
func tokenKind(t json.Token) string {
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}

// jsonError turns a decoding error into an *InputError located at where,
// in words about the file rather than about Go types.
func jsonError(file, where string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return inputErr(file, 0, where, "is %s, want %s", te.Value, typeWords(te.Type))
		}
		return inputErr(file, 0, where, "field %q is %s, want %s", field, te.Value, typeWords(te.Type))
	case errors.As(err, &se):
		return inputErr(file, 0, where, "invalid JSON: %v", se)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return inputErr(file, 0, where, "the file ends before the JSON does (truncated?)")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	return &InputError{File: file, Where: where, Err: err}
}

// typeWords names the Go type a JSON value was decoded into as the JSON
// it expects.
func typeWords(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int64, reflect.Int, reflect.Int32:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Float64 {
			return "an array of numbers"
		}
		return "an array"
	case reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return typeWords(t.Elem())
	}
	return t.String()
}

// syntaxError is invalid JSON inside an array element that started at
// byte start of the file. The stream decoder's own offsets are not file
// offsets once tokens have been read, so locate decodes the element again
// from its start with a fresh decoder, whose offset is exact.
type syntaxError struct {
	where string
	start int64
	err   *json.SyntaxError
}

func (e *syntaxError) Error() string { return e.where + ": " + e.err.Error() }

// locate returns the error as an *InputError with the line and column of
// the invalid byte in path.
func (e *syntaxError) locate(path string) error {
	bad := func(off int64) error {
		line, col, err := lineColumn(path, off)
		if err != nil {
			return inputErr(path, 0, e.where, "invalid JSON: %v", e.err)
		}
		return inputErr(path, 0, e.where, "invalid JSON at line %d, column %d: %v", line, col, e.err)
	}
	f, err := os.Open(path)
	if err != nil {
		return bad(-1)
	}
	defer f.Close()
	if _, err := f.Seek(e.start, io.SeekStart); err != nil {
		return bad(-1)
	}
	br := bufio.NewReader(f)
	off := e.start
	for { // the separator before the element
		b, err := br.ReadByte()
		if err != nil {
			return bad(-1)
		}
		if b != ',' && b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			br.UnreadByte()
			break
		}
		off++
	}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.NewDecoder(br).Decode(&raw); errors.As(err, &se) {
		return bad(off + se.Offset - 1) // Offset counts the bytes read, the bad one included
	}
	return bad(-1)
}

// lineColumn is the 1-based line and column (in bytes) of byte off of path.
func lineColumn(path string, off int64) (line, col int, err error) {
	if off < 0 {
		return 0, 0, errors.New("no offset")
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, off))
	line, col = 1, 1
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return line, col, nil
		}
		if err != nil {
			return 0, 0, err
		}
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
}

// blocks is an append-only list kept in fixed-size blocks: growing it
// never copies what it holds, so a million annotations never exist twice
// (old and new backing array) while the list grows.
type blocks[T any] struct {
	b [][]T
	n int
}

const blockLen = 1 << 14

func (l *blocks[T]) add(v T) {
	if l.n%blockLen == 0 {
		l.b = append(l.b, make([]T, 0, blockLen))
	}
	l.b[len(l.b)-1] = append(l.b[len(l.b)-1], v)
	l.n++
}

func (l *blocks[T]) len() int { return l.n }

// at is element i, which may be modified in place.
func (l *blocks[T]) at(i int) *T { return &l.b[i/blockLen][i%blockLen] }
