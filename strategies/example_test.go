package strategies_test

import (
	"context"
	"fmt"

	"github.com/winnow-data/winnow/strategies"
)

// Farthest-point sampling on a line, then weighting and balancing together.
func ExampleSelect() {
	div, _ := strategies.NewDiversity(strategies.Vectors{Dim: 1, F32: []float32{1, 3, 5, 4}}, 1)
	res, _ := strategies.Select(context.Background(), strategies.Problem{
		Rows: 4, Candidates: 4, Picks: 3, Strategies: []strategies.Strategy{div},
	})
	for _, p := range res.Picks {
		fmt.Printf("row %d rank %d distance %v\n", p.Row, p.Rank, p.Objectives[0])
	}
	// Output:
	// row 0 rank 0 distance 1
	// row 2 rank 1 distance 4
	// row 1 rank 2 distance 2
}

// Class names present in the dataset, their counts among the candidates,
// and a target that lists only some of them.
func ExampleResolveTarget() {
	t, _ := strategies.ResolveTarget([]string{"cat", "dog", "bird"}, []float64{4, 5, 1},
		strategies.TargetSpec{Kind: strategies.Explicit, Ratios: map[string]float64{"cat": 0.5}})
	fmt.Println(t.Classes, t.Ratio, t.Column)
	// Output:
	// [cat other] [0.5 0.5] [0 1 1]
}

func ExampleNewWeights() {
	_, err := strategies.NewWeights([]float64{1, -2, 3, -4}, 1)
	fmt.Println(err)
	// Output:
	// weights: row 1 is negative (2 rows affected)
}
