package pipeline

// Constraints and groups (docs/selection.md): eligibility rules that
// combine with every strategy (at most m per group, keep away from a tag)
// and group selection, where the units picked are groups of samples or
// fixed-length runs of them (video clips). They are options of a
// selection rather than strategies: they add no factor to the score.

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/winnow-data/winnow/strategies"
)

// Quota limits a selection to at most Max samples (Max units under group
// selection) sharing one value of the categorical or integer column
// Column; preselected samples count. A null value forms no group.
type Quota struct {
	Column string `json:"column"`
	Max    int    `json:"max"`
}

// ExcludeNear keeps a selection away from the samples of tag Tag: a
// candidate is eligible only when its distance (in embedding model Model;
// "" the dataset's only one) to every sample of Tag that has a vector is
// at least MinDistance, and no sample of Tag is picked.
type ExcludeNear struct {
	Tag         string  `json:"tag"`
	Model       string  `json:"embedding_model_name,omitempty"`
	MinDistance float64 `json:"min_distance"`
}

// Groups makes a selection pick groups of candidates instead of samples:
// every distinct non-null value of column By is one unit or, with
// SequenceLength L >= 2, each group is cut in order of column OrderBy
// (ties by dataset order) into consecutive runs of exactly L candidates,
// a trailing shorter run dropped. n counts units; the result tag holds
// every member of every picked unit.
type Groups struct {
	By             string `json:"group_by"`
	OrderBy        string `json:"order_by,omitempty"`
	SequenceLength int    `json:"sequence_length,omitempty"`
}

// check validates the options that need no data.
func (o *Options) checkRules() error {
	for _, q := range o.MaxPerGroup {
		if q.Column == "" {
			return errors.New("max_per_group: no column named")
		}
		if q.Max < 1 {
			return fmt.Errorf("max_per_group %s=%d: the limit must be at least 1", q.Column, q.Max)
		}
	}
	if x := o.ExcludeNear; x != nil {
		if x.Tag == "" {
			return errors.New("exclude_near: no tag named")
		}
		if x.MinDistance < 0 || math.IsNaN(x.MinDistance) || math.IsInf(x.MinDistance, 0) {
			return fmt.Errorf("exclude_near %s: the minimum distance must be a finite number >= 0, got %v", x.Tag, x.MinDistance)
		}
	}
	if g := o.Groups; g != nil {
		if g.By == "" {
			return errors.New("group selection: no group_by column named")
		}
		if g.SequenceLength == 1 || g.SequenceLength < 0 {
			return fmt.Errorf("sequence_length %d: a run is at least 2 samples (or 0: whole groups)", g.SequenceLength)
		}
		if g.OrderBy != "" && g.SequenceLength == 0 {
			return fmt.Errorf("order_by %q only orders runs of sequence_length samples; set sequence_length too", g.OrderBy)
		}
	}
	return nil
}

// RuleReport says what one rule of a selection did.
type RuleReport struct {
	Rule string `json:"rule"` // "max_per_group", "exclude_near" or "groups"
	// max_per_group: the column, the limit, how many of its groups the
	// result holds and how many of those are full.
	Column     string `json:"column,omitempty"`
	Max        int    `json:"max,omitempty"`
	Groups     int    `json:"groups,omitempty"`
	FullGroups int    `json:"full_groups,omitempty"`
	// exclude_near: the tag, the minimum distance, the vectors kept away
	// from, the candidates that carry the tag (never picked), and the
	// nearest distance from a new pick to the tag's vectors.
	Tag         string  `json:"tag,omitempty"`
	MinDistance float64 `json:"min_distance,omitempty"`
	Excluded    int     `json:"excluded_vectors,omitempty"`
	InTag       int     `json:"candidates_in_tag,omitempty"`
	Nearest     float64 `json:"nearest_distance,omitempty"`
	// groups: the units there were, the units selected and the samples
	// they hold.
	Units         int `json:"units,omitempty"`
	UnitsSelected int `json:"units_selected,omitempty"`
	Samples       int `json:"samples_tagged,omitempty"`
}

// rulePart is one rule's share of an engine problem: the rule over
// sample rows, how to lift it to units, and its report.
type rulePart struct {
	rule   strategies.Rule
	lift   func(u *strategies.Units) (strategies.Rule, error)
	report func(sel []int) RuleReport // sel: sample rows of the result, universe order
}

// groupCodes reads column over the universe rows as group codes (-1 for
// null): a categorical or integer column.
func (r *resolver) groupCodes(column string, u *universe) ([]int32, []string, error) {
	col, err := r.ds.cd.CategoricalColumn(r.ctx, column)
	if err != nil {
		return nil, nil, err
	}
	codes := make([]int32, len(u.rows))
	for i, row := range u.rows {
		codes[i] = col.Codes[row]
	}
	return codes, col.Values, nil
}

// quotaPart builds the rule of quota q.
func (r *resolver) quotaPart(q Quota, u *universe) (*rulePart, error) {
	codes, _, err := r.groupCodes(q.Column, u)
	if err != nil {
		return nil, fmt.Errorf("max_per_group %s=%d: %w", q.Column, q.Max, err)
	}
	rule, err := strategies.NewQuota(codes, q.Max)
	if err != nil {
		return nil, fmt.Errorf("max_per_group %s=%d: %w", q.Column, q.Max, err)
	}
	return &rulePart{
		rule: rule,
		lift: func(us *strategies.Units) (strategies.Rule, error) { return strategies.NewUnitQuota(codes, us, q.Max) },
		report: func(sel []int) RuleReport {
			rep := RuleReport{Rule: "max_per_group", Column: q.Column, Max: q.Max}
			count := map[int32]int{}
			for _, e := range sel {
				if c := codes[e]; c >= 0 {
					count[c]++
				}
			}
			rep.Groups = len(count)
			for _, n := range count {
				if n >= q.Max {
					rep.FullGroups++
				}
			}
			return rep
		},
	}, nil
}

// excludePart builds the rule of x: the candidates' vectors of its model
// against the vectors of the tag's samples.
func (r *resolver) excludePart(x ExcludeNear, model string, u *universe) (*rulePart, error) {
	bm, err := r.ds.cd.Tag(x.Tag)
	if err != nil {
		return nil, fmt.Errorf("exclude_near: %w", err)
	}
	m := r.matrices[model]
	var rows []int
	for _, row := range bm.Indexes() {
		if m.Present.Get(row) {
			rows = append(rows, row)
		}
	}
	excluded := rowsVectors(m, rows)
	var inTag []int
	for i, row := range u.rows[:u.candidates] {
		if bm.Get(row) {
			inTag = append(inTag, i)
		}
	}
	rule, err := strategies.NewExcludeNear(r.vectors(model, u), excluded, x.MinDistance, inTag)
	if err != nil {
		return nil, fmt.Errorf("exclude_near %s: %w", x.Tag, err)
	}
	return &rulePart{
		rule: rule,
		lift: func(us *strategies.Units) (strategies.Rule, error) { return strategies.UnitRule(rule, us), nil },
		report: func(sel []int) RuleReport {
			// Only the picks are measured: the nearest distance of every
			// candidate would cost a search of the tag per candidate.
			rep := RuleReport{Rule: "exclude_near", Tag: x.Tag, MinDistance: x.MinDistance, Excluded: rule.Excluded(),
				InTag: len(inTag), Nearest: math.Inf(1)}
			for _, e := range sel {
				if e < u.candidates && rule.Excluded() > 0 {
					if _, d := rule.Nearest(e); d < rep.Nearest {
						rep.Nearest = d
					}
				}
			}
			if math.IsInf(rep.Nearest, 1) {
				rep.Nearest = 0
			}
			return rep
		},
	}, nil
}

// rules builds the eligibility rules of the options over u.
func (r *resolver) rules(u *universe, excludeModel string) ([]*rulePart, error) {
	var out []*rulePart
	for _, q := range r.opts.MaxPerGroup {
		p, err := r.quotaPart(q, u)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if x := r.opts.ExcludeNear; x != nil {
		p, err := r.excludePart(*x, excludeModel, u)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// units builds the units of group selection g over the candidates of u.
func (r *resolver) units(g *Groups, u *universe) (*strategies.Units, error) {
	codes, _, err := r.groupCodes(g.By, u)
	if err != nil {
		return nil, fmt.Errorf("group_by %s: %w", g.By, err)
	}
	var order []int64
	if g.OrderBy != "" {
		if order, err = r.orderKeys(g.OrderBy, u); err != nil {
			return nil, fmt.Errorf("order_by %s: %w", g.OrderBy, err)
		}
	}
	units, err := strategies.GroupUnits(codes, order, g.SequenceLength, u.candidates, u.pre)
	if err != nil {
		return nil, fmt.Errorf("group selection: %w", err)
	}
	return units, nil
}

// orderKeys ranks the values of a numeric column over the candidates of u,
// as the int64 keys GroupUnits orders by (equal values equal keys). A null
// is an error naming the sample.
func (r *resolver) orderKeys(column string, u *universe) ([]int64, error) {
	col, err := r.ds.cd.NumericColumn(r.ctx, column)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, u.candidates)
	for i, row := range u.rows[:u.candidates] {
		if col.IsNull(row) {
			return nil, fmt.Errorf("sample %s has no value: an order column must have one for every candidate", r.ds.cd.SampleName(r.ctx, row))
		}
		vals[i] = col.Values[row]
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	keys := make([]int64, len(vals))
	for i, v := range vals {
		k, _ := slices.BinarySearchFunc(sorted, v, cmp.Compare[float64])
		keys[i] = int64(k)
	}
	return keys, nil
}

// unitsReport reports a group selection.
func unitsReport(units *strategies.Units, picked int, samples int) RuleReport {
	return RuleReport{Rule: "groups", Units: units.Candidates(), UnitsSelected: picked, Samples: samples}
}
