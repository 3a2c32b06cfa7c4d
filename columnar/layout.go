package columnar

// The mapping of a dataset's tables and columns to winnow's roles.
//
// Open resolves a Layout before it reads anything: from the conventional
// folder (samples.parquet, embeddings/MODEL.parquet, annotations.parquet,
// tags.parquet) or from a manifest (winnow.yaml) that maps tables as they
// are. Everything after that reads through the Layout, so the two ways
// in differ only in where the names come from.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout is a dataset's resolved mapping: where each table is and which
// of its columns play which role. It is plain data, for display (winnow
// inspect) and for writing a manifest.
type Layout struct {
	Dir      string `json:"dir"`      // the dataset folder (relative paths in a manifest are relative to it)
	Manifest string `json:"manifest"` // the manifest file it came from; "" for the conventional layout

	Samples SamplesMapping `json:"samples"`
	// Models are the embedding models, sorted by name: sample-level ones
	// and object-level ones (Object), in tables of their own or (Path "")
	// in a column of the samples table.
	Models      []ModelMapping     `json:"models"`
	Annotations *AnnotationMapping `json:"annotations"` // nil when the dataset has no annotations
	// Output is the folder winnow writes to: tags.parquet, selections/
	// and the lock file. It is Dir unless a manifest names another (for
	// data that is read-only).
	Output string `json:"output"`
}

// SamplesMapping locates the samples table.
type SamplesMapping struct {
	Path string `json:"path"` // file, folder, glob or partitioned folder
	ID   string `json:"id"`   // the sample id column
}

// ModelMapping locates one embedding model's vectors.
type ModelMapping struct {
	Name   string `json:"name"`
	Path   string `json:"path"`   // the table; "" for a column of the samples table
	ID     string `json:"id"`     // the reference column: sample ids, or annotation ids for Object; "" with Path ""
	Vector string `json:"vector"` // the vector column
	Object bool   `json:"object"` // one vector per annotation, keyed by annotation id
}

// AnnotationMapping locates the annotations table and its columns. A role
// whose column the table lacks is "".
type AnnotationMapping struct {
	Path       string `json:"path"`
	Sample     string `json:"sample"` // reference to the sample id (required)
	Label      string `json:"label"`  // required
	ID         string `json:"id"`     // annotation id
	Source     string `json:"source"`
	Type       string `json:"type"`
	Confidence string `json:"confidence"`
	X          string `json:"x"`
	Y          string `json:"y"`
	Width      string `json:"width"`
	Height     string `json:"height"`
}

// roles lists the annotation roles with their manifest keys and columns.
func (a *AnnotationMapping) roles() []struct {
	key string
	col *string
} {
	return []struct {
		key string
		col *string
	}{
		{"sample", &a.Sample}, {"label", &a.Label}, {"id", &a.ID}, {"source", &a.Source},
		{"type", &a.Type}, {"confidence", &a.Confidence}, {"x", &a.X}, {"y", &a.Y},
		{"width", &a.Width}, {"height", &a.Height},
	}
}

// The conventional names of the annotation columns.
const (
	AnnotationIDColumn = "annotation_id"
	sourceColumn       = "source"
	typeColumn         = "type"
	confidenceColumn   = "confidence"
)

// conventionalAnnotations maps the conventional annotation columns of
// schema names.
func conventionalAnnotations(path string, names []string) *AnnotationMapping {
	a := &AnnotationMapping{Path: path, Sample: SampleIDColumn, Label: LabelColumn}
	for _, r := range a.roles() {
		conv := map[string]string{"id": AnnotationIDColumn, "source": sourceColumn, "type": typeColumn,
			"confidence": confidenceColumn, "x": "x", "y": "y", "width": "width", "height": "height"}[r.key]
		if conv != "" && slices.Contains(names, conv) {
			*r.col = conv
		}
	}
	return a
}

// conventionalLayout reads the layout of a dataset folder without a
// manifest. Models are found by listing embeddings/ and by the vector
// columns of the samples table (a wide table: each such column is a model
// named after it); a model table's columns are found from its footer.
func conventionalLayout(dir string) (*Layout, error) {
	l := &Layout{Dir: dir, Output: dir}
	samples, err := locateTable(dir, samplesTable)
	if err != nil {
		return nil, err
	}
	if samples == "" {
		return nil, fmt.Errorf("no samples table (samples.parquet or samples/)")
	}
	l.Samples = SamplesMapping{Path: samples, ID: SampleIDColumn}
	sst, err := Stat(samples)
	if err != nil {
		return nil, err
	}
	if err := l.findModelTables(filepath.Join(dir, embeddingsDir)); err != nil {
		return nil, err
	}
	for _, c := range sst.Columns {
		if !c.vector {
			continue
		}
		if i := slices.IndexFunc(l.Models, func(m ModelMapping) bool { return m.Name == c.Name }); i >= 0 {
			return nil, fmt.Errorf("embedding model %s is both %s and column %q of %s", c.Name, l.Models[i].Path, c.Name, samples)
		}
		l.Models = append(l.Models, ModelMapping{Name: c.Name, Vector: c.Name})
	}
	slices.SortFunc(l.Models, func(a, b ModelMapping) int { return strings.Compare(a.Name, b.Name) })
	ann, err := locateTable(dir, annotationsTable)
	if err != nil {
		return nil, err
	}
	if ann != "" {
		// A table whose footer cannot be read maps its roles by the
		// conventional names alone; opening it reports the damage (and an
		// inspection can leave it out, see OpenTolerant).
		var names []string
		if ast, err := Stat(ann); err == nil {
			names = ast.columnNames()
		}
		l.Annotations = conventionalAnnotations(ann, names)
	}
	return l, nil
}

// findModelTables lists the model tables of folder emb (MODEL.parquet
// files and MODEL/ folders) and reads their columns: the reference is
// sample_id, or annotation_id for an object-level model; the vector
// column is embedding, or the table's only vector column.
func (l *Layout) findModelTables(emb string) error {
	ents, err := os.ReadDir(emb)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for _, e := range ents {
		n := e.Name()
		if skipName(n) {
			continue
		}
		name := n
		if !e.IsDir() {
			var ok bool
			if name, ok = strings.CutSuffix(n, ".parquet"); !ok {
				continue
			}
		}
		path := filepath.Join(emb, n)
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("embedding model %s is both %s and %s", name, prev, path)
		}
		seen[name] = path
		m, err := conventionalModel(name, path)
		if err != nil {
			return err
		}
		l.Models = append(l.Models, m)
	}
	return nil
}

// conventionalModel maps the columns of model table path.
func conventionalModel(name, path string) (ModelMapping, error) {
	m := ModelMapping{Name: name, Path: path, ID: SampleIDColumn, Vector: EmbeddingColumn}
	st, err := Stat(path)
	if err != nil {
		return m, nil // the reader reports a broken table to the jobs that read it
	}
	names := st.columnNames()
	if !slices.Contains(names, SampleIDColumn) && slices.Contains(names, AnnotationIDColumn) {
		m.ID, m.Object = AnnotationIDColumn, true
	}
	if !slices.Contains(names, EmbeddingColumn) {
		var vecs []string
		for _, c := range st.Columns {
			if c.vector {
				vecs = append(vecs, c.Name)
			}
		}
		if len(vecs) == 1 {
			m.Vector = vecs[0]
		}
		// Otherwise the reader reports the missing embedding column.
	}
	return m, nil
}

// columnNames lists the table's column names.
func (st *TableStat) columnNames() []string {
	names := make([]string, len(st.Columns))
	for i, c := range st.Columns {
		names[i] = c.Name
	}
	return names
}

// model returns the mapping of model name.
func (l *Layout) model(name string) (ModelMapping, bool) {
	for _, m := range l.Models {
		if m.Name == name {
			return m, true
		}
	}
	return ModelMapping{}, false
}

// clone returns a deep copy of l.
func (l *Layout) clone() *Layout {
	c := *l
	c.Models = slices.Clone(l.Models)
	if l.Annotations != nil {
		a := *l.Annotations
		c.Annotations = &a
	}
	return &c
}
