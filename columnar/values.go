package columnar

// Columns as plain Go values.
//
// Callers above columnar (package pipeline and the tools built on it) never
// see Arrow: a numeric column comes as float64 values with a validity
// bitmap, a categorical one as codes into its distinct values, and the
// annotations table as one such column per field, aligned to the
// annotations and mapped to sample rows. The conversions happen here, once,
// where the Arrow arrays are decoded.

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/winnow-data/winnow/bitmap"
)

// Numeric is a numeric column (integer, float or boolean as 0/1) as
// float64 values, one per row.
type Numeric struct {
	Name   string
	Type   string    // the column's type as its table declares it, e.g. "int64"
	Values []float64 // 0 at null rows
	// Valid holds the rows that have a value; nil when no row is null.
	Valid *bitmap.Bitmap
}

// IsNull reports whether row i has no value.
func (n *Numeric) IsNull(i int) bool { return n.Valid != nil && !n.Valid.Get(i) }

// Categorical is a column of categories (strings, booleans or integers,
// each value as its text) as a code per row into the distinct values.
type Categorical struct {
	Name   string
	Type   string   // the column's type as its table declares it
	Codes  []int32  // index into Values; -1 for null
	Values []string // distinct values in first-seen row order
}

// Counts returns how many rows hold each value (indexed like Values) and
// how many are null.
func (c *Categorical) Counts() (counts []int, nulls int) {
	counts = make([]int, len(c.Values))
	for _, k := range c.Codes {
		if k < 0 {
			nulls++
			continue
		}
		counts[k]++
	}
	return counts, nulls
}

// NumericColumn reads the samples column name as numbers, in dataset
// order. A column of another type is a *ColumnTypeError; an unknown name a
// *NameError.
func (d *Dataset) NumericColumn(ctx context.Context, name string) (*Numeric, error) {
	col, err := d.sampleColumn(ctx, name)
	if err != nil {
		return nil, err
	}
	defer col.Release()
	num, ok := numericOf(col)
	if !ok {
		return nil, &ColumnTypeError{Table: d.samples, Scope: "metadata", Column: name, Type: valueTypeName(col.DataType()),
			Want: "weighting needs a numeric column (integer, float or boolean)"}
	}
	return &Numeric{Name: name, Type: valueTypeName(col.DataType()), Values: num, Valid: validity(col)}, nil
}

// CategoricalColumn reads the samples column name as categories, in
// dataset order: strings, booleans and integers. A column of another type
// (floats, timestamps) is a *ColumnTypeError.
func (d *Dataset) CategoricalColumn(ctx context.Context, name string) (*Categorical, error) {
	col, err := d.sampleColumn(ctx, name)
	if err != nil {
		return nil, err
	}
	defer col.Release()
	c, ok := categoricalOf(name, col)
	if !ok {
		return nil, &ColumnTypeError{Table: d.samples, Scope: "metadata", Column: name, Type: valueTypeName(col.DataType()),
			Want: "balancing needs a categorical column (string, boolean or integer)"}
	}
	return c, nil
}

// sampleColumn reads one samples column as a single array in dataset order.
func (d *Dataset) sampleColumn(ctx context.Context, name string) (arrow.Array, error) {
	tbl, err := d.SampleTable(ctx, []string{name})
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	return wholeColumn(tbl.Column(0))
}

// wholeColumn returns a table column as one array: its only chunk, the
// chunks concatenated, or an empty array for a table without rows.
func wholeColumn(c *arrow.Column) (arrow.Array, error) {
	chunks := c.Data().Chunks()
	switch len(chunks) {
	case 0: // a table without rows has no chunk to concatenate
		return array.MakeArrayOfNull(memory.DefaultAllocator, c.DataType(), 0), nil
	case 1:
		chunks[0].Retain()
		return chunks[0], nil
	}
	// Concatenate needs an allocator: nil crashes on every column of more
	// than one chunk (tables over 32k rows).
	return array.Concatenate(chunks, memory.DefaultAllocator)
}

// validity is a's valid rows, or nil when none is null.
func validity(a arrow.Array) *bitmap.Bitmap {
	if a.NullN() == 0 {
		return nil
	}
	b := bitmap.New(a.Len())
	for i := range a.Len() {
		if a.IsValid(i) {
			b.Set(i)
		}
	}
	return b
}

// numericOf converts integer, float and boolean arrays to float64s (0 at
// nulls).
func numericOf(a arrow.Array) ([]float64, bool) {
	switch a := a.(type) {
	case *array.Float64:
		return floats(a.Float64Values()), true
	case *array.Float32:
		return floats(a.Float32Values()), true
	case *array.Float16:
		out := make([]float64, a.Len())
		for i, v := range a.Values() {
			out[i] = float64(v.Float32())
		}
		return out, true
	case *array.Int64:
		return floats(a.Int64Values()), true
	case *array.Int32:
		return floats(a.Int32Values()), true
	case *array.Int16:
		return floats(a.Int16Values()), true
	case *array.Int8:
		return floats(a.Int8Values()), true
	case *array.Uint64:
		return floats(a.Uint64Values()), true
	case *array.Uint32:
		return floats(a.Uint32Values()), true
	case *array.Uint16:
		return floats(a.Uint16Values()), true
	case *array.Uint8:
		return floats(a.Uint8Values()), true
	case *array.Boolean:
		out := make([]float64, a.Len())
		for i := range out {
			if a.Value(i) {
				out[i] = 1
			}
		}
		return out, true
	}
	return nil, false
}

// floats converts a typed Arrow buffer to float64s; null slots hold
// whatever the buffer holds, so they are zeroed by the caller's use of
// Valid, not here: Arrow leaves them 0 in practice, and Numeric says so.
func floats[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// categoricalOf encodes string-like, boolean and integer arrays as codes
// in first-seen order; floats and timestamps are not categories.
func categoricalOf(name string, a arrow.Array) (*Categorical, bool) {
	var text func(i int) string
	switch a := a.(type) {
	case *array.String, *array.LargeString, *array.Dictionary:
		text = func(i int) string { return stringAt(a, i) }
	case *array.Boolean:
		text = func(i int) string { return strconv.FormatBool(a.Value(i)) }
	case *array.Int64, *array.Int32, *array.Int16, *array.Int8, *array.Uint64, *array.Uint32, *array.Uint16, *array.Uint8:
		text = a.ValueStr
	default:
		return nil, false
	}
	c := &Categorical{Name: name, Type: valueTypeName(a.DataType()), Codes: make([]int32, a.Len())}
	index := map[string]int32{}
	for i := range c.Codes {
		if a.IsNull(i) {
			c.Codes[i] = -1
			continue
		}
		v := text(i)
		k, ok := index[v]
		if !ok {
			k = int32(len(c.Values))
			index[v] = k
			c.Values = append(c.Values, v)
		}
		c.Codes[i] = k
	}
	return c, true
}

// stringAt reads one non-null value of a string-like column as text.
func stringAt(a arrow.Array, i int) string {
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

// chunkedCategorical encodes a chunked string-like column.
func chunkedCategorical(name string, c *arrow.Column) (*Categorical, error) {
	a, err := wholeColumn(c)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	cat, ok := categoricalOf(name, a)
	if !ok {
		return nil, fmt.Errorf("column %q has type %s, not categories", name, c.DataType())
	}
	return cat, nil
}

// chunkedNumeric converts a chunked numeric column.
func chunkedNumeric(name string, c *arrow.Column) (*Numeric, error) {
	a, err := wholeColumn(c)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	num, ok := numericOf(a)
	if !ok {
		return nil, fmt.Errorf("column %q has type %s, not numbers", name, c.DataType())
	}
	return &Numeric{Name: name, Type: valueTypeName(a.DataType()), Values: num, Valid: validity(a)}, nil
}

// valueTypeName names a column's type as the user's table declares it:
// the reader hands strings over dictionary-encoded, which is an encoding,
// not the column's type; the UUID extension type is "uuid".
func valueTypeName(t arrow.DataType) string {
	if d, ok := t.(*arrow.DictionaryType); ok {
		return valueTypeName(d.ValueType)
	}
	return TypeName(t)
}

// TypeName renders an Arrow type briefly, as winnow shows column types:
// "uuid" for the UUID extension, "float32[768]" for a fixed-size list,
// "float32[]" for a list, Arrow's name otherwise (utf8, int64, ...).
func TypeName(t arrow.DataType) string {
	switch t := t.(type) {
	case arrow.ExtensionType:
		return trimArrow(t.ExtensionName())
	case *arrow.FixedSizeListType:
		return fmt.Sprintf("%s[%d]", TypeName(t.Elem()), t.Len())
	case *arrow.ListType:
		return TypeName(t.Elem()) + "[]"
	case *arrow.LargeListType:
		return TypeName(t.Elem()) + "[]"
	}
	return t.String()
}

func trimArrow(s string) string {
	if len(s) > 6 && s[:6] == "arrow." {
		return s[6:]
	}
	return s
}

// StringsAt reads the samples column name at the dataset rows rows as
// text: vals[i] is row rows[i]'s value and ok[i] false for a null. The
// column is read chunk by chunk as stored (dictionary chunks are not
// merged), so picking a hundred file names out of a million costs a
// column read, not a million strings. It is for display; a column that is
// not string-like is a *ColumnTypeError.
func (d *Dataset) StringsAt(ctx context.Context, name string, rows []int) (vals []string, ok []bool, err error) {
	tbl, err := d.SampleTable(ctx, []string{name})
	if err != nil {
		return nil, nil, err
	}
	defer tbl.Release()
	chunks := tbl.Column(0).Data().Chunks()
	starts := make([]int, len(chunks)+1)
	for i, c := range chunks {
		starts[i+1] = starts[i] + c.Len()
		switch c.(type) {
		case *array.String, *array.LargeString, *array.Dictionary:
		default:
			return nil, nil, &ColumnTypeError{Table: d.samples, Scope: "metadata", Column: name,
				Type: valueTypeName(c.DataType()), Want: "want a string column"}
		}
	}
	vals, ok = make([]string, len(rows)), make([]bool, len(rows))
	for i, r := range rows {
		k := sort.SearchInts(starts, r+1) - 1
		if k < 0 || k >= len(chunks) || r < 0 {
			return nil, nil, fmt.Errorf("row %d outside the %d samples", r, d.Len())
		}
		c, j := chunks[k], r-starts[k]
		if c.IsValid(j) {
			vals[i], ok[i] = stringAt(c, j), true
		}
	}
	return vals, ok, nil
}
