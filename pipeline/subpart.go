package pipeline

import (
	"errors"
	"fmt"
	"slices"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
)

// SubpartDiversity prefers samples whose objects (annotations, e.g.
// object crops) are far from every object already selected: a sample's
// objective is the distance from its most novel object to the nearest
// selected object (docs/selection.md). Model is an object-level embedding
// model (one vector per annotation, keyed by annotation id; "" for the
// dataset's only one); Source, when set, counts only objects of that
// annotation source. A sample without objects scores 0.
type SubpartDiversity struct {
	Model    string
	Source   string
	Strength *float64
}

func init() {
	register(&kind{
		name:      "subpart_diversity",
		help:      "samples whose objects are far from every selected object (object-level diversity)",
		objective: objective{"object distance", "distance from the sample's most novel object to the nearest selected object"},
		fields:    []field{modelField, sourceField},
		decode: func(v values) (Strategy, error) {
			m, err := v.str(modelField.wire)
			if err != nil {
				return nil, err
			}
			src, err := v.str(sourceField.wire)
			s, _ := v.num("strength")
			return SubpartDiversity{Model: m, Source: src, Strength: s}, err
		},
	})
}

// Name is "subpart_diversity", LightlyStudio's name.
func (SubpartDiversity) Name() string        { return "subpart_diversity" }
func (s SubpartDiversity) strength() float64 { return strengthOf(s.Strength) }

// model is false: the objects' model is resolved by build, since samples
// without objects are candidates like any other.
func (SubpartDiversity) model() (string, bool) { return "", false }
func (s SubpartDiversity) fields() map[string]any {
	return map[string]any{modelField.wire: s.Model, sourceField.wire: s.Source}
}

func (s SubpartDiversity) build(r *resolver, u *universe, _ string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	model, err := r.objectModel(s.Model)
	if err != nil {
		return nil, err
	}
	om, err := r.ds.cd.ReadObjectEmbeddings(r.ctx, model, r.readOptions(model)...)
	if err != nil {
		return nil, precisionError(model, err)
	}
	keep, err := r.sourceFilter(s.Source)
	if err != nil {
		return nil, err
	}
	start, vec := objectsOf(om, u, keep)
	st, err := strategies.NewSubpartDiversity(start, vec, strength)
	if err != nil {
		return nil, err
	}
	return &part{engine: st,
		report: func(rep *StrategyReport, sel []int) {
			rep.Model = model
			rep.Objects = &ObjectReport{Candidates: start[u.candidates]}
			for _, e := range sel {
				rep.Objects.Selection += start[e+1] - start[e]
			}
		},
		lift: func(us *strategies.Units) (strategies.Strategy, error) {
			ustart, uvec := us.Objects(start, vec)
			return strategies.NewSubpartDiversity(ustart, uvec, strength)
		},
	}, nil
}

// ObjectReport counts the objects of the candidates and of the selection.
type ObjectReport struct {
	Candidates int `json:"candidates"`
	Selection  int `json:"selection"`
}

// objectModel resolves an object-level model name ("" for the only one).
func (r *resolver) objectModel(name string) (string, error) {
	models := r.ds.cd.ObjectModels()
	if name == "" {
		switch len(models) {
		case 0:
			return "", errors.New("the dataset has no object-level embeddings (a model table keyed by annotation_id)")
		case 1:
			return models[0], nil
		}
		return "", &AmbiguousModelError{Models: models}
	}
	if !slices.Contains(models, name) {
		return "", &NameError{Kind: ErrUnknownModel, Name: name, Known: models}
	}
	return name, nil
}

// sourceFilter returns which annotations (by table order) are of source,
// nil for every annotation when source is "".
func (r *resolver) sourceFilter(source string) (func(i int) bool, error) {
	if source == "" {
		return nil, nil
	}
	if !r.ds.cd.HasAnnotationColumn("source") {
		return nil, fmt.Errorf("annotation source %q: the annotations table has no source column", source)
	}
	ann, err := r.ds.cd.Annotations(r.ctx, columnar.WithSource)
	if err != nil {
		return nil, err
	}
	code := int32(slices.Index(ann.Source.Values, source))
	if code < 0 {
		return nil, &NameError{Kind: ErrUnknownSource, Name: source, Known: slices.Sorted(slices.Values(ann.Source.Values))}
	}
	return func(i int) bool { return ann.Source.Codes[i] == code }, nil
}

// objectsOf gathers, for every universe row, the vectors of its objects
// (annotations with a vector, of the source when keep is set), in
// annotation order and the matrix's precision: row e's are rows
// start[e]..start[e+1]-1 (Finite: see matrixVectors).
func objectsOf(om *columnar.ObjectMatrix, u *universe, keep func(int) bool) ([]int, strategies.Vectors) {
	at := make([]int32, len(om.Sample))
	for i := range at {
		at[i] = -1
	}
	rowOf := engineRows(maxRow(u)+1, u)
	use := func(i int) bool { return om.Present.Get(i) && (keep == nil || keep(i)) }
	start := make([]int, len(u.rows)+1)
	for i, s := range om.Sample {
		if int(s) < len(rowOf) && rowOf[s] >= 0 && use(i) {
			at[i] = rowOf[s]
			start[rowOf[s]+1]++
		}
	}
	for e := range u.rows {
		start[e+1] += start[e]
	}
	next := slices.Clone(start[:len(u.rows)])
	order := make([]int, start[len(u.rows)])
	for i, e := range at {
		if e < 0 {
			continue
		}
		order[next[e]] = i
		next[e]++
	}
	return start, rowsVectors(&om.Matrix, order)
}

// maxRow is the largest dataset row of u.
func maxRow(u *universe) int {
	m := -1
	for _, r := range u.rows {
		m = max(m, r)
	}
	return m
}
