package pipeline

// StrategyReport says what one strategy of a selection achieved.
type StrategyReport struct {
	Name string `json:"strategy"`
	// Objective names what the strategy scored candidates by (see
	// StrategyInfo); records written before it was stored have none.
	Objective string         `json:"objective,omitempty"`
	Strength  float64        `json:"strength"`
	Model     string         `json:"model,omitempty"`
	Coverage  *Coverage      `json:"coverage,omitempty"`
	Balance   *BalanceReport `json:"balance,omitempty"`
	Weights   *WeightReport  `json:"weights,omitempty"`
	Objects   *ObjectReport  `json:"objects,omitempty"`
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
	// Unlabeled counts the candidates left out for having no annotation
	// of the counted classes (or a null value), which balancing does not
	// let it pick unless include_unlabeled is set.
	Unlabeled  int       `json:"unlabeled_candidates,omitempty"`
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

// reports summarises each strategy; sel holds the engine rows of the
// result tag (preselected first, then the picks).
func reports(list []Strategy, models []string, parts []*part, sel []int) []StrategyReport {
	out := make([]StrategyReport, len(list))
	for i, s := range list {
		out[i] = StrategyReport{Name: s.Name(), Objective: ObjectiveOf(s.Name()), Strength: s.strength(), Model: models[i]}
		if parts[i].report != nil {
			parts[i].report(&out[i], sel)
		}
	}
	return out
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
