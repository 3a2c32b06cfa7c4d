package query

// Bit kernels: a leaf condition evaluated over one Arrow array into words
// of a bitmap, on all cores for long columns.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/winnow-data/winnow/bitmap"
)

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
			bitmap.OrBytes(k, base, arr.NullBitmapBytes(), arr.Data().Offset(), n)
		} else {
			bitmap.SetRange(k, base, n)
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
	dt, dk := bitmap.New(m), bitmap.New(m)
	if m > 0 {
		if err := evalChunk(l, dict, dt.Words(), dk.Words(), 0); err != nil {
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

// predBits sets the bits of rows [0, n) where pred holds, at base. It is
// the generic path, for types where a per-row call is not the bottleneck.
func predBits(n int, pred func(i int) bool, dst []uint64, base int) {
	for k := 0; k < n; k += 64 {
		end := min(k+64, n)
		var w uint64
		for i := k; i < end; i++ {
			w |= b2u(pred(i)) << (uint(i-k) & 63)
		}
		bitmap.OrWord(dst, base+k, w)
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
		bitmap.OrWord(dst, base+k, (w^flip)&bitmap.LowMask(len(c)))
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
		bitmap.OrWord(dst, base+k, w)
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
				bitmap.SetRange(dst, base, len(vals))
			}
			continue
		}
		lo, hi, ok := clamp(s)
		if !ok {
			if s.neg {
				bitmap.SetRange(dst, base, len(vals))
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
		bitmap.OrWord(dst, base+k, w)
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
		bitmap.OrWord(dst, base+k, (w^flip)&bitmap.LowMask(end-k))
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
		bitmap.OrWord(dst, base+k, (w^flip)&bitmap.LowMask(end-k))
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
		bitmap.OrWord(dst, base+k, w)
	}
}
