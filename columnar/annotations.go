package columnar

// Reading the annotations table.
//
// Open checks the annotations schema only (it can be large): the sample
// reference (any id type) and the label (string or integer) are required,
// and the optional roles' columns must have their documented types. The
// columns keep their own names and types in the query's view
// (AnnotationSchema, AnnotationTable); Annotations reads them by role.
// Sample ids are checked against the samples table when the table is read.

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

func isInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func isNumber(t arrow.DataType) bool { return isFloat(t) || isInteger(t) }

func isLabel(t arrow.DataType) bool { return isString(t) || isInteger(t) }

// annotationRoleTypes says which types each annotation role's column may
// have.
var annotationRoleTypes = map[string]struct {
	ok   func(arrow.DataType) bool
	want string
}{
	"sample":     {isIDType, "a UUID, a string or an integer"},
	"id":         {isIDType, "a UUID, a string or an integer"},
	"label":      {isLabel, "string or integer"},
	"source":     {isString, "string"},
	"type":       {isString, "string"},
	"confidence": {isNumber, "float"},
	"x":          {isNumber, "integer or float"},
	"y":          {isNumber, "integer or float"},
	"width":      {isNumber, "integer or float"},
	"height":     {isNumber, "integer or float"},
}

// openAnnotations checks the schema of the annotations table.
func (d *Dataset) openAnnotations() error {
	a := d.lay.Annotations
	if a == nil || d.skip[annotationsTable] {
		return nil
	}
	parts, err := openParts(a.Path)
	if err != nil {
		return d.at("annotations.path", err)
	}
	defer closeParts(parts)
	sc, err := tableSchema(parts)
	if err != nil {
		return d.at("annotations.path", err)
	}
	for _, r := range a.roles() {
		if *r.col == "" {
			if r.key == "sample" || r.key == "label" {
				return d.at("annotations", fmt.Errorf("%s: the annotations need a %s column", a.Path, r.key))
			}
			continue
		}
		idx := sc.FieldIndices(*r.col)
		if len(idx) == 0 {
			return d.at("annotations."+r.key, fmt.Errorf("%s: missing required column %q (columns: %s)", a.Path, *r.col, fieldNames(sc)))
		}
		if t := sc.Field(idx[0]).Type; !annotationRoleTypes[r.key].ok(t) {
			return d.at("annotations."+r.key, fmt.Errorf("%s: column %q has type %s, want %s", a.Path, *r.col, TypeName(t), annotationRoleTypes[r.key].want))
		}
	}
	fields := sc.Fields()
	for i := range fields {
		if fields[i].Name == a.Sample || fields[i].Name == a.ID {
			fields[i].Type = idArrowType(fields[i].Type)
		}
	}
	d.annotations, d.annSchema, d.ann = a.Path, arrow.NewSchema(fields, nil), *a
	return nil
}

// AnnotationSchema is the schema of the annotations table, its columns
// under their own names (a 16-byte id column as the UUID type); nil when
// the dataset has no annotations table.
func (d *Dataset) AnnotationSchema() *arrow.Schema { return d.annSchema }

// AnnotationTable reads the named columns of the annotations table in
// annotation order (nil names reads every column), with the dataset row
// of each annotation's sample: the query evaluator's view
// (query.Source); Go callers read plain values with Annotations. Ids not
// in samples are an error naming the table and the id; so is a type value
// other than classification, object_detection or segmentation when the
// type column is read. The caller should Release the table.
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
	ref := d.ann.Sample
	read := slices.Clone(names)
	if !slices.Contains(read, ref) {
		read = append(read, ref)
	}
	raw, err := ReadTable(ctx, d.annotations, read)
	if err != nil {
		return nil, nil, fmt.Errorf("read annotations: %w", err)
	}
	defer raw.Release()
	idCol := raw.Column(slices.Index(read, ref))
	ids, err := idsOfArray(idCol.DataType(), idCol.Data())
	if err != nil {
		return nil, nil, fmt.Errorf("read annotations: %s: column %q: %w", d.annotations, ref, err)
	}
	sample, err = d.matchIDs(ctx, d.annotations, ref, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read annotations: %w", err)
	}
	if i := slices.Index(read, d.ann.Type); d.ann.Type != "" && i >= 0 {
		if err := checkAnnotationTypes(d.annotations, d.ann.Type, raw.Column(i).Data(), ids); err != nil {
			return nil, nil, fmt.Errorf("read annotations: %w", err)
		}
	}
	fields := make([]arrow.Field, len(names))
	cols := make([]arrow.Column, len(names))
	for i, n := range names {
		c := raw.Column(i)
		if want := d.annSchema.Field(d.annSchema.FieldIndices(n)[0]).Type; !arrow.TypeEqual(c.DataType(), want) {
			// A 16-byte id column without the UUID logical type: present
			// it as the schema says.
			x, err := idsOfArray(c.DataType(), c.Data())
			if err != nil {
				return nil, nil, fmt.Errorf("read annotations: %s: column %q: %w", d.annotations, n, err)
			}
			a, err := x.arrowArray(nil)
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
func checkAnnotationTypes(path, column string, col *arrow.Chunked, ids *IDs) error {
	row := 0
	for _, a := range col.Chunks() {
		s := a.(array.StringLike)
		for i := 0; i < s.Len(); i, row = i+1, row+1 {
			if s.IsNull(i) {
				continue
			}
			if v := s.Value(i); !slices.Contains(annotationTypes, v) {
				return fmt.Errorf("%s: column %q: annotation of sample %s has type %q, want one of %v", path, column, ids.quoted(row), v, annotationTypes)
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
	WithBox                                     // x, y, width, height
)

// AnnotationData is the annotations table as plain values, one entry per
// annotation in table order. A field that was not asked for, or whose
// optional column the table lacks, is nil. Integer labels are
// categories with their decimal text as values.
type AnnotationData struct {
	Sample     []int32 // dataset row of each annotation's sample
	Label      *Categorical
	Source     *Categorical
	Type       *Categorical
	Confidence *Numeric
	// The box in pixels: X and Y of its top-left corner, Width and
	// Height; each nil when its column is absent.
	X, Y, Width, Height *Numeric
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

// HasAnnotationFields reports whether the annotations table has a column
// for every field in f (WithBox: all four), whatever the columns' names.
func (d *Dataset) HasAnnotationFields(f AnnotationFields) bool {
	if d.annSchema == nil {
		return false
	}
	for _, r := range d.annotationRoles(f) {
		if r.column == "" {
			return false
		}
	}
	return true
}

// annotationRoles lists the roles of fields with their columns.
func (d *Dataset) annotationRoles(f AnnotationFields) []struct{ role, column string } {
	var out []struct{ role, column string }
	add := func(w AnnotationFields, role, col string) {
		if f&w != 0 {
			out = append(out, struct{ role, column string }{role, col})
		}
	}
	a := d.ann
	add(WithLabel, "label", a.Label)
	add(WithSource, "source", a.Source)
	add(WithType, "type", a.Type)
	add(WithConfidence, "confidence", a.Confidence)
	add(WithBox, "x", a.X)
	add(WithBox, "y", a.Y)
	add(WithBox, "width", a.Width)
	add(WithBox, "height", a.Height)
	return out
}

// Annotations reads the annotations table's sample rows and the fields
// asked for as plain values. It fails like AnnotationTable; a dataset
// without an annotations table is an error.
func (d *Dataset) Annotations(ctx context.Context, fields AnnotationFields) (*AnnotationData, error) {
	roles := d.annotationRoles(fields)
	var names []string
	for _, r := range roles {
		if r.column != "" && !slices.Contains(names, r.column) {
			names = append(names, r.column)
		}
	}
	sample, tbl, err := d.AnnotationTable(ctx, append([]string{}, names...))
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	out := &AnnotationData{Sample: sample}
	for _, r := range roles {
		if r.column == "" {
			continue
		}
		c := tbl.Column(slices.Index(names, r.column))
		var err error
		switch r.role {
		case "label":
			out.Label, err = chunkedCategorical(r.column, c)
		case "source":
			out.Source, err = chunkedCategorical(r.column, c)
		case "type":
			out.Type, err = chunkedCategorical(r.column, c)
		case "confidence":
			out.Confidence, err = chunkedNumeric(r.column, c)
		case "x":
			out.X, err = chunkedNumeric(r.column, c)
		case "y":
			out.Y, err = chunkedNumeric(r.column, c)
		case "width":
			out.Width, err = chunkedNumeric(r.column, c)
		case "height":
			out.Height, err = chunkedNumeric(r.column, c)
		}
		if err != nil {
			return nil, fmt.Errorf("read annotations: %s: %w", d.annotations, err)
		}
	}
	return out, nil
}

// annotationIDs is the annotations' id space, for object-level models.
type annotationIDs struct {
	ids    *IDs
	sample []int32 // each annotation's sample row
	idx    *idIndex
}

// annotationSpace reads the annotation ids (unique, non-null) and each
// annotation's sample row, once.
func (d *Dataset) annotationSpace(ctx context.Context) (*annotationIDs, error) {
	d.annMu.Lock()
	defer d.annMu.Unlock()
	if d.annIDs != nil {
		return d.annIDs, nil
	}
	a, err := d.readAnnotationIDs(ctx)
	if err != nil {
		return nil, err // not kept: a cancelled read may be retried
	}
	d.annIDs = a
	return a, nil
}

func (d *Dataset) readAnnotationIDs(ctx context.Context) (*annotationIDs, error) {
	if d.annSchema == nil {
		return nil, fmt.Errorf("the dataset has no annotations table")
	}
	if d.ann.ID == "" {
		return nil, fmt.Errorf("%s: the annotations have no id column (annotation_id), which object-level embeddings reference", d.annotations)
	}
	sample, tbl, err := d.AnnotationTable(ctx, []string{d.ann.ID})
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	ids, err := idsOfArray(tbl.Column(0).DataType(), tbl.Column(0).Data())
	if err != nil {
		return nil, fmt.Errorf("%s: column %q: %w", d.annotations, d.ann.ID, err)
	}
	a := &annotationIDs{ids: ids, sample: sample}
	if a.idx, err = buildIDIndex(ids); err != nil {
		if de, ok := err.(*dupError); ok {
			de.what = "annotation id"
		}
		return nil, fmt.Errorf("%s: column %q: %w", d.annotations, d.ann.ID, err)
	}
	return a, nil
}

// ObjectMatrix holds an object-level model's vectors: row i of the Matrix
// belongs to annotation i in annotation table order, and Sample[i] is the
// dataset row of its sample, ready for selecting objects (or samples by
// their objects).
type ObjectMatrix struct {
	Matrix
	Sample []int32
}

// ReadObjectEmbeddings reads the vectors of object-level model (one per
// annotation, keyed by annotation id) into a matrix aligned to the
// annotations. The annotation ids must be unique and non-null; an
// unknown model is an error listing the object-level models. It fails
// like ReadEmbeddings otherwise, naming annotations instead of samples.
func (d *Dataset) ReadObjectEmbeddings(ctx context.Context, model string, opts ...ReadOption) (*ObjectMatrix, error) {
	vt, ok := d.objects[model]
	if !ok {
		return nil, nameError(ErrUnknownModel, model, d.ObjectModels(), "read object embeddings: unknown object-level model %q (models: %s)", model, knownList(d.objectNames))
	}
	sp, err := d.space(ctx, vt)
	if err != nil {
		return nil, fmt.Errorf("read object embeddings %q: %w", model, err)
	}
	m, err := d.readVectors(ctx, vt, sp, opts)
	if err != nil {
		return nil, fmt.Errorf("read object embeddings %q: %w", model, err)
	}
	a, _ := d.annotationSpace(ctx)
	return &ObjectMatrix{Matrix: *m, Sample: a.sample}, nil
}

// space returns the id space vt's vectors belong to.
func (d *Dataset) space(ctx context.Context, vt *vectorTable) (idSpace, error) {
	if !vt.object {
		ids, err := d.IDs(ctx)
		if err != nil {
			return idSpace{}, err
		}
		return idSpace{ids: ids, index: d.index}, nil
	}
	a, err := d.annotationSpace(ctx)
	if err != nil {
		return idSpace{}, err
	}
	return idSpace{ids: a.ids, index: func(context.Context) (*idIndex, error) { return a.idx, nil }}, nil
}
