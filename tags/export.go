package tags

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"winnow/columnar"
)

// Info is a tag's name and the number of samples that carry it.
type Info struct {
	Name    string `json:"name"`
	Samples int    `json:"samples"`
}

// List returns the dataset's tags in file order with their sizes.
func List(ds *columnar.Dataset) ([]Info, error) {
	var out []Info
	for _, name := range ds.TagNames() {
		bm, err := ds.Tag(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Info{name, bm.Count()})
	}
	return out, nil
}

// Formats lists the export formats Export understands.
var Formats = []string{"ids", "csv", "json", "parquet"}

// Export writes the samples that carry tag name to w: "ids" writes one
// sample id per line; "csv", "json" (an array of objects) and "parquet"
// write those samples' rows with every samples column, in dataset order.
func Export(ctx context.Context, ds *columnar.Dataset, name, format string, w io.Writer) error {
	rows, err := ds.Tag(name)
	if err != nil {
		return err
	}
	if format == "ids" {
		bw := bufio.NewWriter(w)
		ids, err := ds.IDs(ctx)
		if err != nil {
			return fmt.Errorf("export tag %q: %w", name, err)
		}
		for _, r := range rows.Indexes() {
			fmt.Fprintln(bw, ids[r].String())
		}
		return bw.Flush()
	}
	switch format {
	case "csv", "json", "parquet":
	default:
		return fmt.Errorf("unknown export format %q; use one of %s", format, strings.Join(Formats, ", "))
	}
	rec, err := taggedRows(ctx, ds, rows)
	if err != nil {
		return fmt.Errorf("export tag %q: %w", name, err)
	}
	defer rec.Release()
	switch format {
	case "csv":
		return writeCSV(w, rec)
	case "json":
		return writeJSON(w, rec)
	default:
		pw, err := columnar.NewWriter(w, rec.Schema(), columnar.WriterOptions{})
		if err != nil {
			return err
		}
		if err := pw.Write(rec); err != nil {
			return err
		}
		return pw.Close()
	}
}

// taggedRows returns the samples rows in rows as one record batch.
func taggedRows(ctx context.Context, ds *columnar.Dataset, rows *columnar.Bitmap) (arrow.RecordBatch, error) {
	tbl, err := ds.SampleColumns(ctx, nil)
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
		var whole arrow.Array
		if chunks := tbl.Column(i).Data().Chunks(); len(chunks) == 0 {
			// A table without rows has no chunk to concatenate.
			whole = array.MakeArrayOfNull(memory.DefaultAllocator, tbl.Column(i).DataType(), 0)
		} else if whole, err = array.Concatenate(chunks, memory.DefaultAllocator); err != nil {
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

// ReadIDs reads sample ids, one per line (blank lines and surrounding
// space ignored), and returns them as a bitmap over ds's samples. An id
// that is not a UUID or not in the dataset is an error naming its line.
func ReadIDs(ctx context.Context, ds *columnar.Dataset, r io.Reader) (*columnar.Bitmap, error) {
	bm := columnar.NewBitmap(ds.Len())
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 1
	for ; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		id, err := uuid.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not a sample id (UUID): %v", line, text, err)
		}
		row, ok, err := ds.Lookup(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("line %d: sample id %s is not in the dataset", line, id)
		}
		bm.Set(row)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("read ids: line %d is longer than 1 MiB; expected one sample id per line", line)
		}
		return nil, fmt.Errorf("read ids: %w", err)
	}
	return bm, nil
}
