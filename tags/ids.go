package tags

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
)

// ReadIDs reads sample ids, one per line (blank lines and surrounding
// space ignored), and returns them as a bitmap over ds's samples. An id
// that cannot be a sample id or is not in the dataset is an error naming
// its line.
func ReadIDs(ctx context.Context, ds *columnar.Dataset, r io.Reader) (*bitmap.Bitmap, error) {
	bm := bitmap.New(ds.Len())
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 1
	for ; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		row, ok, err := ds.LookupText(ctx, text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if !ok {
			return nil, fmt.Errorf("line %d: sample id %s is not in the dataset", line, text)
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

// ListFormat says how ReadList reads a list of samples.
type ListFormat struct {
	// Column, when set, makes the input CSV with a header row (as
	// spreadsheets and `tags export --format csv` write it); the samples
	// are named by the values of this column. Otherwise the input holds
	// one value per line.
	Column string
	// By is the samples column that the values name samples by: "" (or
	// "sample_id") for sample ids, or another column, such as file_name,
	// whose values single out one sample each.
	By string
}

// ReadList reads a list of samples in format f and returns them as a
// bitmap over ds's samples. A value that names no sample, or (with By)
// several, is an error naming its line.
func ReadList(ctx context.Context, ds *columnar.Dataset, r io.Reader, f ListFormat) (*bitmap.Bitmap, error) {
	if f.Column == "" && (f.By == "" || f.By == columnar.SampleIDColumn) {
		return ReadIDs(ctx, ds, r)
	}
	find, err := finder(ctx, ds, f.By)
	if err != nil {
		return nil, err
	}
	bm := bitmap.New(ds.Len())
	add := func(line int, v string) error {
		row, err := find(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		bm.Set(row)
		return nil
	}
	if f.Column == "" {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for line := 1; sc.Scan(); line++ {
			if v := strings.TrimSpace(sc.Text()); v != "" {
				if err := add(line, v); err != nil {
					return nil, err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read list: %w", err)
		}
		return bm, nil
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("read CSV: the file is empty; expected a header row")
		}
		return nil, fmt.Errorf("read CSV: %w", err)
	}
	col := slices.Index(header, f.Column)
	if col < 0 {
		trimmed := make([]string, len(header))
		for i, h := range header {
			trimmed[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		}
		if col = slices.Index(trimmed, f.Column); col < 0 {
			return nil, fmt.Errorf("read CSV: no column %q in the header (columns: %s)", f.Column, strings.Join(trimmed, ", "))
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if col >= len(rec) {
			return nil, fmt.Errorf("line %d: %d fields, no column %q", line, len(rec), f.Column)
		}
		v := strings.TrimSpace(rec[col])
		if v == "" {
			return nil, fmt.Errorf("line %d: column %q is empty", line, f.Column)
		}
		if err := add(line, v); err != nil {
			return nil, err
		}
	}
	return bm, nil
}

// finder returns a function that maps a value of the samples column by to
// the one sample that holds it.
func finder(ctx context.Context, ds *columnar.Dataset, by string) (func(string) (int, error), error) {
	if by == "" || by == columnar.SampleIDColumn {
		return func(v string) (int, error) {
			row, ok, err := ds.LookupText(ctx, v)
			if err != nil {
				return 0, err
			}
			if !ok {
				return 0, fmt.Errorf("sample id %s is not in the dataset", v)
			}
			return row, nil
		}, nil
	}
	col, err := ds.CategoricalColumn(ctx, by)
	var cte *columnar.ColumnTypeError
	if errors.As(err, &cte) {
		return nil, fmt.Errorf("--by %s: the column is %s; samples are named by a string or integer column", by, cte.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("--by %s: %w", by, err)
	}
	// first[v] is the first row holding value v; again[v] a second one.
	first := make([]int32, len(col.Values))
	again := make([]int32, len(col.Values))
	for i := range first {
		first[i], again[i] = -1, -1
	}
	for row, c := range col.Codes {
		switch {
		case c < 0:
		case first[c] < 0:
			first[c] = int32(row)
		case again[c] < 0:
			again[c] = int32(row)
		}
	}
	code := make(map[string]int, len(col.Values))
	for i, v := range col.Values {
		code[v] = i
	}
	return func(v string) (int, error) {
		c, ok := code[v]
		if !ok {
			return 0, fmt.Errorf("no sample has %s %q", by, v)
		}
		if again[c] >= 0 {
			return 0, fmt.Errorf("%s %q is shared by several samples (%s and %s); name them by sample id",
				by, v, ds.SampleName(ctx, int(first[c])), ds.SampleName(ctx, int(again[c])))
		}
		return int(first[c]), nil
	}, nil
}
