package pipeline

// Explaining one sample from a selection record: `winnow tags show DIR
// TAG --sample ID`.
//
// A record holds every sample of the tag with its rank, score and each
// strategy's objective when it was picked, and the request that made it.
// For a sample in the tag that is the whole story. For one that is not,
// the record and the dataset tell part of it: whether the sample is a
// candidate of the record's query at all (as the dataset is now), and,
// for strategies whose objective is a fixed value of the sample (a
// metadata weight), what that value is. Why a candidate stayed out beyond
// that (below the cut, or made ineligible by a rule) needs the engine's
// state at the end of the run; ExplainSample says what it could not
// compute rather than guess.

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
	// Reason says in a sentence why the sample is or is not in the tag.
	Reason string `json:"reason"`
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
			ex.Reason = fmt.Sprintf("preselected (tag %q): it counted as selected before the first pick", rec.Header.PreTag)
			return ex, nil
		}
		for k, v := range p.Objectives {
			if k < len(list) {
				ex.Objectives = append(ex.Objectives, ObjectiveValue{Strategy: list[k].Name(), Objective: ObjectiveOf(list[k].Name()), Value: v})
			}
		}
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
		ex.Reason = fmt.Sprintf("not a candidate: it does not match the selection's query %s (as the dataset is now)", rec.Header.Query)
		return ex, nil
	}
	for _, s := range list {
		rc, ok := s.(recomputer)
		if !ok {
			ex.NotRecomputed = append(ex.NotRecomputed, s.Name())
			continue
		}
		v, err := rc.recompute(ctx, d, row)
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", s.Name(), err)
		}
		ex.Recomputed = append(ex.Recomputed, ObjectiveValue{Strategy: s.Name(), Objective: ObjectiveOf(s.Name()), Value: v})
	}
	ex.Reason = fmt.Sprintf("a candidate, not picked: ranked below the cut (the selection stopped after %d picks of %d requested)",
		rec.Header.Selected, rec.Header.Requested)
	if rec.Header.Selected < rec.Header.Requested && rec.Header.Selected < rec.Header.Candidates-rec.Header.Preselected {
		ex.Reason = fmt.Sprintf("a candidate, not picked: the selection stopped after %d of %d picks with no eligible candidate left, so it was ineligible (by a rule such as deduplication's minimum distance)",
			rec.Header.Selected, rec.Header.Requested)
	}
	if rec.Header.DropMissing {
		ex.Reason += "; or it was dropped for lacking an embedding (the run skipped such candidates)"
	}
	return ex, nil
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
