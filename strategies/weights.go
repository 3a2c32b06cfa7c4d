package strategies

import (
	"context"
	"fmt"
	"math"
)

// Weights is the metadata weighting strategy of spec §5: objective(i) = w_i,
// constant while S grows. Similarity, typicality and outliers (spec §6) are
// Weights built from SimilarityWeights and TypicalityWeights.
type Weights struct {
	w        []float64
	strength float64
}

// NewWeights returns a weighting strategy over w (w[i] for row i). Every
// weight must be finite and >= 0; otherwise the error is a *WeightError
// naming the first bad row and how many rows are bad. Zero is allowed.
func NewWeights(w []float64, strength float64) (*Weights, error) {
	if err := checkStrength(strength); err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if err := checkValues("weights", w, 1, false); err != nil {
		return nil, err
	}
	return &Weights{w: w, strength: strength}, nil
}

// Strength returns the strategy's exponent.
func (w *Weights) Strength() float64 { return w.strength }

// Start returns the (stateless) state; it needs a weight for every
// candidate (rows beyond the candidates are never scored).
func (w *Weights) Start(rows, candidates int) (State, error) {
	if len(w.w) < candidates {
		return nil, fmt.Errorf("weights: %d weights for %d candidates", len(w.w), candidates)
	}
	return wState{w}, nil
}

type wState struct{ w *Weights }

func (s wState) Objective(i int) float64 { return s.w.w[i] }
func (s wState) Eligible(int) bool       { return true }
func (s wState) Add(int)                 {}

// SimilarityWeights returns the similarity objectives of spec §6 for the
// first candidates rows of v: with d_i the distance from candidate i to
// its nearest query vector (query holds at least one vector of v's
// dimension) and μ the mean of d_i, objective(i) = exp(-d_i/μ), or 1 for
// all when μ = 0.
func SimilarityWeights(v Vectors, candidates int, query Vectors) []float64 {
	d, _ := SimilarityWeightsContext(context.Background(), v, candidates, query)
	return d
}

// SimilarityWeightsContext is SimilarityWeights that stops when ctx is
// done and returns ctx's error: with many query vectors the nearest-query
// search is candidates × Q distances, seconds on large datasets, and
// Ctrl-C must not wait for it. The nearest query is found exactly (the
// tile kernel prunes, the float64 kernel decides).
func SimilarityWeightsContext(ctx context.Context, v Vectors, candidates int, query Vectors) ([]float64, error) {
	d, err := SimilarityDistances(ctx, v, candidates, query)
	if err != nil {
		return nil, err
	}
	return SimilarityFromDistances(d, MeanDistance(d)), nil
}

// SimilarityDistances returns, for the first candidates rows of v, the
// exact distance d_i to the nearest query vector: the first half of
// SimilarityWeightsContext, for callers that normalise by a μ of their
// own (a sharded selection uses the mean over all candidates on every
// shard, so that every run weighs a row alike).
func SimilarityDistances(ctx context.Context, v Vectors, candidates int, query Vectors) ([]float64, error) {
	if err := v.checkShape(); err != nil {
		return nil, fmt.Errorf("similarity: %w", err)
	}
	if err := query.checkShape(); err != nil || query.Dim != v.Dim || query.Rows() == 0 {
		return nil, fmt.Errorf("similarity: %d query values are not vectors of dimension %d", max(len(query.F32), len(query.F16)), v.Dim)
	}
	if v.Rows() < candidates {
		return nil, fmt.Errorf("similarity: %d vectors for %d candidates", v.Rows(), candidates)
	}
	workers := workerCount(0)
	d := make([]float64, candidates)
	tp := newTargetPanels(&query, iota32(query.Rows()), norms32(&query, workers))
	cand := v.Slice(0, candidates)
	stop := func() bool { return ctx.Err() != nil }
	tp.nearestRows(&cand, iota32(candidates), norms32(&cand, workers), 1, false, workers, stop, func(int) {},
		func(i int, nb []nbCand) { d[i] = math.Sqrt(nb[0].hi) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d, nil
}

// MeanDistance returns the mean of d (0 for none): similarity's μ.
func MeanDistance(d []float64) float64 {
	if len(d) == 0 {
		return 0
	}
	mu := 0.0
	for _, x := range d {
		mu += x
	}
	return mu / float64(len(d))
}

// SimilarityFromDistances returns the similarity objectives exp(-d_i/μ)
// of the distances d (in place), or 1 for all when μ = 0.
func SimilarityFromDistances(d []float64, mu float64) []float64 {
	for i, x := range d {
		if mu == 0 {
			d[i] = 1
		} else {
			d[i] = math.Exp(-x / mu)
		}
	}
	return d
}

// typK is the neighbour count of spec §6.
const typK = 20

// TypicalityWeights returns the typicality objectives of spec §6 for the
// first rows rows of v: with K = min(20, rows-1) nearest neighbours of i
// among those rows and σ the mean of all those neighbour distances,
// objective(i) = mean over the neighbours of exp(-‖e_i − e_j‖/σ). It is 1
// for every row when K = 0 or σ = 0. Exact duplicates count as neighbours
// at distance 0. Neighbours are found as opt says (exact, or an IVF index
// above about a minute of exact work); the returned NeighbourSearch says
// which, with the measured recall of an approximate search. Neighbour
// distances are exact float64 distances, so an exact search returns the
// same weights on every CPU, and no search depends on opt.Workers.
func TypicalityWeights(ctx context.Context, v Vectors, rows int, opt NeighbourOptions) ([]float64, NeighbourSearch, error) {
	if err := v.checkShape(); err != nil {
		return nil, NeighbourSearch{}, fmt.Errorf("typicality: %w", err)
	}
	if v.Rows() < rows {
		return nil, NeighbourSearch{}, fmt.Errorf("typicality: %d vectors for %d rows", v.Rows(), rows)
	}
	v = v.Slice(0, rows)
	if err := v.validate("typicality"); err != nil {
		return nil, NeighbourSearch{}, err
	}
	out := make([]float64, rows)
	k := min(typK, rows-1)
	if k <= 0 {
		for i := range out {
			out[i] = 1
		}
		return out, NeighbourSearch{Rows: rows, Recall: 1}, nil
	}
	dist, info, err := neighbours(ctx, &v, k, opt)
	if err != nil {
		return nil, info, fmt.Errorf("typicality: %w", err)
	}
	return typicality(dist, rows, k), info, nil
}

// typicality turns rows·k neighbour distances into spec §6's objectives.
func typicality(dist []float64, rows, k int) []float64 {
	return TypicalityFromDistances(dist, rows, k, NeighbourDistanceSum(dist[:rows*k], k)/float64(rows*k))
}

// NeighbourDistanceSum returns the sum of dist (k neighbour distances a
// row, row after row), summed per row and then over the rows in order, so
// that it is deterministic: σ·rows·k of spec §6, or the part of it one
// shard of the rows holds.
func NeighbourDistanceSum(dist []float64, k int) float64 {
	sum := 0.0
	for r := 0; r+k <= len(dist); r += k {
		row := 0.0
		for _, d := range dist[r : r+k] {
			row += d
		}
		sum += row
	}
	return sum
}

// TypicalityFromDistances returns spec §6's typicality objective of each
// of rows rows from its k neighbour distances (row after row) and σ: the
// mean over the neighbours of exp(-d/σ), or 1 when k or σ is 0. A sharded
// selection calls it with the σ of all rows.
func TypicalityFromDistances(dist []float64, rows, k int, sigma float64) []float64 {
	out := make([]float64, rows)
	for i := range out {
		if k == 0 || sigma == 0 {
			out[i] = 1
			continue
		}
		s := 0.0
		for _, d := range dist[i*k : (i+1)*k] {
			s += math.Exp(-d / sigma)
		}
		out[i] = s / float64(k)
	}
	return out
}

// NeighbourDistances returns, for each of the first rows rows of v, the
// distances to its k nearest other rows in ascending order (k per row,
// row after row), found as opt says: the search TypicalityWeights runs,
// for callers that need the neighbours themselves (and to measure an
// approximate search against the exact one).
func NeighbourDistances(ctx context.Context, v Vectors, rows, k int, opt NeighbourOptions) ([]float64, NeighbourSearch, error) {
	if err := v.checkShape(); err != nil {
		return nil, NeighbourSearch{}, fmt.Errorf("neighbours: %w", err)
	}
	if v.Rows() < rows || k < 1 || k >= rows {
		return nil, NeighbourSearch{}, fmt.Errorf("neighbours: %d nearest of %d rows (of %d vectors)", k, rows, v.Rows())
	}
	v = v.Slice(0, rows)
	if err := v.validate("neighbours"); err != nil {
		return nil, NeighbourSearch{}, err
	}
	d, info, err := neighbours(ctx, &v, k, opt)
	if err != nil {
		return nil, info, fmt.Errorf("neighbours: %w", err)
	}
	return d, info, nil
}
