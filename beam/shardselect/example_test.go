package shardselect_test

import (
	"context"
	"fmt"

	"github.com/winnow-data/winnow/beam/shardselect"
)

// Two shards of one-dimensional vectors [1] [3] | [5]: each picks local
// candidates, the merge selects from their union, and the result is the
// single machine's (spec §3: picks 0 and 2). Both shards kept all their
// rows (Local radius 0), so the certificate is greedy's own factor 2.
func Example() {
	ctx := context.Background()
	cfg := shardselect.Config{Specs: []shardselect.Spec{{Kind: shardselect.Diversity, Strength: 1}}, Picks: 2}
	shards := []shardselect.Rows{
		{Index: []int{0, 1}, Vectors: []shardselect.Vectors{{Data: []float32{1, 3}, Dim: 1}}},
		{Index: []int{2}, Vectors: []shardselect.Vectors{{Data: []float32{5}, Dim: 1}}},
	}
	var parts []shardselect.Candidates
	for _, sh := range shards {
		c, err := shardselect.Local(ctx, cfg, sh, shardselect.Rows{})
		if err != nil {
			panic(err)
		}
		parts = append(parts, *c)
	}
	res, err := shardselect.Merge(ctx, cfg, parts, shardselect.Rows{})
	if err != nil {
		panic(err)
	}
	for _, p := range res.Picks {
		fmt.Println(p.Index, p.Objectives[0])
	}
	fmt.Println("certified ratio", res.Bound.Ratio())
	// Output:
	// 0 1
	// 2 4
	// certified ratio 2
}
