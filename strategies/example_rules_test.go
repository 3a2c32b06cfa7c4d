package strategies_test

import (
	"context"
	"fmt"

	"github.com/winnow-data/winnow/strategies"
)

// At most one sample per content hash: exact duplicates go.
func ExampleNewQuota() {
	w, _ := strategies.NewWeights([]float64{5, 5, 4, 3}, 1)
	q, _ := strategies.NewQuota([]int32{7, 7, 3, -1}, 1) // -1: no hash, no limit
	res, _ := strategies.Select(context.Background(), strategies.Problem{
		Rows: 4, Candidates: 4, Picks: 4, Strategies: []strategies.Strategy{w}, Rules: []strategies.Rule{q},
	})
	for _, p := range res.Picks {
		fmt.Print(p.Row, " ")
	}
	fmt.Println()
	// Output:
	// 0 2 3
}

// Two-frame clips of two videos (frames given out of order), picked for
// diversity; the result holds every frame of the picked clips.
func ExampleGroupUnits() {
	video := []int32{0, 1, 0, 1, 0, 1, 0, 1}
	frame := []int64{3, 0, 2, 1, 1, 2, 0, 3}
	pos := []float32{3, 100, 2, 101, 1, 102, 0, 103}
	u, _ := strategies.GroupUnits(video, frame, 2, 8, nil)
	div, _ := strategies.NewDiversity(u.Vectors(strategies.Vectors{Dim: 1, F32: pos}), 1)
	res, _ := strategies.Select(context.Background(), strategies.Problem{
		Rows: u.Len(), Candidates: u.Candidates(), Preselected: u.Preselected(), Picks: 2,
		Strategies: []strategies.Strategy{div},
	})
	for _, p := range res.Picks {
		fmt.Println("clip", p.Row, "frames", u.Members(p.Row))
	}
	// Output:
	// clip 0 frames [0 2]
	// clip 3 frames [5 7]
}

// Margin uncertainty of three classifications; the second has one
// prediction, whose complement is the other entry.
func ExampleClassificationUncertainty() {
	p := strategies.Predictions{Start: []int{0, 2, 3, 5}, Confidence: []float64{0.9, 0.05, 0.5, 0.4, 0.4}}
	u, _ := strategies.ClassificationUncertainty(p, strategies.Margin, false)
	fmt.Printf("%.2f\n", u.Weights)
	// Output:
	// [0.15 1.00 1.00]
}

// Why a sample was not picked.
func ExampleExplain() {
	v := []float32{0, 1, 5, 9}
	div, _ := strategies.NewDiversity(strategies.Vectors{Dim: 1, F32: v}, 1)
	x, _ := strategies.NewExcludeNear(strategies.Vectors{Dim: 1, F32: v}, strategies.Vectors{Dim: 1, F32: []float32{8.5}}, 1, nil)
	p := strategies.Problem{Rows: 4, Candidates: 4, Picks: 2, Strategies: []strategies.Strategy{div}, Rules: []strategies.Rule{x}}
	res, _ := strategies.Select(context.Background(), p)
	for row := range 4 {
		e, _ := strategies.Explain(context.Background(), p, res, row)
		fmt.Print("row ", row, ": ", e.Outcome)
		for _, b := range e.Because {
			fmt.Printf(" (%v: %.1f from excluded %d)", b.Kind, b.Distance, b.Excluded)
		}
		fmt.Println()
	}
	// Output:
	// row 0: picked
	// row 1: ranked below the cut
	// row 2: picked
	// row 3: ineligible (near the excluded tag: 0.5 from excluded 0)
}
