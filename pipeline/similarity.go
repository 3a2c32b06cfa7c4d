package pipeline

import (
	"fmt"

	"github.com/winnow-data/winnow/strategies"
)

// Similarity prefers samples close to those carrying QueryTag; a negative
// strength prefers dissimilar ones.
type Similarity struct {
	QueryTag string
	Model    string
	Strength *float64
}

func init() {
	register(&kind{
		name:      "similarity",
		help:      "samples close to those of a query tag",
		objective: objective{"similarity", "exp(-d/mean d), d the distance to the nearest sample of the query tag"},
		fields:    []field{queryTagField, modelField},
		decode: func(v values) (Strategy, error) {
			q, err := v.need(queryTagField.wire)
			if err != nil {
				return nil, err
			}
			m, err := v.str(modelField.wire)
			s, _ := v.num("strength")
			return Similarity{QueryTag: q, Model: m, Strength: s}, err
		},
	})
}

// Name is "similarity".
func (Similarity) Name() string            { return "similarity" }
func (s Similarity) strength() float64     { return strengthOf(s.Strength) }
func (s Similarity) model() (string, bool) { return s.Model, true }
func (s Similarity) fields() map[string]any {
	return map[string]any{queryTagField.wire: s.QueryTag, modelField.wire: s.Model}
}

// build computes the similarity weights of docs/selection.md to the
// samples tagged QueryTag that have a vector.
func (s Similarity) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
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
	w, err := strategies.SimilarityWeightsContext(r.ctx, r.vectors(model, u), u.candidates, rowsVectors(m, rows))
	if err != nil {
		return nil, err
	}
	return r.weightsPart(padWeights(w, u), strength, u, "similarity")
}
