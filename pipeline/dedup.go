package pipeline

import (
	"fmt"
	"math"

	"github.com/winnow-data/winnow/strategies"
)

// Deduplication is diversity that never picks a sample closer than
// MinDistance to one already selected; the run may end with fewer than n.
type Deduplication struct {
	Model       string
	MinDistance float64
	Strength    *float64
}

func init() {
	register(&kind{
		name:      "deduplication",
		help:      "diverse samples, none closer than the minimum distance to another",
		objective: objective{"distance", "distance to the nearest sample already selected"},
		fields:    []field{modelField, minDistanceField},
		decode: func(v values) (Strategy, error) {
			m, err := v.str(modelField.wire)
			if err != nil {
				return nil, err
			}
			d, err := v.num(minDistanceField.wire)
			if err != nil {
				return nil, err
			}
			if d == nil {
				return nil, fmt.Errorf("strategy %q needs %s", v.name, minDistanceField.wire)
			}
			s, _ := v.num("strength")
			return Deduplication{Model: m, MinDistance: *d, Strength: s}, nil
		},
	})
}

// Name is "deduplication".
func (Deduplication) Name() string            { return "deduplication" }
func (s Deduplication) strength() float64     { return strengthOf(s.Strength) }
func (s Deduplication) model() (string, bool) { return s.Model, true }
func (s Deduplication) fields() map[string]any {
	return map[string]any{modelField.wire: s.Model, minDistanceField.wire: s.MinDistance}
}

func (s Deduplication) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	if s.MinDistance < 0 || math.IsNaN(s.MinDistance) || math.IsInf(s.MinDistance, 0) {
		return nil, fmt.Errorf("minimum distance must be a finite number >= 0, got %v", s.MinDistance)
	}
	vec := r.vectors(model, u)
	st, err := strategies.NewDeduplication(vec, s.MinDistance, strength)
	if err != nil {
		return nil, err
	}
	return &part{engine: st, report: r.coverageReport(vec, u),
		lift: func(us *strategies.Units) (strategies.Strategy, error) {
			return strategies.NewDeduplication(us.Vectors(vec), s.MinDistance, strength)
		},
	}, nil
}
