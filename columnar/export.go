package columnar

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ExportFormats lists the formats Export writes.
func ExportFormats() []string { return []string{"ids", "csv", "json", "parquet"} }

// Export writes the samples in rows to w in format: "ids" writes one
// sample id per line; "csv", "json" (an array of objects) and "parquet"
// write those samples' rows with every samples column, in dataset order.
func (d *Dataset) Export(ctx context.Context, rows *bitmap.Bitmap, format string, w io.Writer) error {
	if rows.Len() != d.Len() {
		return fmt.Errorf("export: %d rows for a dataset of %d samples", rows.Len(), d.Len())
	}
	if format == "ids" {
		bw := bufio.NewWriter(w)
		ids, err := d.IDs(ctx)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, r := range rows.Indexes() {
			fmt.Fprintln(bw, ids.String(r))
		}
		return bw.Flush()
	}
	switch format {
	case "csv", "json", "parquet":
	default:
		return fmt.Errorf("unknown export format %q; use one of %s", format, strings.Join(ExportFormats(), ", "))
	}
	rec, err := d.rowsRecord(ctx, rows)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rec.Release()
	switch format {
	case "csv":
		return writeCSV(w, rec)
	case "json":
		return writeJSON(w, rec)
	default:
		pw, err := NewWriter(w, rec.Schema(), WriterOptions{})
		if err != nil {
			return err
		}
		if err := pw.Write(rec); err != nil {
			return err
		}
		return pw.Close()
	}
}

// rowsRecord returns the samples rows in rows as one record batch.
func (d *Dataset) rowsRecord(ctx context.Context, rows *bitmap.Bitmap) (arrow.RecordBatch, error) {
	tbl, err := d.SampleTable(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	mb := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer mb.Release()
	for i := 0; i < rows.Len(); i++ {
		mb.Append(rows.Get(i))
	}
	mask := mb.NewBooleanArray()
	defer mask.Release()
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		whole, err := wholeColumn(tbl.Column(i))
		if err != nil {
			return nil, err
		}
		cols[i], err = compute.FilterArray(ctx, whole, mask, *compute.DefaultFilterOptions())
		whole.Release()
		if err != nil {
			return nil, err
		}
		defer cols[i].Release()
	}
	return array.NewRecordBatch(tbl.Schema(), cols, int64(rows.Count())), nil
}

func writeCSV(w io.Writer, rec arrow.RecordBatch) error {
	cw := csv.NewWriter(w)
	header := make([]string, rec.NumCols())
	for i, f := range rec.Schema().Fields() {
		header[i] = f.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, rec.NumCols())
	for r := 0; r < int(rec.NumRows()); r++ {
		for c := range row {
			row[c] = cell(rec.Column(c), r)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, rec arrow.RecordBatch) error {
	objs := make([]map[string]any, rec.NumRows())
	for r := range objs {
		m := make(map[string]any, rec.NumCols())
		for c, f := range rec.Schema().Fields() {
			col := rec.Column(c)
			if col.IsNull(r) {
				m[f.Name] = nil
				continue
			}
			m[f.Name] = col.GetOneForMarshal(r)
		}
		objs[r] = m
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(objs)
}

// cell renders one value for CSV: empty for null, canonical text otherwise.
func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return a.ValueStr(i)
}
