package strategies

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// intVectors returns n vectors of dim small integer coordinates, so that
// distances are exact and "exactly min_distance" happens often.
func intVectors(r *rand.Rand, n, dim int) []float32 {
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(r.IntN(5))
	}
	return v
}

// withRandomRules adds to a random problem (randomProblem) some of: object
// diversity, a balancing strategy that includes unlabeled rows, one or two
// quotas, keep-away from a tag; it returns the reference's view of all.
func withRandomRules(t testing.TB, r *rand.Rand, p Problem, refs []refStrategy) (Problem, []refStrategy, []refRule) {
	n := p.Rows
	strengths := []float64{1, 1, 0.5, 2, 0, -1}
	if r.IntN(3) == 0 { // object-level diversity
		start := []int{0}
		for i := 0; i < n; i++ {
			start = append(start, start[i]+[]int{0, 1, 1, 2, 3}[r.IntN(5)])
		}
		dim := 1 + r.IntN(3)
		var v []float32
		if r.IntN(2) == 0 {
			v = intVectors(r, start[n], dim)
		} else {
			v = make([]float32, start[n]*dim)
			for i := range v {
				v[i] = float32(r.NormFloat64() * 2)
			}
		}
		str := strengths[r.IntN(len(strengths))]
		sd, err := NewSubpartDiversity(start, v, dim, str)
		if err != nil {
			t.Fatal(err)
		}
		p.Strategies = append(p.Strategies, sd)
		refs = append(refs, refStrategy{kind: "sub", strength: str, vec: v, dim: dim, objStart: start})
	}
	if r.IntN(6) == 0 { // balancing with unlabeled rows kept
		counts := make([]float64, n*2)
		for i := range counts {
			counts[i] = float64(r.IntN(2))
		}
		str := strengths[r.IntN(len(strengths))]
		b, err := NewBalance(counts, 2, []float64{1, 1}, str, IncludeUnlabeled(true))
		if err != nil {
			t.Fatal(err)
		}
		p.Strategies = append(p.Strategies, b)
		refs = append(refs, refStrategy{kind: "bal", strength: str, counts: counts, classes: 2, target: b.Target(), withZero: true})
	}
	var rules []refRule
	for q := r.IntN(3); q > 0; q-- {
		groups := make([]int32, n)
		sets := make([][]int32, n)
		k := 1 + r.IntN(5)
		for i := range groups {
			groups[i] = int32(r.IntN(k+1)) - 1
			if groups[i] >= 0 {
				sets[i] = []int32{groups[i]}
			}
		}
		m := 1 + r.IntN(3)
		qu, err := NewQuota(groups, m)
		if err != nil {
			t.Fatal(err)
		}
		p.Rules = append(p.Rules, qu)
		rules = append(rules, refRule{kind: "quota", groups: sets, max: m})
	}
	if r.IntN(2) == 0 {
		dim := 1 + r.IntN(3)
		v := intVectors(r, n, dim)
		ne := r.IntN(6)
		ex := intVectors(r, ne, dim)
		for e := 0; e < ne; e++ {
			if r.IntN(3) == 0 { // an excluded copy of a row
				j := r.IntN(n)
				copy(ex[e*dim:(e+1)*dim], v[j*dim:(j+1)*dim])
			}
		}
		md := []float64{0, 1, 2, 1.5, 3}[r.IntN(5)]
		tag := map[int]bool{}
		var inTag []int
		for i := 0; i < p.Candidates; i++ {
			if r.IntN(8) == 0 {
				tag[i] = true
				inTag = append(inTag, i)
			}
		}
		x, err := NewExcludeNear(v, dim, ex, md, inTag)
		if err != nil {
			t.Fatal(err)
		}
		p.Rules = append(p.Rules, x)
		rules = append(rules, refRule{kind: "exclude", vec: v, dim: dim, excluded: ex, minDist: md, tag: tag})
	}
	return p, refs, rules
}

func TestRulesMatchReference(t *testing.T) {
	seeds := 3000
	if testing.Short() {
		seeds = 600
	}
	for seed := 0; seed < seeds; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 77))
		p, refs := randomProblem(t, r)
		p, refs, rules := withRandomRules(t, r, p, refs)
		want := refSelect(p.Rows, p.Candidates, p.Preselected, p.Picks, refs, rules...)
		if want == nil {
			want = []int{}
		}
		got := allPaths(t, p)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: picks %v, reference %v (problem %v, rules %d)", seed, got, want, describe(p), len(p.Rules))
		}
	}
}

// incremental selects k, then the rest with the first k preselected, and
// returns all picks in order.
func incremental(t testing.TB, p Problem, k int) []int {
	t.Helper()
	var got []int
	if k > 0 {
		first := p
		first.Picks = k
		a, err := Select(context.Background(), first)
		if err != nil {
			t.Fatal(err)
		}
		got = rows(a)
	}
	if rest := p.Picks - len(got); rest > 0 {
		second := p
		second.Preselected = append(slices.Clone(p.Preselected), got...)
		second.Picks = rest
		b, err := Select(context.Background(), second)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rows(b)...)
	}
	return got
}

func TestRulesIncrementalEqualsOneShot(t *testing.T) {
	for seed := 0; seed < 600; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 78))
		p, refs := randomProblem(t, r)
		p, _, _ = withRandomRules(t, r, p, refs)
		p.Picks = 1 + r.IntN(p.Candidates+1)
		all, err := Select(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		k := r.IntN(len(all.Picks) + 1)
		if got, want := incremental(t, p, k), rows(all); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("seed %d: %d then more gives %v, one shot %v", seed, k, got, want)
		}
	}
}

// TestRulesFastPaths runs rules and object diversity on mid-sized
// clustered problems, where the heaps, the sorted orders, the deferred
// batches and the group skips all do real work, and requires the
// straightforward picks on every path.
func TestRulesFastPaths(t *testing.T) {
	const n, dim = 2000, 8
	r := rand.New(rand.NewPCG(41, 42))
	v := clustered(r, n, dim)
	w := make([]float64, n)
	onehot := make([]float64, n*4)
	groups := make([]int32, n)
	hash := make([]int32, n)
	for i := range w {
		w[i] = []float64{0, 1, r.Float64() * 3, r.Float64()}[r.IntN(4)]
		if r.IntN(10) > 0 { // every tenth row unlabeled
			onehot[i*4+r.IntN(4)] = 1
		}
		groups[i] = int32(r.IntN(60)) - 1
		hash[i] = int32(i)
	}
	// Exact duplicates share their content hash.
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			if slices.Equal(v[i*dim:(i+1)*dim], v[j*dim:(j+1)*dim]) {
				hash[i] = hash[j]
				break
			}
		}
	}
	quota := func(g []int32, m int) *Quota {
		q, err := NewQuota(g, m)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	// Excluded: noisy copies of 100 rows, and 30 rows in the tag.
	ex := make([]float32, 0, 100*dim)
	for k := 0; k < 100; k++ {
		j := r.IntN(n)
		for _, x := range v[j*dim : (j+1)*dim] {
			ex = append(ex, x+float32(r.NormFloat64()*0.3))
		}
	}
	var tag []int
	for k := 0; k < 30; k++ {
		tag = append(tag, r.IntN(n-20))
	}
	exclude, err := NewExcludeNear(v, dim, ex, 1.5, tag)
	if err != nil {
		t.Fatal(err)
	}
	start := []int{0}
	for i := 0; i < n; i++ {
		start = append(start, start[i]+r.IntN(4))
	}
	objs := clustered(r, start[n], dim)
	sub, err := NewSubpartDiversity(start, objs, dim, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		s     []Strategy
		rules []Rule
		pre   []int
	}{
		{"diversity quota", []Strategy{mustDiv(t, v, dim, 1)}, []Rule{quota(groups, 2)}, []int{1999, 5}},
		{"diversity content hash", []Strategy{mustDiv(t, v, dim, 1)}, []Rule{quota(hash, 1)}, nil},
		{"diversity exclude", []Strategy{mustDiv(t, v, dim, 1)}, []Rule{exclude}, []int{3}},
		{"weights balance quota exclude", []Strategy{mustW(t, w, 1), mustBal(t, onehot, 4, []float64{1, 1, 1, 1}, 1)},
			[]Rule{quota(groups, 3), exclude}, nil},
		{"all", []Strategy{mustDiv(t, v, dim, 1), mustW(t, w, 0.5), mustBal(t, onehot, 4, []float64{1, 2, 3, 4}, 2)},
			[]Rule{quota(groups, 2), quota(hash, 1), exclude}, []int{1995, 10}},
		{"subpart", []Strategy{sub}, nil, nil},
		{"subpart preselected rules", []Strategy{sub, mustW(t, w, 1)}, []Rule{quota(groups, 2), exclude}, []int{1990, 0}},
		{"subpart and diversity", []Strategy{sub, mustDiv(t, v, dim, 0.5)}, []Rule{exclude}, nil},
		{"negative subpart scans", []Strategy{sub, mustDiv(t, v, dim, 1)}, nil, nil},
	}
	tests[len(tests)-1].s[0] = mustSub(t, start, objs, dim, -0.5)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Problem{Rows: n, Candidates: n - 20, Preselected: tc.pre, Picks: 150, Strategies: tc.s, Rules: tc.rules}
			got := allPaths(t, p)
			if len(got) == 0 {
				t.Fatal("no picks")
			}
			if k := len(got) / 3; !slices.Equal(incremental(t, p, k), got) {
				t.Errorf("incremental after %d differs from one shot", k)
			}
		})
	}
}

func mustSub(t testing.TB, start []int, v []float32, dim int, strength float64) *SubpartDiversity {
	t.Helper()
	s, err := NewSubpartDiversity(start, v, dim, strength)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
