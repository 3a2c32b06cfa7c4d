package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"winnow/columnar"
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

// ExportTag writes the samples carrying tag to w in format (see tags.Formats).
func (d *Dataset) ExportTag(ctx context.Context, tag, format string, w io.Writer) error {
	return tags.Export(ctx, d.cd, tag, format, w)
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
	if err := tags.Add(ctx, d.cd, tag, rows); err != nil {
		return 0, err
	}
	return rows.Count(), nil
}

// Report describes a dataset: its tables, embedding models, annotations
// and tags. It is what `winnow inspect` prints.
type Report struct {
	Dir         string            `json:"dir"`
	Samples     int               `json:"samples"`
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

// ColumnReport is a column's name and Arrow type.
type ColumnReport struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

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
	r := &Report{Dir: d.Dir(), Samples: d.Len()}
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
		tr := TableReport{Name: name, Path: path, Parts: st.Parts, Rows: st.Rows, Bytes: st.Bytes}
		for _, f := range st.Schema.Fields() {
			tr.Columns = append(tr.Columns, ColumnReport{f.Name, typeName(f.Type)})
		}
		r.Tables = append(r.Tables, tr)
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
	if d.cd.AnnotationSchema() != nil {
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
	cols := []string{columnar.LabelColumn}
	hasSource := len(d.cd.AnnotationSchema().FieldIndices("source")) > 0
	if hasSource {
		cols = append(cols, "source")
	}
	ann, err := d.cd.AnnotationColumns(ctx, cols)
	if err != nil {
		return nil, err
	}
	defer ann.Table.Release()
	ar := &AnnotationReport{Rows: len(ann.Sample)}
	ar.Labels = countStrings(ann.Table, 0)
	if hasSource {
		ar.Sources = countStrings(ann.Table, 1)
	}
	return ar, nil
}

// countStrings counts the values of a string column, most frequent first
// (ties by value). Nulls count as "(null)".
func countStrings(tbl arrow.Table, col int) []ValueCount {
	counts := map[string]int{}
	for _, chunk := range tbl.Column(col).Data().Chunks() {
		for i := 0; i < chunk.Len(); i++ {
			counts[stringAt(chunk, i)]++
		}
	}
	out := make([]ValueCount, 0, len(counts))
	for v, c := range counts {
		out = append(out, ValueCount{v, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// stringAt reads one value of a string-like column as text.
func stringAt(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "(null)"
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Dictionary:
		return stringAt(a.Dictionary(), a.GetValueIndex(i))
	}
	return a.ValueStr(i)
}

// typeName renders an Arrow type briefly: "uuid" for the UUID extension,
// "float32[768]" for a fixed-size list.
func typeName(t arrow.DataType) string {
	switch t := t.(type) {
	case arrow.ExtensionType:
		return strings.TrimPrefix(t.ExtensionName(), "arrow.")
	case *arrow.FixedSizeListType:
		return fmt.Sprintf("%s[%d]", typeName(t.Elem()), t.Len())
	case *arrow.ListType:
		return typeName(t.Elem()) + "[]"
	}
	return t.String()
}
