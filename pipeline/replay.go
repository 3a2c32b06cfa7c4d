package pipeline

import (
	"context"
	"fmt"
	"slices"

	"github.com/winnow-data/winnow/strategies"
)

// replay explains a candidate outside the tag by rebuilding the record's
// engine problem (plan, without running the engine) and asking
// strategies.Explain about the sample given the record's picks. It
// reports false, with a note in ex.Reason, when the replay would not be
// faithful: group selection, or candidates that differ from the record's.
//
// The record's picks stand for the engine's result: their rows, ranks and
// scores are what the run produced, and Explain needs no more than them
// (rules only ever exclude more as S grows, so the state at the end of the
// run is S itself).
func (d *Dataset) replay(ctx context.Context, rec *Record, list []Strategy, cands []int, ex *Explanation) (bool, error) {
	h := rec.Header
	if h.Groups != nil {
		ex.Reason = "group selection is not replayed sample by sample"
		return false, nil
	}
	if h.Shards > 1 {
		// The merge ran on the shards' proposals, which the record does
		// not list: replayed on every candidate, it would explain a
		// selection that was not made.
		ex.Reason = fmt.Sprintf("a distributed selection over %d shards, whose merge chose among the %d candidates they proposed, is not replayed sample by sample", h.Shards, h.Candidates)
		return false, nil
	}
	pre := []int{} // non-nil: the record's, not the tag's as it is now
	var picks []Pick
	for _, p := range rec.Picks {
		if p.Preselected {
			pre = append(pre, p.Row)
		} else {
			picks = append(picks, p)
		}
	}
	if len(picks) == 0 {
		ex.Reason = "the selection made no pick"
		return false, nil
	}
	slices.Sort(pre)
	sel := &Selection{ds: d, query: h.Query, candidates: cands, preRows: pre}
	sel.Options = Options{DropMissing: h.DropMissing, MaxPerGroup: h.MaxPerGroup, ExcludeNear: h.ExcludeNear, Precision: h.Precision, DryRun: true}
	var res Result
	rn, err := sel.plan(ctx, max(h.Requested, 1), list, &res)
	if err != nil {
		return false, fmt.Errorf("replay the selection: %w", err)
	}
	if res.Candidates != h.Candidates || res.Preselected != h.Preselected {
		ex.Reason = fmt.Sprintf("the candidates changed since the selection (%d then, %d now), so it is not replayed", h.Candidates, res.Candidates)
		return false, nil
	}
	engine := make(map[int]int, len(rn.u.rows))
	for i, r := range rn.u.rows {
		engine[r] = i
	}
	row, ok := engine[ex.Row]
	if !ok || row >= rn.u.candidates {
		ex.Outcome = "dropped"
		ex.Reason = "a candidate of the query, but not of the run: it lacks what a strategy needs (an embedding, a prediction), and the run dropped such candidates"
		return true, nil
	}
	sr := &strategies.Result{}
	for _, p := range picks {
		e, ok := engine[p.Row]
		if !ok || e >= rn.u.candidates {
			ex.Reason = fmt.Sprintf("picked sample %s is no candidate now, so the selection is not replayed", p.SampleID)
			return false, nil
		}
		sr.Picks = append(sr.Picks, strategies.Pick{Row: e, Rank: p.Rank, Score: strategies.Score{Inf: p.InfFactors, Log: p.Score}, Objectives: p.Objectives})
	}
	x, err := strategies.Explain(ctx, rn.problem, sr, row)
	if err != nil {
		return false, err
	}
	return true, d.describe(ctx, rec, list, rn, x, ex)
}

// describe turns the engine's explanation into the sample's, in the
// request's terms.
func (d *Dataset) describe(ctx context.Context, rec *Record, list []Strategy, rn *run, x *strategies.Explanation, ex *Explanation) error {
	idOf := func(engineRow int) (string, error) {
		ids, err := d.cd.IDStrings(ctx, []int{rn.u.rows[engineRow]})
		if err != nil {
			return "", err
		}
		return ids[0], nil
	}
	switch x.Outcome {
	case strategies.Ineligible:
		ex.Outcome = "ineligible"
		for _, b := range x.Because {
			e, err := d.exclusion(rec, list, b, idOf)
			if err != nil {
				return err
			}
			ex.Because = append(ex.Because, e)
		}
		ex.Reason = "a candidate, not picked: ineligible at the end of the run"
		for i, e := range ex.Because {
			sep := ": "
			if i > 0 {
				sep = "; "
			}
			ex.Reason += sep + e.Text
		}
	case strategies.RankedBelow:
		ex.Outcome = "ranked below the cut"
		cut, err := idOf(x.CutRow)
		if err != nil {
			return err
		}
		score, last := x.Score.Log, x.Cut.Log
		ex.Score, ex.Cut, ex.CutSampleID, ex.Tied = &score, &last, cut, x.Tied
		for k, v := range x.Objectives {
			ex.Objectives = append(ex.Objectives, ObjectiveValue{Strategy: list[k].Name(), Objective: ObjectiveOf(list[k].Name()), Value: v})
		}
		ex.Reason = fmt.Sprintf("a candidate, not picked: eligible to the end, it ranked below the cut: score %s at the last pick against %s of that pick (sample %s)",
			scoreText(x.Score), scoreText(x.Cut), cut)
		if x.Tied {
			ex.Reason += "; it tied and lost on dataset order"
		}
	default:
		return fmt.Errorf("replay: unexpected outcome %s for a candidate outside the tag (the record and the dataset disagree)", x.Outcome)
	}
	return nil
}

// exclusion describes one rule that excluded the sample.
func (d *Dataset) exclusion(rec *Record, list []Strategy, b strategies.Exclusion, idOf func(int) (string, error)) (Exclusion, error) {
	h := rec.Header
	var e Exclusion
	var err error
	if b.ByRow >= 0 {
		if e.By, err = idOf(b.ByRow); err != nil {
			return e, err
		}
	}
	switch b.Kind {
	case strategies.Deduplicated:
		e.Rule, e.Distance, e.MinDistance = "deduplication", b.Distance, b.MinDistance
		e.Text = fmt.Sprintf("deduplication: at distance %.6g of sample %s (rank %d), within the minimum distance %.6g", b.Distance, e.By, b.By, b.MinDistance)
	case strategies.QuotaFull:
		e.Rule = "max_per_group"
		col := "?"
		if b.Rule >= 0 && b.Rule < len(h.MaxPerGroup) {
			col = h.MaxPerGroup[b.Rule].Column
		}
		e.Text = fmt.Sprintf("max_per_group %s=%d: %d selected samples already shared its %s, the last sample %s (rank %d)", col, b.Max, b.Max, col, e.By, b.By)
	case strategies.NearExcluded:
		e.Rule, e.Distance, e.MinDistance = "exclude_near", b.Distance, b.MinDistance
		e.Text = fmt.Sprintf("exclude_near %q: at distance %.6g of one of its samples, within the minimum distance %.6g", h.ExcludeNear.Tag, b.Distance, b.MinDistance)
	case strategies.InExcludedTag:
		e.Rule = "exclude_near"
		e.Text = fmt.Sprintf("exclude_near %q: it carries the tag the selection kept away from", h.ExcludeNear.Tag)
	case strategies.Unlabeled:
		e.Rule = "unlabeled"
		e.Text = "balancing: it has no class to count (no annotation of the counted classes, or a null value), and such candidates are left out (include_unlabeled keeps them)"
	default:
		e.Rule = "rule"
		if b.Strategy >= 0 {
			e.Rule = list[b.Strategy].Name()
		}
		e.Text = e.Rule + ": its eligibility rule excluded it"
	}
	return e, nil
}

// ScoreText writes the pick's score as winnow tags show prints it: its
// log, after the count of infinite factors when there are any.
func (p Pick) ScoreText() string { return scoreText(strategies.Score{Inf: p.InfFactors, Log: p.Score}) }

// scoreText writes an engine score as Pick.ScoreText does.
func scoreText(s strategies.Score) string {
	if s.Inf != 0 {
		return fmt.Sprintf("%+d·inf %.6g", s.Inf, s.Log)
	}
	return fmt.Sprintf("%.6g", s.Log)
}
