package columnar

// Manifests: winnow.yaml maps tables as they are to winnow's roles.
//
//	samples:
//	  path: images/              # file, folder, glob or partitioned folder
//	  id: image_id               # the sample id column (default sample_id)
//	embeddings:
//	  clip:                      # a model in a table of its own
//	    path: vectors/clip/*.parquet
//	    id: image_id             # its reference to the samples (default: the samples' id column's name)
//	    vector: vector           # its vector column (default embedding, or the table's only vector column)
//	  pixels:                    # a model in a column of the samples table (a wide table)
//	    vector: pixel_embedding
//	  crops:                     # an object-level model: one vector per annotation
//	    path: crops.parquet
//	    annotation_id: box_id    # its reference to the annotation ids
//	annotations:
//	  path: labels.parquet
//	  sample: image_id           # reference to the samples (default: the samples' id column's name)
//	  label: category            # default label
//	  id: box_id                 # annotation id (default annotation_id, if present)
//	  source: model              # and type, confidence, x, y, width, height: defaults are these names, if present
//	output: /data/winnow-out     # where winnow writes tags.parquet, selections/ and its lock (default: the manifest's folder)
//
// A value may be given in short form: "samples: images.parquet" is
// "samples: {path: images.parquet}", and a model "clip: clip.parquet" is
// "clip: {path: clip.parquet}". Relative paths are relative to the
// manifest's folder. Unknown keys, values of the wrong kind, missing
// tables and columns, and columns of the wrong type are *ManifestError
// values naming the file, the line and the key.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ManifestError reports a manifest entry that cannot be used, with the
// line it is on.
type ManifestError struct {
	File string
	Line int    // 1-based; 0 when the manifest as a whole is at fault
	Key  string // the entry, as a dotted path (embeddings.clip.vector)
	Err  error
}

func (e *ManifestError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %v", loc, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", loc, e.Key, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

// manifest is a parsed manifest: the lines of its entries.
type manifest struct {
	path  string
	lines map[string]int // dotted key -> line
}

// errorAt wraps err as a ManifestError at key, or at the nearest entry
// above it that the manifest has (a default has no line of its own).
func (m *manifest) errorAt(key string, err error) error {
	var me *ManifestError
	if errors.As(err, &me) {
		return err
	}
	k := key
	for {
		if line, ok := m.lines[k]; ok {
			return &ManifestError{File: m.path, Line: line, Key: key, Err: err}
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			return &ManifestError{File: m.path, Key: key, Err: err}
		}
		k = k[:i]
	}
}

// OpenManifest opens the dataset that the manifest file at path maps.
func OpenManifest(ctx context.Context, path string) (*Dataset, error) {
	return openManifest(ctx, path, nil)
}

func openManifest(ctx context.Context, path string, skip map[string]bool) (*Dataset, error) {
	lay, man, err := readManifest(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	d, err := openLayout(ctx, lay, man, skip)
	var me *ManifestError
	if errors.As(err, &me) {
		return nil, fmt.Errorf("open dataset: %w", err) // it names the manifest
	}
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", path, err)
	}
	return d, nil
}

// ReadManifest parses the manifest at path into the Layout it describes,
// with the columns it leaves to defaults filled in from the tables'
// footers. It checks the manifest's shape and that its tables exist;
// OpenManifest checks the columns and their types.
func ReadManifest(path string) (*Layout, error) {
	lay, _, err := readManifest(path)
	return lay, err
}

func readManifest(path string) (*Layout, *manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	man := &manifest{path: path, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, &ManifestError{File: path, Err: fmt.Errorf("not YAML: %v", strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if len(doc.Content) == 0 {
		return nil, nil, &ManifestError{File: path, Err: errors.New("empty manifest; it needs at least samples")}
	}
	dir := filepath.Dir(path)
	p := &manifestParser{man: man, dir: dir}
	lay, err := p.layout(doc.Content[0])
	if err != nil {
		return nil, nil, err
	}
	lay.Manifest = path
	return lay, man, nil
}

// manifestParser walks a manifest's YAML nodes.
type manifestParser struct {
	man *manifest
	dir string
}

func (p *manifestParser) errorf(n *yaml.Node, key, format string, args ...any) error {
	return &ManifestError{File: p.man.path, Line: n.Line, Key: key, Err: fmt.Errorf(format, args...)}
}

// mapping returns the entries of mapping node n at key, checking that
// every entry's key is one of known.
func (p *manifestParser) mapping(n *yaml.Node, key string, known ...string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, key, "want a mapping of %s, got %s", strings.Join(known, ", "), kindName(n))
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		sub := name
		if key != "" {
			sub = key + "." + name
		}
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, key, "keys must be names")
		}
		if known != nil && !slices.Contains(known, name) {
			where := "at the top level"
			if key != "" {
				where = "in " + key
			}
			return nil, p.errorf(k, sub, "unknown key %q %s (known: %s)", name, where, strings.Join(known, ", "))
		}
		if seen[name] {
			return nil, p.errorf(k, sub, "given twice")
		}
		seen[name] = true
		p.man.lines[sub] = k.Line
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

// str returns the string value of scalar node n at key.
func (p *manifestParser) str(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errorf(n, key, "want a name, got %s", kindName(n))
	}
	if n.Value == "" {
		return "", p.errorf(n, key, "is empty")
	}
	return n.Value, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// table resolves a table path of the manifest and checks that it exists.
func (p *manifestParser) table(n *yaml.Node, key string) (string, error) {
	s, err := p.str(n, key)
	if err != nil {
		return "", err
	}
	path := s
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	if _, err := resolveSource(path); err != nil {
		return "", p.errorf(n, key, "%v", err)
	}
	return path, nil
}

var (
	topKeys        = []string{"samples", "embeddings", "annotations", "output"}
	samplesKeys    = []string{"path", "id"}
	modelKeys      = []string{"path", "id", "annotation_id", "vector"}
	annotationKeys = []string{"path", "sample", "label", "id", "source", "type", "confidence", "x", "y", "width", "height"}
)

func (p *manifestParser) layout(root *yaml.Node) (*Layout, error) {
	top, err := p.mapping(root, "", topKeys...)
	if err != nil {
		return nil, err
	}
	lay := &Layout{Dir: p.dir, Output: p.dir}
	var models, anns *yaml.Node
	for _, kv := range top {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "samples":
			if err := p.samples(v, lay); err != nil {
				return nil, err
			}
		case "embeddings":
			models = v
		case "annotations":
			anns = v
		case "output":
			out, err := p.str(v, "output")
			if err != nil {
				return nil, err
			}
			if !filepath.IsAbs(out) {
				out = filepath.Join(p.dir, out)
			}
			if st, err := os.Stat(out); err != nil || !st.IsDir() {
				return nil, p.errorf(v, "output", "%s is not a folder (winnow writes its tags there; create it first)", out)
			}
			lay.Output = out
		}
	}
	if lay.Samples.Path == "" {
		return nil, p.errorf(root, "samples", "missing: the manifest must say where the samples table is")
	}
	// Annotations before models: an object-level model needs them.
	if anns != nil {
		if lay.Annotations, err = p.annotations(anns, lay); err != nil {
			return nil, err
		}
	}
	if models != nil {
		if err := p.models(models, lay); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(lay.Models, func(a, b ModelMapping) int { return strings.Compare(a.Name, b.Name) })
	return lay, nil
}

func (p *manifestParser) samples(n *yaml.Node, lay *Layout) error {
	lay.Samples.ID = SampleIDColumn
	if n.Kind == yaml.ScalarNode {
		path, err := p.table(n, "samples")
		lay.Samples.Path = path
		p.man.lines["samples.path"] = n.Line
		return err
	}
	ents, err := p.mapping(n, "samples", samplesKeys...)
	if err != nil {
		return err
	}
	for _, kv := range ents {
		key := "samples." + kv[0].Value
		switch kv[0].Value {
		case "path":
			if lay.Samples.Path, err = p.table(kv[1], key); err != nil {
				return err
			}
		case "id":
			if lay.Samples.ID, err = p.str(kv[1], key); err != nil {
				return err
			}
		}
	}
	if lay.Samples.Path == "" {
		return p.errorf(n, "samples.path", "missing: where is the samples table?")
	}
	return nil
}

func (p *manifestParser) models(n *yaml.Node, lay *Layout) error {
	ents, err := p.mapping(n, "embeddings")
	if err != nil {
		return err
	}
	for _, kv := range ents {
		name := kv[0].Value
		key := "embeddings." + name
		if name == "" || strings.ContainsAny(name, `/\`) {
			return p.errorf(kv[0], key, "a model name must be a plain name")
		}
		m := ModelMapping{Name: name}
		v := kv[1]
		if v.Kind == yaml.ScalarNode {
			if m.Path, err = p.table(v, key); err != nil {
				return err
			}
			p.man.lines[key+".path"] = v.Line
		} else {
			fields, err := p.mapping(v, key, modelKeys...)
			if err != nil {
				return err
			}
			for _, f := range fields {
				fk := key + "." + f[0].Value
				switch f[0].Value {
				case "path":
					m.Path, err = p.table(f[1], fk)
				case "id":
					m.ID, err = p.str(f[1], fk)
				case "annotation_id":
					m.ID, err = p.str(f[1], fk)
					m.Object = true
				case "vector":
					m.Vector, err = p.str(f[1], fk)
				}
				if err != nil {
					return err
				}
			}
			if _, ok := p.man.lines[key+".id"]; ok && m.Object {
				return p.errorf(v, key, "give id (a sample-level model) or annotation_id (an object-level one), not both")
			}
		}
		if m.Path == "" {
			if m.ID != "" {
				return p.errorf(v, key, "a model in the samples table (no path) has no id column of its own")
			}
			if m.Vector == "" {
				return p.errorf(v, key, "say which column of the samples table holds the vectors (vector: COLUMN), or where the model's table is (path: FILE)")
			}
		}
		if err := p.defaultModelColumns(&m, lay, v, key); err != nil {
			return err
		}
		lay.Models = append(lay.Models, m)
	}
	return nil
}

// defaultModelColumns fills in the columns of a model table that the
// manifest leaves out, from the table's footer.
func (p *manifestParser) defaultModelColumns(m *ModelMapping, lay *Layout, n *yaml.Node, key string) error {
	if m.Path == "" || (m.ID != "" && m.Vector != "") {
		return nil
	}
	st, err := Stat(m.Path)
	if err != nil {
		return p.errorf(n, key+".path", "%v", err)
	}
	names := st.columnNames()
	if m.ID == "" {
		m.ID = lay.Samples.ID
		if !slices.Contains(names, m.ID) && slices.Contains(names, SampleIDColumn) {
			m.ID = SampleIDColumn
		}
	}
	if m.Vector == "" {
		m.Vector = EmbeddingColumn
		if !slices.Contains(names, EmbeddingColumn) {
			var vecs []string
			for _, c := range st.Columns {
				if c.vector {
					vecs = append(vecs, c.Name)
				}
			}
			if len(vecs) != 1 {
				return p.errorf(n, key+".vector", "the table %s has %d vector columns (%s) and none named embedding: name one", m.Path, len(vecs), strings.Join(vecs, ", "))
			}
			m.Vector = vecs[0]
		}
	}
	return nil
}

func (p *manifestParser) annotations(n *yaml.Node, lay *Layout) (*AnnotationMapping, error) {
	a := &AnnotationMapping{}
	set := map[string]bool{}
	if n.Kind == yaml.ScalarNode {
		path, err := p.table(n, "annotations")
		if err != nil {
			return nil, err
		}
		a.Path = path
		p.man.lines["annotations.path"] = n.Line
	} else {
		ents, err := p.mapping(n, "annotations", annotationKeys...)
		if err != nil {
			return nil, err
		}
		for _, kv := range ents {
			key := "annotations." + kv[0].Value
			if kv[0].Value == "path" {
				if a.Path, err = p.table(kv[1], key); err != nil {
					return nil, err
				}
				continue
			}
			col, err := p.str(kv[1], key)
			if err != nil {
				return nil, err
			}
			for _, r := range a.roles() {
				if r.key == kv[0].Value {
					*r.col = col
				}
			}
			set[kv[0].Value] = true
		}
		if a.Path == "" {
			return nil, p.errorf(n, "annotations.path", "missing: where is the annotations table?")
		}
	}
	// Roles the manifest leaves out take their conventional columns, if
	// the table has them.
	st, err := Stat(a.Path)
	if err != nil {
		return nil, p.errorf(n, "annotations.path", "%v", err)
	}
	names := st.columnNames()
	conv := conventionalAnnotations(a.Path, names)
	if !set["sample"] {
		a.Sample = conv.Sample
		if slices.Contains(names, lay.Samples.ID) {
			a.Sample = lay.Samples.ID
		}
	}
	cr := conv.roles()
	for i, r := range a.roles() {
		if !set[r.key] && r.key != "sample" {
			*r.col = *cr[i].col
		}
	}
	return a, nil
}

// MarshalManifest writes l as a manifest, paths relative to l.Dir where
// they lie inside it. Notes, when given, are written as comments on the
// entries they name (dotted keys, as in Guess).
func (l *Layout) MarshalManifest(notes map[string]string) ([]byte, error) {
	rel := func(path string) string {
		if r, err := filepath.Rel(l.Dir, path); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return path
	}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	entry := func(m *yaml.Node, key, path string, v *yaml.Node) {
		k := str(key)
		if c := notes[path]; c != "" {
			k.HeadComment = c
		}
		m.Content = append(m.Content, k, v)
	}
	mapping := func() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }
	root := mapping()
	s := mapping()
	entry(s, "path", "samples.path", str(rel(l.Samples.Path)))
	entry(s, "id", "samples.id", str(l.Samples.ID))
	entry(root, "samples", "samples", s)
	if l.Annotations != nil {
		a := mapping()
		entry(a, "path", "annotations.path", str(rel(l.Annotations.Path)))
		for _, r := range l.Annotations.roles() {
			if *r.col != "" {
				entry(a, r.key, "annotations."+r.key, str(*r.col))
			}
		}
		entry(root, "annotations", "annotations", a)
	}
	if len(l.Models) > 0 {
		ms := mapping()
		for _, m := range l.Models {
			e := mapping()
			key := "embeddings." + m.Name
			if m.Path != "" {
				entry(e, "path", key+".path", str(rel(m.Path)))
				if m.Object {
					entry(e, "annotation_id", key+".annotation_id", str(m.ID))
				} else {
					entry(e, "id", key+".id", str(m.ID))
				}
			}
			entry(e, "vector", key+".vector", str(m.Vector))
			entry(ms, m.Name, key, e)
		}
		entry(root, "embeddings", "embeddings", ms)
	}
	if l.Output != "" && filepath.Clean(l.Output) != filepath.Clean(l.Dir) {
		entry(root, "output", "output", str(rel(l.Output)))
	}
	var buf bytes.Buffer
	buf.WriteString("# winnow dataset manifest: maps these tables and columns to winnow's roles.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
