package strategies

import "math"

// Score is a candidate's combined score in log space (spec §2): Inf is the
// number of +inf log factors minus the number of -inf ones, Log the sum of
// the finite log terms strength·log(objective). Scores compare by Inf first,
// then by Log.
type Score struct {
	Inf int
	Log float64
}

// Less reports whether s ranks strictly below t, comparing exactly (no
// tolerance): first by Inf, then by Log.
func (s Score) Less(t Score) bool {
	if s.Inf != t.Inf {
		return s.Inf < t.Inf
	}
	return s.Log < t.Log
}

// tieTol is the relative tie tolerance of spec §2.
const tieTol = 1e-9

// threshold returns the lowest Log that is tied with the best finite log
// score m: m - 1e-9·max(1, |m|).
func threshold(m float64) float64 {
	return m - tieTol*math.Max(1, math.Abs(m))
}

// tied reports whether s ties with the best score best (same Inf count,
// finite part within the tolerance).
func tied(s, best Score, thr float64) bool {
	return s.Inf == best.Inf && s.Log >= thr
}

// addLog adds the term strength·l to s, counting infinite logs instead of
// adding them. A zero strength makes the term inert, whatever l is (so
// 0·log 0 never becomes NaN).
func (s *Score) addLog(strength, l float64) {
	switch {
	case strength == 0:
	case math.IsInf(l, 1):
		if strength > 0 {
			s.Inf++
		} else {
			s.Inf--
		}
	case math.IsInf(l, -1):
		if strength > 0 {
			s.Inf--
		} else {
			s.Inf++
		}
	default:
		s.Log += strength * l
	}
}

// addObjective adds strength·log(obj) to s.
func (s *Score) addObjective(strength, obj float64) {
	if strength == 0 {
		return
	}
	s.addLog(strength, math.Log(obj))
}
