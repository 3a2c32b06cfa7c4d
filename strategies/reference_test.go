package strategies

import (
	"math"
)

// refStrategy is a strategy as the reference sees it: plain data, no state.
type refStrategy struct {
	kind     string // "div", "dedup", "w", "bal"
	strength float64
	vec      []float32
	dim      int
	minDist  float64
	w        []float64
	counts   []float64
	classes  int
	target   []float64 // normalised
}

// refSelect is spec §2–§8 read literally, in float64: at every step every
// objective of every candidate is recomputed from S. Balancing uses
// log objective = −D (what exp(−D) means; literal exp would underflow).
func refSelect(rows, cand int, pre []int, n int, ss []refStrategy) []int {
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
			if inS[i] {
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
						sum := 0.0
						for k := 0; k < st.dim; k++ {
							d := float64(st.vec[i*st.dim+k]) - float64(st.vec[j*st.dim+k])
							sum += d * d
						}
						md = math.Min(md, math.Sqrt(sum))
					}
					if st.kind == "dedup" && md < st.minDist {
						ok = false
					}
					l = math.Log(md)
				case "w":
					l = math.Log(st.w[i])
				case "bal":
					nc := make([]float64, st.classes)
					m := 0.0
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
