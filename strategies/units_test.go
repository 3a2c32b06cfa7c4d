package strategies

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func mustUnits(t testing.TB, group []int32, order []int64, length, candidates int, pre []int) *Units {
	t.Helper()
	u, err := GroupUnits(group, order, length, candidates, pre)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func unitList(u *Units) [][]int {
	var out [][]int
	for k := 0; k < u.Len(); k++ {
		out = append(out, slices.Clone(u.Members(k)))
	}
	return out
}

func TestGroupUnitsExample(t *testing.T) {
	group := []int32{0, 0, 1, 0, 1, -1, 0, 1}
	order := []int64{3, 1, 5, 1, 2, 0, 2, 9}
	// Group 0 in (order, index) order is 1, 3, 6, 0 (rows 1 and 3 tie on
	// order 1): clips {1,3} and {6,0}. Group 1 is 4, 2, 7: clip {4,2}, and
	// 7 is a trailing short run. Units go by their lowest member.
	u := mustUnits(t, group, order, 2, 8, []int{7, 3, 1, 9})
	want := [][]int{{0, 6}, {1, 3}, {2, 4}, {7}, {9}}
	if got := unitList(u); !reflect.DeepEqual(got, want) {
		t.Fatalf("units %v, want %v", got, want)
	}
	if u.Candidates() != 3 || u.Len() != 5 || u.Samples() != 10 {
		t.Errorf("candidates %d, len %d, samples %d", u.Candidates(), u.Len(), u.Samples())
	}
	// 7 (a dropped run) and 9 (no candidate) become singletons; 3 and 1
	// share a unit, listed once.
	if !slices.Equal(u.Preselected(), []int{3, 1, 4}) {
		t.Errorf("preselected units %v", u.Preselected())
	}
	for i, w := range []int{0, 1, 2, 1, 2, -1, 0, -1, -1} {
		if u.Unit(i) != w {
			t.Errorf("unit of %d is %d, want %d", i, u.Unit(i), w)
		}
	}
	whole := mustUnits(t, group, nil, 0, 8, nil)
	if got := unitList(whole); !reflect.DeepEqual(got, [][]int{{0, 1, 3, 6}, {2, 4, 7}}) {
		t.Errorf("whole groups %v", got)
	}
	// Without order_by the clips follow candidate order.
	if got := unitList(mustUnits(t, group, nil, 2, 8, nil)); !reflect.DeepEqual(got, [][]int{{0, 1}, {2, 4}, {3, 6}}) {
		t.Errorf("clips in candidate order %v", got)
	}
}

// refUnits builds units literally: distinct values in ascending order,
// each group's candidates stably sorted by order, cut into runs of
// length, members sorted, units sorted by their first member.
func refUnits(group []int32, order []int64, length, candidates int) [][]int {
	byGroup := map[int32][]int{}
	var values []int32
	for i := 0; i < candidates; i++ {
		if g := group[i]; g >= 0 {
			if _, ok := byGroup[g]; !ok {
				values = append(values, g)
			}
			byGroup[g] = append(byGroup[g], i)
		}
	}
	var units [][]int
	for _, g := range values {
		m := byGroup[g]
		if order != nil {
			sort.SliceStable(m, func(a, b int) bool { return order[m[a]] < order[m[b]] })
		}
		if length == 0 {
			units = append(units, slices.Clone(m))
			continue
		}
		for s := 0; s+length <= len(m); s += length {
			units = append(units, slices.Clone(m[s:s+length]))
		}
	}
	for _, u := range units {
		sort.Ints(u)
	}
	sort.Slice(units, func(a, b int) bool { return units[a][0] < units[b][0] })
	return units
}

func TestGroupUnitsMatchReference(t *testing.T) {
	for seed := 0; seed < 500; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 3))
		n := r.IntN(60)
		group := make([]int32, n)
		order := make([]int64, n)
		for i := range group {
			group[i] = int32(r.IntN(6)) - 1
			order[i] = int64(r.IntN(8)) // many ties
		}
		if r.IntN(4) == 0 {
			order = nil
		}
		length := []int{0, 2, 3, 5}[r.IntN(4)]
		got := unitList(mustUnits(t, group, order, length, n, nil))
		want := refUnits(group, order, length, n)
		if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: units %v, want %v", seed, got, want)
		}
	}
}

func TestUnitData(t *testing.T) {
	u := mustUnits(t, []int32{0, 1, 0, 1, 1}, nil, 0, 5, []int{5})
	// Units {0,2}, {1,3,4}, {5}.
	vec := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if got, want := u.Vectors(vec, 2), []float32{3, 4, float32(19.0 / 3), float32(22.0 / 3), 11, 12}; !slices.Equal(got, want) {
		t.Errorf("vectors %v, want %v", got, want)
	}
	if got, want := u.Weights([]float64{1, 2, 3, 4, 6}), []float64{2, 4, 0}; !slices.Equal(got, want) {
		t.Errorf("weights %v, want %v", got, want)
	}
	counts := []float64{1, 0, 0, 1, 2, 0, 0, 1, 1, 1, 5, 5}
	if got, want := u.Counts(counts, 2), []float64{3, 0, 1, 3, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	// Objects: row 0 has 1, row 1 none, row 2 has 2, row 3 one, row 4
	// none, row 5 one.
	start := []int{0, 1, 1, 3, 4, 4, 5}
	objs := []float32{10, 20, 21, 30, 50}
	us, uo := u.Objects(start, objs, 1)
	if !slices.Equal(us, []int{0, 3, 4, 5}) || !slices.Equal(uo, []float32{10, 20, 21, 30, 50}) {
		t.Errorf("objects %v %v", us, uo)
	}
}

func TestUnitsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"short group", func() error { _, err := GroupUnits([]int32{0}, nil, 0, 2, nil); return err }, "units: 1 group codes for 2 candidates"},
		{"short order", func() error { _, err := GroupUnits([]int32{0, 0}, []int64{1}, 0, 2, nil); return err }, "units: 1 order keys for 2 candidates"},
		{"length", func() error { _, err := GroupUnits([]int32{0, 0}, nil, 1, 2, nil); return err }, "units: sequence length 1 must be at least 2 (or 0 for whole groups)"},
		{"code", func() error { _, err := GroupUnits([]int32{0, -3}, nil, 0, 2, nil); return err }, "units: candidate 1 has group code -3"},
		{"preselected twice", func() error { _, err := GroupUnits([]int32{0, 0}, nil, 0, 2, []int{1, 1}); return err }, "units: preselected row 1 listed twice"},
		{"preselected negative", func() error { _, err := GroupUnits([]int32{0, 0}, nil, 0, 2, []int{-1}); return err }, "units: preselected row -1 is negative"},
		{"unit quota m", func() error { _, err := NewUnitQuota([]int32{0}, nil, -1); return err }, "quota: at most -1 per group, must be at least 1"},
		{"unit quota codes", func() error {
			_, err := NewUnitQuota([]int32{0}, mustUnits(t, []int32{0, 0}, nil, 0, 2, nil), 1)
			return err
		}, "quota: 1 group codes, but unit 0 has sample row 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.err(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestUnitSelection selects 3-frame clips of two videos: frames on a line,
// video A at 0..5, video B at 100..105 (frames listed interleaved).
func TestUnitSelection(t *testing.T) {
	var group []int32
	var order []int64
	var pos []float32
	for f := 0; f < 6; f++ {
		for v := 0; v < 2; v++ {
			group = append(group, int32(v))
			order = append(order, int64(5-f)) // frames in reverse order
			pos = append(pos, float32(100*v+f))
		}
	}
	u := mustUnits(t, group, order, 3, len(group), nil)
	// Clips: A {frames 5,4,3} = rows 6,8,10 (mean 4) and {2,1,0} = rows
	// 0,2,4 (mean 1); B likewise at 104 and 101.
	if got := unitList(u); !reflect.DeepEqual(got, [][]int{{0, 2, 4}, {1, 3, 5}, {6, 8, 10}, {7, 9, 11}}) {
		t.Fatalf("clips %v", got)
	}
	div := mustDiv(t, u.Vectors(pos, 1), 1, 1)
	p := Problem{Rows: u.Len(), Candidates: u.Candidates(), Picks: 4, Strategies: []Strategy{div}}
	// Then clips 1 (at 101) and 2 (at 4) tie at 3: the lower index wins.
	if got := allPaths(t, p); !slices.Equal(got, []int{0, 3, 1, 2}) {
		t.Errorf("clip picks %v", got)
	}
	// At most one clip per video: the quota counts units, not frames.
	q, err := NewUnitQuota(group, u, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.Rules = []Rule{q}
	if got := allPaths(t, p); !slices.Equal(got, []int{0, 3}) {
		t.Errorf("one clip per video: %v", got)
	}
	// Keep 1 away from 105.5: frame 105 is too near, so its clip (103..105)
	// goes, though the clip's mean, 104, is 1.5 away.
	x := mustExclude(t, pos, 1, []float32{105.5}, 1, nil)
	p.Rules = []Rule{UnitRule(x, u)}
	if got := allPaths(t, p); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("away from 105.5: %v", got)
	}
	// A frame in the excluded tag takes its clip with it.
	p.Rules = []Rule{UnitRule(mustExclude(t, pos, 1, nil, 0, []int{2}), u)}
	if got := allPaths(t, p); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("tagged frame: %v", got)
	}
}

// randomUnitProblem draws samples with groups and order keys (many ties),
// cuts them into units and builds diversity, weights, balancing and
// object diversity over the units, with a unit quota and a lifted
// exclusion, and preselected samples inside and outside the candidates.
func randomUnitProblem(t testing.TB, r *rand.Rand) (Problem, *Units, []refStrategy, []refRule, sampleData) {
	n := 2 + r.IntN(40)
	c := n - r.IntN(min(n, 4))
	sd := sampleData{n: n, c: c, group: make([]int32, n), order: make([]int64, n), length: []int{0, 2, 3}[r.IntN(3)]}
	for i := range sd.group {
		sd.group[i] = int32(r.IntN(5)) - 1
		sd.order[i] = int64(r.IntN(6))
	}
	sd.pre = r.Perm(n)[:r.IntN(min(n, 4)+1)]
	sd.dim = 1 + r.IntN(3)
	sd.vec = intVectors(r, n, sd.dim)
	sd.w = make([]float64, n)
	for i := range sd.w {
		sd.w[i] = float64(r.IntN(4))
	}
	sd.counts = make([]float64, 2*n)
	for i := range sd.counts {
		sd.counts[i] = float64(r.IntN(2))
	}
	sd.ostart = []int{0}
	for i := 0; i < n; i++ {
		sd.ostart = append(sd.ostart, sd.ostart[i]+r.IntN(3))
	}
	sd.objs = intVectors(r, sd.ostart[n], sd.dim)
	sd.quota = make([]int32, n)
	for i := range sd.quota {
		sd.quota[i] = int32(r.IntN(4)) - 1
	}
	sd.m = 1 + r.IntN(2)
	sd.ex = intVectors(r, r.IntN(4), sd.dim)
	sd.md = float64(r.IntN(3))
	for i := 0; i < c; i++ {
		if r.IntN(10) == 0 {
			sd.tag = append(sd.tag, i)
		}
	}
	sd.kinds = r.Perm(4)[:1+r.IntN(3)]
	sd.rules = r.IntN(4)
	p, u, refs, rules := sd.problem(t)
	p.Picks = 1 + r.IntN(u.Candidates()+2)
	return p, u, refs, rules, sd
}

// sampleData is a unit problem's sample-level input, to rebuild it with
// other preselected samples.
type sampleData struct {
	n, c, length, dim, m int
	group                []int32
	order                []int64
	pre                  []int
	vec, objs, ex        []float32
	w, counts            []float64
	ostart               []int
	quota                []int32
	md                   float64
	tag                  []int
	kinds                []int
	rules                int // bit 0: quota, bit 1: exclusion
}

func (sd sampleData) problem(t testing.TB) (Problem, *Units, []refStrategy, []refRule) {
	u := mustUnits(t, sd.group, sd.order, sd.length, sd.c, sd.pre)
	p := Problem{Rows: u.Len(), Candidates: u.Candidates(), Preselected: u.Preselected()}
	var refs []refStrategy
	for _, k := range sd.kinds {
		switch k {
		case 0:
			v := u.Vectors(sd.vec, sd.dim)
			p.Strategies = append(p.Strategies, mustDiv(t, v, sd.dim, 1))
			refs = append(refs, refStrategy{kind: "div", strength: 1, vec: v, dim: sd.dim})
		case 1:
			w := u.Weights(sd.w)
			p.Strategies = append(p.Strategies, mustW(t, w, 1))
			refs = append(refs, refStrategy{kind: "w", strength: 1, w: w})
		case 2:
			counts := u.Counts(sd.counts, 2)
			b := mustBal(t, counts, 2, []float64{1, 1}, 1)
			p.Strategies = append(p.Strategies, b)
			refs = append(refs, refStrategy{kind: "bal", strength: 1, counts: counts, classes: 2, target: b.Target()})
		case 3:
			start, objs := u.Objects(sd.ostart, sd.objs, sd.dim)
			p.Strategies = append(p.Strategies, mustSub(t, start, objs, sd.dim, 1))
			refs = append(refs, refStrategy{kind: "sub", strength: 1, vec: objs, dim: sd.dim, objStart: start})
		}
	}
	var rules []refRule
	if sd.rules&1 != 0 {
		q, err := NewUnitQuota(sd.quota, u, sd.m)
		if err != nil {
			t.Fatal(err)
		}
		p.Rules = append(p.Rules, q)
		sets := make([][]int32, u.Len())
		for k := range sets {
			for _, m := range u.Members(k) {
				if g := sd.quota[m]; g >= 0 && !slices.Contains(sets[k], g) {
					sets[k] = append(sets[k], g)
				}
			}
		}
		rules = append(rules, refRule{kind: "quota", groups: sets, max: sd.m})
	}
	if sd.rules&2 != 0 {
		p.Rules = append(p.Rules, UnitRule(mustExclude(t, sd.vec, sd.dim, sd.ex, sd.md, sd.tag), u))
		tag := map[int]bool{}
		for _, r := range sd.tag {
			tag[r] = true
		}
		rules = append(rules, refRule{kind: "exclude", vec: sd.vec, dim: sd.dim, excluded: sd.ex, minDist: sd.md, tag: tag, members: unitList(u)})
	}
	return p, u, refs, rules
}

func TestUnitsMatchReference(t *testing.T) {
	for seed := 0; seed < 1500; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 4))
		p, _, refs, rules, _ := randomUnitProblem(t, r)
		if len(p.Strategies) == 0 {
			continue
		}
		want := refSelect(p.Rows, p.Candidates, p.Preselected, p.Picks, refs, rules...)
		if want == nil {
			want = []int{}
		}
		if got := allPaths(t, p); !slices.Equal(got, want) {
			t.Fatalf("seed %d: picks %v, reference %v", seed, got, want)
		}
	}
}

// TestUnitsIncremental selects k units, turns them into the samples a
// result tag would hold (in dataset order), rebuilds the units with those
// samples preselected and selects the rest: the same units as one shot.
func TestUnitsIncremental(t *testing.T) {
	for seed := 0; seed < 500; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 5))
		p, u, _, _, sd := randomUnitProblem(t, r)
		all, err := Select(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		k := r.IntN(len(all.Picks) + 1)
		var got []int
		tag := slices.Clone(sd.pre)
		if k > 0 {
			first := p
			first.Picks = k
			a, err := Select(context.Background(), first)
			if err != nil {
				t.Fatal(err)
			}
			for _, pk := range a.Picks {
				got = append(got, pk.Row)
				tag = append(tag, u.Members(pk.Row)...)
			}
		}
		slices.Sort(tag) // a tag lists its samples in dataset order
		sd.pre = tag
		second, u2, _, _ := sd.problem(t)
		if u2.Candidates() != u.Candidates() {
			t.Fatalf("seed %d: %d candidate units, then %d", seed, u.Candidates(), u2.Candidates())
		}
		if second.Picks = p.Picks - k; second.Picks > 0 {
			b, err := Select(context.Background(), second)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rows(b)...)
		}
		if want := rows(all); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("seed %d: %d then more gives %v, one shot %v", seed, k, got, want)
		}
	}
}
