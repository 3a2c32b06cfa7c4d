package strategies

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// ExcludeNear is the rule "keep away from a tag" of spec §10
// (exclude_near): a candidate is eligible only if its distance to every
// excluded vector (the embedded samples carrying the tag) is >= the
// minimum distance, and the candidates carrying the tag are never eligible.
// Distances are those of the engine (float32 vectors, float64 sums).
//
// The rule is exact and lazy. The excluded vectors are grouped once, by
// farthest-point sampling, around centers with a radius; a candidate is
// checked only when it would win a pick (see costlyRule), and the check
// skips, by the triangle inequality, every group whose center is farther
// than radius + min_distance (a float32 bound settles most), and within the
// other groups every member whose distance to the center differs from the
// candidate's by min_distance or more (members are sorted by it, so the
// rest is one binary search); it stops at the first excluded vector within
// reach. Every skip carries the 1e-9 relative margin of the diversity
// skips, so the answers are those of a check of every excluded vector.
type ExcludeNear struct {
	vectors []float32 // the problem rows' vectors
	dim     int
	minDist float64
	inTag   []int // sorted candidate rows that carry the tag
	ix      *exIndex
	// With min_distance 0 no check needs the groups; Nearest builds them
	// on first use.
	excluded []float32
	once     sync.Once
}

// NewExcludeNear returns the rule. vectors holds the problem rows'
// embeddings (row-major, dim values a row; only candidates are read),
// excluded the tag's embeddings (any number of rows, none allowed),
// minDistance is finite and >= 0, and inTag lists the candidate rows that
// carry the tag (they are never eligible). Non-finite values are a
// *ValueError naming the first bad row of the input ("vectors" or
// "excluded").
func NewExcludeNear(vectors []float32, dim int, excluded []float32, minDistance float64, inTag []int) (*ExcludeNear, error) {
	switch {
	case dim <= 0:
		return nil, fmt.Errorf("exclude_near: dimension %d must be positive", dim)
	case len(vectors)%dim != 0:
		return nil, fmt.Errorf("exclude_near: %d values are not a whole number of %d-dimensional vectors", len(vectors), dim)
	case len(excluded)%dim != 0:
		return nil, fmt.Errorf("exclude_near: %d excluded values are not a whole number of %d-dimensional vectors", len(excluded), dim)
	case math.IsNaN(minDistance) || math.IsInf(minDistance, 0) || minDistance < 0:
		return nil, fmt.Errorf("exclude_near: min_distance %v must be finite and >= 0", minDistance)
	}
	for _, in := range []struct {
		name string
		v    []float32
	}{{"vectors", vectors}, {"excluded", excluded}} {
		if !allFinite32(in.v) {
			err := checkVectors(in.v, dim).(*ValueError)
			err.Input = in.name
			return nil, fmt.Errorf("exclude_near: %w", err)
		}
	}
	tag := slices.Clone(inTag)
	slices.Sort(tag)
	tag = slices.Compact(tag)
	for _, r := range tag {
		if r < 0 || r >= len(vectors)/dim {
			return nil, fmt.Errorf("exclude_near: tag row %d outside 0..%d", r, len(vectors)/dim-1)
		}
	}
	x := &ExcludeNear{vectors: vectors, dim: dim, minDist: minDistance, inTag: tag, excluded: excluded}
	if minDistance > 0 {
		x.index()
	}
	return x, nil
}

// allFinite32 reports whether v holds no NaN or ±Inf: an exponent of all
// ones marks them, tested on the bits, four at a time.
func allFinite32(v []float32) bool {
	const exp = 0x7f800000
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a, b := math.Float32bits(v[i])&exp, math.Float32bits(v[i+1])&exp
		c, d := math.Float32bits(v[i+2])&exp, math.Float32bits(v[i+3])&exp
		if a == exp || b == exp || c == exp || d == exp {
			return false
		}
	}
	for ; i < len(v); i++ {
		if math.Float32bits(v[i])&exp == exp {
			return false
		}
	}
	return true
}

// MinDistance returns the rule's minimum distance.
func (x *ExcludeNear) MinDistance() float64 { return x.minDist }

// InTag reports whether problem row r carries the tag.
func (x *ExcludeNear) InTag(r int) bool {
	_, ok := slices.BinarySearch(x.inTag, r)
	return ok
}

// Nearest returns the excluded vector nearest to problem row r (the
// lowest index among equally near ones) and its distance, or -1 and +Inf
// when there is none. It serves explanations and summaries ("nearest
// distance to the excluded tag"); it searches the same groups, exactly.
func (x *ExcludeNear) Nearest(r int) (int, float64) {
	return x.index().nearest(x.row(r))
}

// Excluded returns the number of excluded vectors.
func (x *ExcludeNear) Excluded() int { return len(x.excluded) / x.dim }

func (x *ExcludeNear) index() *exIndex {
	x.once.Do(func() { x.ix = newExIndex(x.excluded, x.dim, 0) })
	return x.ix
}

func (x *ExcludeNear) row(r int) []float32 { return x.vectors[r*x.dim : (r+1)*x.dim] }

// Start returns fresh state; the rule needs a vector for every candidate.
func (x *ExcludeNear) Start(rows, candidates int) (RuleState, error) {
	if have := len(x.vectors) / x.dim; have < candidates {
		return nil, fmt.Errorf("exclude_near: %d vectors for %d candidates", have, candidates)
	}
	s := &excludeState{x: x, known: make([]uint8, candidates)}
	for _, r := range x.inTag {
		if r < candidates {
			s.known[r] = exExcluded
		}
	}
	return s, nil
}

const (
	exUnknown uint8 = iota
	exEligible
	exExcluded
)

// excludeState caches each candidate's answer: known[i] is written only by
// the one goroutine asking about i (the engine asks about a candidate from
// one goroutine at a time).
type excludeState struct {
	x     *ExcludeNear
	known []uint8
	naive bool
	work  atomic.Int64 // distances computed
}

func (s *excludeState) costly()             {}
func (s *excludeState) setNaive(naive bool) { s.naive = naive }
func (s *excludeState) Add(int)             {}

func (s *excludeState) Eligible(i int) bool {
	switch s.known[i] {
	case exEligible:
		return true
	case exExcluded:
		return false
	}
	ok := true
	if s.x.minDist > 0 {
		var w int64
		if s.naive {
			ok, w = s.x.ix.farFromAll(s.x.row(i), s.x.minDist)
		} else {
			ok, w = s.x.ix.farFrom(s.x.row(i), s.x.minDist)
		}
		s.work.Add(w)
	}
	s.known[i] = exExcluded
	if ok {
		s.known[i] = exEligible
	}
	return ok
}

// exIndex groups the excluded vectors around centers. Group g has center
// row centers[g] and radius[g] >= the distance of every member; its
// members are mem[off[g]:off[g+1]], sorted by their distance to the center,
// which is dc at the same position.
type exIndex struct {
	v       []float32
	dim     int
	centers []int32
	radius  []float64
	off     []int
	mem     []int32
	dc      []float64
}

// exGroups is the number of groups for n excluded vectors: sqrt(n) balances
// the per-check cost (one center distance per group plus the members of
// the groups within reach) against the grouping's (n per center), within
// [1, 256]; checks are few (see costlyRule), so the grouping's cost counts.
func exGroups(n int) int {
	return max(1, min(256, int(math.Sqrt(float64(n)))))
}

// newExIndex groups v (n rows of dim) around k centers (exGroups(n) when k
// is 0) chosen by farthest-point sampling from row 0 (ties to the lowest
// row), each row in the group of its nearest center.
func newExIndex(v []float32, dim, k int) *exIndex {
	n := len(v) / dim
	ix := &exIndex{v: v, dim: dim}
	if n == 0 {
		ix.off = []int{0}
		return ix
	}
	if k <= 0 {
		k = exGroups(n)
	}
	row := func(r int) []float32 { return v[r*dim : (r+1)*dim] }
	md := make([]float64, n)
	grp := make([]int32, n)
	for i := range md {
		md[i] = math.Inf(1)
		grp[i] = -1
	}
	const size = 1024
	nt := chunks(n, size)
	far := make([]int, nt)
	var dcc []float64
	next := 0
	for len(ix.centers) < k {
		g := int32(len(ix.centers))
		c := row(next)
		ix.centers = append(ix.centers, int32(next))
		// A row keeps its center when d(old, new) >= 2·md: then
		// d(x, new) >= d(old, new) - md >= md.
		dcc = dcc[:0]
		for _, o := range ix.centers[:g] {
			dcc = append(dcc, dist(row(int(o)), c))
		}
		parallel(workerCount(0), nt, func(t int) {
			best := -1
			for x := t * size; x < min((t+1)*size, n); x++ {
				if h := grp[x]; h < 0 || !(dcc[h] >= 2*md[x]*skipMargin) {
					if d := distUpTo(row(x), c, md[x]); d < md[x] {
						md[x], grp[x] = d, g
					}
				}
				if best < 0 || md[x] > md[best] {
					best = x
				}
			}
			far[t] = best
		})
		next = far[0]
		for _, f := range far {
			if md[f] > md[next] {
				next = f
			}
		}
		if md[next] == 0 {
			break // every row is a copy of a center
		}
	}
	groups := len(ix.centers)
	ix.radius = make([]float64, groups)
	ix.off = make([]int, groups+1)
	for x := range md {
		ix.off[grp[x]+1]++
		ix.radius[grp[x]] = max(ix.radius[grp[x]], md[x])
	}
	for g := 0; g < groups; g++ {
		ix.off[g+1] += ix.off[g]
	}
	ix.mem = make([]int32, n)
	pos := slices.Clone(ix.off[:groups])
	for x, g := range grp {
		ix.mem[pos[g]] = int32(x)
		pos[g]++
	}
	ix.dc = make([]float64, n)
	for g := 0; g < groups; g++ {
		m := ix.mem[ix.off[g]:ix.off[g+1]]
		slices.SortFunc(m, func(a, b int32) int {
			if md[a] != md[b] {
				if md[a] < md[b] {
					return -1
				}
				return 1
			}
			return int(a - b)
		})
		for k, x := range m {
			ix.dc[ix.off[g]+k] = md[x]
		}
	}
	return ix
}

func (ix *exIndex) row(r int32) []float32 { return ix.v[int(r)*ix.dim : (int(r)+1)*ix.dim] }

// farFromAll is the straightforward check: every excluded vector.
func (ix *exIndex) farFromAll(q []float32, minDist float64) (bool, int64) {
	n := len(ix.v) / ix.dim
	for r := 0; r < n; r++ {
		if dist(q, ix.row(int32(r))) < minDist {
			return false, int64(r + 1)
		}
	}
	return true, int64(n)
}

// farFrom reports whether every excluded vector is at distance >= minDist
// (> 0) from q, and the number of distances it computed.
//
// Skips: a group whose center is at distance >= (radius + minDist)·margin
// holds no member within reach (d(q,e) >= d(q,c) − d(e,c) >= d(q,c) −
// radius). Within a group, d(q,e) >= |d(q,c) − d(e,c)|, so only members with
// d(e,c) within minDist' of d(q,c) are measured, where minDist' widens
// minDist by the 1e-9 margin relative to the distances involved (their
// rounding is about dim·2^-53 relative).
func (ix *exIndex) farFrom(q []float32, minDist float64) (bool, int64) {
	var work int64
	for g, c := range ix.centers {
		work++
		crow := ix.row(c)
		if farEnough32(q, crow, ix.radius[g]+minDist) {
			continue
		}
		dqc := dist(q, crow)
		if dqc >= (ix.radius[g]+minDist)*skipMargin {
			continue
		}
		reach := minDist*skipMargin + 2*(skipMargin-1)*(dqc+minDist)
		dc := ix.dc[ix.off[g]:ix.off[g+1]]
		lo := sort.SearchFloat64s(dc, dqc-reach)
		for k := lo; k < len(dc) && dc[k] <= dqc+reach; k++ {
			work++
			if distUpTo(q, ix.row(ix.mem[ix.off[g]+k]), minDist) < minDist {
				return false, work
			}
		}
	}
	return true, work
}

// nearest returns the excluded row nearest to q (lowest row among equally
// near ones) and its distance, by branch and bound over the groups: groups
// in order of their lower bound d(q,c) − radius, members outward from
// d(q,c) in their sorted distances, each stopped once its bound exceeds the
// best distance (with the skip margin, so no tie is lost).
func (ix *exIndex) nearest(q []float32) (int, float64) {
	type cand struct {
		g     int
		dqc   float64
		bound float64
	}
	cs := make([]cand, len(ix.centers))
	for g, c := range ix.centers {
		d := dist(q, ix.row(c))
		cs[g] = cand{g, d, d - ix.radius[g]}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		switch {
		case a.bound < b.bound:
			return -1
		case a.bound > b.bound:
			return 1
		}
		return a.g - b.g
	})
	best, bestD := -1, math.Inf(1)
	out := func(bound float64) bool { return bound > bestD*skipMargin+(skipMargin-1)*bound }
	try := func(r int32) {
		d := dist(q, ix.row(r))
		if d < bestD || d == bestD && int(r) < best {
			best, bestD = int(r), d
		}
	}
	for _, c := range cs {
		if out(c.bound) {
			break
		}
		base := ix.off[c.g]
		dc := ix.dc[base:ix.off[c.g+1]]
		mid := sort.SearchFloat64s(dc, c.dqc)
		// Outward from mid, always on the side with the smaller bound:
		// bounds grow outward on both sides, so the first one out of
		// reach ends the group.
		for lo, hi := mid-1, mid; lo >= 0 || hi < len(dc); {
			var k int
			if hi >= len(dc) || lo >= 0 && c.dqc-dc[lo] <= dc[hi]-c.dqc {
				k, lo = lo, lo-1
			} else {
				k, hi = hi, hi+1
			}
			if out(math.Abs(c.dqc - dc[k])) {
				break
			}
			try(ix.mem[base+k])
		}
	}
	return best, bestD
}
