package pipeline

import (
	"math/rand/v2"

	"github.com/winnow-data/winnow/strategies"
)

// EmbeddingDiversity prefers samples far from everything already selected
// (greedy k-center). Model "" means the dataset's only embedding model.
type EmbeddingDiversity struct {
	Model    string
	Strength *float64
}

func init() {
	register(&kind{
		name:      "diversity",
		help:      "samples far apart in embedding space (greedy k-center)",
		objective: objective{"distance", "distance to the nearest sample already selected"},
		fields:    []field{modelField},
		decode: func(v values) (Strategy, error) {
			m, err := v.str(modelField.wire)
			s, _ := v.num("strength")
			return EmbeddingDiversity{Model: m, Strength: s}, err
		},
	})
}

// Name is "diversity".
func (EmbeddingDiversity) Name() string            { return "diversity" }
func (s EmbeddingDiversity) strength() float64     { return strengthOf(s.Strength) }
func (s EmbeddingDiversity) model() (string, bool) { return s.Model, true }
func (s EmbeddingDiversity) fields() map[string]any {
	return map[string]any{modelField.wire: s.Model}
}

func (s EmbeddingDiversity) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	vec := r.vectors(model, u)
	st, err := strategies.NewDiversity(vec, strength)
	if err != nil {
		return nil, err
	}
	return &part{engine: st, report: r.coverageReport(vec, u),
		lift: func(us *strategies.Units) (strategies.Strategy, error) {
			return strategies.NewDiversity(us.Vectors(vec), strength)
		},
	}, nil
}

// coverageBudget caps the distance work of a coverage estimate, in floats.
const coverageBudget = 1 << 31

// coverageReport reports the coverage radius of the result against a
// random subset of the same size.
func (r *resolver) coverageReport(vec strategies.Vectors, u *universe) func(*StrategyReport, []int) {
	return func(rep *StrategyReport, sel []int) {
		if len(sel) > 0 {
			rep.Coverage = r.coverage(vec, u, sel)
		}
	}
}

func (r *resolver) coverage(vec strategies.Vectors, u *universe, sel []int) *Coverage {
	dim := vec.Dim
	m := u.candidates
	if cap := coverageBudget / max(1, len(sel)*dim); m > cap {
		m = max(cap, 200)
	}
	points := make([]int, 0, m)
	for i := 0; i < m; i++ {
		points = append(points, int(int64(i)*int64(u.candidates)/int64(m)))
	}
	// A random subset of the same size from the same pool, seeded so the
	// summary is reproducible.
	rng := rand.New(rand.NewPCG(1, uint64(len(sel))))
	random := rng.Perm(len(u.rows))[:len(sel)]
	c := &Coverage{Measured: m}
	var err error
	if c.Selection, err = strategies.CoverageRadius(r.ctx, vec, points, sel, r.opts.Workers); err != nil {
		return nil
	}
	if c.Random, err = strategies.CoverageRadius(r.ctx, vec, points, random, r.opts.Workers); err != nil {
		return nil
	}
	return c
}
