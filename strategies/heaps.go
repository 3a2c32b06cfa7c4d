package strategies

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// hent is a heap entry: a candidate and its cached base score, which is
// never below its current base score (the lazy bound).
type hent struct {
	key float64
	inf int32
	idx int32
}

func (a hent) score() Score { return Score{Inf: int(a.inf), Log: a.key} }

// above orders the heaps: higher score first, then lower index.
func above(a, b hent) bool {
	if a.inf != b.inf {
		return a.inf > b.inf
	}
	if a.key != b.key {
		return a.key > b.key
	}
	return a.idx < b.idx
}

// heaps holds one lazy max-heap per distinct balancing count row (a single
// heap without balancing).
type heaps struct {
	h   [][]hent
	row [][]float64 // a representative count row per heap (nil without balancing)
	tmp []hent
	own []int
	// bufs hold the stale tops rescoreTops re-scores and pops ahead.
	bufs [2][]hent
	// park[g] holds heap g's parked entries (park.go); nil entries and a
	// nil slice park nothing.
	park []*park
}

// maxRowGroups bounds the number of distinct count rows for which per-row
// heaps pay; beyond it the engine scans.
func (e *engine) maxRowGroups() int { return max(1024, e.p.Candidates/64) }

// lazyRows groups the candidates by count row; ok is false when there are
// too many distinct rows.
func (e *engine) lazyRows() (id []int32, rows [][]float64, ok bool) {
	id = make([]int32, e.p.Candidates)
	if e.bal == nil {
		return id, nil, true
	}
	index := map[string]int32{}
	buf := make([]byte, 8*e.bal.b.classes)
	for i := range id {
		x := e.bal.b.row(i)
		for c, v := range x {
			binary.LittleEndian.PutUint64(buf[8*c:], math.Float64bits(v))
		}
		g, seen := index[string(buf)]
		if !seen {
			if len(rows) == e.maxRowGroups() {
				return nil, nil, false
			}
			g = int32(len(rows))
			index[string(buf)] = g
			rows = append(rows, x)
		}
		id[i] = g
	}
	return id, rows, true
}

// buildHeaps fills the heaps with every eligible candidate's base score.
func (e *engine) buildHeaps() {
	id, rows, ok := e.lazyRows()
	if !ok {
		e.opt.scan = true // too many count rows: scanning is cheaper
		return
	}
	ng := max(1, len(rows))
	count := make([]int, ng)
	for _, g := range id {
		count[g]++
	}
	all, hs := alignedHeaps(count)
	h := &heaps{h: hs, row: rows}
	for i, g := range id {
		// The costly rules wait until a candidate reaches a top.
		if e.cheapEligible(i) {
			h.h[g] = append(h.h[g], hent{idx: int32(i)})
		}
	}
	const size = 4096
	parallel(e.workers, chunks(len(all), size), func(t int) {
		for k := t * size; k < min((t+1)*size, len(all)); k++ {
			a := &all[k]
			if a.idx < 0 {
				continue // padding or spare room (alignedHeaps)
			}
			s := e.base(int(a.idx))
			a.key, a.inf = s.Log, int32(s.Inf)
		}
	})
	target := e.opt.park
	if target == 0 {
		target = parkTarget
	}
	h.park = make([]*park, len(h.h))
	for g, hp := range h.h {
		h.h[g], h.park[g] = newPark(hp, target)
		heapify(h.h[g])
	}
	e.heaps = h
}

// The heaps are 4-ary: the children of entry i are 4i+1..4i+4. A sift
// down passes half the levels of a binary heap, and with each heap's
// entry 1 on a cache-line boundary (alignedHeaps) every group of
// four children (4·16 bytes) is one cache line. Stale tops of a large heap
// sink far, and each level they pass is a cache miss: fewer levels, and
// one line a level, are most of a sift's cost.
const arity = 4

// heapLine is the cache-line size alignedHeaps aligns child groups to.
const heapLine = 64

// alignedHeaps returns one backing array and, carved from it, an empty
// heap of capacity count[g] for each g, each starting one entry before a
// heapLine boundary so that every child group (entries
// 4i+1..4i+4) fills one line. Padding costs fewer than heapLine bytes a
// heap; entries outside the heaps have index -1.
func alignedHeaps(count []int) ([]hent, [][]hent) {
	const size = int(unsafe.Sizeof(hent{}))
	const perLine = heapLine / size
	total := 0
	for _, c := range count {
		total += c + perLine - 1
	}
	all := make([]hent, total+perLine)
	// The first index whose entry sits one entry before a line boundary
	// (the allocator aligns entries at least to their size).
	addr := int(uintptr(unsafe.Pointer(unsafe.SliceData(all))))
	off := (heapLine - (addr+size)%heapLine) % heapLine / size
	for k := range all {
		all[k].idx = -1 // no candidate
	}
	hs := make([][]hent, len(count))
	for g, c := range count {
		hs[g] = all[off : off : off+c]
		off += c + (perLine-c%perLine)%perLine // keep off's line phase
	}
	return all, hs
}

// heapify orders h as a heap.
func heapify(h []hent) {
	for i := (len(h) - 2) / arity; i >= 0 && len(h) > 1; i-- {
		down(h, i)
	}
}

// down sifts entry i down. A stale top re-scored by refresh usually
// belongs near the bottom, so the hole first follows the best children to
// a leaf and the entry then rises from there (Floyd's variant: one
// comparison fewer a level, and the rise rarely takes a step). Each level
// is a cache miss in a large heap; the next level's four child groups (the
// grandchildren, four lines) are prefetched while this level compares, so
// one miss overlaps the next instead of waiting for it.
func down(h []hent, i int) {
	x := h[i]
	n := len(h)
	start := i
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		if g := arity*c + 1; g < n {
			kern.prefetchHeap(h[g:min(g+arity*arity, n)])
		}
		b := c
		for k := c + 1; k < min(c+arity, n); k++ {
			if above(h[k], h[b]) {
				b = k
			}
		}
		h[i] = h[b]
		i = b
	}
	rise(h, i, start, x)
}

// up sifts entry i up.
func up(h []hent, i int) { rise(h, i, 0, h[i]) }

// rise stores x at slot i or, while x is above its parent, at the parent,
// no higher than slot top (whose subtree the caller is sifting).
func rise(h []hent, i, top int, x hent) {
	for i > top {
		p := (i - 1) / arity
		if !above(x, h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

// pop removes the top entry.
func pop(h []hent) []hent {
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	if n > 0 {
		down(h, 0)
	}
	return h
}

// refresh makes heap g's top exact: picked and ineligible tops are
// dropped (distances only shrink and rules' ineligibility is permanent, so
// ineligibility lasts), stale ones are re-scored (in batches while a
// diversity strategy has pending centers: warm.go) and sifted down, or
// parked when they fall below the heap's buckets, and an empty heap takes
// parked entries back (park.go). The costly rules are asked only once a
// top's score is exact: a stale top sinks and may never come back. It
// returns false when the heap and its park are empty.
func (h *heaps) refresh(e *engine, g int) bool {
	hp := h.h[g]
	defer func() { h.h[g] = hp }()
	p := h.park[g]
	size := firstBatch
	for {
		if len(hp) == 0 {
			if p == nil || p.n == 0 {
				return false
			}
			hp = p.unpark(hp)
			continue
		}
		if e.stale(hp[0].idx) {
			hp, size = h.rescoreTops(e, hp, size, p)
			continue
		}
		i := int(hp[0].idx)
		if !e.cheapEligible(i) {
			hp = pop(hp)
			continue
		}
		s := e.base(i)
		if s == hp[0].score() {
			if !e.costlyEligible(i) {
				hp = pop(hp)
				continue
			}
			return true
		}
		a := hent{key: s.Log, inf: int32(s.Inf), idx: int32(i)}
		if p != nil && p.bucket(a) < p.b {
			hp = p.push(pop(hp), a)
			continue
		}
		hp[0] = a
		down(hp, 0)
	}
}

// total is the full score of heap g's top entry a.
func (h *heaps) total(e *engine, g int, a hent) Score {
	if e.bal == nil {
		return a.score()
	}
	return e.withBalance(a.score(), h.row[g])
}

// best returns the winner: the exact best score is among the refreshed
// heap tops; then every heap gives up its entries tied with it (popped in
// score order until one is below the tie threshold) and the lowest index
// among them wins. The popped entries go back afterwards.
func (h *heaps) best(e *engine) (int, Score) {
	best := Score{Inf: notEligible}
	for g := range h.h {
		if !h.refresh(e, g) {
			continue
		}
		if s := h.total(e, g, h.h[g][0]); best.Less(s) {
			best = s
		}
	}
	if best.Inf == notEligible {
		return -1, best
	}
	thr := threshold(best.Log)
	win, winScore := -1, best
	h.tmp, h.own = h.tmp[:0], h.own[:0]
	for g := range h.h {
		for h.refresh(e, g) {
			top := h.h[g][0]
			s := h.total(e, g, top)
			if !tied(s, best, thr) {
				break
			}
			if win < 0 || int(top.idx) < win {
				win, winScore = int(top.idx), s
			}
			h.tmp = append(h.tmp, top)
			h.own = append(h.own, g)
			h.h[g] = pop(h.h[g])
		}
	}
	for k, a := range h.tmp {
		g := h.own[k]
		h.h[g] = append(h.h[g], a)
		up(h.h[g], len(h.h[g])-1)
	}
	return win, winScore
}
