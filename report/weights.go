package report

import (
	"fmt"
	"math"
)

// weightBins is the number of bins of a weight histogram.
const weightBins = 40

// weightsOf builds strategy i's weight distribution: the candidates'
// weights when the input has them, and the new picks' recorded
// objectives, which for a weight-like strategy are the picks' weights.
func weightsOf(i int, s StrategyInput, picks []PickInput) Weights {
	var sel []float64
	for _, p := range picks {
		if !p.Preselected && i < len(p.Objectives) {
			sel = append(sel, p.Objectives[i])
		}
	}
	w := Weights{Strategy: i, Title: weightTitle(s), CandidateMean: math.NaN(), SelectionMean: math.NaN()}
	if s.Weights != nil {
		w.CandidateMean, w.SelectionMean = s.Weights.Candidates, s.Weights.Selection
	}
	lo, hi := rangeOf(sel, s.CandidateWeights)
	w.Selection = histogram(sel, lo, hi, weightBins)
	if s.CandidateWeights != nil {
		w.Candidates = histogram(s.CandidateWeights, lo, hi, weightBins)
	}
	return w
}

func weightTitle(s StrategyInput) string {
	switch s.Name {
	case "weights":
		return fmt.Sprintf("metadata %q", s.Key)
	case "similarity":
		return fmt.Sprintf("similarity to tag %q", s.QueryTag)
	case "typicality":
		return "typicality"
	case "outliers":
		return "typicality (outliers prefer low values)"
	}
	return s.Name
}

// rangeOf is the range of the finite values of all slices; [0, 1] when
// there are none, and widened around a single value.
func rangeOf(sets ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range sets {
		for _, v := range s {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	switch {
	case lo > hi:
		return 0, 1
	case lo == hi:
		d := math.Max(math.Abs(lo)*0.05, 0.5)
		return lo - d, hi + d
	}
	return lo, hi
}

// histogram counts the finite values of x in n equal bins of [lo, hi];
// hi itself falls in the last bin, values outside are clamped into the
// first or last.
func histogram(x []float64, lo, hi float64, n int) *Histogram {
	h := &Histogram{Lo: lo, Hi: hi, Counts: make([]int, n)}
	width := (hi - lo) / float64(n)
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		b := int((v - lo) / width)
		b = max(0, min(b, n-1))
		h.Counts[b]++
		h.Total++
	}
	return h
}

// Width is the width of one bin.
func (h *Histogram) Width() float64 { return (h.Hi - h.Lo) / float64(len(h.Counts)) }
