package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
)

// Uncertainty prefers samples a model is unsure about, from the
// predictions of annotation source Source (docs/selection.md): for
// classification the confidences of the sample's classification
// annotations, scored by Method (least_confidence, margin or entropy); for
// object detection each predicted object's 1 − confidence, aggregated by
// Aggregate (max or mean), EmptyScore for a sample without predicted
// objects. Task is "classification" or "object_detection"; "" takes it
// from the source's annotation types. Combined with diversity this is the
// active-learning selection LightlyOne is used for.
type Uncertainty struct {
	Source     string
	Method     string // "least_confidence" (default), "margin" or "entropy"
	Task       string // "", "classification" or "object_detection"
	Aggregate  string // "max" (default) or "mean", for object detection
	EmptyScore float64
	Strength   *float64
}

var (
	methodField     = field{wire: "method", text: []string{"method"}, typ: stringField, help: "least_confidence, margin or entropy"}
	taskField       = field{wire: "task", text: []string{"task"}, typ: stringField, help: "classification or object_detection (default: from the annotations' type)"}
	aggregateField  = field{wire: "aggregate", text: []string{"aggregate"}, typ: stringField, help: "max or mean over a sample's predicted objects"}
	emptyScoreField = field{wire: "empty_score", text: []string{"empty_score"}, typ: numberField, help: "score of a sample without predicted objects (default 0)"}
	methods         = map[string]strategies.UncertaintyMethod{"least_confidence": strategies.LeastConfidence, "margin": strategies.Margin, "entropy": strategies.Entropy}
	aggregates      = map[string]strategies.Aggregate{"max": strategies.AggregateMax, "mean": strategies.AggregateMean}
)

func init() {
	register(&kind{
		name:      "uncertainty",
		help:      "samples a model's predictions are unsure about",
		objective: objective{"uncertainty", "how unsure the model's predictions of the sample are, in [0, 1]"},
		fields:    []field{sourceField, methodField, taskField, aggregateField, emptyScoreField},
		decode: func(v values) (Strategy, error) {
			var u Uncertainty
			var err error
			if u.Source, err = v.need(sourceField.wire); err != nil {
				return nil, err
			}
			if u.Method, err = v.str(methodField.wire); err != nil {
				return nil, err
			}
			if u.Task, err = v.str(taskField.wire); err != nil {
				return nil, err
			}
			if u.Aggregate, err = v.str(aggregateField.wire); err != nil {
				return nil, err
			}
			e, err := v.num(emptyScoreField.wire)
			if err != nil {
				return nil, err
			}
			if e != nil {
				u.EmptyScore = *e
			}
			u.Strength, _ = v.num("strength")
			return u, u.check()
		},
	})
}

// check validates the fields that need no data.
func (u Uncertainty) check() error {
	if _, ok := methods[u.method()]; !ok {
		return fmt.Errorf("strategy %q: unknown method %q (least_confidence, margin or entropy)", u.Name(), u.Method)
	}
	if _, ok := aggregates[u.aggregate()]; !ok {
		return fmt.Errorf("strategy %q: unknown aggregate %q (max or mean)", u.Name(), u.Aggregate)
	}
	if u.Task != "" && u.Task != "classification" && u.Task != "object_detection" {
		return fmt.Errorf("strategy %q: unknown task %q (classification or object_detection)", u.Name(), u.Task)
	}
	if !(u.EmptyScore >= 0 && u.EmptyScore <= 1) {
		return fmt.Errorf("strategy %q: empty_score %v must be in [0, 1]", u.Name(), u.EmptyScore)
	}
	return nil
}

func (u Uncertainty) method() string {
	if u.Method == "" {
		return "least_confidence"
	}
	return u.Method
}

func (u Uncertainty) aggregate() string {
	if u.Aggregate == "" {
		return "max"
	}
	return u.Aggregate
}

// Name is "uncertainty".
func (Uncertainty) Name() string          { return "uncertainty" }
func (u Uncertainty) strength() float64   { return strengthOf(u.Strength) }
func (Uncertainty) model() (string, bool) { return "", false }
func (u Uncertainty) fields() map[string]any {
	m := map[string]any{sourceField.wire: u.Source, methodField.wire: u.method(), taskField.wire: u.Task}
	if u.Task != "classification" {
		m[aggregateField.wire], m[emptyScoreField.wire] = u.aggregate(), u.EmptyScore
	}
	return m
}

// filter drops the candidates without a usable prediction when
// Options.DropMissing is set, and otherwise fails naming them.
func (u Uncertainty) filter(r *resolver, cands []int, res *Result) ([]int, error) {
	w, err := u.weights(r, cands, r.opts.DropMissing)
	if err != nil || len(w.Dropped) == 0 {
		return cands, err
	}
	res.Warnings = append(res.Warnings, fmt.Sprintf("dropped %d of %d candidates without a usable prediction of source %q", len(w.Dropped), len(cands), u.Source))
	kept := slices.Clone(cands)
	for i := len(w.Dropped) - 1; i >= 0; i-- {
		kept = slices.Delete(kept, w.Dropped[i], w.Dropped[i]+1)
	}
	return kept, nil
}

func (u Uncertainty) build(r *resolver, us *universe, _ string) (*part, error) {
	strength, err := checkStrength(u)
	if err != nil {
		return nil, err
	}
	if err := u.check(); err != nil {
		return nil, err
	}
	w, err := u.weights(r, us.rows[:us.candidates], false)
	if err != nil {
		return nil, err
	}
	return r.weightsPart(padWeights(w.Weights, us), strength, us, fmt.Sprintf("uncertainty of source %q", u.Source))
}

// weights computes the uncertainty of the dataset rows rows.
func (u Uncertainty) weights(r *resolver, rows []int, drop bool) (*strategies.Uncertainty, error) {
	if !r.ds.cd.HasAnnotations() {
		return nil, errors.New("the dataset has no annotations table (annotations.parquet)")
	}
	for _, c := range []string{"source", "confidence"} {
		if !r.ds.cd.HasAnnotationColumn(c) {
			return nil, fmt.Errorf("uncertainty needs predictions: the annotations table has no %s column", c)
		}
	}
	ann, err := r.ds.cd.Annotations(r.ctx, columnar.WithSource|columnar.WithConfidence|columnar.WithType)
	if err != nil {
		return nil, err
	}
	src := int32(slices.Index(ann.Source.Values, u.Source))
	if src < 0 {
		return nil, &NameError{Kind: ErrUnknownSource, Name: u.Source, Known: slices.Sorted(slices.Values(ann.Source.Values))}
	}
	task, err := u.task(ann, src)
	if err != nil {
		return nil, err
	}
	p := predictions(ann, src, task, rows, r.ds.Len())
	var out *strategies.Uncertainty
	if task == "object_detection" {
		out, err = strategies.DetectionUncertainty(p, aggregates[u.aggregate()], u.EmptyScore, drop)
	} else {
		out, err = strategies.ClassificationUncertainty(p, methods[u.method()], drop)
	}
	var pe *strategies.PredictionError
	if errors.As(err, &pe) {
		return nil, &PredictionError{Source: u.Source, Reason: pe.Reason, Count: pe.Count, Candidates: len(rows),
			First: r.ds.cd.SampleName(r.ctx, rows[pe.Row])}
	}
	return out, err
}

// task is the prediction task of source src: the field when set, else the
// type of its annotations (classification when the table has no type
// column), which must be one.
func (u Uncertainty) task(ann *columnar.AnnotationData, src int32) (string, error) {
	if u.Task != "" {
		return u.Task, nil
	}
	if ann.Type == nil {
		return "classification", nil
	}
	seen := map[string]bool{}
	for i, s := range ann.Source.Codes {
		if s == src && ann.Type.Codes[i] >= 0 {
			seen[ann.Type.Values[ann.Type.Codes[i]]] = true
		}
	}
	switch {
	case len(seen) > 1:
		return "", fmt.Errorf("strategy %q: source %q has annotations of several types (%v); set task to classification or object_detection", u.Name(), u.Source, slices.Sorted(maps.Keys(seen)))
	case seen["object_detection"]:
		return "object_detection", nil
	}
	return "classification", nil
}

// predictions gathers the confidences of source src's annotations of task
// for each of rows (dataset rows), in annotation order.
func predictions(ann *columnar.AnnotationData, src int32, task string, rows []int, n int) strategies.Predictions {
	at := make([]int32, n)
	for i := range at {
		at[i] = -1
	}
	for i, r := range rows {
		at[r] = int32(i)
	}
	keep := func(i int) bool {
		if ann.Source.Codes[i] != src {
			return false
		}
		if ann.Type == nil || ann.Type.Codes[i] < 0 {
			return true
		}
		return ann.Type.Values[ann.Type.Codes[i]] == task
	}
	start := make([]int, len(rows)+1)
	for i, s := range ann.Sample {
		if at[s] >= 0 && keep(i) {
			start[at[s]+1]++
		}
	}
	for i := range rows {
		start[i+1] += start[i]
	}
	p := strategies.Predictions{Start: start, Confidence: make([]float64, start[len(rows)])}
	next := slices.Clone(start[:len(rows)])
	for i, s := range ann.Sample {
		if e := at[s]; e >= 0 && keep(i) {
			k := next[e]
			next[e]++
			p.Confidence[k] = ann.Confidence.Values[i]
			if ann.Confidence.IsNull(i) {
				if p.Null == nil {
					p.Null = make([]bool, len(p.Confidence))
				}
				p.Null[k] = true
			}
		}
	}
	return p
}
