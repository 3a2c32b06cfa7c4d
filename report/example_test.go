package report_test

import (
	"context"
	"fmt"
	"math"

	"github.com/winnow-data/winnow/report"
)

// A report's data from a hand-made input: spec §3's example, vectors
// [1] [3] [5], where diversity picks 0 and then 2 (objectives 1, the
// neutral first one, and 4), balanced between two classes.
func ExampleBuild() {
	in := &report.Input{
		Header: report.Header{Tag: "two", Candidates: 3, Requested: 2, Selected: 2},
		Strategies: []report.StrategyInput{
			{Name: "diversity", Strength: 1, Model: "line", MinDistance: math.NaN()},
			{Name: "balance", Strength: 1, MinDistance: math.NaN(), Balance: &report.BalanceSummary{
				Classes: []string{"a", "b"}, Candidates: []float64{2, 1}, Target: []float64{1, 1}, Selection: []float64{1, 1},
			}},
		},
		Picks: []report.PickInput{
			{SampleID: "s0", Row: 0, Rank: 0, Objectives: []float64{1, 0.37}},
			{SampleID: "s2", Row: 2, Rank: 1, Objectives: []float64{4, 1}},
		},
		Candidates: []int{0, 1, 2},
		Embeddings: map[string]*report.Vectors{"line": {Dim: 1, Data: []float32{1, 3, 5}}},
		MapModel:   "line",
	}
	d, err := report.Build(context.Background(), in, report.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := d.Coverage[0]
	fmt.Println("curve:", c.Curve)
	// The seeded random order starts at an end of the line, so one sample
	// leaves a radius of 4, and two leave 2, where diversity's two leave 2
	// at n (the record's Final, not set here).
	fmt.Println("random order:", c.Random)
	cl := d.Classes[0]
	fmt.Println("classes:", cl.Labels, "candidates:", cl.Candidates, "target:", cl.Target, "short:", cl.Short)
	fmt.Println("map points:", len(d.Map.Candidates)+len(d.Map.Selected), "picks listed:", len(d.Picks.Rows))
	// Output:
	// curve: [NaN 4]
	// random order: [NaN 4 2]
	// classes: [a b] candidates: [0.6666666666666666 0.3333333333333333] target: [0.5 0.5] short: [false false]
	// map points: 3 picks listed: 2
}
