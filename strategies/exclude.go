package strategies

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// ExcludeNear is the rule "keep away from a tag" of spec §10
// (exclude_near): a candidate is eligible only if its distance to every
// excluded vector (the embedded samples carrying the tag) is >= the
// minimum distance, and the candidates carrying the tag are never eligible.
// Distances are those of the engine (float32 vectors, float64 sums).
//
// The rule is exact and lazy. The excluded vectors are put once in a
// vantage-point tree (a hierarchy of balls: each node splits its vectors
// by their distance to a vantage vector at the median, and records the
// range of distances on each side); a candidate is checked only when it
// would win a pick (see costlyRule), and the check descends only into the
// sides whose distance range, by the triangle inequality, may hold a
// vector within min_distance, stopping at the first vector within reach.
// With min_distance small against the spread of the distances that is
// about one path, a few dozen distances. The tree takes n·log n distances
// to build (grouping around k centers took n·k, seconds for 100,000
// vectors). Every skip carries the 1e-9 relative margin of the diversity
// skips, so the answers are those of a check of every excluded vector.
type ExcludeNear struct {
	vectors []float32 // the problem rows' vectors
	dim     int
	minDist float64
	inTag   []int // sorted candidate rows that carry the tag
	ix      *vpTree
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
// distance to the excluded tag"); it searches the same tree, exactly.
func (x *ExcludeNear) Nearest(r int) (int, float64) {
	return x.index().nearest(x.row(r))
}

// Excluded returns the number of excluded vectors.
func (x *ExcludeNear) Excluded() int { return len(x.excluded) / x.dim }

func (x *ExcludeNear) index() *vpTree {
	x.once.Do(func() { x.ix = newVPTree(x.excluded, x.dim, vpLeaf) })
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

// vpTree is a vantage-point tree over the rows of v. An inner node has a
// vantage row vp and the rows of its two children, whose distances to vp
// lie in [lmin, lmax] (left, the nearer half) and [rmin, rmax] (right); a
// leaf (vp < 0) holds items[lo:hi]. Node 0 is the root.
type vpTree struct {
	v     []float32
	dim   int
	nodes []vpNode
	items []int32
}

type vpNode struct {
	vp, left, right int32 // children -1 when empty
	lo, hi          int32 // a leaf's items
	lmin, lmax      float64
	rmin, rmax      float64
}

// vpLeaf is the most rows a leaf holds: below it, measuring them all is
// cheaper than another vantage distance and its bookkeeping.
const vpLeaf = 8

// newVPTree builds the tree over the n rows of v (dim values a row) with
// leaves of at most leaf rows. Vantage rows are drawn by a fixed-seed
// generator in build order, so the tree is the same on every run.
func newVPTree(v []float32, dim, leaf int) *vpTree {
	n := len(v) / dim
	t := &vpTree{v: v, dim: dim, items: make([]int32, n)}
	for i := range t.items {
		t.items[i] = int32(i)
	}
	if n == 0 {
		return t
	}
	d := make([]float64, n)
	t.build(0, n, leaf, d, rand.New(rand.NewPCG(0x5eed, 0x7ee)))
	return t
}

func (t *vpTree) row(r int32) []float32 { return t.v[int(r)*t.dim : (int(r)+1)*t.dim] }

// build makes the node over items[lo:hi] (non-empty) and returns its
// index; d is scratch for the items' distances.
func (t *vpTree) build(lo, hi, leaf int, d []float64, r *rand.Rand) int32 {
	at := int32(len(t.nodes))
	t.nodes = append(t.nodes, vpNode{vp: -1, left: -1, right: -1, lo: int32(lo), hi: int32(hi)})
	if hi-lo <= leaf {
		return at
	}
	items := t.items[lo:hi]
	k := r.IntN(len(items))
	items[0], items[k] = items[k], items[0]
	vp, rest := items[0], items[1:]
	c := t.row(vp)
	dr := d[lo+1 : hi]
	const size = 512
	parallel(workerCount(0), chunks(len(rest), size), func(task int) {
		for i := task * size; i < min((task+1)*size, len(rest)); i++ {
			dr[i] = dist(t.row(rest[i]), c)
		}
	})
	// Sort rest by (distance, row): the nearer half goes left.
	idx := make([]int, len(rest))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if dr[a] != dr[b] {
			if dr[a] < dr[b] {
				return -1
			}
			return 1
		}
		return int(rest[a] - rest[b])
	})
	sortedRows := make([]int32, len(rest))
	sortedD := make([]float64, len(rest))
	for i, j := range idx {
		sortedRows[i], sortedD[i] = rest[j], dr[j]
	}
	copy(rest, sortedRows)
	copy(dr, sortedD)
	half := len(rest) / 2
	nd := vpNode{vp: vp, left: -1, right: -1}
	if half > 0 {
		nd.lmin, nd.lmax = dr[0], dr[half-1]
	}
	nd.rmin, nd.rmax = dr[half], dr[len(rest)-1]
	if half > 0 {
		nd.left = t.build(lo+1, lo+1+half, leaf, d, r)
	}
	nd.right = t.build(lo+1+half, hi, leaf, d, r)
	t.nodes[at] = nd
	return at
}

// farFromAll is the straightforward check: every excluded vector.
func (t *vpTree) farFromAll(q []float32, minDist float64) (bool, int64) {
	n := len(t.v) / t.dim
	for r := 0; r < n; r++ {
		if dist(q, t.row(int32(r))) < minDist {
			return false, int64(r + 1)
		}
	}
	return true, int64(n)
}

// reach widens minDist by the skip margin relative to the distances a
// bound is made of (their rounding is about dim·2^-53 relative).
func reach(minDist, a, b float64) float64 {
	return minDist*skipMargin + 2*(skipMargin-1)*(a+b)
}

// farFrom reports whether every row is at distance >= minDist (> 0) from
// q, and the number of distances it computed. A side whose rows e have
// d(e,vp) in [lo, hi] holds none within reach of q when d(q,vp) − hi >=
// minDist or lo − d(q,vp) >= minDist (triangle inequality); the walk skips
// such sides and stops at the first row within reach.
func (t *vpTree) farFrom(q []float32, minDist float64) (bool, int64) {
	if len(t.nodes) == 0 {
		return true, 0
	}
	var work int64
	var stackBuf [64]int32
	stack := append(stackBuf[:0], 0)
	for len(stack) > 0 {
		nd := &t.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if nd.vp < 0 {
			for _, e := range t.items[nd.lo:nd.hi] {
				work++
				if distUpTo(q, t.row(e), minDist) < minDist {
					return false, work
				}
			}
			continue
		}
		work++
		dq := dist(q, t.row(nd.vp))
		if dq < minDist {
			return false, work
		}
		if nd.right >= 0 && !(dq-nd.rmax >= reach(minDist, dq, nd.rmax) || nd.rmin-dq >= reach(minDist, dq, nd.rmin)) {
			stack = append(stack, nd.right)
		}
		if nd.left >= 0 && !(dq-nd.lmax >= reach(minDist, dq, nd.lmax) || nd.lmin-dq >= reach(minDist, dq, nd.lmin)) {
			stack = append(stack, nd.left)
		}
	}
	return true, work
}

// nearest returns the row nearest to q (the lowest row among equally near
// ones) and its distance, or -1 and +Inf without rows: branch and bound,
// the side with the smaller lower bound first, a side skipped once its
// bound exceeds the best distance (with the skip margin, so no tie is
// lost).
func (t *vpTree) nearest(q []float32) (int, float64) {
	best, bestD := -1, math.Inf(1)
	if len(t.nodes) == 0 {
		return best, bestD
	}
	try := func(r int32, d float64) {
		if d < bestD || d == bestD && int(r) < best {
			best, bestD = int(r), d
		}
	}
	out := func(bound float64) bool { return bound > bestD*skipMargin+(skipMargin-1)*bound }
	var visit func(n int32, bound float64)
	visit = func(n int32, bound float64) {
		if n < 0 || out(bound) {
			return
		}
		nd := &t.nodes[n]
		if nd.vp < 0 {
			for _, e := range t.items[nd.lo:nd.hi] {
				try(e, dist(q, t.row(e)))
			}
			return
		}
		dq := dist(q, t.row(nd.vp))
		try(nd.vp, dq)
		lb := max(0, nd.lmin-dq, dq-nd.lmax)
		rb := max(0, nd.rmin-dq, dq-nd.rmax)
		if nd.left < 0 {
			lb = math.Inf(1)
		}
		if lb <= rb {
			visit(nd.left, lb)
			visit(nd.right, rb)
		} else {
			visit(nd.right, rb)
			visit(nd.left, lb)
		}
	}
	visit(0, 0)
	return best, bestD
}
