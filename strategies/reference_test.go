package strategies

import (
	"math"
)

// refStrategy is a strategy as the reference sees it: plain data, no state.
type refStrategy struct {
	kind     string // "div", "dedup", "w", "bal", "sub"
	strength float64
	vec      []float32
	dim      int
	minDist  float64
	w        []float64
	counts   []float64
	classes  int
	target   []float64 // normalised
	withZero bool      // bal: include_unlabeled
	objStart []int     // sub: row r's objects are objStart[r]..objStart[r+1]-1 of vec
}

// refRule is an eligibility rule as the reference sees it.
type refRule struct {
	kind     string    // "quota", "exclude"
	groups   [][]int32 // quota: each row's groups
	max      int
	vec      []float32 // exclude: the rows' vectors
	dim      int
	excluded []float32
	minDist  float64
	tag      map[int]bool
	members  [][]int // exclude over units: row i is eligible if all members[i] are
}

// refDist is the Euclidean distance in float64, literally.
func refDist(a, b []float32) float64 {
	sum := 0.0
	for k := range a {
		d := float64(a[k]) - float64(b[k])
		sum += d * d
	}
	return math.Sqrt(sum)
}

// refSelect is spec §2–§11 read literally, in float64: at every step every
// objective of every candidate and every rule is recomputed from S.
// Balancing uses log objective = −D (what exp(−D) means; literal exp would
// underflow).
func refSelect(rows, cand int, pre []int, n int, ss []refStrategy, rules ...refRule) []int {
	S := append([]int(nil), pre...)
	inS := map[int]bool{}
	for _, r := range pre {
		inS[r] = true
	}
	var picks []int
	for len(picks) < n {
		type sc struct {
			inf int
			log float64
		}
		scores := make([]*sc, cand)
		for i := 0; i < cand; i++ {
			if inS[i] || !refEligible(i, S, rules) {
				continue
			}
			s := &sc{}
			ok := true
			for _, st := range ss {
				var l float64
				switch st.kind {
				case "div", "dedup":
					if len(S) == 0 {
						l = 0
						break
					}
					md := math.Inf(1)
					for _, j := range S {
						md = math.Min(md, refDist(st.vec[i*st.dim:(i+1)*st.dim], st.vec[j*st.dim:(j+1)*st.dim]))
					}
					if st.kind == "dedup" && md < st.minDist {
						ok = false
					}
					l = math.Log(md)
				case "sub":
					l = math.Log(refSubpart(st, S, i))
				case "w":
					l = math.Log(st.w[i])
				case "bal":
					nc := make([]float64, st.classes)
					m := 0.0
					zero := true
					for c := 0; c < st.classes; c++ {
						zero = zero && st.counts[i*st.classes+c] == 0
					}
					if zero && !st.withZero && st.strength != 0 {
						ok = false // spec §7: an all-zero row is not eligible
					}
					for _, j := range append(append([]int(nil), S...), i) {
						for c := 0; c < st.classes; c++ {
							nc[c] += st.counts[j*st.classes+c]
							m += st.counts[j*st.classes+c]
						}
					}
					d := 0.0
					for c := range nc {
						d += math.Abs(nc[c] - st.target[c]*m)
					}
					l = -d
				}
				if st.strength == 0 {
					continue
				}
				switch {
				case math.IsInf(l, 0):
					if (l > 0) == (st.strength > 0) {
						s.inf++
					} else {
						s.inf--
					}
				default:
					s.log += st.strength * l
				}
			}
			if ok {
				scores[i] = s
			}
		}
		var best *sc
		for _, s := range scores {
			if s != nil && (best == nil || s.inf > best.inf || s.inf == best.inf && s.log > best.log) {
				best = s
			}
		}
		if best == nil {
			break
		}
		tol := 1e-9 * math.Max(1, math.Abs(best.log))
		for i, s := range scores {
			if s != nil && s.inf == best.inf && s.log >= best.log-tol {
				picks = append(picks, i)
				S = append(S, i)
				inS[i] = true
				break
			}
		}
	}
	return picks
}

// refSubpart is spec §11's object-level objective: 0 without objects, 1
// while no object is selected, else the max over i's objects of the
// distance to the nearest selected object.
func refSubpart(st refStrategy, S []int, i int) float64 {
	obj := func(a int) []float32 { return st.vec[a*st.dim : (a+1)*st.dim] }
	if st.objStart[i] == st.objStart[i+1] {
		return 0
	}
	var B []int
	for _, j := range S {
		for b := st.objStart[j]; b < st.objStart[j+1]; b++ {
			B = append(B, b)
		}
	}
	if len(B) == 0 {
		return 1
	}
	m := 0.0
	for a := st.objStart[i]; a < st.objStart[i+1]; a++ {
		md := math.Inf(1)
		for _, b := range B {
			md = math.Min(md, refDist(obj(a), obj(b)))
		}
		m = math.Max(m, md)
	}
	return m
}

// refEligible applies spec §10's rules literally.
func refEligible(i int, S []int, rules []refRule) bool {
	for _, r := range rules {
		switch r.kind {
		case "quota":
			for _, g := range r.groups[i] {
				n := 0
				for _, j := range S {
					for _, h := range r.groups[j] {
						if h == g {
							n++
						}
					}
				}
				if n >= r.max {
					return false
				}
			}
		case "exclude":
			ms := []int{i}
			if r.members != nil {
				ms = r.members[i]
			}
			for _, m := range ms {
				if r.tag[m] {
					return false
				}
				for e := 0; e < len(r.excluded)/r.dim; e++ {
					if refDist(r.vec[m*r.dim:(m+1)*r.dim], r.excluded[e*r.dim:(e+1)*r.dim]) < r.minDist {
						return false
					}
				}
			}
		}
	}
	return true
}
