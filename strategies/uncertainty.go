package strategies

import (
	"fmt"
	"math"
	"slices"
)

// Uncertainty from predictions (spec §11): weights in [0, 1] computed from
// a model's predictions and used like metadata weighting (NewWeights).

// Predictions are one prediction source's confidences per row: row r's are
// Confidence[Start[r]:Start[r+1]] (the classification annotations of that
// source, or its predicted objects). Start has one entry per row and a
// last one, starts at 0 and never decreases. Null, when not nil, marks
// null confidences (then Confidence's value there is ignored).
type Predictions struct {
	Start      []int
	Confidence []float64
	Null       []bool
}

// Rows returns the number of rows the predictions cover.
func (p Predictions) Rows() int { return len(p.Start) - 1 }

// UncertaintyMethod is how a classification's probabilities become an
// uncertainty.
type UncertaintyMethod int

const (
	// LeastConfidence is 1 − max p.
	LeastConfidence UncertaintyMethod = iota
	// Margin is 1 − (p₁ − p₂) with p₁ >= p₂ the two largest entries.
	Margin
	// Entropy is −Σ p log p / log K over the K entries (0 when K = 1).
	Entropy
)

func (m UncertaintyMethod) String() string {
	switch m {
	case LeastConfidence:
		return "least_confidence"
	case Margin:
		return "margin"
	case Entropy:
		return "entropy"
	}
	return fmt.Sprintf("UncertaintyMethod(%d)", int(m))
}

// Aggregate is how object detection's per-object scores become a row's.
type Aggregate int

const (
	// AggregateMax takes the most uncertain object (the default).
	AggregateMax Aggregate = iota
	// AggregateMean takes the mean over the objects.
	AggregateMean
)

// Uncertainty is the outcome of ClassificationUncertainty and
// DetectionUncertainty.
type Uncertainty struct {
	// Weights[r] is row r's uncertainty in [0, 1]; 0 for a dropped row.
	Weights []float64
	// Dropped lists, ascending, the rows with an unusable prediction,
	// when dropping was asked for: the caller removes them from the
	// candidates and warns.
	Dropped []int
}

// PredictionError reports rows whose predictions cannot give an
// uncertainty: Count rows are affected and Row is the first, with Reason
// (one of the Reason constants) saying what is wrong with it. Callers map
// Row back to a sample id.
type PredictionError struct {
	Row    int
	Count  int
	Reason string
}

// Reasons for a PredictionError.
const (
	ReasonNoPrediction = "no prediction"
	ReasonNull         = "a null confidence"
	ReasonNaN          = "a NaN confidence"
	ReasonOutOfRange   = "a confidence outside [0, 1]"
)

func (e *PredictionError) Error() string {
	return fmt.Sprintf("predictions: row %d has %s (%d rows affected)", e.Row, e.Reason, e.Count)
}

// ClassificationUncertainty returns each row's uncertainty under method
// from its classification confidences p, with max(0, 1 − Σp) added as one
// more entry (the probability of everything not predicted; it is added
// even when it is 0, so K is the number of confidences + 1):
// least_confidence = 1 − max p, margin = 1 − (p₁ − p₂), entropy = −Σ p log p
// / log K (0 log 0 = 0; 0 when K = 1), clamped to [0, 1] (confidences summing
// above 1 could exceed it).
//
// A row without a confidence, or with one that is null, NaN or outside
// [0, 1], is an error: a *PredictionError with the first such row, its
// reason and the number of such rows; with drop those rows get weight 0 and
// are listed in Dropped instead.
func ClassificationUncertainty(p Predictions, method UncertaintyMethod, drop bool) (*Uncertainty, error) {
	if method < LeastConfidence || method > Entropy {
		return nil, fmt.Errorf("uncertainty: unknown method %d", method)
	}
	return uncertainty(p, drop, true, func(c []float64) float64 { return classify(c, method) })
}

// DetectionUncertainty returns each row's uncertainty from its predicted
// objects' confidences: each object scores 1 − confidence, the row the max
// (AggregateMax) or the mean (AggregateMean) of its objects, and a row
// without predicted objects scores emptyScore (in [0, 1]; spec default 0).
// A confidence that is null, NaN or outside [0, 1] is an error as for
// ClassificationUncertainty (with drop, the row is dropped instead).
func DetectionUncertainty(p Predictions, agg Aggregate, emptyScore float64, drop bool) (*Uncertainty, error) {
	if agg != AggregateMax && agg != AggregateMean {
		return nil, fmt.Errorf("uncertainty: unknown aggregate %d", agg)
	}
	if !(emptyScore >= 0 && emptyScore <= 1) {
		return nil, fmt.Errorf("uncertainty: empty_score %v must be in [0, 1]", emptyScore)
	}
	return uncertainty(p, drop, false, func(c []float64) float64 {
		if len(c) == 0 {
			return emptyScore
		}
		s := 0.0
		for _, x := range c {
			if agg == AggregateMax {
				s = math.Max(s, 1-x)
			} else {
				s += 1 - x
			}
		}
		if agg == AggregateMean {
			s /= float64(len(c))
		}
		return s
	})
}

// uncertainty validates p and scores each usable row with score.
func uncertainty(p Predictions, drop, needOne bool, score func([]float64) float64) (*Uncertainty, error) {
	if len(p.Start) == 0 || p.Start[0] != 0 {
		return nil, fmt.Errorf("uncertainty: prediction offsets must start at 0")
	}
	for r := 1; r < len(p.Start); r++ {
		if p.Start[r] < p.Start[r-1] {
			return nil, fmt.Errorf("uncertainty: prediction offsets decrease at row %d", r-1)
		}
	}
	if last := p.Start[len(p.Start)-1]; last != len(p.Confidence) {
		return nil, fmt.Errorf("uncertainty: prediction offsets end at %d, but there are %d confidences", last, len(p.Confidence))
	}
	if p.Null != nil && len(p.Null) != len(p.Confidence) {
		return nil, fmt.Errorf("uncertainty: %d null flags for %d confidences", len(p.Null), len(p.Confidence))
	}
	u := &Uncertainty{Weights: make([]float64, p.Rows())}
	var bad *PredictionError
	for r := range u.Weights {
		lo, hi := p.Start[r], p.Start[r+1]
		reason := ""
		if needOne && lo == hi {
			reason = ReasonNoPrediction
		}
		for k := lo; k < hi && reason == ""; k++ {
			switch c := p.Confidence[k]; {
			case p.Null != nil && p.Null[k]:
				reason = ReasonNull
			case math.IsNaN(c):
				reason = ReasonNaN
			case c < 0 || c > 1:
				reason = ReasonOutOfRange
			}
		}
		if reason != "" {
			if bad == nil {
				bad = &PredictionError{Row: r, Reason: reason}
			}
			bad.Count++
			u.Dropped = append(u.Dropped, r)
			continue
		}
		u.Weights[r] = score(p.Confidence[lo:hi])
	}
	if bad != nil && !drop {
		return nil, fmt.Errorf("uncertainty: %w", bad)
	}
	return u, nil
}

// classify scores one row's confidences c (at least one, each in [0, 1]).
func classify(c []float64, method UncertaintyMethod) float64 {
	sum := 0.0
	for _, x := range c {
		sum += x
	}
	rest := math.Max(0, 1-sum) // the extra entry
	switch method {
	case LeastConfidence:
		return 1 - math.Max(slices.Max(c), rest)
	case Margin:
		p1, p2 := rest, -1.0 // the two largest of c and rest
		for _, x := range c {
			switch {
			case x > p1:
				p1, p2 = x, p1
			case x > p2:
				p2 = x
			}
		}
		return 1 - (p1 - p2)
	}
	k := len(c) + 1
	if k == 1 {
		return 0
	}
	h := 0.0
	for _, x := range append(slices.Clone(c), rest) {
		if x > 0 {
			h -= x * math.Log(x)
		}
	}
	return math.Min(1, math.Max(0, h/math.Log(float64(k))))
}
