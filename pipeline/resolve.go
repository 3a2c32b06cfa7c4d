package pipeline

// Resolution: names in strategies (embedding models, columns, tags) become
// the engine's plain slices over a selection's rows.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"winnow/columnar"
	"winnow/strategies"
)

// resolver turns strategy values into the engine's strategies over plain
// slices, loading each embedding model once.
type resolver struct {
	ctx      context.Context
	ds       *Dataset
	opts     *Options
	matrices map[string]*columnar.Matrix
}

// part is one strategy's share of an engine problem.
type part struct {
	engine strategies.Strategy
	// report fills in what the strategy achieved for the result tag sel
	// (engine rows, preselected first); nil reports nothing beyond the
	// strategy's name, strength and model.
	report func(rep *StrategyReport, sel []int)
	// lift builds the part's engine strategy over units, for group
	// selection: from the units' mean vectors, mean weights or summed
	// balancing rows (strategies.Units).
	lift func(u *strategies.Units) (strategies.Strategy, error)
}

// modelName resolves "" to the dataset's only model and checks others.
func (r *resolver) modelName(name string) (string, error) {
	models := r.ds.cd.Models()
	if name == "" {
		switch len(models) {
		case 0:
			return "", ErrNoEmbeddings
		case 1:
			return models[0], nil
		}
		return "", &AmbiguousModelError{Models: models}
	}
	if !slices.Contains(models, name) {
		return "", &columnar.NameError{Kind: ErrUnknownModel, Name: name, Known: models}
	}
	return name, nil
}

func (r *resolver) matrix(model string) (*columnar.Matrix, error) {
	if m, ok := r.matrices[model]; ok {
		return m, nil
	}
	m, err := r.ds.cd.ReadEmbeddings(r.ctx, model)
	if err != nil {
		return nil, err
	}
	// TEMPORARY (until the engine computes on float16, the lead's
	// strategies.Vectors): a float16 matrix is widened to float32 here,
	// exactly, at twice its memory.
	if m.F16 != nil {
		m.Data, m.F16 = m.Float32s(), nil
	}
	r.matrices[model] = m
	return m, nil
}

// models resolves and loads every model the strategies read, and returns
// them per strategy ("" for strategies without one) with the candidates
// that have a vector for each (or an error when some lack one and
// DropMissing is off).
func (r *resolver) models(list []Strategy, cands, pre []int, res *Result) ([]string, []int, error) {
	models := make([]string, len(list))
	for i, s := range list {
		name, ok := s.model()
		if !ok {
			continue
		}
		model, kept, err := r.requireModel(name, cands, pre, res)
		if err != nil {
			return nil, nil, fmt.Errorf("strategy %s: %w", s.Name(), err)
		}
		models[i], cands = model, kept
	}
	return models, cands, nil
}

// filterer is a strategy that can score only some candidates: filter
// returns those it can (dropping the others with a warning in res when
// Options.DropMissing is set) or an error naming the first it cannot. It
// runs before the universe is built.
type filterer interface {
	filter(r *resolver, cands []int, res *Result) ([]int, error)
}

// filter applies every strategy's filter to the candidates.
func (r *resolver) filter(list []Strategy, cands []int, res *Result) ([]int, error) {
	for _, s := range list {
		f, ok := s.(filterer)
		if !ok {
			continue
		}
		var err error
		if cands, err = f.filter(r, cands, res); err != nil {
			return nil, fmt.Errorf("strategy %s: %w", s.Name(), err)
		}
	}
	return cands, nil
}

// requireModel resolves embedding model name ("" for the only one),
// loads it, and returns it with the candidates that have a vector: those
// without one are dropped with a warning when Options.DropMissing is set,
// and an error otherwise. Every preselected sample must have one.
func (r *resolver) requireModel(name string, cands, pre []int, res *Result) (string, []int, error) {
	model, err := r.modelName(name)
	if err != nil {
		return "", nil, err
	}
	m, err := r.matrix(model)
	if err != nil {
		return "", nil, err
	}
	for _, p := range pre {
		if !m.Present.Get(p) {
			return "", nil, fmt.Errorf("preselected sample %s has no embedding for model %q", r.ds.cd.SampleName(r.ctx, p), model)
		}
	}
	var missing []int
	for _, c := range cands {
		if !m.Present.Get(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return model, cands, nil
	}
	if !r.opts.DropMissing {
		return "", nil, &MissingEmbeddingsError{Model: model, Missing: len(missing), Candidates: len(cands),
			First: r.ds.cd.SampleName(r.ctx, missing[0])}
	}
	res.Warnings = append(res.Warnings, fmt.Sprintf("dropped %d of %d candidates without an embedding for model %q", len(missing), len(cands), model))
	return model, slices.DeleteFunc(slices.Clone(cands), func(c int) bool { return !m.Present.Get(c) }), nil
}

// vectors returns the universe's vectors of model as one contiguous
// slice. When the universe is every sample in order, it is the matrix's
// own data: no copy.
func (r *resolver) vectors(model string, u *universe) ([]float32, int) {
	m := r.matrices[model]
	if u.identity(m.Rows()) {
		return m.Data, m.Dim
	}
	out := make([]float32, len(u.rows)*m.Dim)
	for i, row := range u.rows {
		copy(out[i*m.Dim:(i+1)*m.Dim], m.Row(row))
	}
	return out, m.Dim
}

// checkStrength refuses a strength that is not finite.
func checkStrength(s Strategy) (float64, error) {
	x := s.strength()
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("strength %v is not finite", x)
	}
	return x, nil
}

// weightsPart builds a weighting part over w (universe rows) and turns a
// value error into one that names the input and the first affected
// sample; the part reports mean weights.
func (r *resolver) weightsPart(w []float64, strength float64, u *universe, what string) (*part, error) {
	st, err := strategies.NewWeights(w, strength)
	var ve *strategies.ValueError
	if errors.As(err, &ve) {
		return nil, &ValueError{What: what, Reason: ve.Reason, Count: ve.Count, Candidates: u.candidates,
			First: r.ds.cd.SampleName(r.ctx, u.rows[ve.Row])}
	}
	if err != nil {
		return nil, err
	}
	return &part{engine: st,
		report: func(rep *StrategyReport, sel []int) { rep.Weights = weightReport(w, u, sel) },
		lift: func(us *strategies.Units) (strategies.Strategy, error) {
			return strategies.NewWeights(us.Weights(w), strength)
		},
	}, nil
}

// padWeights extends weights of the candidates to every universe row
// (rows beyond the candidates are never scored).
func padWeights(w []float64, u *universe) []float64 {
	return append(w, make([]float64, len(u.rows)-len(w))...)
}
