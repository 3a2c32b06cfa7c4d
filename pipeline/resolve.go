package pipeline

// Resolution: names in strategies (embedding models, columns, tags) become
// the engine's plain slices over a selection's rows.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
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
	m, err := r.ds.cd.ReadEmbeddings(r.ctx, model, r.readOptions(model)...)
	if err != nil {
		return nil, precisionError(model, err)
	}
	r.matrices[model] = m
	return m, nil
}

// readOptions is the read options of model's vectors: reporting the load
// through Options.Progress, if any, and for PrecisionFloat16 rounding the
// values to float16 as they are decoded (columnar.WithFloat16), so that
// the float32 matrix never exists.
func (r *resolver) readOptions(model string) []columnar.ReadOption {
	var opts []columnar.ReadOption
	if f := progressFunc(r.opts.Progress, PhaseLoad, model, "rows"); f != nil {
		opts = append(opts, columnar.WithProgress(f))
	}
	if r.opts.Precision == PrecisionFloat16 {
		opts = append(opts, columnar.WithFloat16())
	}
	return opts
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

// vectors returns the universe's vectors of model in the matrix's
// precision (float16 stays float16). When the universe is every sample in
// order, it is the matrix's own data: no copy.
func (r *resolver) vectors(model string, u *universe) strategies.Vectors {
	m := r.matrices[model]
	if u.identity(m.Rows()) {
		return matrixVectors(m)
	}
	return rowsVectors(m, u.rows)
}

// matrixVectors returns m's values as the engine's Vectors, sharing them.
//
// Invariant: the result says Finite, so the engine skips its own NaN/±Inf
// pass over the matrix. That holds because every matrix here comes from
// columnar's ReadEmbeddings or ReadObjectEmbeddings, which refuse
// non-finite values while decoding (on all cores), and, rounding to
// float16 (Options.Precision, columnar.WithFloat16), values it would
// round to ±Inf.
// Vectors built any other way must not use it.
func matrixVectors(m *columnar.Matrix) strategies.Vectors {
	return strategies.Vectors{Dim: m.Dim, F32: m.Data, F16: m.F16, Finite: true}
}

// rowsVectors copies the given rows of m, in order and in m's precision
// (Finite for the reason given at matrixVectors).
func rowsVectors(m *columnar.Matrix, rows []int) strategies.Vectors {
	v := strategies.Vectors{Dim: m.Dim, Finite: true}
	if m.F16 != nil {
		v.F16 = make([]uint16, 0, len(rows)*m.Dim)
		for _, row := range rows {
			v.F16 = append(v.F16, m.Row16(row)...)
		}
		return v
	}
	v.F32 = make([]float32, 0, len(rows)*m.Dim)
	for _, row := range rows {
		v.F32 = append(v.F32, m.Row(row)...)
	}
	return v
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
