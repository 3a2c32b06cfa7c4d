package strategies

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// preds builds Predictions from per-row confidences (NaN where null is
// true in the same position of nulls, when given).
func preds(rows ...[]float64) Predictions {
	p := Predictions{Start: []int{0}}
	for _, r := range rows {
		p.Confidence = append(p.Confidence, r...)
		p.Start = append(p.Start, len(p.Confidence))
	}
	return p
}

func TestClassificationUncertainty(t *testing.T) {
	ln := math.Log
	tests := []struct {
		name   string
		method UncertaintyMethod
		p      []float64
		want   float64
	}{
		{"least confidence", LeastConfidence, []float64{0.7, 0.2}, 0.3},
		// The extra entry 1 − Σp can be the largest.
		{"least confidence rest", LeastConfidence, []float64{0.2, 0.1}, 0.3},
		{"least confidence sure", LeastConfidence, []float64{1}, 0},
		// One prediction: its complement is the second entry.
		{"margin one prediction", Margin, []float64{0.7}, 0.6},
		{"margin one sure", Margin, []float64{1}, 0},
		{"margin tie", Margin, []float64{0.5, 0.5}, 1},
		{"margin three", Margin, []float64{0.6, 0.3, 0.1}, 0.7},
		{"margin rest second", Margin, []float64{0.5, 0.1}, 0.9},
		{"margin over one", Margin, []float64{0.9, 0.8}, 0.9},
		// K counts the extra entry even when it is 0.
		{"entropy two halves", Entropy, []float64{0.5, 0.5}, ln(2) / ln(3)},
		{"entropy with rest", Entropy, []float64{0.5}, 1},
		{"entropy quarters", Entropy, []float64{0.25, 0.25, 0.25, 0.25}, ln(4) / ln(5)},
		{"entropy sure", Entropy, []float64{1}, 0},
		{"entropy zero", Entropy, []float64{0, 0}, 0},
		{"entropy mixed", Entropy, []float64{0.6, 0.3}, -(0.6*ln(0.6) + 0.3*ln(0.3) + 0.1*ln(0.1)) / ln(3)},
		// Confidences summing above 1 are clamped to the weight range.
		{"entropy clamped", Entropy, []float64{0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ClassificationUncertainty(preds(tc.p), tc.method, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Weights[0]; math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("%v: %v, want %v", tc.method, got, tc.want)
			}
		})
	}
}

func TestDetectionUncertainty(t *testing.T) {
	p := preds([]float64{0.9, 0.6}, nil, []float64{1}, []float64{0.2, 0.5, 0.8})
	for _, tc := range []struct {
		agg   Aggregate
		empty float64
		want  []float64
	}{
		{AggregateMax, 0, []float64{0.4, 0, 0, 0.8}},
		{AggregateMean, 0.5, []float64{0.25, 0.5, 0, 0.5}},
	} {
		u, err := DetectionUncertainty(p, tc.agg, tc.empty, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tc.want {
			if math.Abs(u.Weights[i]-tc.want[i]) > 1e-12 {
				t.Errorf("aggregate %d: %v, want %v", tc.agg, u.Weights, tc.want)
			}
		}
	}
}

// refClassify is §11 literally, for random rows.
func refClassify(c []float64, m UncertaintyMethod) float64 {
	p := append(slices.Clone(c), 0)
	s := 0.0
	for _, x := range c {
		s += x
	}
	p[len(c)] = math.Max(0, 1-s)
	slices.Sort(p)
	slices.Reverse(p)
	switch m {
	case LeastConfidence:
		return 1 - p[0]
	case Margin:
		return 1 - (p[0] - p[1])
	}
	if len(p) == 1 {
		return 0
	}
	h := 0.0
	for _, x := range p {
		if x > 0 {
			h -= x * math.Log(x)
		}
	}
	return min(1, h/math.Log(float64(len(p))))
}

func TestClassificationMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for k := 0; k < 2000; k++ {
		c := make([]float64, 1+r.IntN(5))
		left := 1.0
		for i := range c {
			c[i] = []float64{0, 1, r.Float64() * left, 0.5}[r.IntN(4)]
			if r.IntN(3) > 0 {
				c[i] = min(c[i], left)
				left -= c[i]
			}
		}
		for _, m := range []UncertaintyMethod{LeastConfidence, Margin, Entropy} {
			u, err := ClassificationUncertainty(preds(c), m, false)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := u.Weights[0], refClassify(c, m); math.Abs(got-want) > 1e-12 || got < 0 || got > 1 {
				t.Fatalf("%v of %v: %v, want %v", m, c, got, want)
			}
		}
	}
}

func TestUncertaintyErrors(t *testing.T) {
	nan := math.NaN()
	bad := preds([]float64{0.5}, nil, []float64{0.2, nan}, []float64{1.5}, []float64{0.3}, []float64{-0.1})
	_, err := ClassificationUncertainty(bad, Margin, false)
	if want := "uncertainty: predictions: row 1 has no prediction (4 rows affected)"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	var pe *PredictionError
	if !errors.As(err, &pe) || pe.Row != 1 || pe.Count != 4 || pe.Reason != ReasonNoPrediction {
		t.Errorf("prediction error %#v", err)
	}
	u, err := ClassificationUncertainty(bad, Margin, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Dropped, []int{1, 2, 3, 5}) || u.Weights[0] != 1 || math.Abs(u.Weights[4]-0.6) > 1e-15 {
		t.Errorf("dropped %v weights %v", u.Dropped, u.Weights)
	}
	// Detection: a row without objects is not an error.
	_, err = DetectionUncertainty(bad, AggregateMax, 0, false)
	if want := "uncertainty: predictions: row 2 has a NaN confidence (3 rows affected)"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	nulls := preds([]float64{0.5, 0.5}, []float64{0.9})
	nulls.Null = []bool{false, true, false}
	if _, err := DetectionUncertainty(nulls, AggregateMean, 0, false); err == nil ||
		err.Error() != "uncertainty: predictions: row 0 has a null confidence (1 rows affected)" {
		t.Errorf("null: %v", err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"range", func() error { _, err := DetectionUncertainty(preds([]float64{2}), AggregateMax, 0, false); return err }(),
			"uncertainty: predictions: row 0 has a confidence outside [0, 1] (1 rows affected)"},
		{"empty score", func() error { _, err := DetectionUncertainty(preds(nil), AggregateMax, 1.5, false); return err }(),
			"uncertainty: empty_score 1.5 must be in [0, 1]"},
		{"method", func() error { _, err := ClassificationUncertainty(preds(nil), 7, false); return err }(),
			"uncertainty: unknown method 7"},
		{"aggregate", func() error { _, err := DetectionUncertainty(preds(nil), 3, 0, false); return err }(),
			"uncertainty: unknown aggregate 3"},
		{"offsets", func() error {
			_, err := ClassificationUncertainty(Predictions{Start: []int{0, 2}}, Margin, false)
			return err
		}(),
			"uncertainty: prediction offsets end at 2, but there are 0 confidences"},
		{"decreasing", func() error {
			_, err := ClassificationUncertainty(Predictions{Start: []int{0, 1, 0}, Confidence: []float64{1}}, Margin, false)
			return err
		}(), "uncertainty: prediction offsets decrease at row 1"},
		{"nulls", func() error {
			_, err := ClassificationUncertainty(Predictions{Start: []int{0, 1}, Confidence: []float64{1}, Null: []bool{}}, Margin, false)
			return err
		}(), "uncertainty: 0 null flags for 1 confidences"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

// TestUncertaintyWithDiversity is the active-learning selection: uncertain
// and diverse. Rows 0 and 1 are duplicates; 1 is the more uncertain.
func TestUncertaintyWithDiversity(t *testing.T) {
	u, err := ClassificationUncertainty(preds([]float64{0.9}, []float64{0.5}, []float64{0.6, 0.3}, []float64{0.99}), Margin, false)
	if err != nil {
		t.Fatal(err)
	}
	p := Problem{Rows: 4, Candidates: 4, Picks: 3, Strategies: []Strategy{
		mustDiv(t, []float32{0, 0, 5, 10}, 1, 1), mustW(t, u.Weights, 1)}}
	// Margins 0.2, 1, 0.7, 0.02: the first pick is the most uncertain;
	// then 3 (distance 10, weight 0.02: 0.2) loses to 2 (5 · 0.7 = 3.5), and
	// the duplicate 0 (distance 0) comes last.
	if got := allPaths(t, p); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("picks %v", got)
	}
}
