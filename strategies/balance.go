package strategies

import (
	"fmt"
	"math"
	"sort"
)

// Balance is the balancing strategy of spec §7. Row i of the problem has
// the count row counts[i*classes:(i+1)*classes]; with n_c(S) the counts
// summed over S, M(S) their total and t the target,
// D(S) = Σ_c |n_c(S) − t_c·M(S)| and objective(i | S) = exp(−D(S ∪ {i})).
// The engine works with log objective = −D directly, so a large imbalance
// never underflows to a zero objective.
//
// A candidate whose count row is all zero cannot move the distribution
// and would otherwise always score best (it leaves D unchanged), so while
// the strength is not 0 it is not eligible, unless IncludeUnlabeled(true)
// keeps it eligible with the neutral objective exp(−D(S)). Result.Unlabeled
// reports how many candidates this made ineligible. Rows of S with a zero
// row (preselected samples) still count as selected.
type Balance struct {
	counts    []float64
	classes   int
	target    []float64
	strength  float64
	zero      []bool // per row: the count row is all zero
	unlabeled bool   // include candidates with a zero row
}

// BalanceOption changes a default of NewBalance.
type BalanceOption func(*Balance)

// IncludeUnlabeled, when include is true, keeps candidates with an all-zero
// count row eligible (spec §7's include_unlabeled); they then score the
// neutral exp(−D(S)).
func IncludeUnlabeled(include bool) BalanceOption {
	return func(b *Balance) { b.unlabeled = include }
}

// NewBalance returns a balancing strategy. counts is row-major with classes
// values per row, each finite and >= 0 (otherwise a *ValueError names the
// first bad row); target has one finite ratio >= 0 per class and is
// normalised to sum 1; a target summing to 0 is an error.
func NewBalance(counts []float64, classes int, target []float64, strength float64, opts ...BalanceOption) (*Balance, error) {
	if classes <= 0 {
		return nil, fmt.Errorf("balance: %d classes", classes)
	}
	if len(counts)%classes != 0 {
		return nil, fmt.Errorf("balance: %d counts are not a whole number of rows of %d classes", len(counts), classes)
	}
	if len(target) != classes {
		return nil, fmt.Errorf("balance: target has %d ratios for %d classes", len(target), classes)
	}
	if err := checkStrength(strength); err != nil {
		return nil, fmt.Errorf("balance: %w", err)
	}
	if err := checkValues("counts", counts, classes, false); err != nil {
		return nil, fmt.Errorf("balance: %w", err)
	}
	sum := 0.0
	for c, t := range target {
		if r := badValue(t, false); r != "" {
			return nil, fmt.Errorf("balance: target ratio of class %d is %s", c, r)
		}
		sum += t
	}
	if sum == 0 {
		return nil, fmt.Errorf("balance: target sums to 0")
	}
	norm := make([]float64, classes)
	for c, t := range target {
		norm[c] = t / sum
	}
	b := &Balance{counts: counts, classes: classes, target: norm, strength: strength}
	for _, o := range opts {
		o(b)
	}
	b.zero = make([]bool, len(counts)/classes)
	for i := range b.zero {
		b.zero[i] = true
		for _, v := range b.row(i) {
			if v != 0 {
				b.zero[i] = false
				break
			}
		}
	}
	return b, nil
}

// IncludesUnlabeled reports whether candidates with an all-zero count row
// stay eligible (IncludeUnlabeled, or strength 0: an inert strategy
// excludes nothing).
func (b *Balance) IncludesUnlabeled() bool { return b.unlabeled || b.strength == 0 }

// Strength returns the strategy's exponent.
func (b *Balance) Strength() float64 { return b.strength }

// Target returns the normalised target (shared, do not modify).
func (b *Balance) Target() []float64 { return b.target }

// Start returns fresh state; it needs a count row for every row.
func (b *Balance) Start(rows, candidates int) (State, error) {
	if have := len(b.counts) / b.classes; have < rows {
		return nil, fmt.Errorf("balance: %d count rows for %d rows", have, rows)
	}
	return &balState{b: b, n: make([]float64, b.classes)}, nil
}

func (b *Balance) row(i int) []float64 { return b.counts[i*b.classes : (i+1)*b.classes] }

type balState struct {
	b *Balance
	n []float64 // n_c(S)
	m float64   // M(S)
}

// imbalance returns D(S ∪ {x}) for a count row x. Both engine paths call it
// with the same row values, so equal rows get bit-identical results.
func (s *balState) imbalance(x []float64) float64 {
	mx := 0.0
	for _, v := range x {
		mx += v
	}
	m := s.m + mx
	d := 0.0
	for c, v := range x {
		d += math.Abs(s.n[c] + v - s.b.target[c]*m)
	}
	return d
}

func (s *balState) Objective(i int) float64 { return math.Exp(-s.imbalance(s.b.row(i))) }

// Eligible is false for a candidate with an all-zero count row unless the
// strategy includes them. It does not depend on S, so it is permanent.
func (s *balState) Eligible(i int) bool { return !s.b.zero[i] || s.b.IncludesUnlabeled() }

// excludes reports whether the state makes some rows ineligible.
func (s *balState) excludes() bool { return !s.b.IncludesUnlabeled() }

func (s *balState) Add(row int) {
	for c, v := range s.b.row(row) {
		s.n[c] += v
		s.m += v
	}
}

// TargetKind selects how ResolveTarget builds the target.
type TargetKind int

const (
	// Uniform gives every class present among the candidates an equal share.
	Uniform TargetKind = iota
	// Input makes the target proportional to the classes' counts among the
	// candidates.
	Input
	// Explicit takes TargetSpec.Ratios; unlisted classes are pooled into
	// one Other class with ratio max(1 − Σ ratios, 0).
	Explicit
)

// OtherClass is the name of the pooled class of an explicit target.
const OtherClass = "other"

// TargetSpec is a balancing target as the user states it.
type TargetSpec struct {
	Kind   TargetKind
	Ratios map[string]float64 // for Explicit: class name → ratio (finite, >= 0)
}

// Target is a resolved balancing target.
type Target struct {
	// Classes are the balanced classes: the input classes, or for an
	// explicit target with unlisted classes, the listed ones in input order
	// followed by OtherClass.
	Classes []string
	// Ratio is the normalised target per class of Classes (sums to 1).
	Ratio []float64
	// Column maps input class c to its column in Classes.
	Column []int
}

// ResolveTarget builds the target of spec §7. classes are the class names
// of the count columns: every class that exists in the dataset (a listed
// class absent from them is an error). candidateCounts[c] is the total count
// of class c among the candidates; a class is present among the candidates
// when it is > 0. A target that sums to 0 is an error.
func ResolveTarget(classes []string, candidateCounts []float64, spec TargetSpec) (*Target, error) {
	if len(candidateCounts) != len(classes) {
		return nil, fmt.Errorf("target: %d counts for %d classes", len(candidateCounts), len(classes))
	}
	t := &Target{Column: make([]int, len(classes))}
	switch spec.Kind {
	case Uniform, Input:
		t.Classes = append([]string(nil), classes...)
		t.Ratio = make([]float64, len(classes))
		for c, n := range candidateCounts {
			t.Column[c] = c
			if n > 0 {
				t.Ratio[c] = 1
				if spec.Kind == Input {
					t.Ratio[c] = n
				}
			}
		}
	case Explicit:
		index := make(map[string]int, len(classes))
		for c, name := range classes {
			index[name] = c
		}
		names := make([]string, 0, len(spec.Ratios))
		for name := range spec.Ratios {
			names = append(names, name)
		}
		sort.Strings(names) // deterministic error for several bad entries
		sum := 0.0
		for _, name := range names {
			r := spec.Ratios[name]
			if bad := badValue(r, false); bad != "" {
				return nil, fmt.Errorf("target: ratio of class %q is %s", name, bad)
			}
			if _, ok := index[name]; !ok {
				return nil, fmt.Errorf("target: class %q does not exist in the dataset (classes: %v)", name, classes)
			}
			sum += r
		}
		other := -1
		for c, name := range classes {
			r, listed := spec.Ratios[name]
			if listed {
				t.Column[c] = len(t.Classes)
				t.Classes = append(t.Classes, name)
				t.Ratio = append(t.Ratio, r)
				continue
			}
			t.Column[c] = -1 // the pooled column, filled in below
			other = c
		}
		if other >= 0 {
			o := len(t.Classes)
			t.Classes = append(t.Classes, OtherClass)
			t.Ratio = append(t.Ratio, math.Max(1-sum, 0))
			for c := range t.Column {
				if t.Column[c] < 0 {
					t.Column[c] = o
				}
			}
		}
	default:
		return nil, fmt.Errorf("target: unknown kind %d", spec.Kind)
	}
	sum := 0.0
	for _, r := range t.Ratio {
		sum += r
	}
	if sum == 0 {
		return nil, fmt.Errorf("target: ratios sum to 0 (classes %v)", t.Classes)
	}
	for c := range t.Ratio {
		t.Ratio[c] /= sum
	}
	return t, nil
}

// Remap turns count rows over the input classes (rows×len(Column),
// row-major) into rows over t.Classes, summing pooled classes.
func (t *Target) Remap(counts []float64) []float64 {
	in, out := len(t.Column), len(t.Classes)
	rows := len(counts) / in
	r := make([]float64, rows*out)
	for i := 0; i < rows; i++ {
		for c, v := range counts[i*in : (i+1)*in] {
			r[i*out+t.Column[c]] += v
		}
	}
	return r
}
