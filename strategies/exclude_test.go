package strategies

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func mustExclude(t testing.TB, v []float32, dim int, ex []float32, md float64, tag []int) *ExcludeNear {
	t.Helper()
	x, err := NewExcludeNear(v, dim, ex, md, tag)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestExcludeNearExamples(t *testing.T) {
	line := []float32{0, 1, 2, 3, 4, 5}
	w := []float64{1, 1, 1, 1, 1, 1}
	tests := []struct {
		name string
		x    *ExcludeNear
		want []int
	}{
		// Distance exactly min_distance is allowed (>=).
		{"exactly min_distance", mustExclude(t, line, 1, []float32{0}, 2, nil), []int{2, 3, 4, 5}},
		{"two excluded", mustExclude(t, line, 1, []float32{0, 5}, 2, nil), []int{2, 3}},
		// Samples of the tag are never picked, even at min_distance 0.
		{"tag rows", mustExclude(t, line, 1, []float32{9}, 0, []int{1, 4}), []int{0, 2, 3, 5}},
		{"tag rows near", mustExclude(t, line, 1, []float32{1}, 1.5, []int{1, 4}), []int{3, 5}},
		{"nothing excluded", mustExclude(t, line, 1, nil, 3, nil), []int{0, 1, 2, 3, 4, 5}},
		{"2-d exact", mustExclude(t, []float32{0, 0, 3, 4, 3, 3, 6, 8, 1, 1, 0, 5}, 2, []float32{0, 0}, 5, nil), []int{1, 3, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.x.vectors) / tc.x.dim
			p := Problem{Rows: n, Candidates: n, Picks: n, Strategies: []Strategy{mustW(t, w[:n], 1)}, Rules: []Rule{tc.x}}
			if got := allPaths(t, p); !slices.Equal(got, tc.want) {
				t.Errorf("picks %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExcludeNearErrors(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"dim", func() error { _, err := NewExcludeNear(nil, 0, nil, 1, nil); return err }, "exclude_near: dimension 0 must be positive"},
		{"vectors", func() error { _, err := NewExcludeNear([]float32{1, 2, 3}, 2, nil, 1, nil); return err },
			"exclude_near: 3 values are not a whole number of 2-dimensional vectors"},
		{"excluded", func() error { _, err := NewExcludeNear([]float32{1, 2}, 2, []float32{1}, 1, nil); return err },
			"exclude_near: 1 excluded values are not a whole number of 2-dimensional vectors"},
		{"distance", func() error { _, err := NewExcludeNear([]float32{1}, 1, nil, -0.5, nil); return err },
			"exclude_near: min_distance -0.5 must be finite and >= 0"},
		{"NaN vector", func() error { _, err := NewExcludeNear([]float32{1, 2, nan, 3, nan, 0}, 2, nil, 1, nil); return err },
			"exclude_near: vectors: row 1 is NaN (2 rows affected)"},
		{"NaN excluded", func() error {
			_, err := NewExcludeNear([]float32{1}, 1, []float32{0, float32(math.Inf(1))}, 1, nil)
			return err
		},
			"exclude_near: excluded: row 1 is +Inf (1 rows affected)"},
		{"tag row", func() error { _, err := NewExcludeNear([]float32{1, 2}, 1, nil, 1, []int{2}); return err },
			"exclude_near: tag row 2 outside 0..1"},
		{"short", func() error {
			_, err := Select(context.Background(), Problem{Rows: 3, Candidates: 3, Picks: 1,
				Strategies: []Strategy{mustW(t, []float64{1, 2, 3}, 1)}, Rules: []Rule{mustExclude(t, []float32{1, 2}, 1, nil, 1, nil)}})
			return err
		}, "select: rule 0: exclude_near: 2 vectors for 3 candidates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.err(); err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := NewExcludeNear([]float32{nan}, 1, nil, 1, nil)
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Input != "vectors" || ve.Row != 0 || ve.Count != 1 {
		t.Errorf("value error %#v", err)
	}
}

// TestExcludeIndex compares the tree's check and nearest search with
// every excluded vector, on clustered data (where sides are skipped) and on
// data with many exact ties, for several leaf sizes.
func TestExcludeIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		name      string
		ex, q     []float32
		dim, leaf int
	}{
		{"clustered", clustered(r, 600, 6), clustered(r, 400, 6), 6, vpLeaf},
		{"clustered one leaf", clustered(r, 300, 6), clustered(r, 100, 6), 6, 1000},
		{"clustered leaves of one", clustered(r, 200, 6), clustered(r, 100, 6), 6, 1},
		{"integers", intVectors(r, 300, 3), intVectors(r, 300, 3), 3, 4},
		{"one row", intVectors(r, 1, 3), intVectors(r, 30, 3), 3, 1},
		{"wide", clustered(r, 300, 2*distBlock+3), clustered(r, 50, 2*distBlock+3), 2*distBlock + 3, vpLeaf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newVPTree(tc.ex, tc.dim, tc.leaf)
			ne := len(tc.ex) / tc.dim
			seen := make([]int, ne)
			for _, nd := range tr.nodes {
				if nd.vp >= 0 {
					seen[nd.vp]++
					continue
				}
				for _, e := range tr.items[nd.lo:nd.hi] {
					seen[e]++
				}
			}
			for e, c := range seen {
				if c != 1 {
					t.Fatalf("row %d in %d nodes", e, c)
				}
			}
			var work, all int64
			for qi := 0; qi < len(tc.q)/tc.dim; qi++ {
				q := tc.q[qi*tc.dim : (qi+1)*tc.dim]
				best, bestD := -1, math.Inf(1)
				for e := 0; e < ne; e++ {
					if d := dist(q, tr.row(int32(e))); d < bestD {
						best, bestD = e, d
					}
				}
				if j, d := tr.nearest(q); j != best || d != bestD {
					t.Fatalf("query %d: nearest %d at %v, want %d at %v", qi, j, d, best, bestD)
				}
				for _, md := range []float64{bestD, math.Nextafter(bestD, 0), math.Nextafter(bestD, 10), bestD * 2, 1, 3, 0.01} {
					if md <= 0 {
						continue
					}
					want, w1 := tr.farFromAll(q, md)
					got, w2 := tr.farFrom(q, md)
					if got != want {
						t.Fatalf("query %d, min_distance %v: far %v, want %v", qi, md, got, want)
					}
					work += w2
					all += w1
				}
			}
			t.Logf("work %d of %d", work, all)
			if tc.name == "clustered" && work > all/2 {
				t.Errorf("tree checks computed %d distances, every vector %d", work, all)
			}
		})
	}
	if j, d := newVPTree(nil, 3, vpLeaf).nearest([]float32{1, 2, 3}); j != -1 || !math.IsInf(d, 1) {
		t.Errorf("empty tree: nearest %d at %v", j, d)
	}
}

// TestExcludeNearLazy checks that the rule is asked about few candidates:
// only would-be winners are checked (a count, not a timing).
func TestExcludeNearLazy(t *testing.T) {
	const n, dim = 3000, 8
	r := rand.New(rand.NewPCG(15, 16))
	v := clustered(r, n, dim)
	x := mustExclude(t, v, dim, clustered(r, 200, dim), 2, nil)
	for _, s := range [][]Strategy{{mustDiv(t, v, dim, 1)}, {mustW(t, SimilarityWeights(v, dim, n, v[:dim]), 1)}} {
		st, _ := x.Start(n, n)
		p := Problem{Rows: n, Candidates: n, Picks: 100, Strategies: s, Rules: []Rule{ruleOf{st}}}
		if _, err := Select(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, k := range st.(*excludeState).known {
			if k != exUnknown {
				checked++
			}
		}
		t.Logf("%T: %d checked", s[0], checked)
		if checked == 0 || checked > 400 {
			t.Errorf("%T: %d of %d candidates checked for 100 picks", s[0], checked, n)
		}
	}
}

// ruleOf hands out one prepared state (to inspect it afterwards).
type ruleOf struct{ s RuleState }

func (r ruleOf) Start(rows, candidates int) (RuleState, error) { return r.s, nil }
