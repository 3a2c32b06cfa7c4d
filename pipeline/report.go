package pipeline

import (
	"math/rand/v2"

	"winnow/strategies"
)

// StrategyReport says what one strategy of a selection achieved.
type StrategyReport struct {
	Name     string         `json:"strategy"`
	Strength float64        `json:"strength"`
	Model    string         `json:"model,omitempty"`
	Coverage *Coverage      `json:"coverage,omitempty"`
	Balance  *BalanceReport `json:"balance,omitempty"`
	Weights  *WeightReport  `json:"weights,omitempty"`
}

// Coverage compares the coverage radius (the largest distance from a
// candidate to its nearest selected sample; smaller is better) of the
// selection with that of a random subset of the same size.
type Coverage struct {
	Selection float64 `json:"selection"`
	Random    float64 `json:"random"`
	// Measured is how many candidates the radius was measured over: all of
	// them, or an even stride of them on large selections, where the exact
	// radius would cost as much as the selection itself.
	Measured int `json:"measured"`
}

// BalanceReport gives class shares among candidates, in the target and in
// the selection (preselected samples included), in the same class order.
type BalanceReport struct {
	Classes    []string  `json:"classes"`
	Candidates []float64 `json:"candidates"`
	Target     []float64 `json:"target"`
	Selection  []float64 `json:"selection"`
}

// WeightReport compares the mean weight of candidates and selection.
type WeightReport struct {
	Candidates float64 `json:"candidates_mean"`
	Selection  float64 `json:"selection_mean"`
}

// coverageBudget caps the distance work of a coverage estimate, in floats.
const coverageBudget = 1 << 31

// reports summarises each strategy; sel holds the engine rows of the
// result tag (preselected first, then the picks).
func (r *resolver) reports(list []Strategy, b *built, u *universe, sel []int) []StrategyReport {
	out := make([]StrategyReport, len(list))
	for i, s := range list {
		rep := StrategyReport{Name: s.Name(), Strength: s.strength(), Model: r.models[i]}
		switch {
		case b.balance[i] != nil:
			rep.Balance = balanceReport(b.balance[i], u, sel)
		case b.weights[i] != nil:
			rep.Weights = weightReport(b.weights[i], u, sel)
		case b.vectors[i] != nil && len(sel) > 0:
			rep.Coverage = r.coverage(b.vectors[i], b.dims[i], u, sel)
		}
		out[i] = rep
	}
	return out
}

func (r *resolver) coverage(vec []float32, dim int, u *universe, sel []int) *Coverage {
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
	if c.Selection, err = strategies.CoverageRadius(r.ctx, finiteVectors(vec, dim), points, sel, r.opts.Workers); err != nil {
		return nil
	}
	if c.Random, err = strategies.CoverageRadius(r.ctx, finiteVectors(vec, dim), points, random, r.opts.Workers); err != nil {
		return nil
	}
	return c
}

func weightReport(w []float64, u *universe, sel []int) *WeightReport {
	rep := &WeightReport{}
	for _, x := range w[:u.candidates] {
		rep.Candidates += x
	}
	rep.Candidates /= float64(max(1, u.candidates))
	for _, i := range sel {
		rep.Selection += w[i]
	}
	rep.Selection /= float64(max(1, len(sel)))
	return rep
}

func balanceReport(bd *balanceData, u *universe, sel []int) *BalanceReport {
	k := len(bd.classes)
	cand := make([]float64, k)
	for i := 0; i < u.candidates; i++ {
		for c := 0; c < k; c++ {
			cand[c] += bd.counts[i*k+c]
		}
	}
	got := make([]float64, k)
	for _, i := range sel {
		for c := 0; c < k; c++ {
			got[c] += bd.counts[i*k+c]
		}
	}
	return &BalanceReport{Classes: bd.classes, Candidates: shares(cand), Target: bd.target, Selection: shares(got)}
}

func shares(x []float64) []float64 {
	t := 0.0
	for _, v := range x {
		t += v
	}
	out := make([]float64, len(x))
	if t == 0 {
		return out
	}
	for i, v := range x {
		out[i] = v / t
	}
	return out
}
