package columnar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Eval evaluates e over src and returns the samples that match. It checks
// e first (see Check), then reads only the samples columns e names, in
// one SampleColumns call, and the annotations columns it names, in one
// AnnotationColumns call. Conditions are evaluated column-wise on the
// Arrow buffers into bitmaps, with SQL's three-valued logic: a comparison
// with null is unknown, not of unknown is unknown, and unknown samples do
// not match.
func Eval(ctx context.Context, e Expr, src Source) (*Bitmap, error) {
	c, err := compile(e, src)
	if err != nil {
		return nil, err
	}
	ev := &evaluator{ctx: ctx, src: src, tags: map[string]*Bitmap{}}
	n := src.Len()
	ev.samples = &env{n: n, table: "samples", cols: map[string]*arrow.Chunked{}}
	scanned := false
	if sc, ok := src.(sampleScanner); ok && len(c.sampleCols) > 0 {
		pre, err := scanLeaves(ctx, sc, c.root, c.sampleCols, n)
		switch {
		case err == nil:
			ev.samples.pre, scanned = pre, true
		case !errors.Is(err, errNoScan):
			return nil, fmt.Errorf("evaluate predicate: read samples columns %s: %w", strings.Join(c.sampleCols, ", "), err)
		}
	}
	if len(c.sampleCols) > 0 && !scanned {
		tbl, err := src.SampleColumns(ctx, c.sampleCols)
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
		a, err := src.AnnotationColumns(ctx, append([]string{}, c.annCols...))
		if err != nil {
			return nil, fmt.Errorf("evaluate predicate: read annotations columns %s: %w", strings.Join(c.annCols, ", "), err)
		}
		if a.Table != nil {
			defer a.Table.Release()
		}
		for i, s := range a.Sample {
			if s < 0 || int(s) >= n {
				return nil, fmt.Errorf("evaluate predicate: annotation %d belongs to sample row %d, outside the %d samples", i, s, n)
			}
		}
		ev.anns = &env{n: len(a.Sample), table: "annotations", cols: map[string]*arrow.Chunked{}}
		ev.annSample = a.Sample
		if len(c.annCols) > 0 {
			if err := ev.anns.bind(a.Table, c.annCols); err != nil {
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
type tv struct{ t, k *Bitmap }

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
	tags      map[string]*Bitmap
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
		out := NewBitmap(v.n)
		if t != nil {
			for wi, w := range t.words {
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
			for wi, w := range t.words {
				for w != 0 {
					counts[ev.annSample[wi*64+bits.TrailingZeros64(w)]]++
					w &= w - 1
				}
			}
		}
		out := NewBitmap(v.n)
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

func (ev *evaluator) tag(name string) (*Bitmap, error) {
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
func (ev *evaluator) annRows(p *planAnn) (*Bitmap, error) {
	if ev.anns == nil {
		return nil, nil
	}
	if p.where == nil {
		return FullBitmap(ev.anns.n), nil
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
	t := FullBitmap(n)
	known := true
	for _, r := range rs {
		t.And(r.t)
		known = known && r.k == nil
	}
	if known {
		return tv{t: t}
	}
	f := NewBitmap(n) // rows where some argument is false
	for _, r := range rs {
		if r.k == nil {
			for i, w := range r.t.words {
				f.words[i] |= ^w
			}
		} else {
			for i, w := range r.t.words {
				f.words[i] |= r.k.words[i] &^ w
			}
		}
	}
	f.clearTail()
	f.Or(t)
	return tv{t: t, k: f}
}

// or combines results: true when any is true, false when all are false,
// unknown otherwise.
func or3(n int, rs []tv) tv {
	t := NewBitmap(n)
	known := true
	for _, r := range rs {
		t.Or(r.t)
		known = known && r.k == nil
	}
	if known {
		return tv{t: t}
	}
	f := FullBitmap(n) // rows where every argument is false
	for _, r := range rs {
		if r.k == nil {
			f.AndNot(r.t)
		} else {
			for i, w := range r.t.words {
				f.words[i] &= r.k.words[i] &^ w
			}
		}
	}
	f.Or(t)
	return tv{t: t, k: f}
}

// not swaps true and false; unknown stays unknown.
func not3(n int, r tv) tv {
	var t *Bitmap
	if r.k == nil {
		t = FullBitmap(n)
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
			return tv{t: NewBitmap(v.n)}, nil
		}
	case leafNotNull:
		if !nulls {
			return tv{t: FullBitmap(v.n)}, nil
		}
	}
	t := NewBitmap(v.n)
	var k *Bitmap
	var kw []uint64
	if nulls {
		k = NewBitmap(v.n)
		kw = k.words
	}
	if err := evalParallel(l, col, v.n, t.words, kw); err != nil {
		return tv{}, fmt.Errorf("evaluate predicate: %s column %q: %w", v.table, l.col, err)
	}
	return leafResult(l, t, k), nil
}

// leafResult is l's result from the rows where its condition holds (t,
// null rows included) and the known rows (k; nil when no row is null).
func leafResult(l *leaf, t, k *Bitmap) tv {
	switch l.kind {
	case leafIsNull:
		if k == nil {
			return tv{t: NewBitmap(t.Len())}
		}
		k.Not()
		return tv{t: k}
	case leafNotNull:
		if k == nil {
			return tv{t: FullBitmap(t.Len())}
		}
		return tv{t: k}
	}
	if k == nil {
		return tv{t: t}
	}
	t.And(k)
	return tv{t: t, k: k}
}

// sampleScanner is implemented by sources that stream the samples
// columns batch by batch (Dataset); Eval then evaluates the samples
// leaves on each batch as it is decoded, so that memory stays at a few
// batches a core instead of whole columns.
type sampleScanner interface {
	// scanSamples calls fn with every batch of the named columns and the
	// batch's first row, concurrently for different batches. It returns
	// errNoScan when it cannot stream those columns.
	scanSamples(ctx context.Context, names []string, fn func(base int, cols []arrow.Array) error) error
}

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
func scanLeaves(ctx context.Context, sc sampleScanner, root plan, names []string, n int) (map[*leaf]tv, error) {
	leaves := sampleLeaves(root, nil)
	type acc struct {
		col   int
		t, k  *Bitmap
		nulls bool
	}
	accs := make([]acc, len(leaves))
	for i, l := range leaves {
		accs[i] = acc{col: slices.Index(names, l.col), t: NewBitmap(n), k: NewBitmap(n)}
		if accs[i].col < 0 {
			return nil, fmt.Errorf("samples column %q not read", l.col)
		}
	}
	var (
		mu   sync.Mutex
		seen int // rows scanned
	)
	err := sc.scanSamples(ctx, names, func(base int, cols []arrow.Array) error {
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
				a.t.words[w0+j] |= x
			}
			for j, x := range kw {
				a.k.words[w0+j] |= x
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

// parallelMinRows is the column length from which a leaf is split across
// cores; below it, starting goroutines costs more than it saves.
const parallelMinRows = 1 << 18

// piece is a run of rows of a column: arr placed at row base.
type piece struct {
	arr  arrow.Array
	base int
}

// splitRows cuts the column's rows into parts of about equal length,
// slicing chunks where a boundary falls inside one. Slices made here are
// listed in made, for the caller to release.
func splitRows(col *arrow.Chunked, n, parts int) (out [][]piece, made []arrow.Array) {
	out = make([][]piece, parts)
	per := (n + parts - 1) / parts
	c0 := 0
	for _, arr := range col.Chunks() {
		c1 := c0 + arr.Len()
		for w := c0 / max(per, 1); w < parts && w*per < c1; w++ {
			lo, hi := max(c0, w*per), min(c1, (w+1)*per)
			if lo >= hi {
				continue
			}
			a := arr
			if lo != c0 || hi != c1 {
				a = array.NewSlice(arr, int64(lo-c0), int64(hi-c0))
				made = append(made, a)
			}
			out[w] = append(out[w], piece{arr: a, base: lo})
		}
		c0 = c1
	}
	return out, made
}

// evalParallel evaluates l over every chunk of col into t (and k when
// not nil). Long columns are split across GOMAXPROCS goroutines by row
// range. The first part writes into t and k directly; the others write
// into private words, merged afterwards, because a part that does not
// start on a multiple of 64 rows shares its first word with the part
// before it.
func evalParallel(l *leaf, col *arrow.Chunked, n int, t, k []uint64) error {
	parts := runtime.GOMAXPROCS(0)
	if n < parallelMinRows || parts < 2 {
		base := 0
		for _, arr := range col.Chunks() {
			if err := evalChunk(l, arr, t, k, base); err != nil {
				return err
			}
			base += arr.Len()
		}
		return nil
	}
	split, made := splitRows(col, n, parts)
	defer func() {
		for _, a := range made {
			a.Release()
		}
	}()
	type result struct {
		w0     int // first word
		tw, kw []uint64
		err    error
	}
	res := make([]result, parts)
	var wg sync.WaitGroup
	for w, ps := range split {
		if len(ps) == 0 {
			continue
		}
		r := &res[w]
		r0, r1 := ps[0].base, ps[len(ps)-1].base+ps[len(ps)-1].arr.Len()
		r.w0 = r0 >> 6
		r.tw, r.kw = t, k
		off := 0
		if w > 0 {
			r.tw = make([]uint64, (r1+63)>>6-r.w0)
			if k != nil {
				r.kw = make([]uint64, len(r.tw))
			}
			off = r.w0 * 64
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range ps {
				if r.err = evalChunk(l, p.arr, r.tw, r.kw, p.base-off); r.err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for w := range res {
		r := &res[w]
		if r.err != nil {
			return r.err
		}
		if w == 0 || r.tw == nil {
			continue
		}
		for i, x := range r.tw {
			t[r.w0+i] |= x
		}
		for i, x := range r.kw {
			k[r.w0+i] |= x
		}
	}
	return nil
}

// evalChunk sets, for the rows of arr placed at row base, the rows where
// the condition holds in t (null rows may be set too; callers mask them
// with k) and, unless k is nil (no nulls in the column), the non-null
// rows in k.
func evalChunk(l *leaf, arr arrow.Array, t, k []uint64, base int) error {
	n := arr.Len()
	if k != nil {
		if arr.NullN() > 0 {
			copyBits(k, base, arr.NullBitmapBytes(), arr.Data().Offset(), n)
		} else {
			setRange(k, base, n)
		}
	}
	if l.kind == leafIsNull || l.kind == leafNotNull || n == 0 {
		if d, ok := arr.(*array.Dictionary); ok && k != nil && d.Dictionary().NullN() > 0 {
			dictNulls(d, k, base)
		}
		return nil
	}
	if got := columnCategory(arr.DataType()); got != l.cat {
		return fmt.Errorf("read as %s, which does not match the schema's type", arr.DataType())
	}
	if d, ok := arr.(*array.Dictionary); ok {
		return evalDict(l, d, t, k, base)
	}
	if ext, ok := arr.(array.ExtensionArray); ok && l.cat == catUUID {
		arr = ext.Storage()
	}
	switch a := arr.(type) {
	case *array.Int8:
		intLeaf(l, a.Int8Values(), math.MinInt8, math.MaxInt8, t, base)
	case *array.Int16:
		intLeaf(l, a.Int16Values(), math.MinInt16, math.MaxInt16, t, base)
	case *array.Int32:
		intLeaf(l, a.Int32Values(), math.MinInt32, math.MaxInt32, t, base)
	case *array.Int64:
		intLeaf(l, a.Int64Values(), math.MinInt64, math.MaxInt64, t, base)
	case *array.Uint8:
		uintLeaf(l, a.Uint8Values(), math.MaxUint8, t, base)
	case *array.Uint16:
		uintLeaf(l, a.Uint16Values(), math.MaxUint16, t, base)
	case *array.Uint32:
		uintLeaf(l, a.Uint32Values(), math.MaxUint32, t, base)
	case *array.Uint64:
		uintLeaf(l, a.Uint64Values(), math.MaxUint64, t, base)
	case *array.Timestamp:
		intLeaf(l, a.TimestampValues(), math.MinInt64, math.MaxInt64, t, base)
	case *array.Date32:
		intLeaf(l, a.Date32Values(), math.MinInt32, math.MaxInt32, t, base)
	case *array.Date64:
		intLeaf(l, a.Date64Values(), math.MinInt64, math.MaxInt64, t, base)
	case *array.Float32:
		floatLeaf(l, a.Float32Values(), t, base)
	case *array.Float64:
		floatLeaf(l, a.Float64Values(), t, base)
	case *array.Boolean:
		boolLeaf(l, a, t, base)
	case *array.String:
		stringLeaf(l, a, a.ValueOffsets(), a.ValueBytes(), t, base)
	case *array.LargeString:
		stringLeaf(l, a, a.ValueOffsets(), a.ValueBytes(), t, base)
	case *array.FixedSizeBinary:
		lits := make([][]byte, len(l.strs))
		for i, s := range l.strs {
			lits[i] = []byte(s)
		}
		predBits(a.Len(), func(i int) bool {
			v := a.Value(i)
			if l.kind == leafIn {
				return slices.ContainsFunc(lits, func(b []byte) bool { return bytes.Equal(b, v) })
			}
			return l.op.holds(bytes.Compare(v, lits[0]))
		}, t, base)
	default:
		return fmt.Errorf("read as %s, which cannot be compared as the schema's type", arr.DataType())
	}
	return nil
}

// evalDict evaluates the condition once per dictionary entry, then maps
// every row through its index: a string "in" costs one table lookup per
// row however long the strings are.
func evalDict(l *leaf, d *array.Dictionary, t, k []uint64, base int) error {
	dict := d.Dictionary()
	m := dict.Len()
	dt, dk := NewBitmap(m), NewBitmap(m)
	if m > 0 {
		if err := evalChunk(l, dict, dt.words, dk.words, 0); err != nil {
			return err
		}
	}
	dt.And(dk)
	// A power-of-two table indexed with a mask: null rows may hold any
	// index, and the mask keeps them in bounds without a branch.
	size := 1
	for size < m {
		size <<= 1
	}
	tbl := make([]uint8, size)
	for i := range m {
		if dt.Get(i) {
			tbl[i] = 1
		}
	}
	switch ix := d.Indices().(type) {
	case *array.Int8:
		dictBits(ix.Int8Values(), tbl, t, base)
	case *array.Int16:
		dictBits(ix.Int16Values(), tbl, t, base)
	case *array.Int32:
		dictBits(ix.Int32Values(), tbl, t, base)
	case *array.Int64:
		dictBits(ix.Int64Values(), tbl, t, base)
	case *array.Uint8:
		dictBits(ix.Uint8Values(), tbl, t, base)
	case *array.Uint16:
		dictBits(ix.Uint16Values(), tbl, t, base)
	case *array.Uint32:
		dictBits(ix.Uint32Values(), tbl, t, base)
	case *array.Uint64:
		dictBits(ix.Uint64Values(), tbl, t, base)
	default:
		return fmt.Errorf("dictionary indices of type %s", ix.DataType())
	}
	if k != nil && dict.NullN() > 0 {
		dictNulls(d, k, base)
	}
	return nil
}

// dictNulls clears from k the rows whose dictionary entry is null.
func dictNulls(d *array.Dictionary, k []uint64, base int) {
	dict := d.Dictionary()
	for i := range d.Len() {
		if d.IsValid(i) && dict.IsNull(d.GetValueIndex(i)) {
			k[(base+i)>>6] &^= 1 << (uint(base+i) & 63)
		}
	}
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// orWord ors the low bits of w into dst starting at bit pos.
func orWord(dst []uint64, pos int, w uint64) {
	i, s := pos>>6, uint(pos&63)
	dst[i] |= w << s
	if s != 0 && i+1 < len(dst) {
		dst[i+1] |= w >> (64 - s)
	}
}

func lowMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(n) - 1
}

// setRange sets bits [pos, pos+n).
func setRange(dst []uint64, pos, n int) {
	for n > 0 {
		c := min(64, n)
		orWord(dst, pos, lowMask(c))
		pos += c
		n -= c
	}
}

// copyBits ors n bits of the Arrow bitmap src, starting at bit off, into
// dst starting at bit pos.
func copyBits(dst []uint64, pos int, src []byte, off, n int) {
	for j := 0; j < n; j += 64 {
		c := min(64, n-j)
		orWord(dst, pos+j, loadBits(src, off+j, c))
	}
}

// loadBits reads n ≤ 64 bits of b starting at bit off (LSB first).
func loadBits(b []byte, off, n int) uint64 {
	i, s := off>>3, uint(off&7)
	var w uint64
	if i+9 <= len(b) {
		w = binary.LittleEndian.Uint64(b[i:]) >> s
		if s != 0 {
			w |= uint64(b[i+8]) << (64 - s)
		}
	} else {
		for j := 0; j < n; j++ {
			p := off + j
			if p>>3 < len(b) && b[p>>3]&(1<<uint(p&7)) != 0 {
				w |= 1 << (uint(j) & 63)
			}
		}
	}
	return w & lowMask(n)
}

// predBits sets the bits of rows [0, n) where pred holds, at base. It is
// the generic path, for types where a per-row call is not the bottleneck.
func predBits(n int, pred func(i int) bool, dst []uint64, base int) {
	for k := 0; k < n; k += 64 {
		end := min(k+64, n)
		var w uint64
		for i := k; i < end; i++ {
			w |= b2u(pred(i)) << (uint(i-k) & 63)
		}
		orWord(dst, base+k, w)
	}
}

// rangeBits sets the rows whose value lies in [lo, hi] (outside, when
// neg). The inner loop is branch-free and does one comparison per value:
// with wrapping 64-bit arithmetic, lo <= x <= hi exactly when
// uint64(x)-uint64(lo) <= uint64(hi)-uint64(lo) (conversions sign- or
// zero-extend, preserving differences modulo 2^64).
func rangeBits[T integer](vals []T, lo, hi T, neg bool, dst []uint64, base int) {
	var flip uint64
	if neg {
		flip = ^uint64(0)
	}
	ulo, span := uint64(lo), uint64(hi)-uint64(lo)
	for k := 0; k < len(vals); k += 64 {
		c := vals[k:min(k+64, len(vals))]
		var w uint64
		for j, x := range c {
			w |= b2u(uint64(x)-ulo <= span) << (uint(j) & 63)
		}
		orWord(dst, base+k, (w^flip)&lowMask(len(c)))
	}
}

// pointBits sets the rows whose value is in the sorted set pts.
func pointBits[T integer](vals []T, pts []T, dst []uint64, base int) {
	for k := 0; k < len(vals); k += 64 {
		c := vals[k:min(k+64, len(vals))]
		var w uint64
		for j, x := range c {
			_, ok := slices.BinarySearch(pts, x)
			w |= b2u(ok) << (uint(j) & 63)
		}
		orWord(dst, base+k, w)
	}
}

// intLeaf evaluates integer-domain spans over a signed column whose
// type holds [minT, maxT].
func intLeaf[T integer](l *leaf, vals []T, minT, maxT int64, dst []uint64, base int) {
	spansLeaf(l, vals, func(s ispan) (T, T, bool) {
		lo, hi := minT, maxT
		if !s.loInf {
			lo = max(lo, s.lo)
		}
		if !s.hiInf {
			hi = min(hi, s.hi)
		}
		return T(lo), T(hi), lo <= hi
	}, dst, base)
}

// uintLeaf is intLeaf for unsigned columns holding [0, maxT].
func uintLeaf[T integer](l *leaf, vals []T, maxT uint64, dst []uint64, base int) {
	spansLeaf(l, vals, func(s ispan) (T, T, bool) {
		var lo uint64
		hi := maxT
		if !s.hiInf {
			if s.hi < 0 {
				return 0, 0, false
			}
			hi = min(hi, uint64(s.hi))
		}
		if !s.loInf && s.lo > 0 {
			lo = uint64(s.lo)
		}
		return T(lo), T(hi), lo <= hi
	}, dst, base)
}

func spansLeaf[T integer](l *leaf, vals []T, clamp func(ispan) (T, T, bool), dst []uint64, base int) {
	var pts []T
	points := len(l.spans) > 8
	for _, s := range l.spans {
		if s.empty {
			if s.neg {
				setRange(dst, base, len(vals))
			}
			continue
		}
		lo, hi, ok := clamp(s)
		if !ok {
			if s.neg {
				setRange(dst, base, len(vals))
			}
			continue
		}
		if points && lo == hi && !s.neg {
			pts = append(pts, lo)
			continue
		}
		rangeBits(vals, lo, hi, s.neg, dst, base)
	}
	if len(pts) > 0 {
		slices.Sort(pts)
		pointBits(vals, slices.Compact(pts), dst, base)
	}
}

type float interface{ ~float32 | ~float64 }

func floatLeaf[T float](l *leaf, vals []T, dst []uint64, base int) {
	if l.kind == leafIn {
		predBits(len(vals), func(i int) bool { return slices.Contains(l.floats, float64(vals[i])) }, dst, base)
		return
	}
	f := l.floats[0]
	for k := 0; k < len(vals); k += 64 {
		c := vals[k:min(k+64, len(vals))]
		var w uint64
		switch l.op {
		case Lt:
			for j, x := range c {
				w |= b2u(float64(x) < f) << (uint(j) & 63)
			}
		case Le:
			for j, x := range c {
				w |= b2u(float64(x) <= f) << (uint(j) & 63)
			}
		case Gt:
			for j, x := range c {
				w |= b2u(float64(x) > f) << (uint(j) & 63)
			}
		case Ge:
			for j, x := range c {
				w |= b2u(float64(x) >= f) << (uint(j) & 63)
			}
		case Eq:
			for j, x := range c {
				w |= b2u(float64(x) == f) << (uint(j) & 63)
			}
		case Ne:
			for j, x := range c {
				w |= b2u(float64(x) != f) << (uint(j) & 63)
			}
		}
		orWord(dst, base+k, w)
	}
}

func boolLeaf(l *leaf, a *array.Boolean, dst []uint64, base int) {
	if l.kind == leafIn {
		predBits(a.Len(), func(i int) bool {
			v := b2i(a.Value(i))
			return slices.ContainsFunc(l.spans, func(s ispan) bool { return s.lo == v })
		}, dst, base)
		return
	}
	lit := b2i(l.b)
	predBits(a.Len(), func(i int) bool { return l.op.holds(cmp3(b2i(a.Value(i)), lit)) }, dst, base)
}

type stringArray interface {
	Len() int
	Value(int) string
}

// stringLeaf evaluates a string condition. Equality and membership,
// the common cases, read the offsets and bytes directly and compare
// lengths before bytes.
func stringLeaf[O int32 | int64](l *leaf, a stringArray, offs []O, data []byte, dst []uint64, base int) {
	n := a.Len()
	switch l.kind {
	case leafStartsWith:
		p := l.strs[0]
		predBits(n, func(i int) bool { return strings.HasPrefix(a.Value(i), p) }, dst, base)
	case leafContains:
		p := l.strs[0]
		predBits(n, func(i int) bool { return strings.Contains(a.Value(i), p) }, dst, base)
	case leafIn:
		if len(l.strs) > 8 {
			set := make(map[string]struct{}, len(l.strs))
			for _, s := range l.strs {
				set[s] = struct{}{}
			}
			predBits(n, func(i int) bool { _, ok := set[a.Value(i)]; return ok }, dst, base)
			return
		}
		stringSetBits(offs, data, l.strs, false, dst, base)
	default:
		switch l.op {
		case Eq:
			stringSetBits(offs, data, l.strs, false, dst, base)
		case Ne:
			stringSetBits(offs, data, l.strs, true, dst, base)
		default:
			s := l.strs[0]
			predBits(n, func(i int) bool { return l.op.holds(strings.Compare(a.Value(i), s)) }, dst, base)
		}
	}
}

// stringSetBits sets the rows whose value is one of lits (not one of
// them, when neg). offs are the array's n+1 offsets into data, which
// starts at offs[0].
func stringSetBits[O int32 | int64](offs []O, data []byte, lits []string, neg bool, dst []uint64, base int) {
	n := len(offs) - 1
	o0 := offs[0]
	var flip uint64
	if neg {
		flip = ^uint64(0)
	}
	if shortStrings(lits) {
		shortSetBits(offs, data, lits, flip, dst, base)
		return
	}
	for k := 0; k < n; k += 64 {
		end := min(k+64, n)
		var w uint64
		for i := k; i < end; i++ {
			v := data[offs[i]-o0 : offs[i+1]-o0]
			for _, lit := range lits {
				if len(lit) == len(v) && string(v) == lit {
					w |= 1 << (uint(i-k) & 63)
					break
				}
			}
		}
		orWord(dst, base+k, (w^flip)&lowMask(end-k))
	}
}

func shortStrings(lits []string) bool {
	for _, l := range lits {
		if len(l) > 8 {
			return false
		}
	}
	return len(lits) > 0 && len(lits) <= 8
}

// byteMasks[l] keeps the low l bytes of a little-endian word.
var byteMasks = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xff_ffffffff, 0xffff_ffffffff, 0xffffff_ffffffff, ^uint64(0)}

// shortSetBits is stringSetBits for literals of at most 8 bytes, without
// data-dependent branches: a value matches a literal when the lengths
// agree and its first 8 bytes, masked to its length, equal the
// literal's. Random strings would otherwise mispredict the length test
// on every other row.
func shortSetBits[O int32 | int64](offs []O, data []byte, lits []string, flip uint64, dst []uint64, base int) {
	var words [8]uint64
	var lens [8]uint64
	for i, l := range lits {
		var b [8]byte
		copy(b[:], l)
		words[i], lens[i] = binary.LittleEndian.Uint64(b[:]), uint64(len(l))
	}
	m := len(lits)
	n := len(offs) - 1
	o0 := offs[0]
	// Rows whose 8-byte load would run past data take the slow path.
	safe := n
	for safe > 0 && int(offs[safe-1]-o0)+8 > len(data) {
		safe--
	}
	for k := 0; k < n; k += 64 {
		end := min(k+64, n)
		var w uint64
		for i := k; i < min(end, safe); i++ {
			st := offs[i] - o0
			l := uint64(offs[i+1] - offs[i])
			v := binary.LittleEndian.Uint64(data[st:]) & byteMasks[min(l, 8)]
			var hit uint64
			for j := range m {
				hit |= b2u(l == lens[j]) & b2u(v == words[j])
			}
			w |= hit << (uint(i-k) & 63)
		}
		for i := max(k, safe); i < end; i++ {
			v := data[offs[i]-o0 : offs[i+1]-o0]
			for _, lit := range lits {
				if string(v) == lit {
					w |= 1 << (uint(i-k) & 63)
					break
				}
			}
		}
		orWord(dst, base+k, (w^flip)&lowMask(end-k))
	}
}

// dictBits sets the rows whose dictionary entry matched (bit 0 of tbl).
func dictBits[I integer](idx []I, tbl []uint8, dst []uint64, base int) {
	m := uint64(len(tbl) - 1)
	for k := 0; k < len(idx); k += 64 {
		c := idx[k:min(k+64, len(idx))]
		var w uint64
		for j, x := range c {
			w |= uint64(tbl[uint64(x)&m]&1) << (uint(j) & 63)
		}
		orWord(dst, base+k, w)
	}
}
