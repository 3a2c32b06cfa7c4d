package pipeline

import (
	"errors"
	"fmt"
	"slices"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
)

// AnnotationBalancing steers the selection's annotation labels toward
// Target, counting only annotations of Source when it is set.
type AnnotationBalancing struct {
	Target Target
	Source string
	// IncludeUnlabeled keeps candidates without an annotation of the
	// counted classes eligible; by default they are left out while the
	// strategy balances (docs/selection.md).
	IncludeUnlabeled bool
	Strength         *float64
}

// MetadataBalancing steers the values of the categorical metadata column
// Key toward Target.
type MetadataBalancing struct {
	Key    string
	Target Target
	// IncludeUnlabeled keeps candidates with a null value eligible.
	IncludeUnlabeled bool
	Strength         *float64
}

func init() {
	register(&kind{
		name:      "balance",
		help:      "annotation labels steered toward a target distribution",
		objective: objective{"balance", "exp(-imbalance): how close the selection's label counts with the sample come to the target"},
		fields:    []field{targetFieldSpec, sourceField, sourceIDField, includeUnlabeledField},
		decode: func(v values) (Strategy, error) {
			t, err := v.target(targetFieldSpec.wire)
			if err != nil {
				return nil, err
			}
			src, err := v.str(sourceField.wire)
			if err != nil {
				return nil, err
			}
			// LightlyStudio names the source by its database id; a dataset
			// exported from it holds that id in the source column.
			id, err := v.str(sourceIDField.wire)
			if err != nil {
				return nil, err
			}
			if src != "" && id != "" && src != id {
				return nil, fmt.Errorf("strategy %q: %s %q and %s %q name different sources; give one", v.name, sourceField.wire, src, sourceIDField.wire, id)
			}
			if src == "" {
				src = id
			}
			inc, err := v.flag(includeUnlabeledField.wire)
			s, _ := v.num("strength")
			return AnnotationBalancing{Target: t, Source: src, IncludeUnlabeled: inc, Strength: s}, err
		},
	})
	register(&kind{
		name:      "metadata_balance",
		help:      "values of a categorical metadata column steered toward a target",
		objective: objective{"balance", "exp(-imbalance): how close the selection's value counts with the sample come to the target"},
		fields:    []field{keyField, targetFieldSpec, includeUnlabeledField},
		decode: func(v values) (Strategy, error) {
			k, err := v.need(keyField.wire)
			if err != nil {
				return nil, err
			}
			t, err := v.target(targetFieldSpec.wire)
			if err != nil {
				return nil, err
			}
			inc, err := v.flag(includeUnlabeledField.wire)
			s, _ := v.num("strength")
			return MetadataBalancing{Key: k, Target: t, IncludeUnlabeled: inc, Strength: s}, err
		},
	})
}

// Name is "balance".
func (AnnotationBalancing) Name() string          { return "balance" }
func (s AnnotationBalancing) strength() float64   { return strengthOf(s.Strength) }
func (AnnotationBalancing) model() (string, bool) { return "", false }
func (s AnnotationBalancing) fields() map[string]any {
	m := map[string]any{targetFieldSpec.wire: s.Target, sourceField.wire: s.Source}
	if s.IncludeUnlabeled {
		m[includeUnlabeledField.wire] = true
	}
	return m
}

func (s AnnotationBalancing) build(r *resolver, u *universe, _ string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	bd, err := s.counts(r, u)
	if err != nil {
		return nil, err
	}
	return r.balancePart(bd, s.Target, strength, s.IncludeUnlabeled, u)
}

// Name is "metadata_balance".
func (MetadataBalancing) Name() string          { return "metadata_balance" }
func (s MetadataBalancing) strength() float64   { return strengthOf(s.Strength) }
func (MetadataBalancing) model() (string, bool) { return "", false }
func (s MetadataBalancing) fields() map[string]any {
	m := map[string]any{keyField.wire: s.Key, targetFieldSpec.wire: s.Target}
	if s.IncludeUnlabeled {
		m[includeUnlabeledField.wire] = true
	}
	return m
}

func (s MetadataBalancing) build(r *resolver, u *universe, _ string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	bd, err := s.counts(r, u)
	if err != nil {
		return nil, err
	}
	return r.balancePart(bd, s.Target, strength, s.IncludeUnlabeled, u)
}

// balancer is a balancing strategy, for the callers that need its class
// counts and target outside its own build (the shard API).
type balancer interface {
	Strategy
	// counts reads the strategy's count rows over u.
	counts(r *resolver, u *universe) (*balanceData, error)
	target() Target
	// withTarget is the strategy with target t instead of its own.
	withTarget(t Target) Strategy
}

func (s AnnotationBalancing) counts(r *resolver, u *universe) (*balanceData, error) {
	return r.annotationCounts(s.Source, u)
}
func (s AnnotationBalancing) target() Target               { return s.Target }
func (s AnnotationBalancing) withTarget(t Target) Strategy { s.Target = t; return s }

func (s MetadataBalancing) counts(r *resolver, u *universe) (*balanceData, error) {
	return r.categoryCounts(s.Key, u)
}
func (s MetadataBalancing) target() Target               { return s.Target }
func (s MetadataBalancing) withTarget(t Target) Strategy { s.Target = t; return s }

// resolvedBalance is b's count rows over u with its target resolved.
func (r *resolver) resolvedBalance(b balancer, u *universe) (*balanceData, error) {
	bd, err := b.counts(r, u)
	if err == nil {
		err = bd.resolveTarget(b.target(), u)
	}
	if err != nil {
		return nil, fmt.Errorf("strategy %s: %w", b.Name(), err)
	}
	return bd, nil
}

// includeUnlabeledField keeps candidates with an all-zero balancing row.
var includeUnlabeledField = field{wire: "include_unlabeled", text: []string{"include_unlabeled"}, typ: boolField,
	help: "keep candidates without an annotation of the counted classes (or a null value) eligible"}

// balanceData is a balancing strategy's count rows over the universe.
type balanceData struct {
	classes []string  // class names, with "other" last when pooled
	counts  []float64 // universe rows × classes
	target  []float64
}

// balancePart resolves the target and builds the engine part.
func (r *resolver) balancePart(bd *balanceData, t Target, strength float64, includeUnlabeled bool, u *universe) (*part, error) {
	if err := bd.resolveTarget(t, u); err != nil {
		return nil, err
	}
	opt := strategies.IncludeUnlabeled(includeUnlabeled)
	st, err := strategies.NewBalance(bd.counts, len(bd.classes), bd.target, strength, opt)
	if err != nil {
		return nil, err
	}
	k := len(bd.classes)
	return &part{engine: st,
		report: func(rep *StrategyReport, sel []int) {
			rep.Balance = balanceReport(bd, u, sel)
			if strength != 0 && !includeUnlabeled {
				rep.Balance.Unlabeled = unlabeled(bd, u)
			}
		},
		lift: func(us *strategies.Units) (strategies.Strategy, error) {
			return strategies.NewBalance(us.Counts(bd.counts, k), k, bd.target, strength, opt)
		},
	}, nil
}

// engineRows maps dataset rows to universe rows (-1 when not in it).
func engineRows(n int, u *universe) []int32 {
	at := make([]int32, n)
	for i := range at {
		at[i] = -1
	}
	for i, row := range u.rows {
		at[row] = int32(i)
	}
	return at
}

// annotationCounts builds each universe row's count of annotations per
// label, in first-seen label order over the whole annotations table,
// counting only annotations of source when it is not "". Annotations
// without a label count for no class.
func (r *resolver) annotationCounts(source string, u *universe) (*balanceData, error) {
	if !r.ds.cd.HasAnnotations() {
		return nil, errors.New("the dataset has no annotations table (annotations.parquet)")
	}
	fields := columnar.WithLabel
	if source != "" {
		if !r.ds.cd.HasAnnotationFields(columnar.WithSource) {
			return nil, fmt.Errorf("annotation source %q: the annotations table has no source column", source)
		}
		fields |= columnar.WithSource
	}
	ann, err := r.ds.cd.Annotations(r.ctx, fields)
	if err != nil {
		return nil, err
	}
	keep := func(int) bool { return true }
	if source != "" {
		code := int32(slices.Index(ann.Source.Values, source))
		if code < 0 {
			known := slices.Sorted(slices.Values(ann.Source.Values))
			return nil, &columnar.NameError{Kind: ErrUnknownSource, Name: source, Known: known}
		}
		keep = func(i int) bool { return ann.Source.Codes[i] == code }
	}
	// Classes are numbered in first-seen order among the kept annotations.
	var classes []string
	class := make([]int32, len(ann.Label.Values))
	for i := range class {
		class[i] = -1
	}
	ofAnn := make([]int32, ann.Len())
	for i, l := range ann.Label.Codes {
		ofAnn[i] = -1
		if l < 0 || !keep(i) {
			continue
		}
		if class[l] < 0 {
			class[l] = int32(len(classes))
			classes = append(classes, ann.Label.Values[l])
		}
		ofAnn[i] = class[l]
	}
	k := len(classes)
	if k == 0 {
		return nil, errors.New("no annotations to balance")
	}
	if err := checkCountSize("annotation labels", len(u.rows), k); err != nil {
		return nil, err
	}
	at := engineRows(r.ds.Len(), u)
	counts := make([]float64, len(u.rows)*k)
	for i, s := range ann.Sample {
		if e := at[s]; e >= 0 && ofAnn[i] >= 0 {
			counts[int(e)*k+int(ofAnn[i])]++
		}
	}
	return &balanceData{classes: classes, counts: counts}, nil
}

// maxCountCells bounds the dense samples × classes count matrix of a
// balancing strategy (2 GiB of float64). Balancing by a column with a
// distinct value per sample (a file name, an id) would otherwise ask for
// N² cells and kill the process for lack of memory instead of failing.
const maxCountCells = 1 << 28

// checkCountSize refuses a count matrix above maxCountCells.
func checkCountSize(what string, rows, classes int) error {
	if classes > 0 && rows > maxCountCells/classes {
		return fmt.Errorf("%s: %d distinct classes; balancing %d samples over them needs %d million counts, more than the limit of %d million: balance a column with fewer distinct values",
			what, classes, rows, int64(rows)*int64(classes)/1_000_000, maxCountCells/1_000_000)
	}
	return nil
}

// categoryCounts one-hot encodes a categorical metadata column for the
// universe rows (a null value gives an all-zero row), classes in
// first-seen dataset order.
func (r *resolver) categoryCounts(key string, u *universe) (*balanceData, error) {
	col, err := r.ds.cd.CategoricalColumn(r.ctx, key)
	if err != nil {
		return nil, err
	}
	k := len(col.Values)
	if k == 0 {
		return nil, fmt.Errorf("metadata column %q has only nulls", key)
	}
	if err := checkCountSize(fmt.Sprintf("metadata column %q", key), len(u.rows), k); err != nil {
		return nil, err
	}
	counts := make([]float64, len(u.rows)*k)
	for e, row := range u.rows {
		if c := col.Codes[row]; c >= 0 {
			counts[e*k+int(c)] = 1
		}
	}
	return &balanceData{classes: col.Values, counts: counts}, nil
}

// resolveTarget turns the user's target into the engine's, regrouping the
// count columns when an explicit target pools unlisted classes.
func (bd *balanceData) resolveTarget(t Target, u *universe) error {
	k := len(bd.classes)
	cand := make([]float64, k)
	for i := 0; i < u.candidates; i++ {
		for c := 0; c < k; c++ {
			cand[c] += bd.counts[i*k+c]
		}
	}
	spec := strategies.TargetSpec{Kind: strategies.Uniform}
	switch t.Kind() {
	case "input":
		spec.Kind = strategies.Input
	case "ratios":
		spec = strategies.TargetSpec{Kind: strategies.Explicit, Ratios: t.Map()}
	}
	rt, err := strategies.ResolveTarget(bd.classes, cand, spec)
	if err != nil {
		return err
	}
	kk := len(rt.Classes)
	if kk != k || !slices.Equal(rt.Column, identityColumns(k)) {
		counts := make([]float64, len(u.rows)*kk)
		for i := range u.rows {
			for c := 0; c < k; c++ {
				counts[i*kk+rt.Column[c]] += bd.counts[i*k+c]
			}
		}
		bd.counts = counts
	}
	bd.classes, bd.target = rt.Classes, rt.Ratio
	return nil
}

func identityColumns(k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = i
	}
	return out
}

// unlabeled counts the candidates of u whose balancing row is all zero:
// while balancing is active they are not eligible (docs/selection.md).
func unlabeled(bd *balanceData, u *universe) int {
	k, n := len(bd.classes), 0
	for i := range u.candidates {
		zero := true
		for _, c := range bd.counts[i*k : (i+1)*k] {
			if c != 0 {
				zero = false
				break
			}
		}
		if zero {
			n++
		}
	}
	return n
}
