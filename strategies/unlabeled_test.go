package strategies

import (
	"context"
	"slices"
	"testing"
)

// TestUnlabeledCandidates covers spec §7 as changed: candidates with an
// all-zero count row are not eligible while a balancing strategy with a
// non-zero strength is present, unless include_unlabeled keeps them (with
// the neutral objective exp(−D(S)), which is why they would otherwise win).
func TestUnlabeledCandidates(t *testing.T) {
	counts := []float64{1, 0, 0, 0, 0, 1, 0, 0}
	other := []float64{1, 1, 1, 0, 0, 0, 1, 1} // row 2 unlabeled here only
	w := []float64{1, 2, 3, 4}
	bal := func(c []float64, strength float64, include bool) *Balance {
		b, err := NewBalance(c, 2, []float64{1, 1}, strength, IncludeUnlabeled(include))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name      string
		p         Problem
		want      []int
		unlabeled int
	}{
		{"excluded", Problem{Rows: 4, Candidates: 4, Picks: 4, Strategies: []Strategy{bal(counts, 1, false)}}, []int{0, 2}, 2},
		{"included", Problem{Rows: 4, Candidates: 4, Picks: 4, Strategies: []Strategy{bal(counts, 1, true)}}, []int{1, 3, 0, 2}, 0},
		// A preselected unlabeled sample still counts as selected; it is
		// not among the excluded candidates.
		{"preselected", Problem{Rows: 4, Candidates: 4, Preselected: []int{1}, Picks: 4, Strategies: []Strategy{bal(counts, 1, false)}}, []int{0, 2}, 1},
		{"strength 0", Problem{Rows: 4, Candidates: 4, Picks: 4, Strategies: []Strategy{mustW(t, w, 1), bal(counts, 0, false)}}, []int{3, 2, 1, 0}, 0},
		{"negative strength", Problem{Rows: 4, Candidates: 4, Picks: 4, Strategies: []Strategy{bal(counts, -1, false)}}, []int{0, 2}, 2},
		// Unlabeled for either of two balancing strategies: counted once.
		{"two", Problem{Rows: 4, Candidates: 4, Picks: 4, Strategies: []Strategy{bal(counts, 1, false), bal(other, 1, false)}}, []int{0}, 3},
		{"with weights", Problem{Rows: 4, Candidates: 4, Picks: 4, Strategies: []Strategy{mustW(t, w, 1), bal(counts, 0.5, false)}}, []int{2, 0}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := allPaths(t, tc.p); !slices.Equal(got, tc.want) {
				t.Fatalf("picks %v, want %v", got, tc.want)
			}
			res, err := Select(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Unlabeled != tc.unlabeled {
				t.Errorf("unlabeled %d, want %d", res.Unlabeled, tc.unlabeled)
			}
		})
	}
	if b := bal(counts, 1, true); !b.IncludesUnlabeled() {
		t.Error("IncludeUnlabeled(true) not reported")
	}
	if b := bal(counts, 0, false); !b.IncludesUnlabeled() {
		t.Error("an inert strategy excludes")
	}
}
