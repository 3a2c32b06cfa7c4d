package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"winnow/columnar"
	"winnow/strategies"
)

// resolver turns strategy values (names of models, columns, tags) into the
// engine's strategies over plain slices.
type resolver struct {
	ctx      context.Context
	ds       *Dataset
	opts     *Options
	matrices map[string]*columnar.Matrix
	models   []string // resolved model per strategy ("" when none)
}

// modelOf is the embedding model a strategy names, "" if it needs none.
func modelOf(s Strategy) (string, bool) {
	switch s := s.(type) {
	case EmbeddingDiversity:
		return s.Model, true
	case Deduplication:
		return s.Model, true
	case Similarity:
		return s.Model, true
	case Typicality:
		return s.Model, true
	case Outliers:
		return s.Model, true
	}
	return "", false
}

// modelName resolves "" to the dataset's only model and checks others.
func (r *resolver) modelName(name string) (string, error) {
	models := r.ds.cd.Models()
	if name == "" {
		switch len(models) {
		case 0:
			return "", errors.New("the dataset has no embeddings (no embeddings/ folder)")
		case 1:
			return models[0], nil
		}
		return "", fmt.Errorf("the dataset has several embedding models (%s): name one with --model", strings.Join(models, ", "))
	}
	if !slices.Contains(models, name) {
		return "", fmt.Errorf("unknown embedding model %q; known models: %s", name, knownModels(r.ds))
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
	r.matrices[model] = m
	return m, nil
}

// prepare resolves and loads every model the strategies need, and
// returns the candidates that have a vector for each of them (or fails
// when some lack one and DropMissing is off).
func (r *resolver) prepare(list []Strategy, cands, pre []int, res *Result) ([]int, error) {
	r.models = make([]string, len(list))
	for i, s := range list {
		name, ok := modelOf(s)
		if !ok {
			continue
		}
		model, err := r.modelName(name)
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", s.Name(), err)
		}
		r.models[i] = model
		m, err := r.matrix(model)
		if err != nil {
			return nil, err
		}
		for _, p := range pre {
			if !m.Present.Get(p) {
				return nil, fmt.Errorf("preselected sample %s has no embedding for model %q", r.ds.cd.SampleName(r.ctx, p), model)
			}
		}
		var missing []int
		for _, c := range cands {
			if !m.Present.Get(c) {
				missing = append(missing, c)
			}
		}
		if len(missing) == 0 {
			continue
		}
		if !r.opts.DropMissing {
			return nil, missingError(r.ctx, r.ds, model, missing, len(cands))
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("dropped %d of %d candidates without an embedding for model %q", len(missing), len(cands), model))
		cands = slices.DeleteFunc(slices.Clone(cands), func(c int) bool { return !m.Present.Get(c) })
	}
	return cands, nil
}

// built holds the engine strategies and what the summary needs of each.
type built struct {
	engine  []strategies.Strategy
	vectors [][]float32 // per strategy: universe vectors, or nil
	dims    []int
	weights [][]float64 // per strategy: universe weights, or nil
	balance []*balanceData
}

type balanceData struct {
	classes []string  // class names, with "other" last when pooled
	counts  []float64 // universe rows × classes
	target  []float64
}

func (r *resolver) build(list []Strategy, u *universe) (*built, error) {
	b := &built{
		vectors: make([][]float32, len(list)), dims: make([]int, len(list)),
		weights: make([][]float64, len(list)), balance: make([]*balanceData, len(list)),
	}
	for i, s := range list {
		st, err := r.buildOne(i, s, u, b)
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", s.Name(), err)
		}
		b.engine = append(b.engine, st)
	}
	return b, nil
}

func (r *resolver) buildOne(i int, s Strategy, u *universe, b *built) (strategies.Strategy, error) {
	strength := s.strength()
	if math.IsNaN(strength) || math.IsInf(strength, 0) {
		return nil, fmt.Errorf("strength %v is not finite", strength)
	}
	if model := r.models[i]; model != "" {
		m := r.matrices[model]
		b.vectors[i], b.dims[i] = gather(m, u), m.Dim
	}
	vec, dim := b.vectors[i], b.dims[i]
	switch s := s.(type) {
	case EmbeddingDiversity:
		return strategies.NewDiversity(finiteVectors(vec, dim), strength)
	case Deduplication:
		if s.MinDistance < 0 || math.IsNaN(s.MinDistance) || math.IsInf(s.MinDistance, 0) {
			return nil, fmt.Errorf("minimum distance must be a finite number >= 0, got %v", s.MinDistance)
		}
		return strategies.NewDeduplication(finiteVectors(vec, dim), s.MinDistance, strength)
	case MetadataWeighting:
		w, err := r.metadataWeights(s.Key, u)
		if err != nil {
			return nil, err
		}
		b.weights[i] = w
		return r.newWeights(w, strength, u, "metadata column "+quote(s.Key))
	case Similarity:
		w, err := r.similarity(s.QueryTag, r.models[i], vec, dim, u)
		if err != nil {
			return nil, err
		}
		b.weights[i] = w
		return r.newWeights(w, strength, u, "similarity")
	case Typicality, Outliers:
		// TODO(lead): record the returned NeighbourSearch (exact or
		// approximate, with its measured recall) and pass Progress.
		w, _, err := strategies.TypicalityWeights(r.ctx, finiteVectors(vec, dim), u.candidates,
			strategies.NeighbourOptions{Workers: r.opts.Workers})
		if err != nil {
			return nil, err
		}
		w = append(w, make([]float64, len(u.rows)-u.candidates)...)
		b.weights[i] = w
		if _, out := s.(Outliers); out {
			strength = -strength
		}
		return r.newWeights(w, strength, u, "typicality")
	case AnnotationBalancing:
		bd, err := r.annotationCounts(s.Source, u)
		if err != nil {
			return nil, err
		}
		if err := r.resolveTarget(bd, s.Target, u); err != nil {
			return nil, err
		}
		b.balance[i] = bd
		return strategies.NewBalance(bd.counts, len(bd.classes), bd.target, strength)
	case MetadataBalancing:
		bd, err := r.categoryCounts(s.Key, u)
		if err != nil {
			return nil, err
		}
		if err := r.resolveTarget(bd, s.Target, u); err != nil {
			return nil, err
		}
		b.balance[i] = bd
		return strategies.NewBalance(bd.counts, len(bd.classes), bd.target, strength)
	}
	return nil, fmt.Errorf("unsupported strategy %T", s)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// newWeights builds a weights strategy and turns a value error into one
// that names the input and the first affected sample.
func (r *resolver) newWeights(w []float64, strength float64, u *universe, what string) (strategies.Strategy, error) {
	st, err := strategies.NewWeights(w, strength)
	var ve *strategies.ValueError
	if errors.As(err, &ve) {
		return nil, fmt.Errorf("%s: %d of %d candidates have a %s weight (first: sample %s)",
			what, ve.Count, u.candidates, ve.Reason, r.ds.cd.SampleName(r.ctx, u.rows[ve.Row]))
	}
	return st, err
}

// gather returns the universe's vectors of m as one contiguous slice. When
// the universe is every sample in order, it is m's own data: no copy.
func gather(m *columnar.Matrix, u *universe) []float32 {
	if u.identity(m.Rows()) {
		return m.Data
	}
	out := make([]float32, len(u.rows)*m.Dim)
	for i, row := range u.rows {
		copy(out[i*m.Dim:(i+1)*m.Dim], m.Row(row))
	}
	return out
}

// column reads one samples column as a single array in dataset order.
func (r *resolver) column(key string) (arrow.Array, error) {
	tbl, err := r.ds.cd.SampleColumns(r.ctx, []string{key})
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	chunks := tbl.Column(0).Data().Chunks()
	if len(chunks) == 0 { // a table without rows has no chunk to concatenate
		return array.MakeArrayOfNull(memory.DefaultAllocator, tbl.Column(0).DataType(), 0), nil
	}
	if len(chunks) == 1 {
		chunks[0].Retain()
		return chunks[0], nil
	}
	// Concatenate needs an allocator: nil crashes on every column of
	// more than one chunk (tables over 32k rows).
	return array.Concatenate(chunks, memory.DefaultAllocator)
}

// metadataWeights reads a numeric column as weights for the universe rows.
// Nulls among the candidates are an error naming the column, how many and
// the first sample; other bad values are reported by the engine's check.
func (r *resolver) metadataWeights(key string, u *universe) ([]float64, error) {
	col, err := r.column(key)
	if err != nil {
		return nil, err
	}
	defer col.Release()
	num, ok := numeric(col)
	if !ok {
		return nil, fmt.Errorf("metadata column %q is %s; weighting needs a numeric column (integer, float or boolean)", key, valueType(col.DataType()))
	}
	w := make([]float64, len(u.rows))
	nulls, first := 0, -1
	for i, row := range u.rows[:u.candidates] {
		if col.IsNull(row) {
			if nulls++; first < 0 {
				first = row
			}
			continue
		}
		w[i] = num(row)
	}
	if nulls > 0 {
		return nil, fmt.Errorf("metadata column %q: %d of %d candidates have a null weight (first: sample %s)", key, nulls, u.candidates, r.ds.cd.SampleName(r.ctx, first))
	}
	return w, nil
}

// numeric returns an accessor for integer, float and boolean arrays.
func numeric(a arrow.Array) (func(int) float64, bool) {
	switch a := a.(type) {
	case *array.Float64:
		return values(a.Float64Values()), true
	case *array.Float32:
		return values(a.Float32Values()), true
	case *array.Int64:
		return values(a.Int64Values()), true
	case *array.Int32:
		return values(a.Int32Values()), true
	case *array.Int16:
		return values(a.Int16Values()), true
	case *array.Int8:
		return values(a.Int8Values()), true
	case *array.Uint64:
		return values(a.Uint64Values()), true
	case *array.Uint32:
		return values(a.Uint32Values()), true
	case *array.Uint16:
		return values(a.Uint16Values()), true
	case *array.Uint8:
		return values(a.Uint8Values()), true
	case *array.Boolean:
		return func(i int) float64 {
			if a.Value(i) {
				return 1
			}
			return 0
		}, true
	}
	return nil, false
}

// values reads a typed Arrow buffer as float64s.
func values[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](v []T) func(int) float64 {
	return func(i int) float64 { return float64(v[i]) }
}

// similarity computes spec §6's similarity weights to the samples tagged
// queryTag that have a vector.
func (r *resolver) similarity(queryTag, model string, vec []float32, dim int, u *universe) ([]float64, error) {
	bm, err := r.ds.cd.Tag(queryTag)
	if err != nil {
		return nil, fmt.Errorf("query tag: %w", err)
	}
	m := r.matrices[model]
	var query []float32
	for _, row := range bm.Indexes() {
		if m.Present.Get(row) {
			query = append(query, m.Row(row)...)
		}
	}
	if len(query) == 0 {
		return nil, fmt.Errorf("query tag %q has no sample with an embedding for model %q", queryTag, model)
	}
	w, err := strategies.SimilarityWeightsContext(r.ctx, finiteVectors(vec, dim), u.candidates, finiteVectors(query, dim))
	if err != nil {
		return nil, err
	}
	return append(w, make([]float64, len(u.rows)-len(w))...), nil
}

// valueType names a column's type as the user's table declares it: the
// reader hands strings over dictionary-encoded, which is an encoding, not
// the column's type.
func valueType(t arrow.DataType) arrow.DataType {
	if d, ok := t.(*arrow.DictionaryType); ok {
		return d.ValueType
	}
	return t
}

// finiteVectors wraps a matrix gathered from columnar, which refuses NaN
// and ±Inf while reading, so the engine need not check the values again.
func finiteVectors(vec []float32, dim int) strategies.Vectors {
	return strategies.Vectors{Dim: dim, F32: vec, Finite: true}
}
