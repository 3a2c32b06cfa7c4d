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
)

// PlainColumn is one column of a plain table. Values is one of []bool,
// []int32, []int64, []float64, []string or SampleIDs; Null, when not nil,
// marks the rows without a value (their entries in Values are ignored).
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
	case SampleIDs:
		return len(v.Rows), nil
	}
	return 0, fmt.Errorf("column %q: unsupported values %T", c.Name, c.Values)
}

// WritePlain writes cols, all of one length, as one Parquet table to w,
// with metadata in the file's key-value metadata. Columns with a Null
// slice are nullable.
func WritePlain(ctx context.Context, w io.Writer, cols []PlainColumn, metadata map[string]string) error {
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
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, c := range cols {
		if err := appendPlain(ctx, b.Field(i), c); err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	pw, err := NewWriter(w, schema, WriterOptions{Metadata: maps.Clone(metadata)})
	if err != nil {
		return err
	}
	if err := pw.Write(rec); err != nil {
		return err
	}
	return pw.Close()
}

func plainType(v any) arrow.DataType {
	switch v.(type) {
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
	}
	return nil // SampleIDs: the dataset's id type
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
// (UUID columns, as canonical text) as []string. It also returns the
// file's key-value metadata. It is meant for the small tables winnow
// writes itself; other column types are an error naming the column.
func ReadPlain(ctx context.Context, path string) ([]PlainColumn, map[string]string, error) {
	st, err := Stat(path)
	if err != nil {
		return nil, nil, err
	}
	tbl, err := ReadTable(ctx, path, nil)
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
	default:
		return c, fmt.Errorf("column %q has type %s, which plain tables do not hold", col.Name(), TypeName(a.DataType()))
	}
	return c, nil
}
