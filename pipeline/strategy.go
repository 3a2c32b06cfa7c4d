package pipeline

// Strategies as units.
//
// Everything the package knows about one kind of strategy sits in that
// strategy's own file: its Go type, its name and fields in LightlyStudio's
// JSON (and the --strategy text keys of those fields), how it resolves its
// data over a selection's rows and builds its engine part, and how it
// reports what it achieved. The file registers a kind in its init
// function; this file holds the machinery the kinds share: the registry,
// the request and text parsers, and field decoding. A new strategy is one
// new file and its tests.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/winnow-data/winnow/query"
)

// Strategy is one ingredient of a selection, combined with the others as
// a product of objectives raised to their strengths (docs/selection.md).
// The implementations are the struct types of this package:
// EmbeddingDiversity, Deduplication, MetadataWeighting, AnnotationBalancing,
// MetadataBalancing, Similarity, Typicality and Outliers.
type Strategy interface {
	// Name is the strategy's name in LightlyStudio's request format.
	Name() string
	strength() float64
	// fields are the strategy's request fields besides strategy_name and
	// strength, by their JSON names; empty values are left out.
	fields() map[string]any
	// model is the embedding model the strategy reads ("" for the
	// dataset's only one), and whether it reads one at all.
	model() (string, bool)
	// build resolves the strategy's data over the selection's rows and
	// returns its part of the engine problem; model is the resolved model.
	build(r *resolver, u *universe, model string) (*part, error)
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

// field is one request field a strategy kind takes.
type field struct {
	wire string   // JSON name, as LightlyStudio spells it
	text []string // keys of the --strategy text form
	typ  fieldType
	help string
}

type fieldType uint8

const (
	stringField fieldType = iota
	numberField
	targetField
	boolField
)

// The fields several kinds share.
var (
	modelField       = field{wire: "embedding_model_name", text: []string{"model"}, typ: stringField, help: "embedding model (default: the dataset's only one)"}
	keyField         = field{wire: "metadata_key", text: []string{"key", "metadata_key"}, typ: stringField, help: "metadata column"}
	targetFieldSpec  = field{wire: "target_distribution", text: []string{"target"}, typ: targetField, help: "uniform, input, or CLASS=RATIO,..."}
	sourceField      = field{wire: "annotation_source", text: []string{"source"}, typ: stringField, help: "count only annotations of this source"}
	sourceIDField    = field{wire: "annotation_source_id", text: []string{"source_id"}, typ: stringField, help: "LightlyStudio's name for the source: its id, matched against the annotations' source column like annotation_source"}
	minDistanceField = field{wire: "stopping_condition_minimum_distance", text: []string{"min_distance"}, typ: numberField, help: "minimum distance between selected samples"}
	queryTagField    = field{wire: "query_tag_name", text: []string{"query_tag"}, typ: stringField, help: "tag whose samples are the query"}
	strengthField    = field{wire: "strength", text: []string{"strength"}, typ: numberField, help: "exponent of the objective (default 1; 0 inert, negative inverts)"}
)

// kind is one strategy name of the request format.
type kind struct {
	name      string
	help      string
	objective objective
	fields    []field
	decode    func(v values) (Strategy, error)
}

// objective names what a strategy scores a candidate by: a short name for
// column headings and a sentence for help texts.
type objective struct {
	name, help string
}

// kinds is the registry of strategy kinds by name. Each strategy's file
// adds its kind in init; nothing changes it afterwards.
var kinds = map[string]*kind{}

func register(k *kind) {
	if _, dup := kinds[k.name]; dup {
		panic("pipeline: strategy " + k.name + " registered twice")
	}
	kinds[k.name] = k
}

// ObjectiveOf names the objective of strategy kind name ("distance" for
// diversity), "" for an unknown kind.
func ObjectiveOf(name string) string {
	if k, ok := kinds[name]; ok {
		return k.objective.name
	}
	return ""
}

// strategyNames lists the known strategy names, sorted, for messages.
func strategyNames() string { return strings.Join(slices.Sorted(maps.Keys(kinds)), ", ") }

// StrategyInfo describes one strategy kind for help texts.
type StrategyInfo struct {
	Name string
	Help string
	// Objective names what the strategy scores a candidate by (e.g.
	// "distance"); ObjectiveHelp says it in a sentence.
	Objective, ObjectiveHelp string
	Fields                   []FieldInfo
}

// FieldInfo describes one field of a strategy kind: its JSON name, its
// --strategy text key and what it means.
type FieldInfo struct {
	JSON, Key, Help string
}

// Strategies describes every strategy kind, sorted by name, with its
// fields (strength first).
func Strategies() []StrategyInfo {
	var out []StrategyInfo
	for _, name := range slices.Sorted(maps.Keys(kinds)) {
		k := kinds[name]
		info := StrategyInfo{Name: k.name, Help: k.help, Objective: k.objective.name, ObjectiveHelp: k.objective.help}
		for _, f := range append([]field{strengthField}, k.fields...) {
			info.Fields = append(info.Fields, FieldInfo{JSON: f.wire, Key: f.text[0], Help: f.help})
		}
		out = append(out, info)
	}
	return out
}

// values are the decoded fields of one strategy in a request.
type values struct {
	name string
	raw  map[string]json.RawMessage
}

// present reports whether the request gave field wire a non-null value.
func (v values) present(wire string) bool {
	r, ok := v.raw[wire]
	return ok && string(r) != "null"
}

func (v values) str(wire string) (string, error) {
	if !v.present(wire) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v.raw[wire], &s); err != nil {
		return "", fieldTypeError(wire, "a string", v.raw[wire])
	}
	return s, nil
}

// need returns the non-empty string field wire, or an error naming it.
func (v values) need(wire string) (string, error) {
	s, err := v.str(wire)
	if err == nil && s == "" {
		err = fmt.Errorf("strategy %q needs %s", v.name, wire)
	}
	return s, err
}

func (v values) num(wire string) (*float64, error) {
	if !v.present(wire) {
		return nil, nil
	}
	var x float64
	if err := json.Unmarshal(v.raw[wire], &x); err != nil {
		return nil, fieldTypeError(wire, "a number", v.raw[wire])
	}
	return &x, nil
}

func (v values) flag(wire string) (bool, error) {
	if !v.present(wire) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v.raw[wire], &b); err != nil {
		return false, fieldTypeError(wire, "true or false", v.raw[wire])
	}
	return b, nil
}

func (v values) target(wire string) (Target, error) {
	if !v.present(wire) {
		return Uniform, nil
	}
	var t Target
	if err := json.Unmarshal(v.raw[wire], &t); err != nil {
		return Target{}, err
	}
	return t, nil
}

// fieldTypeError says that a field's JSON value has the wrong type, in the
// config's terms (encoding/json's own messages name Go types).
func fieldTypeError(wire, want string, raw json.RawMessage) error {
	got := "a value"
	switch {
	case len(raw) == 0:
	case raw[0] == '"':
		got = "string"
	case raw[0] == '{':
		got = "object"
	case raw[0] == '[':
		got = "array"
	case raw[0] == 't' || raw[0] == 'f':
		got = "bool"
	default:
		got = "number"
	}
	return fmt.Errorf("field %q must be %s, got %s", wire, want, got)
}

// Request is a selection request in one of LightlyStudio's formats: the
// configuration of its Python API (SelectionConfig, with
// selection_result_tag_name; its successor SamplingConfig, with
// sampling_result_tag_name, preselected_tag_name and
// selected_sequence_length) or the body of its REST sampling request
// (with a filter). docs/configs.md describes both.
type Request struct {
	N   int    // n_samples_to_select, 0 when absent
	Tag string // sampling_result_tag_name or selection_result_tag_name, "" when absent
	// Preselected is preselected_tag_name: a tag whose samples count as
	// already selected.
	Preselected string
	// SequenceLength is selected_sequence_length (or sequence_length):
	// select runs of this many consecutive frames instead of single
	// samples (0: single samples; else at least 2). It needs GroupBy, the
	// column that groups frames into videos, which LightlyStudio's
	// database knows and a dataset folder must name.
	SequenceLength int
	// GroupBy, OrderBy and MaxPerGroup and ExcludeNear are winnow's own
	// fields for constraints and group selection (docs/selection.md):
	// group_by, order_by, sequence_length (selected_sequence_length is
	// LightlyStudio's name for it), max_per_group ({"video_id": 3}) and
	// exclude_near ({"tag": "test", "min_distance": 0.1}).
	GroupBy     string
	OrderBy     string
	MaxPerGroup []Quota
	ExcludeNear *ExcludeNear
	// Where is the REST request's filter, translated to the query
	// language (docs/query.md); "" when there is none or none of it maps.
	Where string
	// Notes say what was accepted but ignored: collection_id, and the
	// parts of a filter that name rows of LightlyStudio's database.
	Notes      []string
	Strategies []Strategy // in request order
}

// requestFields are the top-level fields ParseRequest takes.
var requestFields = []string{"n_samples_to_select", "sampling_result_tag_name", "selection_result_tag_name",
	"preselected_tag_name", "selected_sequence_length", "sequence_length", "group_by", "order_by",
	"max_per_group", "exclude_near", "collection_id", "filter", "strategies"}

// ParseRequest reads a JSON request in LightlyStudio's formats:
//
//	{"n_samples_to_select": 100, "sampling_result_tag_name": "picks",
//	 "strategies": [{"strategy_name": "diversity", "strength": 1.0}, ...]}
//
// Both generations of the result tag's name are accepted
// (selection_result_tag_name, sampling_result_tag_name; giving both with
// different values is an error). collection_id, which names a collection
// of LightlyStudio's database, is accepted and ignored with a note; so are
// the parts of a REST filter that do not map onto the query language.
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
				s, serr := decodeStrategy(raw)
				if serr != nil {
					return nil, fmt.Errorf("strategies config: strategies[%d]: %w", i, serr)
				}
				req.Strategies = append(req.Strategies, s)
			}
		case "n_samples_to_select":
			err = json.Unmarshal(v, &req.N)
		case "sampling_result_tag_name", "selection_result_tag_name":
			var tag *string
			if err = json.Unmarshal(v, &tag); err == nil && tag != nil {
				if req.Tag != "" && req.Tag != *tag {
					return nil, fmt.Errorf("strategies config: sampling_result_tag_name and selection_result_tag_name name different tags (%q, %q); give one", req.Tag, *tag)
				}
				req.Tag = *tag
			}
		case "preselected_tag_name":
			var tag *string
			if err = json.Unmarshal(v, &tag); err == nil && tag != nil {
				req.Preselected = *tag
			}
		case "selected_sequence_length", "sequence_length":
			var n *int
			if err = json.Unmarshal(v, &n); err == nil && n != nil {
				if *n < 2 {
					return nil, fmt.Errorf("strategies config: field %q: a sequence is at least 2 frames, got %d", k, *n)
				}
				if req.SequenceLength != 0 && req.SequenceLength != *n {
					return nil, fmt.Errorf("strategies config: selected_sequence_length and sequence_length differ (%d, %d); give one", req.SequenceLength, *n)
				}
				req.SequenceLength = *n
			}
		case "group_by":
			err = json.Unmarshal(v, &req.GroupBy)
		case "order_by":
			err = json.Unmarshal(v, &req.OrderBy)
		case "max_per_group":
			var m map[string]int
			if err = json.Unmarshal(v, &m); err == nil {
				for _, col := range slices.Sorted(maps.Keys(m)) {
					req.MaxPerGroup = append(req.MaxPerGroup, Quota{Column: col, Max: m[col]})
				}
			}
		case "exclude_near":
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			var x ExcludeNear
			if err = dec.Decode(&x); err == nil {
				req.ExcludeNear = &x
			}
		case "collection_id":
			var id *string
			if err = json.Unmarshal(v, &id); err == nil && id != nil {
				req.Notes = append(req.Notes, fmt.Sprintf("collection_id %q was ignored: it names a collection of LightlyStudio's database; winnow selects from the dataset folder it is given", *id))
			}
		case "filter":
			if isNull(v) {
				break
			}
			e, notes, ferr := translateFilter(v)
			if ferr != nil {
				return nil, fmt.Errorf("strategies config: %w", ferr)
			}
			if e != nil {
				req.Where = query.Format(e)
			}
			req.Notes = append(req.Notes, notes...)
		default:
			return nil, fmt.Errorf("strategies config: unknown field %q (known: %s)", k, strings.Join(requestFields, ", "))
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
// encoding/json names Go types, which mean nothing to someone writing the
// file.
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

// decodeStrategy reads one strategy object of a request.
func decodeStrategy(raw json.RawMessage) (Strategy, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, plainJSONError(err)
	}
	v := values{raw: fields}
	name, err := v.str("strategy_name")
	if err != nil {
		return nil, err
	}
	v.name = name
	k, known := kinds[name]
	if !known {
		if name == "" {
			return nil, fmt.Errorf("missing strategy_name (one of %s)", strategyNames())
		}
		return nil, fmt.Errorf("unknown strategy_name %q (one of %s)", name, strategyNames())
	}
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		if f == "strategy_name" || f == "strength" {
			continue
		}
		if !slices.ContainsFunc(k.fields, func(x field) bool { return x.wire == f }) {
			return nil, fmt.Errorf("strategy %q: unknown field %q (it takes strength, %s)", name, f, wireNames(k.fields))
		}
	}
	s, err := v.num("strength")
	if err != nil {
		return nil, err
	}
	if s != nil && (math.IsNaN(*s) || math.IsInf(*s, 0)) {
		return nil, fmt.Errorf("strategy %q: strength must be finite", name)
	}
	return k.decode(v)
}

func wireNames(fs []field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.wire
	}
	return strings.Join(names, ", ")
}

// encodeStrategy renders a strategy in the request format, for records.
func encodeStrategy(s Strategy) map[string]any {
	m := map[string]any{"strategy_name": s.Name(), "strength": s.strength()}
	for k, v := range s.fields() {
		if v != "" && v != nil {
			m[k] = v
		}
	}
	return m
}

// textKeys maps every kind's --strategy text keys to JSON field names.
func textKeys() map[string]field {
	keys := map[string]field{"strength": strengthField}
	for _, k := range kinds {
		for _, f := range k.fields {
			for _, t := range f.text {
				keys[t] = f
			}
		}
	}
	return keys
}

// ParseStrategy reads the compact text form of one strategy used by
// `winnow select multi --strategy`:
//
//	diversity:model=pixels,strength=1
//	weights:key=difficulty
//	balance:target=cat=0.5,dog=0.3,source=ground_truth
//
// The keys are the fields' text names (see Strategies; hyphens work too).
// A target's class list may continue after commas.
func ParseStrategy(text string) (Strategy, error) {
	name, rest, _ := strings.Cut(strings.TrimSpace(text), ":")
	keys := textKeys()
	obj := map[string]any{"strategy_name": name}
	var last *field
	for _, part := range strings.Split(rest, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		k = strings.ReplaceAll(strings.TrimSpace(k), "-", "_")
		f, ok := keys[k]
		if !ok {
			if last != nil && last.typ == targetField { // a target's class list goes on
				obj[last.wire] = obj[last.wire].(string) + "," + part
				continue
			}
			return nil, fmt.Errorf("strategy %q: unknown key %q (known: %s)", text, k, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		}
		obj[f.wire], last = strings.TrimSpace(val), &f
	}
	// Typed fields go through JSON so both forms share one validation.
	for wire, v := range obj {
		s, ok := v.(string)
		f, known := fieldByWire(keys, wire)
		if !ok || !known {
			continue
		}
		switch f.typ {
		case numberField:
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("strategy %q: %s %q is not a number", text, wire, s)
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				// JSON, which both forms share, has no NaN or Inf.
				return nil, fmt.Errorf("strategy %q: %s %s is not a finite number", text, wire, s)
			}
			obj[wire] = x
		case boolField:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("strategy %q: %s %q is not true or false", text, wire, s)
			}
			obj[wire] = b
		case targetField:
			t, err := ParseTarget(s)
			if err != nil {
				return nil, fmt.Errorf("strategy %q: %w", text, err)
			}
			obj[wire] = t
		}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("strategy %q: %w", text, err)
	}
	s, err := decodeStrategy(raw)
	if err != nil {
		return nil, fmt.Errorf("strategy %q: %w", text, err)
	}
	return s, nil
}

func fieldByWire(keys map[string]field, wire string) (field, bool) {
	for _, f := range keys {
		if f.wire == wire {
			return f, true
		}
	}
	return field{}, false
}
