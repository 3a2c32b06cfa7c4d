package strategies

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestConstructorErrors(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		make func() error
		want string
	}{
		{"weights NaN", func() error { _, err := NewWeights([]float64{1, nan, -1, nan}, 1); return err },
			"weights: row 1 is NaN (3 rows affected)"},
		{"weights strength", func() error { _, err := NewWeights([]float64{1}, math.Inf(1)); return err },
			"weights: strength +Inf is not finite"},
		{"diversity dim", func() error { _, err := NewDiversity(vec32([]float32{1, 2, 3}, 2), 1); return err },
			"diversity: 3 values are not a whole number of 2-dimensional vectors"},
		{"diversity zero dim", func() error { _, err := NewDiversity(vec32(nil, 0), 1); return err },
			"diversity: dimension 0 must be positive"},
		{"diversity NaN", func() error {
			_, err := NewDiversity(vec32([]float32{1, 2, float32(math.Inf(-1)), 0}, 2), 1)
			return err
		}, "diversity: vectors: row 1 is -Inf (1 rows affected)"},
		{"dedup distance", func() error { _, err := NewDeduplication(vec32([]float32{1}, 1), -1, 1); return err },
			"deduplication: min_distance -1 must be finite and >= 0"},
		{"dedup vectors", func() error { _, err := NewDeduplication(vec32([]float32{1}, 2), 1, 1); return err },
			"deduplication: 1 values are not a whole number of 2-dimensional vectors"},
		{"balance counts", func() error {
			_, err := NewBalance([]float64{1, 0, 0, -2, nan, 1}, 2, []float64{1, 1}, 1)
			return err
		}, "balance: counts: row 1 is negative (2 rows affected)"},
		{"balance target size", func() error { _, err := NewBalance([]float64{1, 0}, 2, []float64{1}, 1); return err },
			"balance: target has 1 ratios for 2 classes"},
		{"balance target zero", func() error { _, err := NewBalance([]float64{1, 0}, 2, []float64{0, 0}, 1); return err },
			"balance: target sums to 0"},
		{"balance target NaN", func() error { _, err := NewBalance([]float64{1, 0}, 2, []float64{0, nan}, 1); return err },
			"balance: target ratio of class 1 is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.make()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := NewWeights([]float64{0, 1, math.Inf(-1)}, 1)
	var we *WeightError
	if !errors.As(err, &we) || we.Row != 2 || we.Count != 1 || we.Reason != "-Inf" {
		t.Errorf("weight error %#v", err)
	}
}

func TestSelectErrors(t *testing.T) {
	d := mustDiv(t, []float32{1, 2, 3}, 1, 1)
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"n zero", Problem{Rows: 3, Candidates: 3, Picks: 0, Strategies: []Strategy{d}}, "select: n = 0 new picks, must be at least 1"},
		{"candidates", Problem{Rows: 2, Candidates: 3, Picks: 1, Strategies: []Strategy{d}}, "select: 3 candidates among 2 rows"},
		{"no strategy", Problem{Rows: 3, Candidates: 3, Picks: 1}, "select: no strategy"},
		{"preselected range", Problem{Rows: 3, Candidates: 3, Picks: 1, Preselected: []int{3}, Strategies: []Strategy{d}},
			"select: preselected row 3 outside 0..2"},
		{"preselected twice", Problem{Rows: 3, Candidates: 3, Picks: 1, Preselected: []int{1, 1}, Strategies: []Strategy{d}},
			"select: preselected row 1 listed twice"},
		{"short vectors", Problem{Rows: 4, Candidates: 3, Picks: 1, Strategies: []Strategy{d}}, "select: strategy 0: diversity: 3 vectors for 4 rows"},
		{"short weights", Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{d, mustW(t, []float64{1}, 1)}},
			"select: strategy 1: weights: 1 weights for 3 candidates"},
		{"short counts", Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{mustBal(t, []float64{1}, 1, []float64{1}, 1)}},
			"select: strategy 0: balance: 1 count rows for 3 rows"},
		{"nil strategy", Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{nil}}, "select: strategy 0 is nil"},
		{"bad strength", Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{custom{strength: math.NaN()}}},
			"select: strategy 0: strength NaN is not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Select(context.Background(), tc.p)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSelectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p := Problem{Rows: 50, Candidates: 50, Picks: 50, Strategies: []Strategy{mustDiv(t, seq2(50), 2, 1)},
		Progress: func(done, total int) {
			calls++
			if done != calls || total != 50 {
				t.Errorf("progress %d/%d at call %d", done, total, calls)
			}
			if done == 3 {
				cancel()
			}
		}}
	if _, err := Select(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if calls != 3 {
		t.Errorf("%d progress calls after cancelling at 3", calls)
	}
}

// custom is a Strategy the engine knows only through the interface: it
// prefers rows by a fixed objective and makes odd rows ineligible once
// three samples are selected.
type custom struct {
	strength float64
	obj      []float64
}

func (c custom) Strength() float64 { return c.strength }
func (c custom) Start(rows, candidates int) (State, error) {
	if len(c.obj) < candidates {
		return nil, errors.New("custom: too short")
	}
	return &customState{c: c}, nil
}

type customState struct {
	c custom
	n int
}

func (s *customState) Objective(i int) float64 { return s.c.obj[i] }
func (s *customState) Eligible(i int) bool     { return s.n < 3 || i%2 == 0 }
func (s *customState) Add(int)                 { s.n++ }

func TestCustomStrategy(t *testing.T) {
	c := custom{strength: 1, obj: []float64{1, 9, 2, 8, 3, 7}}
	p := Problem{Rows: 6, Candidates: 6, Picks: 6, Preselected: []int{5}, Strategies: []Strategy{c, mustDiv(t, []float32{0, 0, 0, 0, 0, 0}, 1, 0)}}
	got := allPaths(t, p)
	if want := []int{1, 3, 4, 2, 0}; !equal(got, want) {
		t.Errorf("picks %v, want %v", got, want)
	}
	res, err := Select(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	pk := res.Picks[0]
	if pk.Rank != 1 || pk.Objectives[0] != 9 || pk.Objectives[1] != 0 || pk.Score != (Score{Log: math.Log(9)}) {
		t.Errorf("first pick %+v", pk)
	}
	if !strings.Contains(describe(p), "custom") {
		t.Error(describe(p))
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSimilarityCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SimilarityWeightsContext(ctx, vec32(make([]float32, 2000), 2), 1000, vec32([]float32{0, 0}, 2)); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	w, err := SimilarityWeightsContext(context.Background(), vec32([]float32{0, 0, 3, 4}, 2), 2, vec32([]float32{0, 0}, 2))
	if err != nil || w[0] != 1 || math.Abs(w[1]-math.Exp(-2)) > 1e-15 {
		t.Errorf("weights %v, %v; want [1 e^-2]", w, err)
	}
}
