package columnar

// Plain tables: the small tables that winnow writes itself (selection
// records), built from and read back into plain Go slices, so that the
// packages above columnar never handle Arrow.

import (
	"context"
	"fmt"
	"io"
	"maps"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"
)

// PlainColumn is one column of a plain table. Values is one of []bool,
// []int32, []int64, []float64, []string, []uuid.UUID, Vectors or
// SampleIDs; Null, when not nil, marks the rows without a value (their
// entries in Values are ignored). Vectors cannot be null when written.
type PlainColumn struct {
	Name   string
	Values any
	Null   []bool
}

// SampleIDs is the value of an id column: the sample ids of the given
// dataset rows, written in the dataset's own id type.
type SampleIDs struct {
	ds   *Dataset
	Rows []int
}

// Vectors is the value of a vector column: Len() vectors of Dim float32s
// each, row-major in Values. It is written as winnow writes embeddings,
// FixedSizeList<float32, Dim> (EmbeddingType). ReadPlain returns list
// columns of float16, float32 or float64 as Vectors (converted to
// float32), with Null marking null rows, whose Values are zeros.
type Vectors struct {
	Dim    int
	Values []float32
}

// Len is the number of vectors.
func (v Vectors) Len() int {
	if v.Dim <= 0 {
		return 0
	}
	return len(v.Values) / v.Dim
}

// IDColumn is a column named name holding the ids of dataset rows rows.
func (d *Dataset) IDColumn(name string, rows []int) PlainColumn {
	return PlainColumn{Name: name, Values: SampleIDs{ds: d, Rows: rows}}
}

// plainLen is the number of rows of c.
func plainLen(c PlainColumn) (int, error) {
	switch v := c.Values.(type) {
	case []bool:
		return len(v), nil
	case []int32:
		return len(v), nil
	case []int64:
		return len(v), nil
	case []float64:
		return len(v), nil
	case []string:
		return len(v), nil
	case []uuid.UUID:
		return len(v), nil
	case Vectors:
		if v.Dim <= 0 || v.Dim > maxDim {
			return 0, fmt.Errorf("column %q: vector dimension %d outside 1..%d", c.Name, v.Dim, maxDim)
		}
		if len(v.Values)%v.Dim != 0 {
			return 0, fmt.Errorf("column %q: %d values are not whole vectors of dimension %d", c.Name, len(v.Values), v.Dim)
		}
		if c.Null != nil {
			return 0, fmt.Errorf("column %q: vectors cannot be null", c.Name)
		}
		return v.Len(), nil
	case SampleIDs:
		return len(v.Rows), nil
	}
	return 0, fmt.Errorf("column %q: unsupported values %T", c.Name, c.Values)
}

// WritePlain writes cols, all of one length, as one Parquet table to w,
// with metadata in the file's key-value metadata. Columns with a Null
// slice are nullable.
func WritePlain(ctx context.Context, w io.Writer, cols []PlainColumn, metadata map[string]string) error {
	pw := NewPlainWriter(w, WriterOptions{Metadata: metadata})
	if err := pw.Write(ctx, cols); err != nil {
		return err
	}
	return pw.Close()
}

// PlainWriter writes a plain table batch by batch, so that a large table
// (an imported embedding model, a million annotations) never exists twice
// in memory, once as plain values and once as Arrow arrays. The first
// batch fixes the schema: later batches must have the same columns with
// the same value types, and may have nulls only in columns that the first
// batch declared nullable (by a Null slice, even one of all false).
type PlainWriter struct {
	w      io.Writer
	opts   WriterOptions
	schema *arrow.Schema
	pw     *Writer
}

// NewPlainWriter starts a plain table on w, written as opts says.
// Nothing is written before the first Write. A row group is held in
// memory until it is complete, so a table of wide rows (vectors) wants
// opts.RowGroupRows small enough for that.
func NewPlainWriter(w io.Writer, opts WriterOptions) *PlainWriter {
	opts.Metadata = maps.Clone(opts.Metadata)
	return &PlainWriter{w: w, opts: opts}
}

// Write appends one batch of rows: cols, all of one length.
func (p *PlainWriter) Write(ctx context.Context, cols []PlainColumn) error {
	n := -1
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		k, err := plainLen(c)
		if err != nil {
			return err
		}
		if n >= 0 && k != n {
			return fmt.Errorf("column %q has %d rows, the first column %d", c.Name, k, n)
		}
		n = k
		if c.Null != nil && len(c.Null) != k {
			return fmt.Errorf("column %q: %d null flags for %d rows", c.Name, len(c.Null), k)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: plainType(c.Values), Nullable: c.Null != nil}
		if v, ok := c.Values.(SampleIDs); ok {
			fields[i].Type = v.ds.idTyp
		}
	}
	if p.schema == nil {
		p.schema = arrow.NewSchema(fields, nil)
		pw, err := NewWriter(p.w, p.schema, p.opts)
		if err != nil {
			return err
		}
		p.pw = pw
	} else if err := sameFields(p.schema, fields); err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, p.schema)
	defer b.Release()
	for i, c := range cols {
		if err := appendPlain(ctx, b.Field(i), c); err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return p.pw.Write(rec)
}

// EmbeddingWriterOptions are the options of an embedding table of
// dimension dim written from plain values: snappy, because zstd saves
// little on float vectors and halves their read speed, and row groups of
// about 8 MB of vectors (at most 64 Ki rows), because the writer holds a
// row group in memory, in a buffer grown by doubling, until it is
// complete; the reader decodes row groups in parallel, so many are no
// cost: a 1M x 512 model is 256 groups of 4,096 rows.
func EmbeddingWriterOptions(dim int) WriterOptions {
	const groupBytes = 8 << 20
	rows := min(64*1024, max(1, groupBytes/(4*max(dim, 1))))
	return WriterOptions{Compression: compress.Codecs.Snappy, RowGroupRows: int64(rows)}
}

// sameFields checks a later batch's fields against the schema the first
// batch fixed.
func sameFields(s *arrow.Schema, fields []arrow.Field) error {
	if s.NumFields() != len(fields) {
		return fmt.Errorf("batch has %d columns, the first batch %d", len(fields), s.NumFields())
	}
	for i, f := range fields {
		g := s.Field(i)
		switch {
		case f.Name != g.Name:
			return fmt.Errorf("batch column %d is %q, in the first batch %q", i, f.Name, g.Name)
		case !arrow.TypeEqual(f.Type, g.Type):
			return fmt.Errorf("column %q: batch type %s, first batch %s", f.Name, f.Type, g.Type)
		case f.Nullable && !g.Nullable:
			return fmt.Errorf("column %q has nulls, but the first batch declared it non-null", f.Name)
		}
	}
	return nil
}

// Close writes the footer; it does not close w. A writer that was never
// written to writes nothing and returns an error: a table needs a schema.
func (p *PlainWriter) Close() error {
	if p.pw == nil {
		return fmt.Errorf("plain table: no batch written, so no schema")
	}
	return p.pw.Close()
}

func plainType(v any) arrow.DataType {
	switch v := v.(type) {
	case []bool:
		return arrow.FixedWidthTypes.Boolean
	case []int32:
		return arrow.PrimitiveTypes.Int32
	case []int64:
		return arrow.PrimitiveTypes.Int64
	case []float64:
		return arrow.PrimitiveTypes.Float64
	case []string:
		return arrow.BinaryTypes.String
	case Vectors:
		return EmbeddingType(v.Dim)
	case []uuid.UUID:
		return UUIDType()
	}
	return nil // SampleIDs: the dataset's id type, set by the caller
}

func appendPlain(ctx context.Context, b array.Builder, c PlainColumn) error {
	null := func(i int) bool { return c.Null != nil && c.Null[i] }
	switch v := c.Values.(type) {
	case []bool:
		for i, x := range v {
			if null(i) {
				b.AppendNull()
			} else {
				b.(*array.BooleanBuilder).Append(x)
			}
		}
	case []int32:
		for i, x := range v {
			if null(i) {
				b.AppendNull()
			} else {
				b.(*array.Int32Builder).Append(x)
			}
		}
	case []int64:
		for i, x := range v {
			if null(i) {
				b.AppendNull()
			} else {
				b.(*array.Int64Builder).Append(x)
			}
		}
	case []float64:
		for i, x := range v {
			if null(i) {
				b.AppendNull()
			} else {
				b.(*array.Float64Builder).Append(x)
			}
		}
	case []string:
		for i, x := range v {
			if null(i) {
				b.AppendNull()
			} else {
				b.(*array.StringBuilder).Append(x)
			}
		}
	case []uuid.UUID:
		ub := b.(*extensions.UUIDBuilder)
		for i, x := range v {
			if null(i) {
				ub.AppendNull()
			} else {
				ub.Append(x)
			}
		}
	case Vectors:
		lb := b.(*array.FixedSizeListBuilder)
		vb := lb.ValueBuilder().(*array.Float32Builder)
		n := v.Len()
		lb.Reserve(n)
		vb.Reserve(n * v.Dim) // one allocation, not a doubling series
		for i := 0; i < n; i++ {
			lb.Append(true)
		}
		vb.AppendValues(v.Values[:n*v.Dim], nil)
	case SampleIDs:
		ids, err := v.ds.IDs(ctx)
		if err != nil {
			return err
		}
		for _, r := range v.Rows {
			if r < 0 || r >= ids.Len() {
				return fmt.Errorf("row %d outside the %d samples", r, ids.Len())
			}
			if err := ids.appendTo(b, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadPlain reads the table at path into plain columns: booleans as
// []bool, integers as []int64, floats as []float64, strings and sample ids
// (UUID columns, as canonical text) as []string, lists of floats as
// Vectors. It also returns the file's key-value metadata. It is meant for
// small tables and for importing others' tables; other column types are
// an error naming the column.
func ReadPlain(ctx context.Context, path string) ([]PlainColumn, map[string]string, error) {
	return ReadPlainColumns(ctx, path, nil)
}

// ReadPlainColumns is ReadPlain reading only the named columns, in that
// order (nil names reads every column).
func ReadPlainColumns(ctx context.Context, path string, names []string) ([]PlainColumn, map[string]string, error) {
	st, err := Stat(path)
	if err != nil {
		return nil, nil, err
	}
	tbl, err := ReadTable(ctx, path, names)
	if err != nil {
		return nil, nil, err
	}
	defer tbl.Release()
	cols := make([]PlainColumn, tbl.NumCols())
	for i := range cols {
		c, err := plainOf(tbl.Column(i))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		cols[i] = c
	}
	return cols, st.Metadata, nil
}

func plainOf(col *arrow.Column) (PlainColumn, error) {
	a, err := wholeColumn(col)
	if err != nil {
		return PlainColumn{}, err
	}
	defer a.Release()
	c := PlainColumn{Name: col.Name()}
	if a.NullN() > 0 {
		c.Null = make([]bool, a.Len())
		for i := range c.Null {
			c.Null[i] = a.IsNull(i)
		}
	}
	switch a := a.(type) {
	case *array.Boolean:
		v := make([]bool, a.Len())
		for i := range v {
			v[i] = a.Value(i)
		}
		c.Values = v
	case *array.Int32:
		v := make([]int64, a.Len())
		for i, x := range a.Int32Values() {
			v[i] = int64(x)
		}
		c.Values = v
	case *array.Int64:
		c.Values = append([]int64(nil), a.Int64Values()...)
	case *array.Float64, *array.Float32:
		c.Values, _ = numericOf(a)
	case *array.String, *array.LargeString, *extensions.UUIDArray:
		v := make([]string, a.Len())
		for i := range v {
			if a.IsValid(i) {
				v[i] = a.ValueStr(i)
			}
		}
		c.Values = v
	case array.ListLike:
		v, err := vectorsOf(a)
		if err != nil {
			return c, fmt.Errorf("column %q: %w", col.Name(), err)
		}
		c.Values = v
	default:
		return c, fmt.Errorf("column %q has type %s, which plain tables do not hold", col.Name(), TypeName(a.DataType()))
	}
	return c, nil
}

// vectorsOf converts a List, LargeList or FixedSizeList of float16,
// float32 or float64 into Vectors; null lists become zero rows (marked by
// the column's Null). Every non-null list must have one length, and no
// element may be null.
func vectorsOf(a array.ListLike) (Vectors, error) {
	var get func(i int) float32
	switch el := a.ListValues().(type) {
	case *array.Float16:
		get = func(i int) float32 { return el.Value(i).Float32() }
	case *array.Float32:
		get = el.Value
	case *array.Float64:
		get = func(i int) float32 { return float32(el.Value(i)) }
	default:
		return Vectors{}, fmt.Errorf("type %s, want a list of float16, float32 or float64", TypeName(a.DataType()))
	}
	el := a.ListValues()
	dim := -1
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			continue
		}
		s, e := a.ValueOffsets(i)
		if dim < 0 {
			dim = int(e - s)
		}
		if int(e-s) != dim {
			return Vectors{}, fmt.Errorf("row %d has %d values, the first vector %d", i, e-s, dim)
		}
	}
	if dim == 0 || dim > maxDim {
		return Vectors{}, fmt.Errorf("vector dimension %d outside 1..%d", dim, maxDim)
	}
	if dim < 0 { // no vector at all
		return Vectors{Dim: 1, Values: make([]float32, a.Len())}, nil
	}
	v := Vectors{Dim: dim, Values: make([]float32, a.Len()*dim)}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			continue
		}
		s, _ := a.ValueOffsets(i)
		for k := 0; k < dim; k++ {
			j := int(s) + k
			if el.IsNull(j) {
				return Vectors{}, fmt.Errorf("row %d: element %d is null", i, k)
			}
			v.Values[i*dim+k] = get(j)
		}
	}
	return v, nil
}
