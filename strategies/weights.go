package strategies

import (
	"context"
	"fmt"
	"math"
	"slices"
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
// first candidates rows of vectors (rows×dim, row-major): with d_i the
// distance from candidate i to its nearest query vector (query holds Q
// vectors of dim values) and μ the mean of d_i, objective(i) = exp(-d_i/μ),
// or 1 for all when μ = 0. query must hold at least one vector.
func SimilarityWeights(vectors []float32, dim int, candidates int, query []float32) []float64 {
	d, _ := SimilarityWeightsContext(context.Background(), vectors, dim, candidates, query)
	return d
}

// SimilarityWeightsContext is SimilarityWeights that stops when ctx is
// done and returns ctx's error: with many query vectors the nearest-query
// search is candidates × Q distances, seconds on large datasets, and
// Ctrl-C must not wait for it.
func SimilarityWeightsContext(ctx context.Context, vectors []float32, dim int, candidates int, query []float32) ([]float64, error) {
	q := len(query) / dim
	d := make([]float64, candidates)
	const size = 256
	err := parallelCtx(ctx, workerCount(0), chunks(candidates, size), func(t int) {
		for i := t * size; i < min((t+1)*size, candidates); i++ {
			if ctx.Err() != nil {
				return
			}
			v := vectors[i*dim : (i+1)*dim]
			best := math.Inf(1)
			for j := 0; j < q; j++ {
				best = math.Min(best, sqDist(v, query[j*dim:(j+1)*dim]))
			}
			d[i] = math.Sqrt(best)
		}
	})
	if err != nil {
		return nil, err
	}
	mu := 0.0
	for _, x := range d {
		mu += x
	}
	mu /= float64(candidates)
	for i, x := range d {
		if mu == 0 {
			d[i] = 1
		} else {
			d[i] = math.Exp(-x / mu)
		}
	}
	return d, nil
}

// typK is the neighbour count of spec §6.
const typK = 20

// TypicalityWeights returns the typicality objectives of spec §6 for the
// first rows rows of vectors: with K = min(20, rows-1) nearest neighbours of
// i among those rows (exact, by exhaustive search in cache-sized blocks on
// workers goroutines, 0 meaning all cores) and σ the mean of all those
// neighbour distances, objective(i) = mean over the neighbours of
// exp(-‖e_i − e_j‖/σ). It is 1 for every row when K = 0 or σ = 0.
// Exact duplicates count as neighbours at distance 0. The result does not
// depend on workers.
func TypicalityWeights(ctx context.Context, vectors []float32, dim int, rows int, workers int) ([]float64, error) {
	if dim <= 0 || len(vectors) < rows*dim {
		return nil, fmt.Errorf("typicality: %d values do not hold %d vectors of dimension %d", len(vectors), rows, dim)
	}
	out := make([]float64, rows)
	k := min(typK, rows-1)
	if k <= 0 {
		for i := range out {
			out[i] = 1
		}
		return out, nil
	}
	// nb[i*k:(i+1)*k] is a max-heap of the k smallest squared distances
	// from row i; the neighbours' identities never matter, only their
	// distances, so ties between neighbours cannot change the result.
	nb := make([]float32, rows*k)
	const qb, jb = 32, 512 // query rows per task, target rows per cache block
	err := parallelCtx(ctx, workerCount(workers), chunks(rows, qb), func(t int) {
		lo, hi := t*qb, min((t+1)*qb, rows)
		filled := make([]int, hi-lo)
		for j0 := 0; j0 < rows; j0 += jb {
			if ctx.Err() != nil {
				return // a task is long on big inputs: stop it too
			}
			j1 := min(j0+jb, rows)
			for i := lo; i < hi; i++ {
				a := vectors[i*dim : (i+1)*dim]
				h := nb[i*k : (i+1)*k]
				f := filled[i-lo]
				push := func(d float32) {
					if f < k {
						h[f] = d
						f++
						if f == k {
							heapifyMax(h)
						}
					} else if d < h[0] {
						h[0] = d
						siftMax(h, 0)
					}
				}
				j := j0
				var four [4]float32
				for ; j+4 <= j1 && sqDist32x4Impl(a, vectors[j*dim:(j+4)*dim], &four); j += 4 {
					for q, d := range four {
						if j+q != i {
							push(d)
						}
					}
				}
				for ; j < j1; j++ {
					if j != i {
						push(sqDist32Impl(a, vectors[j*dim:(j+1)*dim]))
					}
				}
				filled[i-lo] = f
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("typicality: %w", err)
	}
	// σ: summed per row, then over rows in order, so it is deterministic.
	dist := make([]float64, rows*k)
	sigma := 0.0
	for i := 0; i < rows; i++ {
		h := nb[i*k : (i+1)*k]
		slices.Sort(h)
		row := 0.0
		for j, d := range h {
			dist[i*k+j] = math.Sqrt(float64(d))
			row += dist[i*k+j]
		}
		sigma += row
	}
	sigma /= float64(rows * k)
	for i := range out {
		if sigma == 0 {
			out[i] = 1
			continue
		}
		s := 0.0
		for _, d := range dist[i*k : (i+1)*k] {
			s += math.Exp(-d / sigma)
		}
		out[i] = s / float64(k)
	}
	return out, nil
}

func heapifyMax(h []float32) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftMax(h, i)
	}
}

func siftMax(h []float32, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && h[r] > h[l] {
			l = r
		}
		if h[i] >= h[l] {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}
