package query

import (
	"context"
	"fmt"
	"math/bits"
	"strings"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Eval evaluates e over src and returns the samples that match. It checks
// e first (see Check), then reads only the samples columns e names, in
// one SampleTable call (or streams them, from a Streamer), and the
// annotations columns it names, in one AnnotationTable call. Conditions are evaluated column-wise on the
// Arrow buffers into bitmaps, with SQL's three-valued logic: a comparison
// with null is unknown, not of unknown is unknown, and unknown samples do
// not match.
func Eval(ctx context.Context, e Expr, src Source) (*bitmap.Bitmap, error) {
	c, err := compile(e, src)
	if err != nil {
		return nil, err
	}
	ev := &evaluator{ctx: ctx, src: src, tags: map[string]*bitmap.Bitmap{}}
	n := src.Len()
	ev.samples = &env{n: n, table: "samples", cols: map[string]*arrow.Chunked{}}
	scanned := false
	if st, ok := src.(Streamer); ok && len(c.sampleCols) > 0 && st.CanStream(c.sampleCols) {
		pre, err := scanLeaves(ctx, st, c.root, c.sampleCols, n)
		if err != nil {
			return nil, fmt.Errorf("evaluate predicate: read samples columns %s: %w", strings.Join(c.sampleCols, ", "), err)
		}
		ev.samples.pre, scanned = pre, true
	}
	if len(c.sampleCols) > 0 && !scanned {
		tbl, err := src.SampleTable(ctx, c.sampleCols)
		if err != nil {
			return nil, fmt.Errorf("evaluate predicate: read samples columns %s: %w", strings.Join(c.sampleCols, ", "), err)
		}
		defer tbl.Release()
		if err := ev.samples.bind(tbl, c.sampleCols); err != nil {
			return nil, err
		}
	}
	if c.needAnns && src.AnnotationSchema() != nil {
		// A non-nil empty list asks for the sample rows alone: annotation()
		// needs no column.
		sample, tbl, err := src.AnnotationTable(ctx, append([]string{}, c.annCols...))
		if err != nil {
			return nil, fmt.Errorf("evaluate predicate: read annotations columns %s: %w", strings.Join(c.annCols, ", "), err)
		}
		if tbl != nil {
			defer tbl.Release()
		}
		for i, s := range sample {
			if s < 0 || int(s) >= n {
				return nil, fmt.Errorf("evaluate predicate: annotation %d belongs to sample row %d, outside the %d samples", i, s, n)
			}
		}
		ev.anns = &env{n: len(sample), table: "annotations", cols: map[string]*arrow.Chunked{}}
		ev.annSample = sample
		if len(c.annCols) > 0 {
			if err := ev.anns.bind(tbl, c.annCols); err != nil {
				return nil, err
			}
		}
	}
	r, err := ev.eval(c.root, ev.samples)
	if err != nil {
		return nil, err
	}
	return r.t, nil
}

// tv is a three-valued result over rows: t holds the rows where the
// condition is true, k those where it is known (not null). t ⊆ k. A nil k
// means every row is known, which keeps the common null-free case cheap.
type tv struct{ t, k *bitmap.Bitmap }

// env is the table a condition is evaluated over: samples, or
// annotations (inside annotation(...)).
type env struct {
	n     int
	table string
	cols  map[string]*arrow.Chunked
	pre   map[*leaf]tv // leaves evaluated while the columns streamed by
}

func (v *env) bind(tbl arrow.Table, names []string) error {
	if tbl == nil {
		return fmt.Errorf("evaluate predicate: %s table missing", v.table)
	}
	if int(tbl.NumRows()) != v.n {
		return fmt.Errorf("evaluate predicate: %s columns have %d rows, want %d", v.table, tbl.NumRows(), v.n)
	}
	for _, name := range names {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return fmt.Errorf("evaluate predicate: %s column %q was requested but not read", v.table, name)
		}
		v.cols[name] = tbl.Column(idx[0]).Data()
	}
	return nil
}

type evaluator struct {
	ctx       context.Context
	src       Source
	samples   *env
	anns      *env // nil when the dataset has no annotations
	annSample []int32
	tags      map[string]*bitmap.Bitmap
}

func (ev *evaluator) eval(p plan, v *env) (tv, error) {
	if err := ev.ctx.Err(); err != nil {
		return tv{}, err
	}
	switch p := p.(type) {
	case *planAnd:
		rs, err := ev.evalAll(p.args, v)
		if err != nil {
			return tv{}, err
		}
		return and3(v.n, rs), nil
	case *planOr:
		rs, err := ev.evalAll(p.args, v)
		if err != nil {
			return tv{}, err
		}
		return or3(v.n, rs), nil
	case *planNot:
		r, err := ev.eval(p.arg, v)
		if err != nil {
			return tv{}, err
		}
		return not3(v.n, r), nil
	case *planTag:
		b, err := ev.tag(p.name)
		if err != nil {
			return tv{}, err
		}
		return tv{t: b.Clone()}, nil
	case *planAnn:
		t, err := ev.annRows(p)
		if err != nil {
			return tv{}, err
		}
		out := bitmap.New(v.n)
		if t != nil {
			for wi, w := range t.Words() {
				for w != 0 {
					out.Set(int(ev.annSample[wi*64+bits.TrailingZeros64(w)]))
					w &= w - 1
				}
			}
		}
		return tv{t: out}, nil
	case *planCount:
		t, err := ev.annRows(p.ann)
		if err != nil {
			return tv{}, err
		}
		counts := make([]int64, v.n)
		if t != nil {
			for wi, w := range t.Words() {
				for w != 0 {
					counts[ev.annSample[wi*64+bits.TrailingZeros64(w)]]++
					w &= w - 1
				}
			}
		}
		out := bitmap.New(v.n)
		for i, c := range counts {
			if p.op.holds(cmp3(c, p.n)) {
				out.Set(i)
			}
		}
		return tv{t: out}, nil
	case *leaf:
		return evalLeaf(p, v)
	}
	return tv{}, fmt.Errorf("evaluate predicate: unknown plan node %T", p)
}

func cmp3[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (ev *evaluator) evalAll(ps []plan, v *env) ([]tv, error) {
	rs := make([]tv, len(ps))
	for i, q := range ps {
		r, err := ev.eval(q, v)
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	return rs, nil
}

func (ev *evaluator) tag(name string) (*bitmap.Bitmap, error) {
	if b, ok := ev.tags[name]; ok {
		return b, nil
	}
	b, err := ev.src.Tag(name)
	if err != nil {
		return nil, fmt.Errorf("evaluate predicate: read tag %q: %w", name, err)
	}
	if b == nil {
		return nil, fmt.Errorf("evaluate predicate: read tag %q: no bitmap", name)
	}
	if b.Len() != ev.samples.n {
		return nil, fmt.Errorf("evaluate predicate: tag %q covers %d samples, want %d", name, b.Len(), ev.samples.n)
	}
	ev.tags[name] = b
	return b, nil
}

// annRows returns the annotation rows where p's condition is true; nil
// when the dataset has no annotations.
func (ev *evaluator) annRows(p *planAnn) (*bitmap.Bitmap, error) {
	if ev.anns == nil {
		return nil, nil
	}
	if p.where == nil {
		return bitmap.Full(ev.anns.n), nil
	}
	r, err := ev.eval(p.where, ev.anns)
	if err != nil {
		return nil, err
	}
	return r.t, nil
}

// and combines results: true when all are true, false when any is false,
// unknown otherwise.
func and3(n int, rs []tv) tv {
	t := bitmap.Full(n)
	known := true
	for _, r := range rs {
		t.And(r.t)
		known = known && r.k == nil
	}
	if known {
		return tv{t: t}
	}
	f := bitmap.New(n) // rows where some argument is false
	for _, r := range rs {
		if r.k == nil {
			for i, w := range r.t.Words() {
				f.Words()[i] |= ^w
			}
		} else {
			for i, w := range r.t.Words() {
				f.Words()[i] |= r.k.Words()[i] &^ w
			}
		}
	}
	f.Trim()
	f.Or(t)
	return tv{t: t, k: f}
}

// or combines results: true when any is true, false when all are false,
// unknown otherwise.
func or3(n int, rs []tv) tv {
	t := bitmap.New(n)
	known := true
	for _, r := range rs {
		t.Or(r.t)
		known = known && r.k == nil
	}
	if known {
		return tv{t: t}
	}
	f := bitmap.Full(n) // rows where every argument is false
	for _, r := range rs {
		if r.k == nil {
			f.AndNot(r.t)
		} else {
			for i, w := range r.t.Words() {
				f.Words()[i] &= r.k.Words()[i] &^ w
			}
		}
	}
	f.Or(t)
	return tv{t: t, k: f}
}

// not swaps true and false; unknown stays unknown.
func not3(n int, r tv) tv {
	var t *bitmap.Bitmap
	if r.k == nil {
		t = bitmap.Full(n)
	} else {
		t = r.k.Clone()
	}
	t.AndNot(r.t)
	return tv{t: t, k: r.k}
}

// evalLeaf evaluates a condition on one column, chunk by chunk.
func evalLeaf(l *leaf, v *env) (tv, error) {
	if r, ok := v.pre[l]; ok {
		return r, nil
	}
	col, ok := v.cols[l.col]
	if !ok {
		return tv{}, fmt.Errorf("evaluate predicate: %s column %q not read", v.table, l.col)
	}
	if col.Len() != v.n {
		return tv{}, fmt.Errorf("evaluate predicate: %s column %q has %d rows, want %d", v.table, l.col, col.Len(), v.n)
	}
	// Known rows need a bitmap only when some chunk has nulls: most
	// columns have none, and then every row is known.
	nulls := false
	for _, arr := range col.Chunks() {
		if d, ok := arr.(*array.Dictionary); ok && d.Dictionary().NullN() > 0 {
			nulls = true
		}
		nulls = nulls || arr.NullN() > 0
	}
	switch l.kind {
	case leafIsNull:
		if !nulls {
			return tv{t: bitmap.New(v.n)}, nil
		}
	case leafNotNull:
		if !nulls {
			return tv{t: bitmap.Full(v.n)}, nil
		}
	}
	t := bitmap.New(v.n)
	var k *bitmap.Bitmap
	var kw []uint64
	if nulls {
		k = bitmap.New(v.n)
		kw = k.Words()
	}
	if err := evalParallel(l, col, v.n, t.Words(), kw); err != nil {
		return tv{}, fmt.Errorf("evaluate predicate: %s column %q: %w", v.table, l.col, err)
	}
	return leafResult(l, t, k), nil
}

// leafResult is l's result from the rows where its condition holds (t,
// null rows included) and the known rows (k; nil when no row is null).
func leafResult(l *leaf, t, k *bitmap.Bitmap) tv {
	switch l.kind {
	case leafIsNull:
		if k == nil {
			return tv{t: bitmap.New(t.Len())}
		}
		k.Not()
		return tv{t: k}
	case leafNotNull:
		if k == nil {
			return tv{t: bitmap.Full(t.Len())}
		}
		return tv{t: k}
	}
	if k == nil {
		return tv{t: t}
	}
	t.And(k)
	return tv{t: t, k: k}
}
