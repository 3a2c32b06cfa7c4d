package report

import (
	"fmt"
	"math"
)

// classesOf builds strategy i's class distribution from the record's
// shares. selected is how many samples the result tag holds (preselected
// included): a class is short when the selection holds more than half a
// sample fewer of it than the target asks for.
func classesOf(i int, s StrategyInput, selected int) Classes {
	b := s.Balance
	c := Classes{
		Strategy:   i,
		Title:      balanceTitle(s),
		Labels:     append([]string(nil), b.Classes...),
		Candidates: shares(fit(b.Candidates, len(b.Classes))),
		Target:     shares(fit(b.Target, len(b.Classes))),
		Selection:  shares(fit(b.Selection, len(b.Classes))),
	}
	c.Short = make([]bool, len(c.Labels))
	for k := range c.Labels {
		gap := c.Target[k] - c.Selection[k]
		c.Short[k] = c.Target[k] > 0 && gap*float64(max(selected, 0)) > 0.5
		if selected == 0 {
			c.Short[k] = c.Target[k] > 0
		}
	}
	return c
}

func balanceTitle(s StrategyInput) string {
	switch {
	case s.Name == "metadata_balance" && s.Key != "":
		return fmt.Sprintf("values of %q", s.Key)
	case s.Source != "":
		return fmt.Sprintf("annotation labels (source %q)", s.Source)
	}
	return "annotation labels"
}

// fit returns x with exactly n entries: missing ones are 0, extra ones
// dropped (a record whose arrays disagree in length is drawn, not
// rejected).
func fit(x []float64, n int) []float64 {
	out := make([]float64, n)
	copy(out, x)
	return out
}

// shares normalises x to sum 1, counting negative and non-finite entries
// as 0; all zeros when nothing is left.
func shares(x []float64) []float64 {
	out := make([]float64, len(x))
	t := 0.0
	for i, v := range x {
		if v > 0 && !math.IsInf(v, 0) {
			out[i] = v
			t += v
		}
	}
	if t == 0 {
		return out
	}
	for i := range out {
		out[i] /= t
	}
	return out
}
