package report

import (
	"fmt"
	"math"
	"strings"
)

// Captions say what a plot shows, where its numbers come from and what
// was sampled, so the page can be read without this package's docs.

func coverageCaption(c Coverage) string {
	var b strings.Builder
	switch {
	case c.Strategy < 0:
		fmt.Fprintf(&b, "No diversity strategy took part, so the solid line is measured: the coverage radius of the selection in pick order (the largest distance from a candidate to its nearest selected sample) over %s. ", measuredOver(c))
	case c.Combined:
		b.WriteString("The solid line is each new pick's distance to the samples selected before it: its diversity objective, read from the record. Other strategies shared the score, so a pick need not be the farthest candidate and this distance can fall below the coverage radius. ")
	default:
		b.WriteString("The solid line is the coverage radius (the largest distance from any candidate to its nearest selected sample) as the selection grows: each pick's diversity objective, read from the record, is the radius of the samples selected before it. ")
	}
	if len(c.Random) > 0 {
		fmt.Fprintf(&b, "The dashed line is the coverage radius of the candidates taken in a random order, measured over %s. ", measuredOver(c))
	} else {
		b.WriteString("The candidates are unknown, so there is no random-order curve. ")
	}
	if !math.IsNaN(c.Final) {
		b.WriteString("The dots at n are the record's radius of the whole selection and of a random subset of its size. ")
	}
	b.WriteString("The y axis spans the curves rather than starting at 0. ")
	if c.Elbow >= 0 {
		fmt.Fprintf(&b, "The curve bends at about %d samples: beyond it each new sample covers less. ", c.Elbow)
	}
	return strings.TrimSpace(b.String())
}

func measuredOver(c Coverage) string {
	if c.Measured >= c.Of {
		return fmt.Sprintf("all %d candidates", c.Of)
	}
	return fmt.Sprintf("a deterministic random %d of the %d candidates (a sample's radius is a lower bound of the whole set's)", c.Measured, c.Of)
}

func classesCaption(c Classes, extra string) string {
	var short []string
	for k, s := range c.Short {
		if s {
			short = append(short, c.Labels[k])
		}
	}
	text := "Shares among the candidates, in the resolved target and in the selection (preselected samples included), from the record."
	if len(short) > 0 {
		text += fmt.Sprintf(" Marked * (%s): the selection holds at least half a sample less than the target asks, because the candidates hold too few of them or other strategies outweighed balancing.", strings.Join(short, ", "))
	}
	if extra != "" {
		text += " " + extra
	}
	return text
}

func mapCaption(m *Map) string {
	text := fmt.Sprintf("The two leading principal axes of the vectors of model %q (PCA fitted on %d candidates). ", m.Model, m.Fit)
	if m.Drawn < m.Of {
		text += fmt.Sprintf("A deterministic random %d of the %d candidates are drawn as faint dots; ", m.Drawn, m.Of)
	} else {
		text += fmt.Sprintf("All %d candidates are drawn as faint dots; ", m.Of)
	}
	text += fmt.Sprintf("all %d selected samples with a vector as ringed dots", len(m.Selected))
	if hasPreselected(m.Selected) {
		text += ", preselected ones as black squares"
	}
	text += "."
	if len(m.Classes) > 0 {
		text += " Colours are the balancing strategy's classes (a sample with several annotations takes its first counted one)."
	}
	return text
}

func hasPreselected(pts []Point) bool {
	for _, p := range pts {
		if p.Preselected {
			return true
		}
	}
	return false
}

func distancesCaption(d *Distances) string {
	text := fmt.Sprintf("Distance from each sample to its nearest other sample of the same set (model %q): %s; %s.",
		d.Model, sampledSet("candidates", d.Candidates), sampledSet("selected samples", d.Selection))
	if d.Candidates.Reference < d.Candidates.Of {
		text += " A sample of a set is thinner than the set, so its distances run larger; both sets are sampled to the same reference size where they are sampled."
	}
	if !math.IsNaN(d.MinDistance) {
		text += fmt.Sprintf(" The dashed line is the deduplication threshold %g: no new pick is closer than that to a sample selected before it (preselected samples may be closer to each other).", d.MinDistance)
	}
	return text
}

func weightsCaption(w Weights) string {
	text := "The weight's distribution over the new picks (their recorded objectives)"
	if w.Candidates != nil {
		text += fmt.Sprintf(" and over all %d candidates (read from the dataset)", w.Candidates.Total)
	}
	text += ", as shares of each set."
	if w.Candidates == nil {
		text += " The record holds this weight for the selected samples only; the candidates' recorded mean is drawn as a line."
	}
	return text
}
