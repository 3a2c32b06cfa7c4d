package columnar

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SampleSchema is the schema of the samples table, every column, with
// sample_id as the UUID type whatever its encoding in the file.
func (d *Dataset) SampleSchema() *arrow.Schema { return d.schema }

// SampleTable reads the named columns of the samples table whole, in
// that order, rows in dataset order; nil names reads every column. It is
// the query evaluator's view (query.Source); Go callers above columnar
// read plain values with NumericColumn and CategoricalColumn. An unknown
// name is an error listing the known columns. sample_id comes back as the
// UUID extension type whatever its file encoding: it is built from the ids
// Open validated rather than read again. The caller should Release the
// table.
func (d *Dataset) SampleTable(ctx context.Context, names []string) (arrow.Table, error) {
	if names == nil {
		names = make([]string, d.schema.NumFields())
		for i, f := range d.schema.Fields() {
			names[i] = f.Name
		}
	}
	var read []string // columns read from the file
	for _, n := range names {
		if len(d.schema.FieldIndices(n)) == 0 {
			return nil, nameError(ErrUnknownColumn, n, schemaNames(d.schema), "read samples: %s: unknown column %q (columns: %s)", d.samples, n, fieldNames(d.schema))
		}
		if n != SampleIDColumn && !slices.Contains(read, n) {
			read = append(read, n)
		}
	}
	var tbl arrow.Table
	if len(read) > 0 {
		var err error
		if tbl, err = readTable(ctx, d.samples, read, true); err != nil {
			return nil, fmt.Errorf("read samples: %w", err)
		}
		defer tbl.Release()
		if tbl.NumRows() != int64(d.Len()) {
			return nil, fmt.Errorf("read samples: %s: read %d rows, want %d", d.samples, tbl.NumRows(), d.Len())
		}
	}
	fields := make([]arrow.Field, len(names))
	cols := make([]arrow.Column, len(names))
	for i, n := range names {
		if n == SampleIDColumn {
			ids, err := d.IDs(ctx)
			if err != nil {
				return nil, fmt.Errorf("read samples: %w", err)
			}
			a := uuidArray(ids)
			ch := arrow.NewChunked(a.DataType(), []arrow.Array{a})
			a.Release()
			fields[i] = arrow.Field{Name: SampleIDColumn, Type: a.DataType()}
			cols[i] = *arrow.NewColumn(fields[i], ch)
			ch.Release()
			continue
		}
		c := tbl.Column(tbl.Schema().FieldIndices(n)[0])
		c.Retain()
		fields[i], cols[i] = c.Field(), *c
	}
	out := array.NewTable(arrow.NewSchema(fields, nil), cols, int64(d.Len()))
	for i := range cols {
		cols[i].Release()
	}
	return out, nil
}

// CanStream reports whether StreamSamples can stream the named columns:
// every samples column but sample_id, which SampleTable builds from the
// validated ids instead of decoding it again.
func (d *Dataset) CanStream(names []string) bool {
	return !slices.Contains(names, SampleIDColumn)
}

// StreamSamples streams the named columns of the samples table row group
// by row group on all cores (query.Streamer), string columns
// dictionary-encoded as stored; fn gets each batch with its first row.
func (d *Dataset) StreamSamples(ctx context.Context, names []string, fn func(base int, cols []arrow.Array) error) error {
	for _, n := range names {
		if n == SampleIDColumn {
			return errors.New("read samples: sample_id cannot be streamed; read it with SampleTable")
		}
		if len(d.schema.FieldIndices(n)) == 0 {
			return nameError(ErrUnknownColumn, n, schemaNames(d.schema), "read samples: %s: unknown column %q (columns: %s)", d.samples, n, fieldNames(d.schema))
		}
	}
	parts, err := openParts(d.samples)
	if err != nil {
		return fmt.Errorf("read samples: %w", err)
	}
	defer closeParts(parts)
	if n := rowGroupRows(parts); n != int64(d.Len()) {
		return fmt.Errorf("read samples: %s: %d rows, want %d (changed since the dataset was opened?)", d.samples, n, d.Len())
	}
	if err := scanParts(ctx, parts, names, true, fn); err != nil {
		return fmt.Errorf("read samples: %w", err)
	}
	return nil
}
