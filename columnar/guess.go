package columnar

// Guessing a manifest from the tables in a folder (winnow init).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Guess is one decision GuessManifest made: the manifest entry it filled
// in, the value, and why.
type Guess struct {
	Key   string `json:"key"` // dotted manifest entry, e.g. samples.id
	Value string `json:"value"`
	Why   string `json:"why"`
}

// Column names GuessManifest looks for, in order of preference.
var (
	guessSampleIDs   = []string{"sample_id", "image_id", "img_id", "id", "uuid", "image_uuid", "item_id", "file_id", "key"}
	guessSampleRefs  = []string{"sample_id", "image_id", "img_id"}
	guessLabels      = []string{"label", "category", "category_name", "class", "class_name", "label_name", "category_id", "class_id", "label_id"}
	guessAnnIDs      = []string{"annotation_id", "ann_id", "box_id", "object_id", "detection_id", "instance_id", "id"}
	guessSources     = []string{"source", "annotator", "labeler", "labeller", "model", "origin"}
	guessTypes       = []string{"type", "annotation_type", "kind"}
	guessConfidences = []string{"confidence", "score", "conf", "probability", "prob"}
	guessXs          = []string{"x", "bbox_x", "box_x", "left", "xmin", "x_min", "x0"}
	guessYs          = []string{"y", "bbox_y", "box_y", "top", "ymin", "y_min", "y0"}
	guessWidths      = []string{"width", "bbox_width", "box_width", "bbox_w", "w"}
	guessHeights     = []string{"height", "bbox_height", "box_height", "bbox_h", "h"}
	guessSampleNames = []string{"samples", "images", "image", "items", "metadata", "data"}
	guessAnnNames    = []string{"annotations", "labels", "objects", "boxes", "detections", "predictions"}
)

// guessTable is a table found in the folder, with its footer's columns.
type guessTable struct {
	name  string // what the table is called: file or folder name
	path  string
	model bool // under embeddings/: a model table by convention
	st    *TableStat
	types map[string]arrow.DataType
}

func (t *guessTable) has(name string, ok func(arrow.DataType) bool) bool {
	typ, found := t.types[name]
	return found && ok(typ)
}

// first returns the first of names that t has with a type ok accepts.
func (t *guessTable) first(names []string, ok func(arrow.DataType) bool) string {
	for _, n := range names {
		if t.has(n, ok) {
			return n
		}
	}
	return ""
}

func (t *guessTable) vectors() []string {
	var out []string
	for _, c := range t.st.Columns {
		if c.vector {
			out = append(out, c.Name)
		}
	}
	return out
}

// GuessManifest inspects the tables in folder dir (its Parquet files and
// table folders, and embeddings/) and guesses which play which role from
// their names and column types: the samples table and its id column,
// vector columns and model tables (sample-level, or object-level when
// they reference annotation ids), the annotations and their columns. It
// returns the layout, what it guessed and why, and checks that the
// layout opens (the ids unique, the types right). Tables it finds no
// role for are listed in the guesses as unused.
func GuessManifest(ctx context.Context, dir string) (*Layout, []Guess, error) {
	tables, err := findTables(dir)
	if err != nil {
		return nil, nil, err
	}
	var guesses []Guess
	note := func(key, value, format string, args ...any) {
		guesses = append(guesses, Guess{Key: key, Value: value, Why: fmt.Sprintf(format, args...)})
	}
	lay := &Layout{Dir: dir, Output: dir}

	samples, why := guessSamples(tables)
	if samples == nil {
		return nil, nil, fmt.Errorf("guess a manifest for %s: %s", dir, why)
	}
	note("samples.path", rel(dir, samples.path), "%s", why)
	id := samples.first(guessSampleIDs, isIDType)
	if id == "" {
		var cands []string
		for _, c := range samples.st.Columns {
			if isIDType(samples.types[c.Name]) && (strings.HasSuffix(c.Name, "_id") || strings.HasSuffix(c.Name, "id")) {
				cands = append(cands, c.Name)
			}
		}
		if len(cands) != 1 {
			return nil, nil, fmt.Errorf("guess a manifest for %s: %s has no column that looks like the sample id (one of %s, or a single *_id column of a UUID, string or integer type); write the manifest by hand, naming it as samples.id",
				dir, samples.path, strings.Join(guessSampleIDs, ", "))
		}
		id = cands[0]
	}
	lay.Samples = SamplesMapping{Path: samples.path, ID: id}
	note("samples.id", id, "column %s (%s)", id, TypeName(samples.types[id]))
	for _, v := range samples.vectors() {
		lay.Models = append(lay.Models, ModelMapping{Name: v, Vector: v})
		note("embeddings."+v, v, "vector column %s (%s) of the samples table", v, TypeName(samples.types[v]))
	}

	var ann *guessTable
	for _, t := range tables {
		if t == samples || t.model {
			continue
		}
		if t.first(guessLabels, isLabel) != "" && (t.has(id, isIDType) || t.first(guessSampleRefs, isIDType) != "") {
			if ann == nil || slices.Contains(guessAnnNames, t.name) && !slices.Contains(guessAnnNames, ann.name) {
				ann = t
			}
		}
	}
	if ann != nil {
		a := &AnnotationMapping{Path: ann.path}
		a.Sample = id
		if !ann.has(id, isIDType) {
			a.Sample = ann.first(guessSampleRefs, isIDType)
		}
		a.Label = ann.first(guessLabels, isLabel)
		ids := slices.DeleteFunc(slices.Clone(guessAnnIDs), func(n string) bool { return n == a.Sample })
		a.ID = ann.first(ids, isIDType)
		a.Source = ann.first(guessSources, isString)
		a.Type = ann.first(guessTypes, isString)
		a.Confidence = ann.first(guessConfidences, isFloat)
		a.X, a.Y = ann.first(guessXs, isNumber), ann.first(guessYs, isNumber)
		a.Width, a.Height = ann.first(guessWidths, isNumber), ann.first(guessHeights, isNumber)
		lay.Annotations = a
		note("annotations.path", rel(dir, ann.path), "a table with a label column (%s) and a sample reference (%s)", a.Label, a.Sample)
		for _, r := range a.roles() {
			if *r.col != "" {
				note("annotations."+r.key, *r.col, "column %s (%s)", *r.col, TypeName(ann.types[*r.col]))
			}
		}
	}

	for _, t := range tables {
		if t == samples || t == ann {
			continue
		}
		m, why := guessModel(t, id, lay.Annotations)
		if m == nil {
			note("", rel(dir, t.path), "not used: %s", why)
			continue
		}
		if _, dup := lay.model(m.Name); dup {
			note("", rel(dir, t.path), "not used: a model named %s exists already", m.Name)
			continue
		}
		lay.Models = append(lay.Models, *m)
		key := "embeddings." + m.Name
		note(key+".path", rel(dir, t.path), "%s", why)
		if m.Object {
			note(key+".annotation_id", m.ID, "column %s references the annotation ids", m.ID)
		} else {
			note(key+".id", m.ID, "column %s references the samples", m.ID)
		}
		note(key+".vector", m.Vector, "vector column %s (%s)", m.Vector, TypeName(t.types[m.Vector]))
	}
	slices.SortFunc(lay.Models, func(a, b ModelMapping) int { return strings.Compare(a.Name, b.Name) })

	d, err := openLayout(ctx, lay, nil, nil)
	if err != nil {
		return nil, guesses, fmt.Errorf("guess a manifest for %s: the guessed layout does not open: %w", dir, err)
	}
	for _, name := range d.Models() {
		if _, err := d.EmbeddingDim(ctx, name); err != nil {
			return nil, guesses, fmt.Errorf("guess a manifest for %s: model %s: %w", dir, name, err)
		}
	}
	return lay, guesses, nil
}

// rel is path relative to dir where it lies inside it.
func rel(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// findTables lists the tables of folder dir: Parquet files and folders of
// parts, and those under embeddings/; winnow's own output (tags,
// selections) is left out.
func findTables(dir string) ([]*guessTable, error) {
	var out []*guessTable
	add := func(name, path string, model bool) error {
		st, err := Stat(path)
		if err != nil {
			return err
		}
		sc := map[string]arrow.DataType{}
		parts, err := openParts(path)
		if err != nil {
			return err
		}
		defer closeParts(parts)
		schema, err := tableSchema(parts)
		if err != nil {
			return err
		}
		for _, f := range schema.Fields() {
			sc[f.Name] = f.Type
		}
		out = append(out, &guessTable{name: name, path: path, model: model, st: st, types: sc})
		return nil
	}
	var walk func(folder string, model bool) error
	walk = func(folder string, model bool) error {
		ents, err := os.ReadDir(folder)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n, path := e.Name(), filepath.Join(folder, e.Name())
			switch {
			case skipName(n), folder == dir && (n == "tags.parquet" || n == "tags" || n == "selections" || n == ManifestName):
			case e.IsDir() && folder == dir && n == embeddingsDir:
				if err := walk(path, true); err != nil {
					return err
				}
			case e.IsDir():
				if _, err := resolveSource(path); err == nil {
					if err := add(n, path, model); err != nil {
						return err
					}
				}
			case strings.HasSuffix(n, ".parquet"):
				if err := add(strings.TrimSuffix(n, ".parquet"), path, model); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(dir, false); err != nil {
		return nil, err
	}
	return out, nil
}

// guessSamples picks the samples table: one named samples, else the
// table with a sample id column and no labels (of those, one with a
// samples-like name, else the one with the most rows); why says why, or
// why there is none.
func guessSamples(tables []*guessTable) (*guessTable, string) {
	for _, t := range tables {
		if t.name == samplesTable && !t.model {
			return t, "the table named samples"
		}
	}
	var best *guessTable
	for _, t := range tables {
		if t.model || t.first(guessLabels, isLabel) != "" || t.first(guessSampleIDs, isIDType) == "" {
			continue
		}
		if len(t.vectors()) > 0 && len(t.st.Columns) <= 2 && t.name != "samples" {
			continue // an id and a vector: a model table
		}
		switch {
		case best == nil:
			best = t
		case slices.Contains(guessSampleNames, t.name) != slices.Contains(guessSampleNames, best.name):
			if slices.Contains(guessSampleNames, t.name) {
				best = t
			}
		case t.st.Rows > best.st.Rows:
			best = t
		}
	}
	if best == nil {
		return nil, fmt.Sprintf("no table looks like the samples (a table with a column %s and no label column)", strings.Join(guessSampleIDs, ", "))
	}
	return best, fmt.Sprintf("a table with a sample id column and no labels (%d rows)", best.st.Rows)
}

// guessModel reads t as a model table: a vector column (embedding, or
// the only one) and a reference to the samples (the samples' id column's
// name or a usual one) or to the annotations' ids.
func guessModel(t *guessTable, sampleID string, ann *AnnotationMapping) (*ModelMapping, string) {
	vecs := t.vectors()
	vec := ""
	switch {
	case slices.Contains(vecs, EmbeddingColumn):
		vec = EmbeddingColumn
	case len(vecs) == 1:
		vec = vecs[0]
	case len(vecs) == 0:
		return nil, "no vector column"
	default:
		return nil, fmt.Sprintf("several vector columns (%s) and none named embedding", strings.Join(vecs, ", "))
	}
	m := &ModelMapping{Name: t.name, Path: t.path, Vector: vec}
	refs := append([]string{sampleID}, guessSampleRefs...)
	if r := t.first(refs, isIDType); r != "" {
		m.ID = r
		return m, "a table with a vector column and a sample reference"
	}
	if ann != nil && ann.ID != "" {
		if r := t.first(append([]string{ann.ID}, guessAnnIDs...), isIDType); r != "" {
			m.ID, m.Object = r, true
			return m, "a table with a vector column and an annotation reference (an object-level model)"
		}
	}
	return nil, "a vector column but no column referencing the samples or the annotations"
}
