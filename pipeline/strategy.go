package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Strategy is one ingredient of a selection, combined with the others as
// a product of objectives raised to their strengths (spec/selection.md §2).
// The implementations are the struct types of this package:
// EmbeddingDiversity, Deduplication, MetadataWeighting, AnnotationBalancing,
// MetadataBalancing, Similarity, Typicality and Outliers.
type Strategy interface {
	// Name is the strategy's name in LightlyStudio's request format.
	Name() string
	strength() float64
}

// Strength returns a pointer to x, for the Strength fields of strategies:
// nil means the default strength 1, Strength(0) makes a strategy inert,
// a negative strength inverts its preference.
func Strength(x float64) *float64 { return &x }

func strengthOf(p *float64) float64 {
	if p == nil {
		return 1
	}
	return *p
}

// EmbeddingDiversity prefers samples far from everything already selected
// (greedy k-center). Model "" means the dataset's only embedding model.
type EmbeddingDiversity struct {
	Model    string
	Strength *float64
}

// Deduplication is diversity that never picks a sample closer than
// MinDistance to one already selected; the run may end with fewer than n.
type Deduplication struct {
	Model       string
	MinDistance float64
	Strength    *float64
}

// MetadataWeighting prefers samples with a large value in the numeric
// metadata column Key.
type MetadataWeighting struct {
	Key      string
	Strength *float64
}

// AnnotationBalancing steers the selection's annotation labels toward
// Target, counting only annotations of Source when it is set.
type AnnotationBalancing struct {
	Target   Target
	Source   string
	Strength *float64
}

// MetadataBalancing steers the values of the categorical metadata column
// Key toward Target.
type MetadataBalancing struct {
	Key      string
	Target   Target
	Strength *float64
}

// Similarity prefers samples close to those carrying QueryTag; a negative
// strength prefers dissimilar ones.
type Similarity struct {
	QueryTag string
	Model    string
	Strength *float64
}

// Typicality prefers samples in dense regions of the embedding space.
type Typicality struct {
	Model    string
	Strength *float64
}

// Outliers prefers samples in sparse regions: typicality inverted.
type Outliers struct {
	Model    string
	Strength *float64
}

func (EmbeddingDiversity) Name() string  { return "diversity" }
func (Deduplication) Name() string       { return "deduplication" }
func (MetadataWeighting) Name() string   { return "weights" }
func (AnnotationBalancing) Name() string { return "balance" }
func (MetadataBalancing) Name() string   { return "metadata_balance" }
func (Similarity) Name() string          { return "similarity" }
func (Typicality) Name() string          { return "typicality" }
func (Outliers) Name() string            { return "outliers" }

func (s EmbeddingDiversity) strength() float64  { return strengthOf(s.Strength) }
func (s Deduplication) strength() float64       { return strengthOf(s.Strength) }
func (s MetadataWeighting) strength() float64   { return strengthOf(s.Strength) }
func (s AnnotationBalancing) strength() float64 { return strengthOf(s.Strength) }
func (s MetadataBalancing) strength() float64   { return strengthOf(s.Strength) }
func (s Similarity) strength() float64          { return strengthOf(s.Strength) }
func (s Typicality) strength() float64          { return strengthOf(s.Strength) }
func (s Outliers) strength() float64            { return strengthOf(s.Strength) }

// Target is a balancing target distribution: Uniform, Input, or explicit
// ratios per class (Ratios).
type Target struct {
	kind   string // "uniform", "input" or "ratios"
	ratios map[string]float64
}

var (
	// Uniform gives every class present among the candidates an equal share.
	Uniform = Target{kind: "uniform"}
	// Input keeps the classes' proportions among the candidates.
	Input = Target{kind: "input"}
)

// Ratios targets explicit class shares; classes present but not listed are
// pooled into one "other" class with share max(1 − Σ ratios, 0).
func Ratios(r map[string]float64) Target { return Target{kind: "ratios", ratios: maps.Clone(r)} }

// Kind is "uniform", "input" or "ratios" ("uniform" for the zero Target).
func (t Target) Kind() string {
	if t.kind == "" {
		return "uniform"
	}
	return t.kind
}

// Map returns a copy of the explicit ratios (nil unless Kind is "ratios").
func (t Target) Map() map[string]float64 { return maps.Clone(t.ratios) }

// String renders the target as ParseTarget reads it.
func (t Target) String() string {
	if t.Kind() != "ratios" {
		return t.Kind()
	}
	keys := slices.Sorted(maps.Keys(t.ratios))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(t.ratios[k], 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// ParseTarget reads "uniform", "input" or "cat=0.5,dog=0.3" (commas or
// semicolons between classes).
func ParseTarget(s string) (Target, error) {
	switch strings.TrimSpace(s) {
	case "", "uniform":
		return Uniform, nil
	case "input":
		return Input, nil
	}
	r := map[string]float64{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return Target{}, fmt.Errorf("target %q: %q is not CLASS=RATIO (or use uniform, input)", s, part)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return Target{}, fmt.Errorf("target %q: ratio of %q must be a non-negative number, got %q", s, k, v)
		}
		if _, dup := r[k]; dup {
			return Target{}, fmt.Errorf("target %q: class %q is listed twice", s, k)
		}
		r[k] = x
	}
	if len(r) == 0 {
		return Target{}, fmt.Errorf("target %q lists no class", s)
	}
	return Ratios(r), nil
}

// MarshalJSON writes "uniform", "input" or an object of ratios, as
// LightlyStudio's target_distribution.
func (t Target) MarshalJSON() ([]byte, error) {
	if t.Kind() == "ratios" {
		return json.Marshal(t.ratios)
	}
	return json.Marshal(t.Kind())
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Target) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "uniform" && s != "input" {
			return fmt.Errorf("target_distribution %q: use \"uniform\", \"input\" or an object of class ratios", s)
		}
		*t = Target{kind: s}
		return nil
	}
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("target_distribution must be \"uniform\", \"input\" or an object of class ratios: %s", b)
	}
	for k, v := range m {
		if v < 0 || math.IsNaN(v) {
			return fmt.Errorf("target_distribution: ratio of %q must be non-negative, got %v", k, v)
		}
	}
	*t = Ratios(m)
	return nil
}

// Request is a selection request in LightlyStudio's sampling format.
type Request struct {
	N          int        // n_samples_to_select, 0 when absent
	Tag        string     // sampling_result_tag_name, "" when absent
	Strategies []Strategy // in request order
}

// wire is one strategy as LightlyStudio's JSON spells it.
type wire struct {
	StrategyName string   `json:"strategy_name"`
	Model        *string  `json:"embedding_model_name,omitempty"`
	Strength     *float64 `json:"strength,omitempty"`
	MetadataKey  *string  `json:"metadata_key,omitempty"`
	Target       *Target  `json:"target_distribution,omitempty"`
	Source       *string  `json:"annotation_source,omitempty"`
	MinDistance  *float64 `json:"stopping_condition_minimum_distance,omitempty"`
	QueryTag     *string  `json:"query_tag_name,omitempty"`
}

// allowed lists the fields each strategy takes, besides strategy_name and strength.
var allowed = map[string][]string{
	"diversity":        {"embedding_model_name"},
	"deduplication":    {"embedding_model_name", "stopping_condition_minimum_distance"},
	"weights":          {"metadata_key"},
	"balance":          {"target_distribution", "annotation_source"},
	"metadata_balance": {"metadata_key", "target_distribution"},
	"similarity":       {"query_tag_name", "embedding_model_name"},
	"typicality":       {"embedding_model_name"},
	"outliers":         {"embedding_model_name"},
}

// strategyNames lists the known strategy names, sorted, for error messages.
func strategyNames() string { return strings.Join(slices.Sorted(maps.Keys(allowed)), ", ") }

// ParseRequest reads a JSON request in LightlyStudio's format:
//
//	{"n_samples_to_select": 100, "sampling_result_tag_name": "picks",
//	 "strategies": [{"strategy_name": "diversity", "strength": 1.0}, ...]}
//
// Unknown fields and strategy names are errors that name them.
func ParseRequest(data []byte) (*Request, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("strategies config: %w", err)
	}
	req := &Request{}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		v := top[k]
		var err error
		switch k {
		case "strategies":
			var list []json.RawMessage
			if err = json.Unmarshal(v, &list); err != nil {
				break
			}
			for i, raw := range list {
				s, serr := parseWire(raw)
				if serr != nil {
					return nil, fmt.Errorf("strategies config: strategies[%d]: %w", i, serr)
				}
				req.Strategies = append(req.Strategies, s)
			}
		case "n_samples_to_select":
			err = json.Unmarshal(v, &req.N)
		case "sampling_result_tag_name":
			err = json.Unmarshal(v, &req.Tag)
		default:
			return nil, fmt.Errorf("strategies config: unknown field %q (known: n_samples_to_select, sampling_result_tag_name, strategies)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("strategies config: field %q: %w", k, plainJSONError(err))
		}
	}
	if len(req.Strategies) == 0 {
		return nil, fmt.Errorf("strategies config: no strategies given")
	}
	return req, nil
}

// plainJSONError rewords a JSON type mismatch in the config's terms:
// encoding/json names Go types and struct fields ("cannot unmarshal string
// into Go struct field wire.strength of type float64"), which mean nothing
// to someone writing the file.
func plainJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	want := "a " + te.Type.String()
	switch te.Type.Kind() {
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		want = "a whole number"
	case reflect.String:
		want = "a string"
	case reflect.Slice:
		want = "a list"
	case reflect.Map, reflect.Struct:
		want = "an object"
	}
	if te.Field != "" {
		return fmt.Errorf("field %q must be %s, got %s", te.Field, want, te.Value)
	}
	return fmt.Errorf("must be %s, got %s", want, te.Value)
}

func parseWire(raw json.RawMessage) (Strategy, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, err
	}
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, plainJSONError(err)
	}
	ok, known := allowed[w.StrategyName]
	if !known {
		if w.StrategyName == "" {
			return nil, fmt.Errorf("missing strategy_name (one of %s)", strategyNames())
		}
		return nil, fmt.Errorf("unknown strategy_name %q (one of %s)", w.StrategyName, strategyNames())
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if k != "strategy_name" && k != "strength" && !slices.Contains(ok, k) {
			return nil, fmt.Errorf("strategy %q: unknown field %q (it takes strength, %s)", w.StrategyName, k, strings.Join(ok, ", "))
		}
	}
	if w.Strength != nil && (math.IsNaN(*w.Strength) || math.IsInf(*w.Strength, 0)) {
		return nil, fmt.Errorf("strategy %q: strength must be finite", w.StrategyName)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	target := Uniform
	if w.Target != nil {
		target = *w.Target
	}
	switch w.StrategyName {
	case "diversity":
		return EmbeddingDiversity{Model: str(w.Model), Strength: w.Strength}, nil
	case "deduplication":
		if w.MinDistance == nil {
			return nil, fmt.Errorf("strategy %q needs stopping_condition_minimum_distance", w.StrategyName)
		}
		return Deduplication{Model: str(w.Model), MinDistance: *w.MinDistance, Strength: w.Strength}, nil
	case "weights":
		if w.MetadataKey == nil || *w.MetadataKey == "" {
			return nil, fmt.Errorf("strategy %q needs metadata_key", w.StrategyName)
		}
		return MetadataWeighting{Key: *w.MetadataKey, Strength: w.Strength}, nil
	case "balance":
		return AnnotationBalancing{Target: target, Source: str(w.Source), Strength: w.Strength}, nil
	case "metadata_balance":
		if w.MetadataKey == nil || *w.MetadataKey == "" {
			return nil, fmt.Errorf("strategy %q needs metadata_key", w.StrategyName)
		}
		return MetadataBalancing{Key: *w.MetadataKey, Target: target, Strength: w.Strength}, nil
	case "similarity":
		if w.QueryTag == nil || *w.QueryTag == "" {
			return nil, fmt.Errorf("strategy %q needs query_tag_name", w.StrategyName)
		}
		return Similarity{QueryTag: *w.QueryTag, Model: str(w.Model), Strength: w.Strength}, nil
	case "typicality":
		return Typicality{Model: str(w.Model), Strength: w.Strength}, nil
	default:
		return Outliers{Model: str(w.Model), Strength: w.Strength}, nil
	}
}

// toWire renders a strategy in LightlyStudio's JSON form, for records.
func toWire(s Strategy) wire {
	p := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	w := wire{StrategyName: s.Name(), Strength: Strength(s.strength())}
	switch s := s.(type) {
	case EmbeddingDiversity:
		w.Model = p(s.Model)
	case Deduplication:
		w.Model, w.MinDistance = p(s.Model), &s.MinDistance
	case MetadataWeighting:
		w.MetadataKey = p(s.Key)
	case AnnotationBalancing:
		w.Target, w.Source = &s.Target, p(s.Source)
	case MetadataBalancing:
		w.MetadataKey, w.Target = p(s.Key), &s.Target
	case Similarity:
		w.QueryTag, w.Model = p(s.QueryTag), p(s.Model)
	case Typicality:
		w.Model = p(s.Model)
	case Outliers:
		w.Model = p(s.Model)
	}
	return w
}

// flagKeys maps the keys of ParseStrategy's text form to request fields.
var flagKeys = map[string]string{
	"model": "embedding_model_name", "strength": "strength", "key": "metadata_key",
	"metadata_key": "metadata_key", "target": "target_distribution", "source": "annotation_source",
	"min_distance": "stopping_condition_minimum_distance", "query_tag": "query_tag_name",
}

// ParseStrategy reads the compact text form of one strategy used by
// `winnow select multi --strategy`:
//
//	diversity:model=pixels,strength=1
//	weights:key=difficulty
//	balance:target=cat=0.5,dog=0.3,source=ground_truth
//
// Keys: model, strength, key, target, source, min_distance, query_tag
// (hyphens work too). A target's class list may continue after commas.
func ParseStrategy(text string) (Strategy, error) {
	name, rest, _ := strings.Cut(strings.TrimSpace(text), ":")
	obj := map[string]any{"strategy_name": name}
	last := ""
	for _, part := range strings.Split(rest, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = strings.ReplaceAll(strings.TrimSpace(k), "-", "_")
		field, ok := flagKeys[k]
		if !ok {
			if last == "target_distribution" { // class list of a target goes on
				obj[last] = obj[last].(string) + "," + part
				continue
			}
			keys := slices.Sorted(maps.Keys(flagKeys))
			return nil, fmt.Errorf("strategy %q: unknown key %q (known: %s)", text, k, strings.Join(keys, ", "))
		}
		obj[field], last = strings.TrimSpace(v), field
	}
	// Typed fields go through JSON so both forms share one validation.
	for _, f := range []string{"strength", "stopping_condition_minimum_distance"} {
		if s, ok := obj[f].(string); ok {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("strategy %q: %s %q is not a number", text, f, s)
			}
			obj[f] = x
		}
	}
	if s, ok := obj["target_distribution"].(string); ok {
		t, err := ParseTarget(s)
		if err != nil {
			return nil, fmt.Errorf("strategy %q: %w", text, err)
		}
		obj["target_distribution"] = t
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("strategy %q: %w", text, err)
	}
	s, err := parseWire(raw)
	if err != nil {
		return nil, fmt.Errorf("strategy %q: %w", text, err)
	}
	return s, nil
}
