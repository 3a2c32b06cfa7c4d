package tags

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"winnow/bitmap"
	"winnow/columnar"
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
