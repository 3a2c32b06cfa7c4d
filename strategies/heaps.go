package strategies

import (
	"encoding/binary"
	"math"
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
	all := make([]hent, e.p.Candidates)
	h := &heaps{h: make([][]hent, ng), row: rows}
	off := 0
	for g, c := range count {
		h.h[g] = all[off : off : off+c]
		off += c
	}
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
			s := e.base(int(a.idx))
			a.key, a.inf = s.Log, int32(s.Inf)
		}
	})
	for g := range h.h {
		hp := h.h[g]
		for i := len(hp)/2 - 1; i >= 0; i-- {
			down(hp, i)
		}
	}
	e.heaps = h
}

func down(h []hent, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && above(h[r], h[l]) {
			l = r
		}
		if !above(h[l], h[i]) {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

func up(h []hent, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !above(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func pop(h []hent) []hent {
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	down(h, 0)
	return h
}

// refresh makes heap g's top exact: picked and ineligible tops are
// dropped (distances only shrink and rules' ineligibility is permanent, so
// ineligibility lasts), stale ones are re-scored and sifted down. The
// costly rules are asked only once a top's score is exact: a stale top
// sinks and may never come back. It returns false when the heap is empty.
func (h *heaps) refresh(e *engine, g int) bool {
	hp := h.h[g]
	defer func() { h.h[g] = hp }()
	for len(hp) > 0 {
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
		hp[0].key, hp[0].inf = s.Log, int32(s.Inf)
		down(hp, 0)
	}
	return false
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
