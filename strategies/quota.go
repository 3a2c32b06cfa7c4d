package strategies

import "fmt"

// Quota is the rule "at most m per group" of spec §10 (max_per_group):
// each row belongs to some groups (a sample to the group of its value, a
// unit of spec §10 to the groups of its members' values); once m rows of S
// (preselected ones included) share a group of candidate i, i is no longer
// eligible. A row without a group (a null value) has no limit. Several
// quotas in Problem.Rules must all hold.
//
// Group counts only grow, so a candidate that became ineligible stays so,
// which the engine's heaps rely on (see Rule).
type Quota struct {
	// Row r's groups are codes[start[r]:start[r+1]] (distinct, dense
	// codes 0..groups-1); start is nil when every row has at most one
	// group, and then codes[r] is row r's group or -1.
	start  []int
	codes  []int32
	groups int
	max    int
	orig   []int32 // the caller's code of each dense code; nil: the same
}

// NewQuota returns the rule "at most max rows of S per group" where
// group[r] is row r's group code (the dictionary index of its value; any
// int32 >= 0) or -1 for a null value, which forms no group. group must
// cover every row of the problem, preselected rows outside the candidates
// included: they count. max must be at least 1.
func NewQuota(group []int32, max int) (*Quota, error) {
	if max < 1 {
		return nil, fmt.Errorf("quota: at most %d per group, must be at least 1", max)
	}
	for r, g := range group {
		if g < -1 {
			return nil, fmt.Errorf("quota: row %d has group code %d (codes are >= 0, or -1 for none)", r, g)
		}
	}
	codes, n, orig := denseCodes(group)
	return &Quota{codes: codes, groups: n, max: max, orig: orig}, nil
}

// denseCodes maps the codes >= 0 onto 0..n-1 (in order of first
// appearance when they are sparse, with orig mapping them back), keeping
// -1; small codes stay as they are (orig nil), counted in a slice.
func denseCodes(group []int32) (codes []int32, n int, orig []int32) {
	hi := int32(-1)
	for _, g := range group {
		hi = max(hi, g)
	}
	if int(hi) < 2*len(group)+1024 {
		return group, int(hi) + 1, nil
	}
	index := map[int32]int32{}
	out := make([]int32, len(group))
	for r, g := range group {
		if g < 0 {
			out[r] = -1
			continue
		}
		c, ok := index[g]
		if !ok {
			c = int32(len(index))
			index[g] = c
			orig = append(orig, g)
		}
		out[r] = c
	}
	return out, len(index), orig
}

// code returns the caller's code of dense code g.
func (q *Quota) code(g int32) int32 {
	if q.orig != nil {
		return q.orig[g]
	}
	return g
}

// Max returns m, the most rows of S a group may hold.
func (q *Quota) Max() int { return q.max }

func (q *Quota) rows() int {
	if q.start != nil {
		return len(q.start) - 1
	}
	return len(q.codes)
}

// groupsOf returns row r's dense group codes.
func (q *Quota) groupsOf(r int) []int32 {
	if q.start != nil {
		return q.codes[q.start[r]:q.start[r+1]]
	}
	if q.codes[r] < 0 {
		return nil
	}
	return q.codes[r : r+1]
}

// Start returns fresh state; the quota needs a group for every row.
func (q *Quota) Start(rows, candidates int) (RuleState, error) {
	if q.rows() < rows {
		return nil, fmt.Errorf("quota: group codes for %d rows, need %d", q.rows(), rows)
	}
	return &quotaState{q: q, n: make([]int32, q.groups)}, nil
}

type quotaState struct {
	q *Quota
	n []int32 // rows of S per group
}

func (s *quotaState) Eligible(i int) bool {
	if s.q.start == nil { // the common case, without a slice
		g := s.q.codes[i]
		return g < 0 || int(s.n[g]) < s.q.max
	}
	for _, g := range s.q.groupsOf(i) {
		if int(s.n[g]) >= s.q.max {
			return false
		}
	}
	return true
}

func (s *quotaState) Add(row int) {
	for _, g := range s.q.groupsOf(row) {
		s.n[g]++
	}
}
