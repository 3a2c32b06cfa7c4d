package pipeline

import (
	"fmt"
	"math"

	"github.com/winnow-data/winnow/strategies"
)

// Similarity prefers samples close to those carrying QueryTag; a negative
// strength prefers dissimilar ones.
type Similarity struct {
	QueryTag string
	Model    string
	Strength *float64
	// Mean, when set, is the μ of the objective exp(-d/μ) in place of the
	// mean distance over the run's candidates (spec §6), so that runs over
	// parts of the candidates weigh every row alike: the shard API sets it
	// to the mean over all of them (Selection.GlobalStrategies).
	Mean *float64
}

var meanField = field{wire: "mean_distance", text: []string{"mean_distance"}, typ: numberField, help: "μ of exp(-d/μ) (default: the mean distance over the candidates)"}

func init() {
	register(&kind{
		name:      "similarity",
		help:      "samples close to those of a query tag",
		objective: objective{"similarity", "exp(-d/mean d), d the distance to the nearest sample of the query tag"},
		fields:    []field{queryTagField, modelField, meanField},
		decode: func(v values) (Strategy, error) {
			q, err := v.need(queryTagField.wire)
			if err != nil {
				return nil, err
			}
			m, err := v.str(modelField.wire)
			if err != nil {
				return nil, err
			}
			mean, err := v.num(meanField.wire)
			if err == nil && mean != nil && (math.IsNaN(*mean) || math.IsInf(*mean, 0) || *mean < 0) {
				err = fmt.Errorf("strategy %q: %s %v must be finite and >= 0", v.name, meanField.wire, *mean)
			}
			s, _ := v.num("strength")
			return Similarity{QueryTag: q, Model: m, Strength: s, Mean: mean}, err
		},
	})
}

// Name is "similarity".
func (Similarity) Name() string            { return "similarity" }
func (s Similarity) strength() float64     { return strengthOf(s.Strength) }
func (s Similarity) model() (string, bool) { return s.Model, true }
func (s Similarity) fields() map[string]any {
	f := map[string]any{queryTagField.wire: s.QueryTag, modelField.wire: s.Model}
	if s.Mean != nil {
		f[meanField.wire] = *s.Mean
	}
	return f
}

// build computes the similarity weights of docs/selection.md to the
// samples tagged QueryTag that have a vector.
func (s Similarity) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	d, err := s.distances(r, u, model)
	if err != nil {
		return nil, err
	}
	var mu float64
	if s.Mean != nil {
		mu = *s.Mean
	} else {
		mu = strategies.MeanDistance(d)
	}
	return r.weightsPart(padWeights(strategies.SimilarityFromDistances(d, mu), u), strength, u, "similarity")
}

// distances returns each candidate's distance to its nearest query sample.
func (s Similarity) distances(r *resolver, u *universe, model string) ([]float64, error) {
	bm, err := r.ds.cd.Tag(s.QueryTag)
	if err != nil {
		return nil, fmt.Errorf("query tag: %w", err)
	}
	m := r.matrices[model]
	var rows []int
	for _, row := range bm.Indexes() {
		if m.Present.Get(row) {
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("query tag %q has no sample with an embedding for model %q", s.QueryTag, model)
	}
	return strategies.SimilarityDistances(r.ctx, r.vectors(model, u), u.candidates, rowsVectors(m, rows))
}
