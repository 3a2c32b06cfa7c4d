package strategies

import (
	"context"
	"slices"
	"testing"
)

func mustQuota(t testing.TB, g []int32, m int) *Quota {
	t.Helper()
	q, err := NewQuota(g, m)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQuotaExamples(t *testing.T) {
	w := []float64{5, 5, 4, 3, 2, 1}
	tests := []struct {
		name  string
		p     Problem
		rules []Rule
		want  []int
	}{
		// §10: m = 1 on a content hash removes exact duplicates.
		{"content hash", Problem{Rows: 6, Candidates: 6, Picks: 6, Strategies: []Strategy{mustW(t, w, 1)}},
			[]Rule{mustQuota(t, []int32{7, 7, 3, 7, 9, 3}, 1)}, []int{0, 2, 4}},
		// A null value forms no group: no limit.
		{"nulls unlimited", Problem{Rows: 6, Candidates: 6, Picks: 6, Strategies: []Strategy{mustW(t, w, 1)}},
			[]Rule{mustQuota(t, []int32{-1, -1, 0, 0, -1, 0}, 1)}, []int{0, 1, 2, 4}},
		{"m = 2", Problem{Rows: 6, Candidates: 6, Picks: 6, Strategies: []Strategy{mustW(t, w, 1)}},
			[]Rule{mustQuota(t, []int32{0, 0, 0, 1, 1, 1}, 2)}, []int{0, 1, 3, 4}},
		// Preselected samples count, candidates or not.
		{"preselected count", Problem{Rows: 7, Candidates: 6, Preselected: []int{6, 3}, Picks: 6, Strategies: []Strategy{mustW(t, w, 1)}},
			[]Rule{mustQuota(t, []int32{0, 0, 1, 1, 2, 2, 0}, 1)}, []int{4}},
		// Several rules: all must hold.
		{"two quotas", Problem{Rows: 6, Candidates: 6, Picks: 6, Strategies: []Strategy{mustW(t, w, 1)}},
			[]Rule{mustQuota(t, []int32{0, 1, 0, 1, 2, 2}, 1), mustQuota(t, []int32{5, 5, 6, 6, 6, 5}, 2)}, []int{0, 1, 4}},
		// Sparse codes (raw integer values) work as well as dictionary indexes.
		{"sparse codes", Problem{Rows: 6, Candidates: 6, Picks: 6, Strategies: []Strategy{mustW(t, w, 1)}},
			[]Rule{mustQuota(t, []int32{2e9, 2e9, 3, 2e9, 1e9, 3}, 1)}, []int{0, 2, 4}},
		// With diversity: at most one per cluster gives one per cluster.
		{"diversity", Problem{Rows: 6, Candidates: 6, Picks: 6, Strategies: []Strategy{mustDiv(t, []float32{0, 1, 2, 10, 11, 20}, 1, 1)}},
			[]Rule{mustQuota(t, []int32{0, 0, 0, 1, 1, 2}, 1)}, []int{0, 5, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Rules = tc.rules
			if got := allPaths(t, tc.p); !slices.Equal(got, tc.want) {
				t.Errorf("picks %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuotaErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"m", func() error { _, err := NewQuota([]int32{0}, 0); return err }, "quota: at most 0 per group, must be at least 1"},
		{"code", func() error { _, err := NewQuota([]int32{0, -2}, 1); return err }, "quota: row 1 has group code -2 (codes are >= 0, or -1 for none)"},
		{"short", func() error {
			_, err := Select(context.Background(), Problem{Rows: 3, Candidates: 3, Picks: 1,
				Strategies: []Strategy{mustW(t, []float64{1, 2, 3}, 1)}, Rules: []Rule{mustQuota(t, []int32{0, 1}, 1)}})
			return err
		}, "select: rule 0: quota: group codes for 2 rows, need 3"},
		{"nil rule", func() error {
			_, err := Select(context.Background(), Problem{Rows: 1, Candidates: 1, Picks: 1,
				Strategies: []Strategy{mustW(t, []float64{1}, 1)}, Rules: []Rule{nil}})
			return err
		}, "select: rule 0 is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.err(); err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
