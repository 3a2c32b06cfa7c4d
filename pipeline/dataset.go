package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"winnow/columnar"
	"winnow/internal/atomicfile"
	"winnow/tags"
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
	if err := tags.CheckName(d.cd, tag); err != nil {
		return 0, err
	}
	rows, err := tags.ReadIDs(ctx, d.cd, r)
	if err != nil {
		return 0, fmt.Errorf("tag %q: %w", tag, err)
	}
	if err := tags.Add(ctx, d.cd, tag, rows, nil); err != nil {
		return 0, err
	}
	return rows.Count(), nil
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

// TableReport is one table's footprint and columns.
type TableReport struct {
	Name    string         `json:"name"`
	Path    string         `json:"path"`
	Parts   int            `json:"parts"`
	Rows    int64          `json:"rows"`
	Bytes   int64          `json:"bytes"`
	Columns []ColumnReport `json:"columns"`
}

// ColumnReport is a column's name and type.
type ColumnReport = columnar.ColumnInfo

// ModelReport is one embedding model: its dimension and how many samples
// have a vector.
type ModelReport struct {
	Name     string `json:"name"`
	Dim      int    `json:"dim"`
	Vectors  int64  `json:"vectors"`
	Coverage string `json:"coverage"`
}

// AnnotationReport counts annotations by source and by label.
type AnnotationReport struct {
	Rows    int          `json:"rows"`
	Sources []ValueCount `json:"sources"`
	Labels  []ValueCount `json:"labels"`
}

// ValueCount is a value and how often it occurs.
type ValueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Inspect builds the dataset's Report. It reads table footers, the
// annotations' label and source columns and the tags, never the vectors.
func (d *Dataset) Inspect(ctx context.Context) (*Report, error) {
	r := &Report{Dir: d.Dir(), Samples: d.Len(), Layout: d.cd.Layout()}
	names := []string{"samples", "annotations", "tags"}
	for _, m := range d.cd.Models() {
		names = append(names, "embeddings/"+m)
	}
	for _, name := range names {
		path := d.cd.TablePath(name)
		if path == "" {
			continue
		}
		st, err := columnar.Stat(path)
		if err != nil {
			return nil, err
		}
		r.Tables = append(r.Tables, TableReport{Name: name, Path: path, Parts: st.Parts, Rows: st.Rows, Bytes: st.Bytes, Columns: st.Columns})
		if m, ok := strings.CutPrefix(name, "embeddings/"); ok {
			dim, err := d.cd.EmbeddingDim(ctx, m)
			if err != nil {
				return nil, err
			}
			mr := ModelReport{Name: m, Dim: dim, Vectors: st.Rows}
			mr.Coverage = fmt.Sprintf("%.1f%%", 100*float64(st.Rows)/float64(max(d.Len(), 1)))
			r.Models = append(r.Models, mr)
		}
	}
	if d.cd.HasAnnotations() {
		ar, err := d.annotationReport(ctx)
		if err != nil {
			return nil, err
		}
		r.Annotations = ar
	}
	t, err := d.Tags()
	if err != nil {
		return nil, err
	}
	r.Tags = t
	return r, nil
}

func (d *Dataset) annotationReport(ctx context.Context) (*AnnotationReport, error) {
	ann, err := d.cd.Annotations(ctx, columnar.WithLabel|columnar.WithSource)
	if err != nil {
		return nil, err
	}
	ar := &AnnotationReport{Rows: ann.Len(), Labels: valueCounts(ann.Label)}
	if ann.Source != nil {
		ar.Sources = valueCounts(ann.Source)
	}
	return ar, nil
}

// valueCounts counts a categorical column's values, most frequent first
// (ties by value). Nulls count as "(null)".
func valueCounts(c *columnar.Categorical) []ValueCount {
	counts, nulls := c.Counts()
	out := make([]ValueCount, 0, len(counts)+1)
	for i, n := range counts {
		out = append(out, ValueCount{c.Values[i], n})
	}
	if nulls > 0 {
		out = append(out, ValueCount{"(null)", nulls})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return slices.Clip(out)
}
