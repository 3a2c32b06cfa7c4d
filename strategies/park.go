package strategies

import "math"

// Parking: entries far below a heap's top wait outside it.
//
// Every re-scored stale top sinks, and in a heap of a million entries (16
// MB, beyond the caches) each sift passes about ten levels, most of them a
// cache miss: before every cluster has a center the engine re-scores
// thousands of tops a pick, nearly all of which fall far below the top.
// So a large heap holds only the entries of its highest score buckets,
// about parkTarget of them, and the rest are parked: kept unordered at the
// back of the heap's own array (no memory beyond it), counted per bucket.
// An entry that falls below the heap's lowest bucket is parked in O(1)
// instead of sifted; when the heap runs empty, the next highest buckets
// are taken back (about parkTarget entries again) and heapified.
//
// Buckets split the range of the scores at the heap's build into
// parkBuckets equal parts; bucket is non-decreasing in the heap's order
// (lower scores, and the -Inf class, clamp to bucket 0; +Inf to the top
// one). Every heap entry is in bucket b or above and every parked one
// below it, so every heap entry ranks above every parked entry, and the
// heap's top is the top of all: refresh, best and their ties work as they
// did on the whole heap, and the picks are the same.

const (
	parkBuckets = 4096
	parkTarget  = 1 << 16
)

// park is one heap's parked entries: the last n of its array's capacity.
type park struct {
	lo, inv float64 // bucket k holds keys from lo + k/inv
	b       int     // the heap holds buckets b and above
	n       int
	target  int     // entries an unpark brings back, about
	count   []int32 // parked entries per bucket
}

// newPark parks hp's entries below its highest buckets (about target
// entries kept, whole buckets) and returns the heap, not yet heapified,
// and its park; nil when hp is too small to pay or its scores are all
// one bucket.
func newPark(hp []hent, target int) ([]hent, *park) {
	if len(hp) < 2*target {
		return hp, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, a := range hp {
		if a.inf == 0 {
			lo, hi = min(lo, a.key), max(hi, a.key)
		}
	}
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return hp, nil
	}
	p := &park{lo: lo, inv: parkBuckets / (hi - lo), b: parkBuckets, target: target, count: make([]int32, parkBuckets)}
	for _, a := range hp {
		p.count[p.bucket(a)]++
	}
	kept := 0
	for p.b > 0 && kept < target {
		p.b--
		kept += int(p.count[p.b])
	}
	clear(p.count[p.b:])
	// Kept entries first, parked ones after them, then moved to the back
	// of the array.
	w := p.partition(hp, p.b)
	for _, a := range hp[w:] {
		p.count[p.bucket(a)]++
	}
	p.n = len(hp) - w
	all := hp[:cap(hp)]
	copy(all[cap(hp)-p.n:], hp[w:])
	return hp[:w], p
}

// partition reorders es so that the entries of buckets b and above come
// first, and returns their number.
func (p *park) partition(es []hent, b int) int {
	w := 0
	for r, a := range es {
		if p.bucket(a) >= b {
			es[w], es[r] = a, es[w]
			w++
		}
	}
	return w
}

// bucket is a's score bucket.
func (p *park) bucket(a hent) int {
	switch {
	case a.inf > 0:
		return parkBuckets - 1
	case a.inf < 0:
		return 0
	}
	k := (a.key - p.lo) * p.inv
	switch {
	case !(k >= 0):
		return 0
	case k >= parkBuckets-1:
		return parkBuckets - 1
	}
	return int(k)
}

// push adds a (an entry in neither the heap nor the park) to the heap, or
// parks it below the heap's buckets. p may be nil (no parking).
func (p *park) push(hp []hent, a hent) []hent {
	if p == nil || p.bucket(a) >= p.b {
		hp = append(hp, a)
		up(hp, len(hp)-1)
		return hp
	}
	// Room: the heap and the park hold distinct entries of the heap's
	// candidates, at most its capacity.
	all := hp[:cap(hp)]
	p.n++
	all[cap(hp)-p.n] = a
	p.count[p.bucket(a)]++
	return hp
}

// unpark refills an empty heap with the next highest parked buckets
// (about p.target entries) and returns it heapified.
func (p *park) unpark(hp []hent) []hent {
	b, moved := p.b, 0
	for b > 0 && moved < p.target {
		b--
		moved += int(p.count[b])
	}
	all := hp[:cap(hp)]
	back := all[cap(hp)-p.n:]
	w := p.partition(back, b) // entries to move first
	hp = all[:w]
	copy(hp, back[:w]) // may overlap: copy moves
	p.n -= w
	clear(p.count[b:p.b])
	p.b = b
	heapify(hp)
	return hp
}
