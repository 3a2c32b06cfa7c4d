package columnar

// Reading the annotations table.
//
// Open checks the annotations schema only (it can be large): sample_id
// (UUID) and label (string) are required, and the optional well-known
// columns must have their documented types. Sample ids are checked against
// the samples table when AnnotationTable reads them.

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// annotationTypes are the accepted values of the annotations' type column.
var annotationTypes = []string{"classification", "object_detection", "segmentation"}

func isIDType(t arrow.DataType) bool { _, ok := idKindOf(t); return ok }

func isString(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	return false
}

func isFloat(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// annotationColumnTypes checks the well-known columns' types.
var annotationColumnTypes = []struct {
	name     string
	required bool
	ok       func(arrow.DataType) bool
	want     string
}{
	{SampleIDColumn, true, isIDType, "a UUID, a string or an integer"},
	{LabelColumn, true, isString, "string"},
	{"annotation_id", false, isIDType, "a UUID, a string or an integer"},
	{"source", false, isString, "string"},
	{"type", false, isString, "string"},
	{"confidence", false, isFloat, "float"},
	{"x", false, isFloat, "float"},
	{"y", false, isFloat, "float"},
	{"width", false, isFloat, "float"},
	{"height", false, isFloat, "float"},
}

// openAnnotations locates the annotations table and checks its schema.
func (d *Dataset) openAnnotations() error {
	path, err := locateTable(d.dir, annotationsTable)
	if err != nil || path == "" {
		return err
	}
	parts, err := openParts(path)
	if err != nil {
		return err
	}
	defer closeParts(parts)
	sc, err := tableSchema(parts)
	if err != nil {
		return err
	}
	for _, c := range annotationColumnTypes {
		idx := sc.FieldIndices(c.name)
		if len(idx) == 0 {
			if c.required {
				return fmt.Errorf("%s: missing required column %q (columns: %s)", path, c.name, fieldNames(sc))
			}
			continue
		}
		if t := sc.Field(idx[0]).Type; !c.ok(t) {
			return fmt.Errorf("%s: column %q has type %s, want %s", path, c.name, t, c.want)
		}
	}
	fields := sc.Fields()
	i := sc.FieldIndices(SampleIDColumn)[0]
	fields[i].Type = idArrowType(fields[i].Type)
	d.annotations, d.annSchema = path, arrow.NewSchema(fields, nil)
	return nil
}

// AnnotationSchema is the schema of the annotations table, with sample_id
// as the UUID type; nil when the dataset has no annotations table.
func (d *Dataset) AnnotationSchema() *arrow.Schema { return d.annSchema }

// AnnotationTable reads the named columns of the annotations table in
// annotation order (nil names reads every column), with the dataset row
// of each annotation's sample: the query evaluator's view
// (query.Source); Go callers read plain values with Annotations. Ids not in samples are an error naming the
// table and the id; so is a type value other than classification,
// object_detection or segmentation when the type column is read. The
// caller should Release the table.
func (d *Dataset) AnnotationTable(ctx context.Context, names []string) (sample []int32, tbl arrow.Table, err error) {
	if d.annSchema == nil {
		return nil, nil, fmt.Errorf("read annotations: dataset %s has no annotations table", d.dir)
	}
	if names == nil {
		for _, f := range d.annSchema.Fields() {
			names = append(names, f.Name)
		}
	}
	for _, n := range names {
		if len(d.annSchema.FieldIndices(n)) == 0 {
			return nil, nil, nameError(ErrUnknownColumn, n, schemaNames(d.annSchema), "read annotations: %s: unknown column %q (columns: %s)", d.annotations, n, fieldNames(d.annSchema))
		}
	}
	read := slices.Clone(names)
	if !slices.Contains(read, SampleIDColumn) {
		read = append(read, SampleIDColumn)
	}
	raw, err := ReadTable(ctx, d.annotations, read)
	if err != nil {
		return nil, nil, fmt.Errorf("read annotations: %w", err)
	}
	defer raw.Release()
	idCol := raw.Column(slices.Index(read, SampleIDColumn))
	ids, err := idsOfArray(idCol.DataType(), idCol.Data())
	if err != nil {
		return nil, nil, fmt.Errorf("read annotations: %s: column %q: %w", d.annotations, SampleIDColumn, err)
	}
	sample, err = d.matchIDs(ctx, d.annotations, SampleIDColumn, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read annotations: %w", err)
	}
	if i := slices.Index(read, "type"); i >= 0 {
		if err := checkAnnotationTypes(d.annotations, raw.Column(i).Data(), ids); err != nil {
			return nil, nil, fmt.Errorf("read annotations: %w", err)
		}
	}
	fields := make([]arrow.Field, len(names))
	cols := make([]arrow.Column, len(names))
	for i, n := range names {
		c := raw.Column(i)
		if n == SampleIDColumn {
			// Present ids as the schema says (a 16-byte column as the
			// UUID type whatever its logical type).
			a, err := ids.arrowArray(nil)
			if err != nil {
				return nil, nil, fmt.Errorf("read annotations: %w", err)
			}
			ch := arrow.NewChunked(a.DataType(), []arrow.Array{a})
			a.Release()
			fields[i] = arrow.Field{Name: n, Type: a.DataType()}
			cols[i] = *arrow.NewColumn(fields[i], ch)
			ch.Release()
			continue
		}
		c.Retain()
		fields[i], cols[i] = c.Field(), *c
	}
	out := array.NewTable(arrow.NewSchema(fields, nil), cols, raw.NumRows())
	for i := range cols {
		cols[i].Release()
	}
	return sample, out, nil
}

// checkAnnotationTypes validates the values of the type column.
func checkAnnotationTypes(path string, col *arrow.Chunked, ids *IDs) error {
	row := 0
	for _, a := range col.Chunks() {
		s := a.(array.StringLike)
		for i := 0; i < s.Len(); i, row = i+1, row+1 {
			if s.IsNull(i) {
				continue
			}
			if v := s.Value(i); !slices.Contains(annotationTypes, v) {
				return fmt.Errorf("%s: column \"type\": annotation of sample %s has type %q, want one of %v", path, ids.quoted(row), v, annotationTypes)
			}
		}
	}
	return nil
}

// AnnotationFields selects the columns Annotations reads.
type AnnotationFields uint8

// The annotation columns Annotations can read; OR them together.
const (
	WithLabel      AnnotationFields = 1 << iota // label
	WithSource                                  // source (which labeller or model)
	WithType                                    // type (classification, object_detection, ...)
	WithConfidence                              // confidence
)

// AnnotationData is the annotations table as plain values, one entry per
// annotation in table order. A field that was not asked for, or whose
// optional column the table lacks, is nil.
type AnnotationData struct {
	Sample     []int32 // dataset row of each annotation's sample
	Label      *Categorical
	Source     *Categorical
	Type       *Categorical
	Confidence *Numeric
}

// Len is the number of annotations.
func (a *AnnotationData) Len() int { return len(a.Sample) }

// HasAnnotations reports whether the dataset has an annotations table.
func (d *Dataset) HasAnnotations() bool { return d.annSchema != nil }

// HasAnnotationColumn reports whether the annotations table has column
// name (false when the dataset has no annotations table).
func (d *Dataset) HasAnnotationColumn(name string) bool {
	return d.annSchema != nil && len(d.annSchema.FieldIndices(name)) > 0
}

// Annotations reads the annotations table's sample rows and the fields
// asked for as plain values. It fails like AnnotationTable; a dataset
// without an annotations table is an error.
func (d *Dataset) Annotations(ctx context.Context, fields AnnotationFields) (*AnnotationData, error) {
	type want struct {
		f    AnnotationFields
		name string
	}
	var names []string
	for _, w := range []want{{WithLabel, LabelColumn}, {WithSource, "source"}, {WithType, "type"}, {WithConfidence, "confidence"}} {
		if fields&w.f != 0 && d.HasAnnotationColumn(w.name) {
			names = append(names, w.name)
		}
	}
	sample, tbl, err := d.AnnotationTable(ctx, append([]string{}, names...))
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	out := &AnnotationData{Sample: sample}
	for i, n := range names {
		c := tbl.Column(i)
		var err error
		switch n {
		case LabelColumn:
			out.Label, err = chunkedCategorical(n, c)
		case "source":
			out.Source, err = chunkedCategorical(n, c)
		case "type":
			out.Type, err = chunkedCategorical(n, c)
		case "confidence":
			out.Confidence, err = chunkedNumeric(n, c)
		}
		if err != nil {
			return nil, fmt.Errorf("read annotations: %s: %w", d.annotations, err)
		}
	}
	return out, nil
}
