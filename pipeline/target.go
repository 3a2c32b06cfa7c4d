package pipeline

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

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
