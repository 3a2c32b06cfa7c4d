package strategies

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

func explainAll(t *testing.T, p Problem) (*Result, []*Explanation) {
	t.Helper()
	res, err := Select(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var out []*Explanation
	for r := 0; r < p.Rows; r++ {
		ex, err := Explain(context.Background(), p, res, r)
		if err != nil {
			t.Fatalf("row %d: %v", r, err)
		}
		out = append(out, ex)
	}
	return res, out
}

func TestExplainExamples(t *testing.T) {
	// Rows on a line; row 6 is a preselected non-candidate.
	v := []float32{0, 0.5, 3, 6, 9, 9.2, 20}
	dedup, err := NewDeduplication(v, 1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	counts := []float64{1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0}
	quota := mustQuota(t, []int32{0, 1, 1, 2, 3, 4, 1}, 1)
	x := mustExclude(t, v, 1, []float32{6.5, 100}, 1, []int{2})
	p := Problem{Rows: 7, Candidates: 6, Preselected: []int{6}, Picks: 6,
		Strategies: []Strategy{dedup, mustBal(t, counts, 2, []float64{1, 1}, 0.1)}, Rules: []Rule{quota, x}}
	res, ex := explainAll(t, p)
	// Row 6 (group 1) fills group 1: rows 1 and 2 are out (1 is also
	// within 1 of the first pick, 0); 2 is also in
	// the tag; 3 is 0.5 from the excluded 6.5; 4 is unlabeled. Of 0 and
	// 5, 0 is farther from 20: picked first, then 5, which takes 4 (0.2
	// away) out by deduplication too.
	if got := rows(res); !slices.Equal(got, []int{0, 5}) {
		t.Fatalf("picks %v", got)
	}
	want := []struct {
		o  Outcome
		ks []ExclusionKind
	}{
		{Picked, nil}, {Ineligible, []ExclusionKind{Deduplicated, QuotaFull}}, {Ineligible, []ExclusionKind{QuotaFull, InExcludedTag}},
		{Ineligible, []ExclusionKind{NearExcluded}}, {Ineligible, []ExclusionKind{Deduplicated, Unlabeled}}, {Picked, nil}, {Preselected, nil},
	}
	for r, w := range want {
		var ks []ExclusionKind
		for _, b := range ex[r].Because {
			ks = append(ks, b.Kind)
		}
		if ex[r].Outcome != w.o || !slices.Equal(ks, w.ks) {
			t.Errorf("row %d: %v %v, want %v %v", r, ex[r].Outcome, ks, w.o, w.ks)
		}
	}
	if b := ex[1].Because[1]; b.Rule != 0 || b.Group != 1 || b.Max != 1 || b.By != 0 || b.ByRow != 6 {
		t.Errorf("quota: %+v", b)
	}
	if b := ex[3].Because[0]; b.Rule != 1 || b.Excluded != 0 || b.Distance != 0.5 || b.MinDistance != 1 {
		t.Errorf("exclude_near: %+v", b)
	}
	// Row 4 (9) is 0.2 from the second pick (9.2, rank 2 in S).
	if b := ex[4].Because[0]; b.Strategy != 0 || b.By != 2 || b.ByRow != 5 || b.Distance != float64(float32(9.2))-9 || b.MinDistance != 1 {
		t.Errorf("dedup: %+v", b)
	}
	if ex[0].Rank != 1 || ex[5].Rank != 2 || ex[6].Rank != 0 || ex[0].Score != res.Picks[0].Score {
		t.Errorf("ranks %d %d %d", ex[5].Rank, ex[0].Rank, ex[6].Rank)
	}

	// Ranked below: weights alone, n = 2 of 4; row 1 ties with the cut
	// and loses on its index.
	p = Problem{Rows: 4, Candidates: 4, Picks: 2, Strategies: []Strategy{mustW(t, []float64{1, 3, 3, 2}, 1)}}
	res, ex = explainAll(t, p)
	if got := rows(res); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("picks %v", got)
	}
	for r, w := range []Outcome{RankedBelow, Picked, Picked, RankedBelow} {
		if ex[r].Outcome != w {
			t.Errorf("row %d: %v, want %v", r, ex[r].Outcome, w)
		}
	}
	if e := ex[3]; e.CutRow != 2 || e.Tied || e.Score.Less(e.Cut) == false || e.Objectives[0] != 2 {
		t.Errorf("row 3: %+v", e)
	}
	// Duplicates tie: the later one is tied with the cut.
	p = Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{mustW(t, []float64{3, 3, 1}, 1)}}
	_, ex = explainAll(t, p)
	if e := ex[1]; e.Outcome != RankedBelow || !e.Tied || e.CutRow != 0 {
		t.Errorf("tied row: %+v", e)
	}
	if _, err := Explain(context.Background(), p, &Result{}, 3); err == nil {
		t.Error("row out of range: no error")
	}
}

// TestExplainMatchesReference explains every row of random problems with
// rules and checks it against the reference: a row is Ineligible exactly
// when the reference's rules or strategies exclude it given the final S,
// a RankedBelow row's score does not beat the last pick's, and the last
// pick's own score recomputed before it is bit-identical.
func TestExplainMatchesReference(t *testing.T) {
	for seed := 0; seed < 800; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 79))
		p, refs := randomProblem(t, r)
		p, refs, rules := withRandomRules(t, r, p, refs)
		res, ex := explainAll(t, p)
		S := slices.Clone(p.Preselected)
		S = append(S, rows(res)...)
		for row, e := range ex {
			if row >= p.Candidates || slices.Contains(S, row) {
				continue
			}
			elig := refEligible(row, S, rules) && refStrategiesEligible(row, S, refs)
			if elig != (e.Outcome == RankedBelow) || !elig && e.Outcome != Ineligible {
				t.Fatalf("seed %d row %d: %v (%+v), reference eligible %v", seed, row, e.Outcome, e.Because, elig)
			}
			if e.Outcome == RankedBelow && e.Cut.Less(e.Score) && !e.Tied {
				t.Fatalf("seed %d row %d: score %v beats the cut %v", seed, row, e.Score, e.Cut)
			}
		}
		if len(res.Picks) > 0 {
			last := res.Picks[len(res.Picks)-1]
			sc, obj, err := scoreAt(context.Background(), p, S[:len(S)-1], last.Row)
			if err != nil {
				t.Fatal(err)
			}
			if sc != last.Score || !slices.Equal(obj, last.Objectives) {
				t.Fatalf("seed %d: last pick rescored %v %v, engine %v %v", seed, sc, obj, last.Score, last.Objectives)
			}
		}
	}
}

// refStrategiesEligible is the strategies' own eligibility given S:
// deduplication and unlabeled balancing rows.
func refStrategiesEligible(i int, S []int, ss []refStrategy) bool {
	for _, st := range ss {
		switch st.kind {
		case "dedup":
			for _, j := range S {
				if refDist(st.vec[i*st.dim:(i+1)*st.dim], st.vec[j*st.dim:(j+1)*st.dim]) < st.minDist {
					return false
				}
			}
		case "bal":
			zero := true
			for c := 0; c < st.classes; c++ {
				zero = zero && st.counts[i*st.classes+c] == 0
			}
			if zero && !st.withZero && st.strength != 0 {
				return false
			}
		}
	}
	return true
}
