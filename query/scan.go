package query

// Streaming evaluation: the samples leaves of a predicate evaluated batch by
// batch while a Streamer decodes them.

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/winnow-data/winnow/bitmap"
)

// sampleLeaves lists the leaves of p evaluated over the samples: those
// outside annotation(...) and count(...).
func sampleLeaves(p plan, out []*leaf) []*leaf {
	switch p := p.(type) {
	case *planAnd:
		for _, a := range p.args {
			out = sampleLeaves(a, out)
		}
	case *planOr:
		for _, a := range p.args {
			out = sampleLeaves(a, out)
		}
	case *planNot:
		out = sampleLeaves(p.arg, out)
	case *leaf:
		out = append(out, p)
	}
	return out
}

// scanLeaves evaluates the samples leaves of root over the batches sc
// streams of names (n rows in all). Each batch is evaluated into words of
// its own, then ORed into the results under a lock: batches need not
// start on a multiple of 64 rows, and two may share a word.
func scanLeaves(ctx context.Context, sc Streamer, root plan, names []string, n int) (map[*leaf]tv, error) {
	leaves := sampleLeaves(root, nil)
	type acc struct {
		col   int
		t, k  *bitmap.Bitmap
		nulls bool
	}
	accs := make([]acc, len(leaves))
	for i, l := range leaves {
		accs[i] = acc{col: slices.Index(names, l.col), t: bitmap.New(n), k: bitmap.New(n)}
		if accs[i].col < 0 {
			return nil, fmt.Errorf("samples column %q not read", l.col)
		}
	}
	var (
		mu   sync.Mutex
		seen int // rows scanned
	)
	err := sc.StreamSamples(ctx, names, func(base int, cols []arrow.Array) error {
		rows := cols[0].Len()
		if base < 0 || rows > n-base {
			return fmt.Errorf("rows %d to %d are beyond the %d samples", base, base+rows, n)
		}
		w0 := base >> 6
		nw := (base+rows+63)>>6 - w0
		tw, kw := make([]uint64, nw), make([]uint64, nw)
		for i, l := range leaves {
			clear(tw)
			clear(kw)
			arr := cols[accs[i].col]
			if arr.Len() != rows {
				return fmt.Errorf("column %q: batch of %d rows, want %d", l.col, arr.Len(), rows)
			}
			nulls := arr.NullN() > 0
			if d, ok := arr.(*array.Dictionary); ok && d.Dictionary().NullN() > 0 {
				nulls = true
			}
			if err := evalChunk(l, arr, tw, kw, base-w0*64); err != nil {
				return fmt.Errorf("column %q: %w", l.col, err)
			}
			a := &accs[i]
			mu.Lock()
			a.nulls = a.nulls || nulls
			for j, x := range tw {
				a.t.Words()[w0+j] |= x
			}
			for j, x := range kw {
				a.k.Words()[w0+j] |= x
			}
			mu.Unlock()
		}
		mu.Lock()
		seen += rows
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != n {
		return nil, fmt.Errorf("read %d rows, want %d", seen, n)
	}
	pre := make(map[*leaf]tv, len(leaves))
	for i, l := range leaves {
		a := &accs[i]
		if !a.nulls {
			a.k = nil
		}
		pre[l] = leafResult(l, a.t, a.k)
	}
	return pre, nil
}
