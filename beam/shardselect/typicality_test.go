package shardselect

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/winnow-data/winnow/strategies"
)

// typicality runs the three steps of the distributed typicality stage on
// shards and returns the weights in key order.
func typicality(t *testing.T, shards []Rows, n int) []float64 {
	t.Helper()
	ctx := context.Background()
	k := TypicalityK(n)
	lists := make([][]float64, len(shards))
	for a := range shards {
		for b := range shards {
			nb, err := Neighbours(ctx, shards[a], shards[b], k)
			if err != nil {
				t.Fatal(err)
			}
			if b == 0 {
				lists[a] = nb
				continue
			}
			if err := MergeNeighbours(lists[a], nb, k); err != nil && k > 0 {
				t.Fatal(err)
			}
		}
	}
	sum := 0.0
	for a := range shards {
		sum += NeighbourSum(lists[a], k)
	}
	sigma := 0.0
	if k > 0 {
		sigma = sum / float64(n*k)
	}
	var out []float64
	for a := range shards {
		out = append(out, TypicalityFromNeighbours(lists[a], shards[a].Len(), k, sigma)...)
	}
	return out
}

func TestTypicalitySpecExample(t *testing.T) {
	all := Rows{Index: []int{0, 1, 2}, Vectors: []Vectors{{Data: []float32{1, 0, 0, 0, 1, 0, 0, 1, 1}, Dim: 3}}}
	got := typicality(t, []Rows{all.subset([]int{0, 2}), all.subset([]int{1})}, 3)
	// Shard order is 0, 2 then 1.
	want := map[int]float64{0: 0.3225063, 1: 0.3853082, 2: 0.4222289}
	for i, w := range want {
		if math.Abs(got[i]-w) > 1e-7 {
			t.Errorf("weights %v, want %v (in shard order)", got, want)
		}
	}
}

// TestTypicalityMatchesEngine: on random data split over shards the
// stage's weights equal strategies.TypicalityWeights to rounding.
func TestTypicalityMatchesEngine(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for trial := 0; trial < 10; trial++ {
		d := randomData(rng, 1+rng.IntN(400), 1+rng.IntN(10), 2)
		shards := split(rng, d.rows, 1+rng.IntN(6), true) // contiguous: key order is shard order
		got := typicality(t, shards, d.rows.Len())
		want, _, err := strategies.TypicalityWeights(context.Background(), strategies.Vectors{Dim: d.rows.Vectors[0].Dim, F32: d.rows.Vectors[0].Data}, d.rows.Len(), strategies.NeighbourOptions{Mode: strategies.NeighboursExact, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("trial %d row %d: %v, engine %v", trial, i, got[i], want[i])
			}
		}
	}
}
