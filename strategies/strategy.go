package strategies

import (
	"fmt"
	"math"
)

// Strategy is one factor of the greedy score (spec §2). The built-in
// strategies are *Diversity (also deduplication), *Weights and *Balance; the
// engine recognises them and runs their fast paths. Other implementations are
// honoured through the State interface by a straightforward scan.
type Strategy interface {
	// Strength is the exponent of the strategy's objective in the score
	// product: finite; 0 makes the strategy inert, a negative value
	// inverts its preference.
	Strength() float64
	// Start returns fresh per-run state for a problem with rows rows of
	// data of which the first candidates are candidates. It fails when the
	// strategy's data covers fewer rows than the problem needs.
	Start(rows, candidates int) (State, error)
}

// State is the per-run state of a Strategy while S grows.
type State interface {
	// Objective is objective(i | S) for candidate i: a value >= 0 that may
	// be +Inf.
	Objective(i int) float64
	// Eligible reports whether candidate i may be picked given S.
	Eligible(i int) bool
	// Add appends row (a candidate or any other row) to S.
	Add(row int)
}

// ValueError reports invalid values in one input: Count rows are affected
// and Row is the first of them, with Reason saying what is wrong with it.
// Callers map Row back to a sample id and Input to their column name.
type ValueError struct {
	Input  string // "weights", "counts" or "vectors"
	Row    int
	Count  int
	Reason string // "NaN", "+Inf", "-Inf" or "negative"

	lastRow int // counting aid: the last affected row seen
}

// WeightError is the ValueError returned by NewWeights.
type WeightError = ValueError

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s: row %d is %s (%d rows affected)", e.Input, e.Row, e.Reason, e.Count)
}

// badValue classifies v; allowNeg permits negative values.
func badValue(v float64, allowNeg bool) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v < 0 && !allowNeg:
		return "negative"
	}
	return ""
}

// checkValues returns a *ValueError for the rows of vals (width values per
// row) holding a bad value, or nil.
func checkValues(input string, vals []float64, width int, allowNeg bool) error {
	var e *ValueError
	for i, v := range vals {
		r := badValue(v, allowNeg)
		if r == "" {
			continue
		}
		row := i / width
		if e == nil {
			e = &ValueError{Input: input, Row: row, Reason: r, lastRow: -1}
		}
		if e.lastRow == row {
			continue
		}
		e.Count++
		e.lastRow = row
	}
	if e == nil {
		return nil
	}
	return e
}

func checkStrength(s float64) error {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return fmt.Errorf("strength %v is not finite", s)
	}
	return nil
}
