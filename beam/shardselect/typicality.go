package shardselect

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/winnow-data/winnow/strategies"
)

// Typicality (spec §6) needs every candidate's K nearest neighbours among
// all candidates, across shards, so it runs as a first pipeline stage
// before the shards select, in three steps that are exact (not
// approximate) and cost what the single-machine search costs, N² distances,
// spread over S² shard pairs:
//
//  1. for every pair of shards (a, b), Neighbours(a, b, K) gives each row
//     of a its K nearest rows of b (a DoFn per pair reads both shards' row
//     groups);
//  2. per shard a, MergeNeighbours folds the S lists into the K nearest
//     overall, and NeighbourSum gives the shard's part of σ; a global sum
//     of the parts over all shards, in shard order, is σ·N·K;
//  3. with σ as a side input, TypicalityFromNeighbours turns each shard's
//     lists into weights, which the selection then reads as a Weights
//     input.
//
// K is min(20, N−1) with N the number of candidates of the whole table.
// The values agree with strategies.TypicalityWeights to float rounding:
// that kernel sums float32 squared distances in a different order (AVX2),
// so the last bits can differ; ties between weights are therefore not
// bit-identical to a single-machine run. A cheaper, approximate variant for
// very large N would search the neighbours of every row in a global sample
// (one side input) and scale the distances by the sampling rate; it is not
// implemented.

// TypicalityK is the neighbour count of spec §6 for n candidates.
func TypicalityK(n int) int { return max(0, min(20, n-1)) }

// Neighbours returns, for every row of a, the squared distances to its k
// nearest rows of b in ascending order (k values a row, row-major; +Inf
// where b has fewer than k rows other than the row itself). A row is not
// its own neighbour: pairs with the same key are skipped. Both use vector
// input 0.
func Neighbours(ctx context.Context, a, b Rows, k int) ([]float64, error) {
	if len(a.Vectors) == 0 || len(b.Vectors) == 0 {
		return nil, fmt.Errorf("neighbours: no vectors")
	}
	va, vb := a.Vectors[0], b.Vectors[0]
	if va.Dim != vb.Dim {
		return nil, fmt.Errorf("neighbours: dimensions %d and %d", va.Dim, vb.Dim)
	}
	dim := va.Dim
	out := make([]float64, a.Len()*k)
	for i := range out {
		out[i] = math.Inf(1)
	}
	for i := 0; i < a.Len(); i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		x := va.Data[i*dim : (i+1)*dim]
		h := out[i*k : (i+1)*k] // sorted ascending; h[k-1] is the worst
		for j := 0; j < b.Len(); j++ {
			if b.Index[j] == a.Index[i] {
				continue
			}
			d := float64(sqDist32(x, vb.Data[j*dim:(j+1)*dim]))
			if k == 0 || d >= h[k-1] {
				continue
			}
			p := k - 1
			for p > 0 && h[p-1] > d {
				h[p] = h[p-1]
				p--
			}
			h[p] = d
		}
	}
	return out, nil
}

// sqDist32 is the float32 squared distance the single-machine typicality
// kernel computes (in another summation order).
func sqDist32(x, y []float32) float32 {
	var s float32
	for i := range x {
		d := x[i] - y[i]
		s += d * d
	}
	return s
}

// MergeNeighbours folds b into a, both lists of k ascending squared
// distances a row, keeping the k smallest per row in a.
func MergeNeighbours(a, b []float64, k int) error {
	if len(a) != len(b) || k <= 0 || len(a)%k != 0 {
		return fmt.Errorf("merge neighbours: %d and %d values for rows of %d", len(a), len(b), k)
	}
	tmp := make([]float64, 0, 2*k)
	for r := 0; r < len(a); r += k {
		tmp = append(tmp[:0], a[r:r+k]...)
		tmp = append(tmp, b[r:r+k]...)
		slices.Sort(tmp)
		copy(a[r:r+k], tmp[:k])
	}
	return nil
}

// NeighbourSum returns the sum of the neighbour distances (square roots of
// the lists' values), summed per row and then over rows in order, as
// strategies.TypicalityWeights does: one shard's part of σ·N·K.
func NeighbourSum(lists []float64, k int) float64 {
	return strategies.NeighbourDistanceSum(roots(lists), k)
}

// TypicalityFromNeighbours returns the typicality objective of each of
// rows rows from its k neighbour lists and the global σ: the mean over the
// neighbours of exp(−‖e_i − e_j‖/σ), or 1 when k or σ is 0
// (strategies.TypicalityFromDistances).
func TypicalityFromNeighbours(lists []float64, rows, k int, sigma float64) []float64 {
	return strategies.TypicalityFromDistances(roots(lists), rows, k, sigma)
}

// roots returns the distances of squared-distance lists.
func roots(lists []float64) []float64 {
	out := make([]float64, len(lists))
	for i, d := range lists {
		out[i] = math.Sqrt(d)
	}
	return out
}
