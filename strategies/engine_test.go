package strategies

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// vec32 wraps a float32 matrix.
func vec32(v []float32, dim int) Vectors { return Vectors{Dim: dim, F32: v} }

func mustDiv(t testing.TB, v []float32, dim int, strength float64) *Diversity {
	t.Helper()
	d, err := NewDiversity(vec32(v, dim), strength)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustW(t testing.TB, w []float64, strength float64) *Weights {
	t.Helper()
	s, err := NewWeights(w, strength)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustBal(t testing.TB, counts []float64, classes int, target []float64, strength float64) *Balance {
	t.Helper()
	b, err := NewBalance(counts, classes, target, strength)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rows(res *Result) []int {
	var r []int
	for _, p := range res.Picks {
		r = append(r, p.Row)
	}
	return r
}

// enginePaths are the engine's paths: default (deferred batches, then the
// eager update), scanning arg-max, straightforward, forced row-order or
// group walks, the eager update from the start, and heaps that park all
// but a few entries (park.go).
var enginePaths = []options{{}, {scan: true}, {naive: true}, {stream: 1}, {stream: -1},
	{eager: true}, {eager: true, stream: 1}, {eager: true, stream: -1}, {park: 8}, {park: 8, eager: true}}

// allPaths runs p through every engine path with one and three workers,
// and the default path with every kernel set, fails unless all agree,
// and returns the picks.
func allPaths(t testing.TB, p Problem) []int {
	t.Helper()
	var first []int
	check := func(what string, opt options, w int) {
		t.Helper()
		p.Workers = w
		res, err := selectWith(context.Background(), p, opt)
		if err != nil {
			t.Fatalf("%s %+v workers %d: %v", what, opt, w, err)
		}
		got := rows(res)
		if first == nil {
			first = got
			if first == nil {
				first = []int{}
			}
			return
		}
		if !slices.Equal(got, first) {
			t.Fatalf("%s %+v workers %d: picks %v, default path %v", what, opt, w, got, first)
		}
	}
	for _, opt := range enginePaths {
		for _, w := range []int{1, 3} {
			if opt.stream != 0 && w == 1 {
				continue
			}
			check("kernels "+kern.name, opt, w)
		}
	}
	for _, ks := range kernelSets() {
		if ks != kern {
			withKernels(ks, func() { check("kernels "+ks.name, options{}, 2) })
		}
	}
	return first
}

func seq2(n int) []float32 {
	v := make([]float32, 0, 2*n)
	for i := 0; i < n; i++ {
		v = append(v, float32(i), float32(i))
	}
	return v
}

func TestSpecExamples(t *testing.T) {
	dedup, err := NewDeduplication(vec32(seq2(20), 2), 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	// §2: two exact duplicates of a selected sample both have diversity
	// 0 (a -inf factor); the larger weight still wins.
	dup := []float32{0, 0, 0, 0, 0, 0, 9, 9}
	tests := []struct {
		name string
		p    Problem
		want []int
	}{
		{"§3 1d", Problem{Rows: 3, Candidates: 3, Picks: 2, Strategies: []Strategy{mustDiv(t, []float32{1, 3, 5}, 1, 1)}}, []int{0, 2}},
		{"§3 diagonal", Problem{Rows: 20, Candidates: 20, Picks: 2, Strategies: []Strategy{mustDiv(t, seq2(20), 2, 1)}}, []int{0, 19}},
		{"§4 dedup", Problem{Rows: 20, Candidates: 20, Picks: 10, Strategies: []Strategy{dedup}}, []int{0, 19, 9, 14, 4}},
		{"§5 weights", Problem{Rows: 3, Candidates: 3, Picks: 2, Strategies: []Strategy{mustW(t, []float64{1, 2, 3}, 1)}}, []int{2, 1}},
		{"§5 two weightings", Problem{Rows: 3, Candidates: 3, Picks: 2, Strategies: []Strategy{
			mustW(t, []float64{1, 2, 3}, 1), mustW(t, []float64{6, 5, 3}, 1)}}, []int{1, 2}},
		{"§6 similarity", Problem{Rows: 3, Candidates: 3, Picks: 2, Strategies: []Strategy{
			mustW(t, SimilarityWeights(vec32([]float32{1, 0, 0, 1, 0.9, 0}, 2), 3, vec32([]float32{1, 0}, 2)), 1)}}, []int{0, 2}},
		{"§7 rows", Problem{Rows: 5, Candidates: 5, Picks: 2, Strategies: []Strategy{
			mustBal(t, []float64{1, 0, 0.3, 0.7, 0, 1, 0, 1, 1, 1}, 2, []float64{0.5, 0.5}, 1)}}, []int{4, 1}},
		{"§2 duplicates", Problem{Rows: 4, Candidates: 4, Preselected: []int{0}, Picks: 2, Strategies: []Strategy{
			mustDiv(t, dup, 2, 1), mustW(t, []float64{1, 1, 2, 0.1}, 1)}}, []int{3, 2}},
		{"§8 preselected outside candidates", Problem{Rows: 3, Candidates: 2, Preselected: []int{2}, Picks: 1, Strategies: []Strategy{
			mustDiv(t, []float32{1, 4, 5}, 1, 1)}}, []int{0}},
		{"inert strength", Problem{Rows: 3, Candidates: 3, Picks: 3, Strategies: []Strategy{mustW(t, []float64{1, 0, 3}, 0)}}, []int{0, 1, 2}},
		{"negative strength", Problem{Rows: 3, Candidates: 3, Picks: 3, Strategies: []Strategy{mustW(t, []float64{1, 2, 3}, -1)}}, []int{0, 1, 2}},
		{"zero weight, negative strength is +inf", Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{mustW(t, []float64{1, 0, 3}, -2)}}, []int{1}},
		{"zero weight loses", Problem{Rows: 3, Candidates: 3, Picks: 3, Strategies: []Strategy{mustW(t, []float64{0, 0.5, 0}, 1)}}, []int{1, 0, 2}},
		{"clamped", Problem{Rows: 2, Candidates: 2, Picks: 5, Strategies: []Strategy{mustW(t, []float64{1, 2}, 1)}}, []int{1, 0}},
		{"no candidates", Problem{Rows: 1, Candidates: 0, Preselected: []int{0}, Picks: 5, Strategies: []Strategy{mustDiv(t, []float32{1}, 1, 1)}}, []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := allPaths(t, tc.p); !slices.Equal(got, tc.want) {
				t.Errorf("picks %v, want %v", got, tc.want)
			}
		})
	}
}

// annotations builds count rows over classes in first-seen order.
func annotations(samples [][]string) (classes []string, counts []float64) {
	index := map[string]int{}
	for _, s := range samples {
		for _, c := range s {
			if _, ok := index[c]; !ok {
				index[c] = len(classes)
				classes = append(classes, c)
			}
		}
	}
	counts = make([]float64, len(samples)*len(classes))
	for i, s := range samples {
		for _, c := range s {
			counts[i*len(classes)+index[c]]++
		}
	}
	return classes, counts
}

func TestSpecBalancingExamples(t *testing.T) {
	tests := []struct {
		name    string
		samples [][]string
		spec    TargetSpec
		n       int
		want    []int
	}{
		{"uniform", [][]string{{"cat", "dog"}, {"dog"}, {"dog", "bird"}}, TargetSpec{Kind: Uniform}, 2, []int{0, 2}},
		{"explicit", [][]string{{"cat", "dog"}, {"dog"}, {"dog", "bird"}},
			TargetSpec{Kind: Explicit, Ratios: map[string]float64{"cat": 1, "dog": 1, "bird": 0}}, 2, []int{0, 1}},
		{"input", [][]string{{"cat", "dog"}, {"dog"}, {"bird"}}, TargetSpec{Kind: Input}, 1, []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			classes, counts := annotations(tc.samples)
			cc := make([]float64, len(classes))
			for i := range tc.samples {
				for c := range classes {
					cc[c] += counts[i*len(classes)+c]
				}
			}
			tg, err := ResolveTarget(classes, cc, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			b := mustBal(t, tg.Remap(counts), len(tg.Classes), tg.Ratio, 1)
			p := Problem{Rows: len(tc.samples), Candidates: len(tc.samples), Picks: tc.n, Strategies: []Strategy{b}}
			if got := allPaths(t, p); !slices.Equal(got, tc.want) {
				t.Errorf("picks %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResolveTarget(t *testing.T) {
	classes := []string{"cat", "dog", "bird", "fish"}
	cc := []float64{2, 6, 0, 2}
	tests := []struct {
		name    string
		spec    TargetSpec
		classes []string
		ratio   []float64
		column  []int
		err     string
	}{
		{name: "uniform skips absent", spec: TargetSpec{Kind: Uniform}, classes: classes,
			ratio: []float64{1.0 / 3, 1.0 / 3, 0, 1.0 / 3}, column: []int{0, 1, 2, 3}},
		{name: "input", spec: TargetSpec{Kind: Input}, classes: classes,
			ratio: []float64{0.2, 0.6, 0, 0.2}, column: []int{0, 1, 2, 3}},
		{name: "explicit with other", spec: TargetSpec{Kind: Explicit, Ratios: map[string]float64{"dog": 0.5, "cat": 0.25}},
			classes: []string{"cat", "dog", OtherClass}, ratio: []float64{0.25, 0.5, 0.25}, column: []int{0, 1, 2, 2}},
		{name: "explicit over one", spec: TargetSpec{Kind: Explicit, Ratios: map[string]float64{"dog": 3, "cat": 1}},
			classes: []string{"cat", "dog", OtherClass}, ratio: []float64{0.25, 0.75, 0}, column: []int{0, 1, 2, 2}},
		{name: "absent class", spec: TargetSpec{Kind: Explicit, Ratios: map[string]float64{"horse": 1}},
			err: `target: class "horse" does not exist in the dataset`},
		{name: "negative ratio", spec: TargetSpec{Kind: Explicit, Ratios: map[string]float64{"cat": -1}},
			err: `target: ratio of class "cat" is negative`},
		{name: "zero", spec: TargetSpec{Kind: Explicit, Ratios: map[string]float64{"cat": 0, "dog": 0, "bird": 0, "fish": 0}},
			err: "target: ratios sum to 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := ResolveTarget(classes, cc, tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tg.Classes, tc.classes) || !slices.Equal(tg.Column, tc.column) {
				t.Fatalf("classes %v columns %v, want %v %v", tg.Classes, tg.Column, tc.classes, tc.column)
			}
			for c := range tc.ratio {
				if math.Abs(tg.Ratio[c]-tc.ratio[c]) > 1e-15 {
					t.Fatalf("ratio %v, want %v", tg.Ratio, tc.ratio)
				}
			}
		})
	}
	if _, err := ResolveTarget([]string{"a"}, []float64{0}, TargetSpec{Kind: Uniform}); err == nil {
		t.Error("uniform over no present class: no error")
	}
	tg, _ := ResolveTarget(classes, cc, TargetSpec{Kind: Explicit, Ratios: map[string]float64{"dog": 1}})
	if got := tg.Remap([]float64{1, 2, 3, 4, 0, 0, 0, 1}); !slices.Equal(got, []float64{2, 8, 0, 1}) {
		t.Errorf("remap %v", got)
	}
}

func TestTypicalitySpecExample(t *testing.T) {
	got, _, err := TypicalityWeights(context.Background(), vec32([]float32{1, 0, 0, 0, 1, 0, 0, 1, 1}, 3), 3, NeighbourOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.3225063, 0.4222289, 0.3853082}
	for i := range want {
		if got[i] < want[i] || got[i] >= want[i]+1e-7 { // the spec truncates to 7 places
			t.Errorf("typicality %v, want %v", got, want)
		}
	}
}

// refTypicality is spec §6 literally: sort all distances of each row.
func refTypicality(v []float32, dim, n int) []float64 {
	k := min(20, n-1)
	out := make([]float64, n)
	if k <= 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	nd := make([][]float64, n)
	sigma := 0.0
	for i := 0; i < n; i++ {
		var d []float64
		for j := 0; j < n; j++ {
			if j != i {
				s := 0.0
				for c := 0; c < dim; c++ {
					x := float64(v[i*dim+c]) - float64(v[j*dim+c])
					s += x * x
				}
				d = append(d, math.Sqrt(s))
			}
		}
		slices.Sort(d)
		nd[i] = d[:k]
		for _, x := range nd[i] {
			sigma += x
		}
	}
	sigma /= float64(n * k)
	for i := range out {
		out[i] = 1
		if sigma > 0 {
			s := 0.0
			for _, x := range nd[i] {
				s += math.Exp(-x / sigma)
			}
			out[i] = s / float64(k)
		}
	}
	return out
}

func TestTypicalityMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 2, 5, 21, 22, 300} {
		dim := 1 + r.IntN(9)
		if n%2 == 0 {
			dim = 16 * (1 + r.IntN(2)) // the four-row kernel's dimensions
		}
		v := make([]float32, n*dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
			if i >= dim && r.IntN(10) == 0 { // duplicates
				copy(v[i-i%dim:i-i%dim+dim], v[:dim])
			}
		}
		want := refTypicality(v, dim, n)
		for _, w := range []int{1, 3} {
			got, _, err := TypicalityWeights(context.Background(), vec32(v, dim), n, NeighbourOptions{Mode: NeighboursExact, Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-5 {
					t.Fatalf("n=%d row %d: %v, want %v", n, i, got[i], want[i])
				}
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := TypicalityWeights(ctx, vec32(make([]float32, 300), 1), 300, NeighbourOptions{Workers: 1}); err == nil {
		t.Error("cancelled typicality: no error")
	}
}

// randomProblem draws a small problem rich in exact ties: integer
// coordinates, duplicate vectors and count rows, zero weights, every sign of
// strength, preselection inside and outside the candidates.
func randomProblem(t testing.TB, r *rand.Rand) (Problem, []refStrategy) {
	n := 1 + r.IntN(40)
	c := n - r.IntN(min(n, 5))
	if r.IntN(6) == 0 {
		c = n
	}
	p := Problem{Rows: n, Candidates: c, Picks: 1 + r.IntN(c+3)}
	p.Preselected = append(p.Preselected, r.Perm(n)[:r.IntN(min(n, 4)+1)]...)
	strengths := []float64{1, 1, 1, 0.5, 2, 0, -1, -0.5}
	vectors := func() ([]float32, int) {
		dim := 1 + r.IntN(4)
		v := make([]float32, n*dim)
		for i := 0; i < n; i++ {
			if i > 0 && r.IntN(5) == 0 {
				j := r.IntN(i)
				copy(v[i*dim:(i+1)*dim], v[j*dim:(j+1)*dim])
				continue
			}
			for k := 0; k < dim; k++ {
				if r.IntN(2) == 0 {
					v[i*dim+k] = float32(r.IntN(7))
				} else {
					v[i*dim+k] = float32(r.NormFloat64() * 3)
				}
			}
		}
		return v, dim
	}
	var refs []refStrategy
	ns := 1 + r.IntN(3)
	hasBal := false
	for len(p.Strategies) < ns {
		str := strengths[r.IntN(len(strengths))]
		switch k := r.IntN(4); {
		case k == 0:
			v, dim := vectors()
			p.Strategies = append(p.Strategies, mustDiv(t, v, dim, str))
			refs = append(refs, refStrategy{kind: "div", strength: str, vec: v, dim: dim})
		case k == 1:
			v, dim := vectors()
			md := float64(r.IntN(4))
			d, err := NewDeduplication(vec32(v, dim), md, str)
			if err != nil {
				t.Fatal(err)
			}
			p.Strategies = append(p.Strategies, d)
			refs = append(refs, refStrategy{kind: "dedup", strength: str, vec: v, dim: dim, minDist: md})
		case k == 2:
			w := make([]float64, n)
			for i := range w {
				w[i] = []float64{0, 1, 2, 0.5, r.Float64() * 5}[r.IntN(5)]
			}
			p.Strategies = append(p.Strategies, mustW(t, w, str))
			refs = append(refs, refStrategy{kind: "w", strength: str, w: w})
		default:
			if hasBal && r.IntN(2) == 0 {
				continue
			}
			hasBal = true
			classes := 1 + r.IntN(3)
			counts := make([]float64, n*classes)
			for i := range counts {
				counts[i] = []float64{0, 0, 1, 2, 0.5}[r.IntN(5)]
			}
			target := make([]float64, classes)
			for c := range target {
				target[c] = float64(r.IntN(3))
			}
			target[r.IntN(classes)]++
			b := mustBal(t, counts, classes, target, str)
			p.Strategies = append(p.Strategies, b)
			refs = append(refs, refStrategy{kind: "bal", strength: str, counts: counts, classes: classes, target: b.Target()})
		}
	}
	return p, refs
}

func TestEngineMatchesReference(t *testing.T) {
	seeds := 2000
	if testing.Short() {
		seeds = 500
	}
	for seed := 0; seed < seeds; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		p, refs := randomProblem(t, r)
		want := refSelect(p.Rows, p.Candidates, p.Preselected, p.Picks, refs)
		if want == nil {
			want = []int{}
		}
		got := allPaths(t, p)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: picks %v, reference %v (problem %+v)", seed, got, want, describe(p))
		}
	}
}

func describe(p Problem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows %d cand %d pre %v n %d:", p.Rows, p.Candidates, p.Preselected, p.Picks)
	for _, s := range p.Strategies {
		fmt.Fprintf(&b, " %T(%v)", s, s.Strength())
	}
	return b.String()
}

func TestIncrementalEqualsOneShot(t *testing.T) {
	for seed := 0; seed < 200; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 5))
		p, _ := randomProblem(t, r)
		p.Picks = 1 + r.IntN(p.Candidates+1)
		all, err := Select(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		k := r.IntN(len(all.Picks) + 1)
		first := p
		first.Picks = max(k, 1)
		a, err := Select(context.Background(), first)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			a.Picks = nil
		}
		second := p
		second.Preselected = append(slices.Clone(p.Preselected), rows(a)...)
		second.Picks = p.Picks - k
		got := rows(a)
		if second.Picks > 0 {
			b, err := Select(context.Background(), second)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rows(b)...)
		}
		if want := rows(all); !slices.Equal(got, want) {
			t.Fatalf("seed %d: %d then more gives %v, one shot %v", seed, k, got, want)
		}
	}
}
