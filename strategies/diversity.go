package strategies

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
)

// Diversity is the diversity strategy of spec §3 (greedy k-center over the
// raw vectors of one embedding model) and, built by NewDeduplication, the
// deduplication strategy of spec §4.
type Diversity struct {
	v        Vectors
	strength float64
	dedup    bool
	minDist  float64
}

// NewDiversity returns a diversity strategy over v (row i is the embedding
// of row i of the problem). Vectors must be finite; unless v.Finite
// vouches for them they are checked (on all cores) and a *ValueError names
// the first bad row.
func NewDiversity(v Vectors, strength float64) (*Diversity, error) {
	return newDiversity("diversity", v, strength)
}

func newDiversity(what string, v Vectors, strength float64) (*Diversity, error) {
	if err := v.checkShape(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkStrength(strength); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := v.validate(what); err != nil {
		return nil, err
	}
	return &Diversity{v: v, strength: strength}, nil
}

// NewDeduplication returns a diversity strategy that also makes a
// candidate ineligible once S is non-empty and its distance to S is below
// minDistance (spec §4).
func NewDeduplication(v Vectors, minDistance, strength float64) (*Diversity, error) {
	if math.IsNaN(minDistance) || math.IsInf(minDistance, 0) || minDistance < 0 {
		return nil, fmt.Errorf("deduplication: min_distance %v must be finite and >= 0", minDistance)
	}
	d, err := newDiversity("deduplication", v, strength)
	if err != nil {
		return nil, err
	}
	d.dedup = true
	d.minDist = minDistance
	return d, nil
}

// Strength returns the strategy's exponent.
func (d *Diversity) Strength() float64 { return d.strength }

// Rows returns the number of vectors.
func (d *Diversity) Rows() int { return d.v.Rows() }

// dist is the engine's distance between rows i and j.
func (d *Diversity) dist(i, j int) float64 { return d.v.distTo(i, d.v.row32(j, nil)) }

// Start returns fresh state; it needs a vector for every row of the problem.
func (d *Diversity) Start(rows, candidates int) (State, error) {
	if d.Rows() < rows {
		return nil, fmt.Errorf("diversity: %d vectors for %d rows", d.Rows(), rows)
	}
	s := &divState{d: d, cand: candidates, empty: true, workers: 1, md: make([]float64, candidates), grp: make([]int32, candidates), cfBudget: centerBudget}
	for i := range s.md {
		s.md[i] = math.Inf(1)
	}
	all := make([]int32, candidates)
	for i := range all {
		all[i] = int32(i)
	}
	// Until S has a sample every candidate sits in one group with no
	// center and an infinite radius: the first Add measures them all.
	s.groups = []group{{center: -1, radius: math.Inf(1), members: all}}
	return s, nil
}

// prefetchAhead is how many distances ahead rows are prefetched.
const prefetchAhead = 4

// tsize is the number of group members one task of the fast update takes.
const tsize = 1024

// skipMargin widens the triangle-inequality skip tests so that float
// rounding of the distances (relative error about dim·2^-53, far below
// 1e-9) can never skip a candidate whose computed distance to the new
// center would have been smaller than its current one.
const skipMargin = 1 + 1e-9

// group is the set of candidates whose nearest selected sample is center.
// radius bounds the members' distances to center from above.
type group struct {
	center  int32
	radius  float64
	members []int32
}

// set gives gr its members (a prefix of its old list, or a list of its
// own) and their radius. An empty group drops its list; one that shrank
// below half its capacity is copied, so the rest can be freed (a list
// copies at most once per halving, so the copies cost less than the
// walks that shrank it; at a quarter, spare room was 1.5 bytes a
// candidate at the last of 10,000 picks from 1M).
func (gr *group) set(members []int32, radius float64) {
	switch {
	case len(members) == 0:
		members = nil
	case len(members) < cap(members)/2:
		members = append([]int32(nil), members...)
	}
	gr.members, gr.radius = members, radius
}

// divTask is a chunk [lo, hi) of one group's members, processed by one
// worker: it partitions the chunk into kept members (first kept entries) and
// members that moved to the new center or became ineligible (the rest).
type divTask struct {
	g, lo, hi int
	kept      int
	radius    float64 // max distance of the kept members to the old center
}

// divState is the per-run state: md[i] is candidate i's distance to S.
//
// The fast update (naive false) keeps the candidates grouped by nearest
// center. With c the new center and a an old one, the triangle inequality
// gives d(x,c) >= d(a,c) - d(x,a), so d(x,c) >= d(x,a) whenever
// d(a,c) >= 2·d(x,a): such x keeps its distance. A whole group is skipped
// when d(a,c) >= 2·radius(a). Every distance that is computed uses the same
// kernel as the straightforward update, so md is bit-identical for every
// eligible candidate.
type divState struct {
	d       *Diversity
	cand    int
	md      []float64
	empty   bool
	workers int
	naive   bool
	stream  int // 0: choose per update, 1: always addStream, -1: never (tests)

	groups  []group
	grp     []int32 // group of each candidate, -1 once ineligible for good
	active  []bool  // per group: may the new center take members from it
	actList []int32
	lost    []int32 // per group: members that left it in this update
	dac     []float64
	tasks   []divTask
	work    int64     // distance computations done, for benchmarks
	def     *deferred // centers not yet applied to every candidate
	// ctx, when set, stops a deferred pass between windows: the engine
	// then returns ctx's error and the state is never read again.
	ctx context.Context
	// cf holds the rows of the first groups' centers one after another
	// (within cfBudget), so the per-pick pass over the centers streams
	// them instead of reading one scattered row each.
	cf       []float32
	cfBudget int // floats a candidate cf may take
	// cbuf holds the newest center's row as float32 (float16 data).
	cbuf []float32
}

// centerBudget is how many floats a candidate the contiguous copies of
// center rows may take (24 bytes), keeping the engine's state under 64
// bytes a candidate; sharedCenterBudget (8 bytes) applies when other
// strategies keep per-candidate state too (weights take 16 bytes).
const (
	centerBudget       = 6
	sharedCenterBudget = 2
)

// addCenterRow appends group g's center row to cf while the budget allows.
func (s *divState) addCenterRow(g int, row int) {
	dim := s.d.v.Dim
	budget := s.cfBudget * s.cand
	if g == 1 && len(s.cf) == 0 && dim <= budget {
		s.cf = append(s.cf, make([]float32, dim)...) // group 0 has no center
	}
	if len(s.cf) != g*dim || len(s.cf)+dim > budget {
		return
	}
	n := len(s.cf)
	if n+dim > cap(s.cf) {
		// Double, but never past the budget: the last doubling of a
		// plain append could take up to twice it.
		c := make([]float32, n, min(max(2*cap(s.cf), 64*dim), budget/dim*dim))
		copy(c, s.cf)
		s.cf = c
	}
	s.cf = s.cf[:n+dim]
	s.d.v.Row(row, s.cf[n:])
}

// inCF reports whether group g's center row is in cf.
func (s *divState) inCF(g int) bool { return (g+1)*s.d.v.Dim <= len(s.cf) }

// centerDist returns the distance from group g's center to c, reading the
// center's row from cf when it is there (the same values, so the same
// distance).
func (s *divState) centerDist(g int, c []float32) float64 {
	if dim := s.d.v.Dim; s.inCF(g) {
		return dist(s.cf[g*dim:(g+1)*dim], c)
	}
	return s.d.v.distTo(int(s.groups[g].center), c)
}

// centerFar32 is farEnough32 from group g's center to c.
func (s *divState) centerFar32(g int, c []float32, limit float64) bool {
	if dim := s.d.v.Dim; s.inCF(g) {
		return farEnough32(s.cf[g*dim:(g+1)*dim], c, limit)
	}
	return s.d.v.farEnough32(int(s.groups[g].center), c, limit)
}

// newCenter returns row's values as float32: the matrix row itself, or
// for float16 data a converted copy in a buffer that lives until the next
// call.
func (s *divState) newCenter(row int) []float32 {
	s.cbuf = s.d.v.row32(row, s.cbuf)
	return s.cbuf
}

func (s *divState) Objective(i int) float64 {
	if s.empty {
		return 1
	}
	return s.current(i)
}

func (s *divState) Eligible(i int) bool {
	return !s.d.dedup || s.empty || s.current(i) >= s.d.minDist
}

// distances is the number of exact distances computed so far.
func (s *divState) distances() int64 {
	if s.def != nil {
		return s.work + s.def.work.Load()
	}
	return s.work
}

func (s *divState) Add(row int) {
	switch {
	case s.naive:
		s.addNaive(row)
	case s.def != nil:
		s.addDeferred(row)
	default:
		s.addFast(row)
	}
	s.empty = false
}

// addNaive is the straightforward update: every candidate's distance to
// the new sample.
func (s *divState) addNaive(row int) {
	c := s.newCenter(row)
	const size = 2048
	parallel(s.workers, chunks(s.cand, size), func(t int) {
		lo, hi := t*size, min((t+1)*size, s.cand)
		for x := lo; x < hi; x++ {
			if d := s.d.v.distTo(x, c); d < s.md[x] {
				s.md[x] = d
			}
		}
	})
	s.work += int64(s.cand)
}

func (s *divState) addFast(row int) {
	c := s.newCenter(row)
	// Distances from the new center to the centers of non-empty groups;
	// +Inf where a float32 bound already proves d >= 2·radius (the group
	// cannot lose a member, so no test needs the exact value). Late in a
	// run there are thousands of groups and this is most of a pick's work.
	if cap(s.dac) < len(s.groups) {
		s.dac = make([]float64, len(s.groups), 2*len(s.groups))
	}
	s.dac = s.dac[:len(s.groups)]
	const gsize = 64
	nch := chunks(len(s.groups), gsize)
	exact := make([]int64, nch)
	parallel(s.workers, nch, func(t int) {
		hi := min((t+1)*gsize, len(s.groups))
		for g := t * gsize; g < hi; g++ {
			if a := g + prefetchAhead; a < hi && s.groups[a].center >= 0 && len(s.groups[a].members) > 0 && !s.inCF(a) {
				s.d.v.prefetch(int(s.groups[a].center))
			}
			gr := &s.groups[g]
			switch {
			case len(gr.members) == 0:
				s.dac[g] = math.Inf(1)
			case gr.center < 0:
				s.dac[g] = 0
			case s.centerFar32(g, c, 2*gr.radius*skipMargin):
				// The float32 kernel proves the group out of reach at
				// half the cost (dac is only ever compared with
				// 2·radius of this group or less).
				exact[t]++
				s.dac[g] = math.Inf(1)
			default:
				exact[t]++
				s.dac[g] = s.centerDist(g, c)
			}
		}
	})
	for _, n := range exact {
		s.work += n
	}
	// Chunks of the groups that the new center may take members from.
	s.tasks = s.tasks[:0]
	for g := range s.groups {
		gr := &s.groups[g]
		if len(gr.members) == 0 || s.dac[g] >= 2*gr.radius*skipMargin {
			continue
		}
		for lo := 0; lo < len(gr.members); lo += tsize {
			s.tasks = append(s.tasks, divTask{g: g, lo: lo, hi: min(lo+tsize, len(gr.members))})
		}
	}
	active := 0
	for _, tk := range s.tasks {
		active += tk.hi - tk.lo
	}
	if s.stream > 0 || s.stream == 0 && active > s.cand/streamShare && s.cand > 4*tsize {
		s.addStream(row, c)
		return
	}
	var counts = make([]int64, len(s.tasks))
	parallel(s.workers, len(s.tasks), func(t int) {
		tk := &s.tasks[t]
		m := s.groups[tk.g].members[tk.lo:tk.hi]
		dac := s.dac[tk.g]
		// First the cheap skip tests, then the distances, with each row
		// fetched a few distances ahead: scattered rows would otherwise
		// cost a memory round trip each.
		var needBuf [tsize]int32
		need := needBuf[:0]
		for pos, x := range m {
			if !(dac >= 2*s.md[x]*skipMargin) {
				need = append(need, int32(pos))
			}
		}
		var movedFlag [tsize]bool
		for k, pos := range need {
			if k+prefetchAhead < len(need) {
				s.d.v.prefetch(int(m[need[k+prefetchAhead]]))
			}
			x := m[pos]
			dx := s.md[x]
			if d := s.d.v.distUpTo(int(x), c, dx); d < dx {
				s.md[x] = d
				movedFlag[pos] = true
			}
		}
		n := int64(len(need))
		// Stable partition: members stay in row order, so later walks
		// read rows in increasing address order.
		var movedBuf [tsize]int32
		moved := movedBuf[:0]
		kept := 0
		radius := 0.0
		for pos, x := range m {
			if movedFlag[pos] {
				moved = append(moved, x)
				continue
			}
			radius = math.Max(radius, s.md[x])
			m[kept] = x
			kept++
		}
		copy(m[kept:], moved)
		tk.kept = kept
		tk.radius = radius
		counts[t] = n
	})
	for _, n := range counts {
		s.work += n
	}
	// Serially, in task order: compact every touched group and collect the
	// moved members into the new center's group.
	nmoved := 0
	for _, tk := range s.tasks {
		nmoved += tk.hi - tk.lo - tk.kept
	}
	moved := make([]int32, 0, nmoved)
	newRadius := 0.0
	for t := 0; t < len(s.tasks); {
		g := s.tasks[t].g
		gr := &s.groups[g]
		w, radius := 0, 0.0
		for ; t < len(s.tasks) && s.tasks[t].g == g; t++ {
			tk := s.tasks[t]
			for _, x := range gr.members[tk.lo+tk.kept : tk.hi] {
				if s.d.dedup && s.md[x] < s.d.minDist {
					s.grp[x] = -1
					continue // ineligible for good: distances only shrink
				}
				s.grp[x] = int32(len(s.groups))
				moved = append(moved, x)
				newRadius = math.Max(newRadius, s.md[x])
			}
			copy(gr.members[w:], gr.members[tk.lo:tk.lo+tk.kept])
			w += tk.kept
			radius = math.Max(radius, tk.radius)
		}
		gr.set(gr.members[:w], radius)
	}
	slices.Sort(moved)
	if len(moved) < cap(moved)/2 {
		moved = append([]int32(nil), moved...) // most were ineligible
	}
	s.addGroup(group{center: int32(row), radius: newRadius, members: moved})
}

// addGroup appends the group of a new center.
func (s *divState) addGroup(g group) {
	s.addCenterRow(len(s.groups), int(g.center))
	s.groups = append(s.groups, g)
}

// streamShare: when more than 1/streamShare of the candidates sit in groups
// that the new center may take members from, addStream walks the
// candidates in row order instead of group by group. Reading rows in order
// lets the hardware prefetch them; scattered reads cost several times more
// per row. Both walks make the same decision for every candidate.
const streamShare = 8

// A window of denseWin rows in which more than 1/denseDen of the rows need
// a distance is walked whole by addStream (measured on 512 and 128
// dimensions: 1/3 is about where the whole walk gets cheaper).
const (
	denseWin = 256
	denseDen = 3
)

// addStream is the fast update as one pass over the candidates in row
// order, with the same skip tests as the group walk; in dense windows it
// also computes distances the tests made unnecessary (they change nothing),
// because reading every row in order is cheaper there than skipping.
func (s *divState) addStream(row int, c []float32) {
	newG := int32(len(s.groups))
	if cap(s.active) < len(s.groups) {
		s.active = make([]bool, len(s.groups), 2*len(s.groups))
		s.lost = make([]int32, len(s.groups), 2*len(s.groups))
	}
	s.active = s.active[:len(s.groups)]
	s.lost = s.lost[:len(s.groups)]
	for g := range s.groups {
		gr := &s.groups[g]
		s.active[g] = len(gr.members) > 0 && !(s.dac[g] >= 2*gr.radius*skipMargin)
		s.lost[g] = 0
	}
	const size = 4096
	nt := chunks(s.cand, size)
	moved := make([][]int32, nt)
	counts := make([]int64, nt)
	parallel(s.workers, nt, func(t int) {
		var mv []int32
		upd := func(x int32, d float64) {
			s.md[x] = d
			atomic.AddInt32(&s.lost[s.grp[x]], 1)
			if s.d.dedup && d < s.d.minDist {
				s.grp[x] = -1
				return
			}
			s.grp[x] = newG
			mv = append(mv, x)
		}
		// Windows of rows where many are needed are walked whole, every
		// member of an active group in row order with the full distance,
		// exactly as the scan walks them: the hardware prefetcher then
		// streams the rows, while a walk that skips rows or abandons
		// distances halfway breaks its streams and measured about twice
		// the cost per distance. Computing a distance that the skip tests
		// proved unnecessary changes nothing: the straightforward update
		// computes them all. (The need list is per window, not per task:
		// a task-sized array cost its clearing and stack growth.)
		var buf [denseWin]int32
		n := int64(0)
		hi := min((t+1)*size, s.cand)
		for lo := t * size; lo < hi; lo += denseWin {
			wh := min(lo+denseWin, hi)
			need := buf[:0]
			for x := lo; x < wh; x++ {
				if g := s.grp[x]; g >= 0 && s.active[g] && !(s.dac[g] >= 2*s.md[x]*skipMargin) {
					need = append(need, int32(x))
				}
			}
			if denseDen*len(need) > wh-lo {
				for x := int32(lo); x < int32(wh); x++ {
					if g := s.grp[x]; g >= 0 && s.active[g] {
						n++
						if d, dx := s.d.v.distTo(int(x), c), s.md[x]; d < dx {
							upd(x, d)
						}
					}
				}
				continue
			}
			// Few rows needed: each is a memory round trip unless
			// fetched a few distances ahead; they are far enough apart
			// that stopping a distance early saves its reads.
			sparse := 4*len(need) < wh-lo
			for k, x := range need {
				if sparse && k+prefetchAhead < len(need) {
					s.d.v.prefetch(int(need[k+prefetchAhead]))
				}
				n++
				if d, dx := s.d.v.distUpTo(int(x), c, s.md[x]), s.md[x]; d < dx {
					upd(x, d)
				}
			}
		}
		moved[t], counts[t] = mv, n
	})
	total := 0
	for t := range moved {
		s.work += counts[t]
		total += len(moved[t])
	}
	members := make([]int32, 0, total)
	newRadius := 0.0
	for _, mv := range moved {
		for _, x := range mv {
			newRadius = math.Max(newRadius, s.md[x])
		}
		members = append(members, mv...)
	}
	// Drop the members that moved or became ineligible from the groups
	// they left; the survivors' distances did not change, so groups that
	// lost none keep their lists and radii (while every group is active,
	// early on, walking them all cost a tenth of the update). Each group
	// owns its member list, so the groups are compacted in parallel.
	act := s.actList[:0]
	for g := range s.groups {
		if s.lost[g] > 0 {
			act = append(act, int32(g))
		}
	}
	s.actList = act
	parallel(s.workers, len(act), func(t int) {
		g := act[t]
		gr := &s.groups[g]
		w, radius := 0, 0.0
		for _, x := range gr.members {
			if s.grp[x] == g {
				gr.members[w] = x
				w++
				radius = max(radius, s.md[x])
			}
		}
		gr.set(gr.members[:w], radius)
	})
	s.addGroup(group{center: int32(row), radius: newRadius, members: members})
}
