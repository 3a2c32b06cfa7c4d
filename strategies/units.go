package strategies

import (
	"cmp"
	"fmt"
	"slices"
)

// Units are the units of group selection (spec §10): groups of candidates,
// or consecutive runs of a group's candidates (video clips), picked whole.
// A selection over units is an ordinary Problem whose rows are units:
//
//	u, _ := GroupUnits(group, order, 16, candidates, preselected)
//	div, _ := NewDiversity(u.Vectors(vectors, dim), dim, 1)
//	res, _ := Select(ctx, Problem{Rows: u.Len(), Candidates: u.Candidates(),
//		Preselected: u.Preselected(), Picks: n, Strategies: []Strategy{div}})
//
// and the result tag holds u.Members(p.Row) of every pick p. n counts units.
//
// Units 0..Candidates()-1 are made of candidates, ordered by their first
// member (the member with the lowest candidate index), so that ties go to
// the unit whose first member has the lowest index. After them come
// singleton units, one for each preselected sample that is in no candidate
// unit (outside the candidates, with a null group value, or in a dropped
// trailing run): such samples still count as selected, as in spec §8.
//
// A unit's data are derived from its members' (Vectors: mean; Weights:
// mean; Counts: sum; Objects: all of them). Rules: NewUnitQuota counts
// units (a unit counts once in each group of its members), UnitRule lifts a
// sample rule (a unit is eligible while all its members are).
type Units struct {
	start      []int // unit u's members are members[start[u]:start[u+1]]
	members    []int // sample rows, ascending within a unit
	candidates int   // candidate units
	samples    int   // sample rows the units refer to (largest + 1)
	sampleCand int   // sample candidates
	pre        []int // preselected units, in S order
	unit       []int32
}

// GroupUnits builds the units of spec §10 over the candidate sample rows
// 0..candidates-1. group[i] is candidate i's group code (any int32 >= 0;
// -1 for a null value: the candidate is in no unit and cannot be picked).
// With length 0 every group is one unit. With length L >= 2 each group is
// cut into consecutive runs of exactly L candidates in order of order[i]
// (ties by candidate index; order may be nil for candidate order) and a
// trailing shorter run is dropped. Callers pass order keys as int64: a
// column's values, or their ranks for other types; a null order value is
// the caller's to reject or rank.
//
// preselected are sample rows (candidates or not) in S order: each makes
// its unit count as selected (Preselected lists each unit once, at its
// first preselected member); one in no unit becomes a singleton unit.
func GroupUnits(group []int32, order []int64, length, candidates int, preselected []int) (*Units, error) {
	switch {
	case candidates < 0 || len(group) < candidates:
		return nil, fmt.Errorf("units: %d group codes for %d candidates", len(group), candidates)
	case order != nil && len(order) < candidates:
		return nil, fmt.Errorf("units: %d order keys for %d candidates", len(order), candidates)
	case length < 0 || length == 1:
		return nil, fmt.Errorf("units: sequence length %d must be at least 2 (or 0 for whole groups)", length)
	}
	for i, g := range group[:candidates] {
		if g < -1 {
			return nil, fmt.Errorf("units: candidate %d has group code %d (codes are >= 0, or -1 for none)", i, g)
		}
	}
	// Candidates in (group, order, index) order: each group a run.
	idx := make([]int, 0, candidates)
	for i, g := range group[:candidates] {
		if g >= 0 {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(group[a], group[b]); c != 0 {
			return c
		}
		if order != nil {
			if c := cmp.Compare(order[a], order[b]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	var runs [][]int // each unit's members, sharing idx's array
	for lo := 0; lo < len(idx); {
		hi := lo
		for hi < len(idx) && group[idx[hi]] == group[idx[lo]] {
			hi++
		}
		if length == 0 {
			runs = append(runs, idx[lo:hi])
		} else {
			for s := lo; s+length <= hi; s += length {
				runs = append(runs, idx[s:s+length])
			}
		}
		lo = hi
	}
	for _, r := range runs {
		slices.Sort(r) // members ascending: the first member is the lowest index
	}
	slices.SortFunc(runs, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
	u := &Units{start: make([]int, 1, len(runs)+1), candidates: len(runs), sampleCand: candidates,
		samples: candidates, unit: make([]int32, candidates)}
	for i := range u.unit {
		u.unit[i] = -1
	}
	for k, r := range runs {
		for _, m := range r {
			u.unit[m] = int32(k)
		}
		u.members = append(u.members, r...)
		u.start = append(u.start, len(u.members))
	}
	seen := map[int]bool{}
	isPre := make(map[int]bool, len(preselected))
	for _, r := range preselected {
		if r < 0 {
			return nil, fmt.Errorf("units: preselected row %d is negative", r)
		}
		if isPre[r] {
			return nil, fmt.Errorf("units: preselected row %d listed twice", r)
		}
		isPre[r] = true
		k := -1
		if r < candidates {
			k = int(u.unit[r])
		}
		if k < 0 { // in no unit: a singleton of its own
			k = u.Len()
			u.members = append(u.members, r)
			u.start = append(u.start, len(u.members))
			u.samples = max(u.samples, r+1)
		}
		if !seen[k] {
			seen[k] = true
			u.pre = append(u.pre, k)
		}
	}
	return u, nil
}

// Len returns the number of units: candidate units, then the singleton
// units of preselected samples in no candidate unit. It is the Rows of the
// units' Problem.
func (u *Units) Len() int { return len(u.start) - 1 }

// Candidates returns the number of candidate units, the Candidates of the
// units' Problem.
func (u *Units) Candidates() int { return u.candidates }

// Members returns unit k's sample rows, ascending (shared, do not modify).
func (u *Units) Members(k int) []int { return u.members[u.start[k]:u.start[k+1]] }

// Preselected returns the units that count as selected, in S order: the
// Preselected of the units' Problem.
func (u *Units) Preselected() []int { return u.pre }

// Unit returns the candidate unit that candidate sample row i belongs to,
// or -1 (a null group value, a dropped trailing run, or not a candidate).
func (u *Units) Unit(i int) int {
	if i < 0 || i >= len(u.unit) {
		return -1
	}
	return int(u.unit[i])
}

// Samples returns the sample rows the units refer to: the sample
// problem's Rows at least (the largest member row + 1).
func (u *Units) Samples() int { return u.samples }

// Vectors returns the units' vectors: each the mean of its members'
// vectors (row-major, dim values a sample row), summed in float64 in member
// order.
func (u *Units) Vectors(vectors []float32, dim int) []float32 {
	out := make([]float32, u.Len()*dim)
	sum := make([]float64, dim)
	for k := 0; k < u.Len(); k++ {
		clear(sum)
		m := u.Members(k)
		for _, r := range m {
			for j, x := range vectors[r*dim : (r+1)*dim] {
				sum[j] += float64(x)
			}
		}
		for j, s := range sum {
			out[k*dim+j] = float32(s / float64(len(m)))
		}
	}
	return out
}

// Weights returns the units' weights: each the mean of its members'.
// Members beyond len(w) (preselected samples outside the candidates, which
// need no weight) count as 0.
func (u *Units) Weights(w []float64) []float64 {
	out := make([]float64, u.Len())
	for k := range out {
		m := u.Members(k)
		s := 0.0
		for _, r := range m {
			if r < len(w) {
				s += w[r]
			}
		}
		out[k] = s / float64(len(m))
	}
	return out
}

// Counts returns the units' balancing rows: each the sum of its members'
// count rows (classes values a sample row).
func (u *Units) Counts(counts []float64, classes int) []float64 {
	out := make([]float64, u.Len()*classes)
	for k := 0; k < u.Len(); k++ {
		o := out[k*classes : (k+1)*classes]
		for _, r := range u.Members(k) {
			for c, v := range counts[r*classes : (r+1)*classes] {
				o[c] += v
			}
		}
	}
	return out
}

// Objects returns the units' objects for NewSubpartDiversity: unit k holds
// every object of its members, in member order. start and vectors describe
// the samples' objects as NewSubpartDiversity takes them (for u.Samples()
// rows at least); the vectors are copied.
func (u *Units) Objects(start []int, vectors []float32, dim int) ([]int, []float32) {
	ustart := make([]int, 1, u.Len()+1)
	var out []float32
	for k := 0; k < u.Len(); k++ {
		for _, r := range u.Members(k) {
			out = append(out, vectors[start[r]*dim:start[r+1]*dim]...)
		}
		ustart = append(ustart, len(out)/dim)
	}
	return ustart, out
}

// NewUnitQuota returns the quota over units: group holds the code of each
// sample row the units refer to (as for NewQuota; u.Samples() rows, the
// preselected samples outside the candidates included) and unit u belongs
// to every distinct group of its members. Picking a unit counts once in each of its groups, so max
// counts units, not samples: "at most 3 clips per video".
func NewUnitQuota(group []int32, u *Units, max int) (*Quota, error) {
	if max < 1 {
		return nil, fmt.Errorf("quota: at most %d per group, must be at least 1", max)
	}
	for r, g := range group {
		if g < -1 {
			return nil, fmt.Errorf("quota: row %d has group code %d (codes are >= 0, or -1 for none)", r, g)
		}
	}
	dense, n, orig := denseCodes(group)
	q := &Quota{start: make([]int, 1, u.Len()+1), groups: n, max: max, orig: orig}
	for k := 0; k < u.Len(); k++ {
		lo := len(q.codes)
		for _, m := range u.Members(k) {
			if m >= len(dense) {
				return nil, fmt.Errorf("quota: %d group codes, but unit %d has sample row %d", len(dense), k, m)
			}
			if c := dense[m]; c >= 0 && !slices.Contains(q.codes[lo:], c) {
				q.codes = append(q.codes, c)
			}
		}
		q.start = append(q.start, len(q.codes))
	}
	return q, nil
}

// UnitRule lifts a rule over sample rows to units: a unit is eligible while
// every member is, and a unit added to S adds each member. Use it for
// ExcludeNear (no member within reach of the excluded tag); quotas count
// units with NewUnitQuota instead.
func UnitRule(r Rule, u *Units) Rule { return unitRule{r, u} }

type unitRule struct {
	r Rule
	u *Units
}

func (ur unitRule) Start(rows, candidates int) (RuleState, error) {
	if rows > ur.u.Len() || candidates > ur.u.Candidates() {
		return nil, fmt.Errorf("unit rule: %d rows and %d candidates, but %d units and %d candidate units",
			rows, candidates, ur.u.Len(), ur.u.Candidates())
	}
	s, err := ur.r.Start(ur.u.samples, ur.u.sampleCand)
	if err != nil {
		return nil, err
	}
	base := unitState{s, ur.u}
	if _, ok := s.(costlyRule); ok {
		return costlyUnitState{base}, nil
	}
	return base, nil
}

type unitState struct {
	s RuleState
	u *Units
}

func (us unitState) Eligible(k int) bool {
	for _, m := range us.u.Members(k) {
		if !us.s.Eligible(m) {
			return false
		}
	}
	return true
}

func (us unitState) Add(k int) {
	for _, m := range us.u.Members(k) {
		us.s.Add(m)
	}
}

func (us unitState) setNaive(naive bool) {
	if nr, ok := us.s.(naiveRule); ok {
		nr.setNaive(naive)
	}
}

type costlyUnitState struct{ unitState }

func (costlyUnitState) costly() {}
