package columnar

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SampleSchema is the schema of the samples table, every column, the id
// column in its own type (a 16-byte column as the UUID type whatever its
// logical type in the file).
func (d *Dataset) SampleSchema() *arrow.Schema { return d.schema }

// SampleTable reads the named columns of the samples table whole, in
// that order, rows in dataset order; nil names reads every column. It is
// the query evaluator's view (query.Source); Go callers above columnar
// read plain values with NumericColumn and CategoricalColumn. An unknown
// name is an error listing the known columns. A UUID id column is built
// from the ids Open validated rather than read again; string and integer
// ids read like any other column. The caller should Release the table.
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
		if !(n == d.idCol && d.idsFromIndex()) && !slices.Contains(read, n) {
			read = append(read, n)
		}
	}
	var tbl arrow.Table
	if len(read) > 0 {
		var err error
		if tbl, err = readTable(ctx, d.samples, read, d.dictColumns); err != nil {
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
		if n == d.idCol && d.idsFromIndex() {
			ids, err := d.IDs(ctx)
			if err != nil {
				return nil, fmt.Errorf("read samples: %w", err)
			}
			a, err := ids.arrowArray(nil)
			if err != nil {
				return nil, fmt.Errorf("read samples: %w", err)
			}
			ch := arrow.NewChunked(a.DataType(), []arrow.Array{a})
			a.Release()
			fields[i] = arrow.Field{Name: d.idCol, Type: a.DataType()}
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
// every samples column but a UUID id column, which SampleTable builds
// from the validated ids (presenting any 16-byte column as UUIDs).
func (d *Dataset) CanStream(names []string) bool {
	return !d.idsFromIndex() || !slices.Contains(names, d.idCol)
}

// idsFromIndex reports whether the id column is read from the decoded ids
// rather than from the file: UUIDs are, whatever their logical type in
// the file; strings and integers read as any other column.
func (d *Dataset) idsFromIndex() bool { return d.IDKind() == UUIDIDs }

// dictColumns is the dictSet of samples reads: every string column but
// the ids, which are unique (a dictionary of them would hold each once).
func (d *Dataset) dictColumns(name string) bool { return name != d.idCol }

// StreamSamples streams the named columns of the samples table row group
// by row group on all cores (query.Streamer), string columns
// dictionary-encoded as stored; fn gets each batch with its first row.
func (d *Dataset) StreamSamples(ctx context.Context, names []string, fn func(base int, cols []arrow.Array) error) error {
	for _, n := range names {
		if n == d.idCol && d.idsFromIndex() {
			return fmt.Errorf("read samples: %s cannot be streamed; read it with SampleTable", d.idCol)
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
	if err := scanParts(ctx, parts, names, d.dictColumns, fn); err != nil {
		return fmt.Errorf("read samples: %w", err)
	}
	return nil
}
