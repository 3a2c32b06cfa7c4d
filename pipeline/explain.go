package pipeline

// Explaining one sample from a selection record: `winnow tags show DIR
// TAG --sample ID`.
//
// A record holds every sample of the tag with its rank, score and each
// strategy's objective when it was picked, and the request that made it.
// For a sample in the tag that is the whole story. For one that is not,
// the record and the dataset tell part of it: whether the sample is a
// candidate of the record's query at all (as the dataset is now), and,
// for a candidate, why it stayed out: ExplainSample replays the selection
// from its record (the same query, preselected samples, strategies and
// rules) up to the engine's problem, and asks strategies.Explain about
// the one sample given the record's picks: which rules made it ineligible
// at the end of the run and because of which pick, or its score at the
// last pick against that pick's. The replay runs no selection; it loads
// what the strategies read. Where it cannot be done faithfully (the
// candidates changed since, group selection), it says so and falls back
// to the objectives that are a fixed value of the sample.

import (
	"context"
	"encoding/json"
	"fmt"
)

// Explanation says what a selection record tells about one sample.
type Explanation struct {
	Tag      string `json:"tag"`
	SampleID string `json:"sample_id"`
	Row      int    `json:"row"`
	// InTag reports whether the sample carries the tag; Pick is then its
	// row of the record (rank, score, objectives; only the rank for a
	// preselected sample), and Objectives names each objective.
	InTag      bool             `json:"in_tag"`
	Pick       *Pick            `json:"pick,omitempty"`
	Objectives []ObjectiveValue `json:"objectives,omitempty"`
	// For a sample outside the tag: Candidate reports whether it matches
	// the record's query now, Recomputed holds the objectives that are a
	// fixed value of the sample, computed now, and NotRecomputed names the
	// strategies whose objective depends on the run (the samples selected
	// before, or all candidates).
	Candidate     bool             `json:"candidate"`
	Recomputed    []ObjectiveValue `json:"recomputed,omitempty"`
	NotRecomputed []string         `json:"not_recomputed,omitempty"`
	// Outcome is "picked", "preselected", "not a candidate", "ineligible"
	// or "ranked below the cut" (the last two from a replay), "dropped"
	// (it lacked what a strategy needs and the run dropped such), or
	// "candidate" when no replay was possible.
	Outcome string `json:"outcome"`
	// From a replay: Because lists the rules that excluded an ineligible
	// sample; for one ranked below the cut, Objectives are its objectives
	// at the last pick, Score its score then and Cut the last pick's
	// (CutSampleID), Tied when it lost only on dataset order.
	Because     []Exclusion `json:"because,omitempty"`
	Score       *float64    `json:"score,omitempty"`
	Cut         *float64    `json:"cut,omitempty"`
	CutSampleID string      `json:"cut_sample_id,omitempty"`
	Tied        bool        `json:"tied,omitempty"`
	// Reason says in a sentence why the sample is or is not in the tag.
	Reason string `json:"reason"`
}

// Exclusion is one rule that made a sample ineligible.
type Exclusion struct {
	// Rule is "deduplication", "max_per_group", "exclude_near",
	// "unlabeled" (balancing) or the strategy's name.
	Rule string `json:"rule"`
	// By is the sample id of the selected sample that excluded it
	// (deduplication, max_per_group), "" otherwise.
	By          string  `json:"by,omitempty"`
	Distance    float64 `json:"distance,omitempty"`
	MinDistance float64 `json:"min_distance,omitempty"`
	// Text says it in a sentence.
	Text string `json:"text"`
}

// ObjectiveValue is one strategy's objective for a sample.
type ObjectiveValue struct {
	Strategy  string  `json:"strategy"`  // its name in the request, e.g. "weights"
	Objective string  `json:"objective"` // what it measures, e.g. "weight"
	Value     float64 `json:"value"`
}

// recomputer is a strategy whose objective for a sample is a fixed value
// of that sample, cheap to compute outside a selection.
type recomputer interface {
	recompute(ctx context.Context, d *Dataset, row int) (float64, error)
}

func (s MetadataWeighting) recompute(ctx context.Context, d *Dataset, row int) (float64, error) {
	col, err := d.cd.NumericColumn(ctx, s.Key)
	if err != nil {
		return 0, err
	}
	if col.IsNull(row) {
		return 0, fmt.Errorf("metadata column %q is null for this sample", s.Key)
	}
	return col.Values[row], nil
}

// ExplainSample explains how the selection that made tag treated the
// sample with id (as IDStrings writes it). A tag without a selection
// record is ErrNoRecord; an id the dataset lacks is an error.
func (d *Dataset) ExplainSample(ctx context.Context, tag, id string) (*Explanation, error) {
	rec, err := d.ReadRecord(ctx, tag)
	if err != nil {
		return nil, err
	}
	row, ok, err := d.cd.LookupText(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("sample id %s is not in the dataset", id)
	}
	ex := &Explanation{Tag: tag, SampleID: id, Row: row}
	list, err := recordStrategies(rec)
	if err != nil {
		return nil, err
	}
	for i := range rec.Picks {
		p := &rec.Picks[i]
		if p.Row != row {
			continue
		}
		ex.InTag, ex.Pick, ex.Candidate = true, p, true
		if p.Preselected {
			ex.Outcome = "preselected"
			ex.Reason = fmt.Sprintf("preselected (tag %q): it counted as selected before the first pick", rec.Header.PreTag)
			return ex, nil
		}
		for k, v := range p.Objectives {
			if k < len(list) {
				ex.Objectives = append(ex.Objectives, ObjectiveValue{Strategy: list[k].Name(), Objective: ObjectiveOf(list[k].Name()), Value: v})
			}
		}
		ex.Outcome = "picked"
		ex.Reason = fmt.Sprintf("picked at rank %d of %d (rank 0 is the first)", p.Rank, len(rec.Picks))
		return ex, nil
	}
	q := d.Query()
	if rec.Header.Query != "" {
		if q, err = q.Where(rec.Header.Query); err != nil {
			return nil, fmt.Errorf("selection record of %q: query: %w", tag, err)
		}
	}
	rows, err := q.Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("selection record of %q: query %s: %w", tag, rec.Header.Query, err)
	}
	ex.Candidate = rows.Get(row)
	if !ex.Candidate {
		ex.Outcome = "not a candidate"
		ex.Reason = fmt.Sprintf("not a candidate: it does not match the selection's query %s (as the dataset is now)", rec.Header.Query)
		return ex, nil
	}
	ok, err = d.replay(ctx, rec, list, rows.Indexes(), ex)
	if err != nil {
		return nil, fmt.Errorf("explain %s in %q: %w", id, tag, err)
	}
	if ok {
		return ex, nil
	}
	return ex, d.recomputed(ctx, rec, list, ex)
}

// recomputed is the explanation of a candidate without a replay: the
// objectives that are a fixed value of the sample, and what the record's
// counts imply.
func (d *Dataset) recomputed(ctx context.Context, rec *Record, list []Strategy, ex *Explanation) error {
	row := ex.Row
	for _, s := range list {
		rc, ok := s.(recomputer)
		if !ok {
			ex.NotRecomputed = append(ex.NotRecomputed, s.Name())
			continue
		}
		v, err := rc.recompute(ctx, d, row)
		if err != nil {
			return fmt.Errorf("strategy %s: %w", s.Name(), err)
		}
		ex.Recomputed = append(ex.Recomputed, ObjectiveValue{Strategy: s.Name(), Objective: ObjectiveOf(s.Name()), Value: v})
	}
	ex.Outcome = "candidate"
	why := ex.Reason
	h := &rec.Header
	switch {
	case h.Shards > 1:
		ex.Reason = fmt.Sprintf("a candidate, not picked: its shard did not propose it (each of the %d shards proposed its best), or the merge ranked it below the cut", h.Shards)
	case h.Selected < h.Requested && h.Selected < h.Candidates-h.Preselected:
		ex.Reason = fmt.Sprintf("a candidate, not picked: the selection stopped after %d of %d picks with no eligible candidate left, so it was ineligible (by a rule such as deduplication's minimum distance)",
			h.Selected, h.Requested)
	default:
		ex.Reason = fmt.Sprintf("a candidate, not picked: ranked below the cut (the selection stopped after %d picks of %d requested)",
			h.Selected, h.Requested)
	}
	if rec.Header.DropMissing {
		ex.Reason += "; or it was dropped for lacking an embedding (the run skipped such candidates)"
	}
	if rec.Header.Precision.Approximate() {
		ex.Reason += "; the selection computed on vectors rounded to " + string(rec.Header.Precision) + " (approximate), the values here are from the stored ones"
	}
	if why != "" {
		ex.Reason += " (" + why + ")"
	}
	return nil
}

// recordStrategies decodes the strategies of a record's request.
func recordStrategies(rec *Record) ([]Strategy, error) {
	list := make([]Strategy, 0, len(rec.Header.Strategies))
	for i, raw := range rec.Header.Strategies {
		s, err := decodeStrategy(json.RawMessage(raw))
		if err != nil {
			return nil, fmt.Errorf("selection record of %q: strategies[%d]: %w", rec.Header.Tag, i, err)
		}
		list = append(list, s)
	}
	return list, nil
}
