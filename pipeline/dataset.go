package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
	"github.com/winnow-data/winnow/tags"
)

// Dataset is an opened winnow dataset folder.
type Dataset struct {
	cd *columnar.Dataset
}

// Open opens the dataset in dir and validates its sample ids and tags.
// Embeddings and other columns are read later, when a job needs them.
func Open(dir string) (*Dataset, error) {
	return OpenContext(context.Background(), dir)
}

// OpenContext is Open with a context for cancellation.
func OpenContext(ctx context.Context, dir string) (*Dataset, error) {
	cd, err := columnar.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &Dataset{cd: cd}, nil
}

// Dir is the dataset's folder.
func (d *Dataset) Dir() string { return d.cd.Dir() }

// Len is the number of samples.
func (d *Dataset) Len() int { return d.cd.Len() }

// Columnar exposes the underlying columnar dataset for advanced use.
func (d *Dataset) Columnar() *columnar.Dataset { return d.cd }

// Tags lists the dataset's tags with their sizes.
func (d *Dataset) Tags() ([]tags.Info, error) { return tags.List(d.cd) }

// ExportFormats lists the formats ExportTag writes.
func ExportFormats() []string { return columnar.ExportFormats() }

// ExportTag writes the samples carrying tag to w in format (see
// ExportFormats).
func (d *Dataset) ExportTag(ctx context.Context, tag, format string, w io.Writer) error {
	rows, err := d.cd.Tag(tag)
	if err != nil {
		return err
	}
	if err := d.cd.Export(ctx, rows, format, w); err != nil {
		return fmt.Errorf("export tag %q: %w", tag, err)
	}
	return nil
}

// ExportTagFile is ExportTag into the file path, which is replaced
// atomically: a failed export leaves any earlier file as it was.
func (d *Dataset) ExportTagFile(ctx context.Context, tag, format, path string) error {
	return atomicfile.WriteFile(path, func(f *os.File) error {
		return d.ExportTag(ctx, tag, format, f)
	}, atomicfile.Options{})
}

// AddTagFromIDs stores the sample ids read from r (one per line) as a new
// tag and returns how many samples it holds.
func (d *Dataset) AddTagFromIDs(ctx context.Context, tag string, r io.Reader) (int, error) {
	return d.AddTagFromList(ctx, tag, r, TagList{}, false)
}

// TagList says how AddTagFromList reads its list: one sample id per line
// by default, or a CSV column (Column), naming samples by another samples
// column (By, e.g. "file_name").
type TagList = tags.ListFormat

// AddTagFromList stores the samples named by the list read from r as tag
// and returns how many samples it holds. With replace, an existing tag of
// that name is overwritten (its selection record goes); otherwise an
// existing name is an error. Every value must name exactly one sample.
func (d *Dataset) AddTagFromList(ctx context.Context, tag string, r io.Reader, list TagList, replace bool) (int, error) {
	check, commit := tags.CheckName, tags.Add
	if replace {
		check, commit = tags.CheckReplace, tags.Replace
	}
	if err := check(d.cd, tag); err != nil {
		return 0, err
	}
	rows, err := tags.ReadList(ctx, d.cd, r, list)
	if err != nil {
		return 0, fmt.Errorf("tag %q: %w", tag, err)
	}
	if err := commit(ctx, d.cd, tag, rows, nil); err != nil {
		return 0, err
	}
	return rows.Count(), nil
}

// DeleteTag removes tag and its selection record, in one commit, and
// returns how many samples it held.
func (d *Dataset) DeleteTag(ctx context.Context, tag string) (int, error) {
	bm, err := d.cd.Tag(tag)
	if err != nil {
		return 0, err
	}
	if err := tags.Delete(ctx, d.cd, tag); err != nil {
		return 0, err
	}
	return bm.Count(), nil
}

// RenameTag renames tag from to to, with its selection record, in one
// commit. to must be a new name, and not differ from another tag only in
// case.
func (d *Dataset) RenameTag(ctx context.Context, from, to string) error {
	if from == to {
		return fmt.Errorf("rename tag %q: the new name is the same", from)
	}
	return tags.Rename(ctx, d.cd, from, to)
}

// Guess is one decision GuessManifest made: a manifest entry, its value
// and why.
type Guess = columnar.Guess

// GuessManifest inspects the tables in folder dir and returns a manifest
// (winnow.yaml's text) mapping them to winnow's roles, with what it
// guessed and why. It checks that the manifest opens; it writes nothing.
func GuessManifest(ctx context.Context, dir string) ([]byte, []Guess, error) {
	lay, guesses, err := columnar.GuessManifest(ctx, dir)
	if err != nil {
		return nil, guesses, err
	}
	notes := map[string]string{}
	for _, g := range guesses {
		if g.Key != "" {
			notes[g.Key] = g.Why
		}
	}
	text, err := lay.MarshalManifest(notes)
	return text, guesses, err
}

// Report describes a dataset: its tables, embedding models, annotations
// and tags. It is what `winnow inspect` prints.
type Report struct {
	Dir     string `json:"dir"`
	Samples int    `json:"samples"`
	// Layout is where the tables are and which columns play which role,
	// from the manifest or the conventional layout.
	Layout      *columnar.Layout  `json:"layout"`
	Tables      []TableReport     `json:"tables"`
	Models      []ModelReport     `json:"models"`
	Annotations *AnnotationReport `json:"annotations,omitempty"`
	Tags        []tags.Info       `json:"tags"`
}

// TableReport is one table's footprint and columns, or why it could not
// be read (Error; the other fields are then empty but Name and Path).
type TableReport struct {
	Name    string         `json:"name"`
	Path    string         `json:"path"`
	Parts   int            `json:"parts"`
	Rows    int64          `json:"rows"`
	Bytes   int64          `json:"bytes"`
	Columns []ColumnReport `json:"columns"`
	Error   string         `json:"error,omitempty"`
}

// ColumnReport is a column's name and type.
type ColumnReport = columnar.ColumnInfo

// ModelReport is one embedding model: its dimension, how many samples
// have a vector (rows holding a null vector do not count) and which share
// of the samples that is.
type ModelReport struct {
	Name     string  `json:"name"`
	Dim      int     `json:"dim"`
	Vectors  int64   `json:"vectors"`
	Coverage float64 `json:"coverage"` // Vectors / samples (annotations for Object), 0 to 1
	// Object marks an object-level model: one vector per annotation.
	Object bool   `json:"object,omitempty"`
	Error  string `json:"error,omitempty"`
}

// AnnotationReport counts annotations by source and by label, or says why
// they could not be read (Error).
type AnnotationReport struct {
	Rows    int          `json:"rows"`
	Sources []ValueCount `json:"sources"`
	Labels  []ValueCount `json:"labels"`
	Error   string       `json:"error,omitempty"`
}

// ValueCount is a value and how often it occurs. A null (an annotation
// without a label or source) is its own entry with Null set, apart from
// any value that reads like one: a label "(null)" is a label.
type ValueCount struct {
	Value string
	Null  bool
	Count int
}

type valueCountJSON struct {
	Value *string `json:"value"`
	Count int     `json:"count"`
}

// MarshalJSON writes {"value": "cat", "count": 3}, with "value": null for
// the null entry.
func (v ValueCount) MarshalJSON() ([]byte, error) {
	j := valueCountJSON{Count: v.Count}
	if !v.Null {
		j.Value = &v.Value
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *ValueCount) UnmarshalJSON(b []byte) error {
	var j valueCountJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = ValueCount{Count: j.Count, Null: j.Value == nil}
	if j.Value != nil {
		v.Value = *j.Value
	}
	return nil
}

// InspectError reports the tables that Inspect could not read; the rest
// of the report stands.
type InspectError struct {
	Tables []string // table names, in report order
	Errs   []error
}

func (e *InspectError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap gives the tables' errors.
func (e *InspectError) Unwrap() []error { return e.Errs }

func (e *InspectError) add(table string, err error) {
	e.Tables = append(e.Tables, table)
	e.Errs = append(e.Errs, err)
}

// InspectDir opens the dataset in dir and builds its Report. Unlike Open
// it does not fail on a damaged optional table (annotations, tags, an
// embedding model): the report shows everything else, that table's entry
// carries its error, and the error returned (an *InspectError) lists
// every such table. A dataset whose samples table cannot be read gives no
// report.
func InspectDir(ctx context.Context, dir string) (*Report, error) {
	cd, bad, err := columnar.OpenTolerant(ctx, dir)
	if err != nil {
		return nil, err
	}
	d := &Dataset{cd: cd}
	return d.inspect(ctx, bad)
}

// Inspect builds the dataset's Report. It reads table footers, the
// annotations' label and source columns and the tags, and the embeddings'
// definition levels only where the footers do not rule out null vectors;
// never the vectors themselves. A table that cannot be read is reported
// in its entry and in the error (an *InspectError); the report is
// complete otherwise.
func (d *Dataset) Inspect(ctx context.Context) (*Report, error) { return d.inspect(ctx, nil) }

// inspect reports on d; bad holds the optional tables that the tolerant
// open left out, with their errors.
func (d *Dataset) inspect(ctx context.Context, bad map[string]error) (*Report, error) {
	r := &Report{Dir: d.Dir(), Samples: d.Len(), Layout: d.cd.Layout(), Models: []ModelReport{}, Tags: []tags.Info{}}
	ie := &InspectError{}
	type table struct{ name, path string }
	var tables []table
	for _, name := range []string{"samples", "annotations", "tags"} {
		if path := d.cd.TablePath(name); path != "" || bad[name] != nil {
			tables = append(tables, table{name, path})
		}
	}
	for _, m := range append(d.cd.Models(), d.cd.ObjectModels()...) {
		tables = append(tables, table{"embeddings/" + m, d.cd.TablePath("embeddings/" + m)})
	}
	for _, t := range tables {
		tr := TableReport{Name: t.name, Path: t.path, Columns: []ColumnReport{}}
		err := bad[t.name]
		var st *columnar.TableStat
		if err == nil {
			st, err = columnar.Stat(t.path)
		}
		if err != nil {
			if t.name == "samples" {
				return nil, err
			}
			tr.Error = err.Error()
			ie.add(t.name, err)
			r.Tables = append(r.Tables, tr)
			if m, ok := strings.CutPrefix(t.name, "embeddings/"); ok {
				r.Models = append(r.Models, ModelReport{Name: m, Error: err.Error()})
			}
			if t.name == "annotations" {
				r.Annotations = &AnnotationReport{Sources: []ValueCount{}, Labels: []ValueCount{}, Error: err.Error()}
			}
			continue
		}
		tr.Parts, tr.Rows, tr.Bytes, tr.Columns = st.Parts, st.Rows, st.Bytes, st.Columns
		r.Tables = append(r.Tables, tr)
		if m, ok := strings.CutPrefix(t.name, "embeddings/"); ok {
			mr := d.modelReport(ctx, m, st.Rows)
			if mr.Error != "" {
				ie.add(t.name, errors.New(mr.Error))
			}
			r.Models = append(r.Models, mr)
		}
	}
	if d.cd.HasAnnotations() {
		ar, err := d.annotationReport(ctx)
		if err != nil {
			ar = &AnnotationReport{Sources: []ValueCount{}, Labels: []ValueCount{}, Error: err.Error()}
			ie.add("annotations", err)
		}
		r.Annotations = ar
	}
	if t, err := d.Tags(); err != nil {
		ie.add("tags", err)
	} else if t != nil {
		r.Tags = t
	}
	if len(ie.Errs) > 0 {
		return r, ie
	}
	return r, nil
}

// modelReport counts the vectors of model; an error is in the report.
func (d *Dataset) modelReport(ctx context.Context, model string, rows int64) ModelReport {
	mr := ModelReport{Name: model}
	dim, err := d.cd.EmbeddingDim(ctx, model)
	if err == nil && slices.Contains(d.cd.ObjectModels(), model) {
		// One row per annotation: the table's rows are its vectors.
		mr.Dim, mr.Vectors, mr.Object = dim, rows, true
		if n, aerr := d.annotationRows(); aerr == nil && n > 0 {
			mr.Coverage = float64(rows) / float64(n)
		}
		return mr
	}
	if err == nil {
		mr.Dim = dim
		mr.Vectors, err = d.cd.VectorCount(ctx, model)
	}
	if err != nil {
		return ModelReport{Name: model, Error: err.Error()}
	}
	mr.Coverage = float64(mr.Vectors) / float64(max(d.Len(), 1))
	return mr
}

// annotationRows is the annotations table's row count, from its footers.
func (d *Dataset) annotationRows() (int64, error) {
	st, err := columnar.Stat(d.cd.TablePath("annotations"))
	if err != nil {
		return 0, err
	}
	return st.Rows, nil
}

func (d *Dataset) annotationReport(ctx context.Context) (*AnnotationReport, error) {
	ann, err := d.cd.Annotations(ctx, columnar.WithLabel|columnar.WithSource)
	if err != nil {
		return nil, err
	}
	ar := &AnnotationReport{Rows: ann.Len(), Sources: []ValueCount{}, Labels: valueCounts(ann.Label)}
	if ann.Source != nil {
		ar.Sources = valueCounts(ann.Source)
	}
	return ar, nil
}

// valueCounts counts a categorical column's values, most frequent first
// (ties by value, the null entry last among equals).
func valueCounts(c *columnar.Categorical) []ValueCount {
	counts, nulls := c.Counts()
	out := make([]ValueCount, 0, len(counts)+1)
	for i, n := range counts {
		out = append(out, ValueCount{Value: c.Values[i], Count: n})
	}
	if nulls > 0 {
		out = append(out, ValueCount{Null: true, Count: nulls})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Null != out[j].Null {
			return out[j].Null
		}
		return out[i].Value < out[j].Value
	})
	return slices.Clip(out)
}
