package shardselect

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/winnow-data/winnow/strategies"
)

// dataset is random resolved data for every kind of input: one vector
// input, one weight input, one count input over classes.
type dataset struct {
	rows    Rows
	classes int
}

// randomData returns n rows with keys 0..n-1: clustered vectors of dim
// values (ties from duplicated rows included), small integer weights (many
// exact ties) and one-label count rows.
func randomData(rng *rand.Rand, n, dim, classes int) dataset {
	r := Rows{Index: make([]int, n)}
	centers := make([]float32, 8*dim)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64() * 10)
	}
	v := make([]float32, n*dim)
	w := make([]float64, n)
	c := make([]float64, n*classes)
	for i := 0; i < n; i++ {
		r.Index[i] = i
		k := rng.IntN(8)
		for d := 0; d < dim; d++ {
			v[i*dim+d] = centers[k*dim+d] + float32(rng.NormFloat64())
		}
		if i > 0 && rng.IntN(20) == 0 { // an exact duplicate of an earlier row
			j := rng.IntN(i)
			copy(v[i*dim:(i+1)*dim], v[j*dim:(j+1)*dim])
		}
		w[i] = float64(1 + rng.IntN(5))
		c[i*classes+(k+rng.IntN(2))%classes] = 1
	}
	r.Vectors = []Vectors{{Data: v, Dim: dim}}
	r.Weights = [][]float64{w}
	r.Counts = []CountRows{{Data: c, Classes: classes}}
	return dataset{rows: r, classes: classes}
}

// configs are the configurations every test runs.
func configs(classes int) map[string][]Spec {
	target := make([]float64, classes)
	for c := range target {
		target[c] = 1
	}
	skewed := slices.Clone(target)
	skewed[0] = 3
	return map[string][]Spec{
		"diversity":           {{Kind: Diversity, Strength: 1}},
		"deduplication":       {{Kind: Deduplication, Strength: 1, MinDistance: 1.5}},
		"weights":             {{Kind: Weights, Strength: 1}},
		"weights-negative":    {{Kind: Weights, Strength: -1}},
		"balance":             {{Kind: Balance, Strength: 1, Target: target}},
		"diversity+weights":   {{Kind: Diversity, Strength: 1}, {Kind: Weights, Strength: 0.5}},
		"diversity+balance":   {{Kind: Diversity, Strength: 1}, {Kind: Balance, Strength: 2, Target: skewed}},
		"weights+balance":     {{Kind: Weights, Strength: 1}, {Kind: Balance, Strength: 1, Target: target}},
		"diversity-negative":  {{Kind: Diversity, Strength: -1}},
		"weights+weights":     {{Kind: Weights, Strength: 1}, {Kind: Weights, Strength: 2}},
		"inert-balance+div":   {{Kind: Diversity, Strength: 1}, {Kind: Balance, Strength: 0, Target: target}},
		"dedup+balance+weigh": {{Kind: Deduplication, Strength: 1, MinDistance: 1}, {Kind: Balance, Strength: 1, Target: skewed}, {Kind: Weights, Strength: 1}},
	}
}

// reference is the single-machine selection built directly on the engine,
// the way package pipeline does: every row is a candidate, preselected
// candidates are preselected in place and the others appended.
func reference(t *testing.T, specs []Spec, n int, all Rows, pre []int) []int {
	t.Helper()
	rows := slices.Clone(all.Index)
	var preRows []int
	for _, k := range pre {
		if i, ok := slices.BinarySearch(all.Index, k); ok {
			preRows = append(preRows, i)
			continue
		}
		t.Fatalf("reference: preselected key %d is not a row", k)
	}
	var sts []strategies.Strategy
	for _, s := range specs {
		var st strategies.Strategy
		var err error
		switch s.Kind {
		case Diversity:
			st, err = strategies.NewDiversity(strategies.Vectors{Dim: all.Vectors[0].Dim, F32: all.Vectors[0].Data}, s.Strength)
		case Deduplication:
			st, err = strategies.NewDeduplication(strategies.Vectors{Dim: all.Vectors[0].Dim, F32: all.Vectors[0].Data}, s.MinDistance, s.Strength)
		case Weights:
			st, err = strategies.NewWeights(all.Weights[0], s.Strength)
		case Balance:
			st, err = strategies.NewBalance(all.Counts[0].Data, all.Counts[0].Classes, s.Target, s.Strength)
		}
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	res, err := strategies.Select(context.Background(), strategies.Problem{
		Rows: len(rows), Candidates: len(rows), Preselected: preRows, Picks: n, Strategies: sts, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(res.Picks))
	for i, p := range res.Picks {
		out[i] = all.Index[p.Row]
	}
	return out
}

// split cuts all into shards: contiguous ranges when contiguous, else rows
// dealt out at random (keys stay increasing within each shard).
func split(rng *rand.Rand, all Rows, shards int, contiguous bool) []Rows {
	owner := make([]int, all.Len())
	for i := range owner {
		if contiguous {
			owner[i] = i * shards / all.Len()
		} else {
			owner[i] = rng.IntN(shards)
		}
	}
	out := make([]Rows, shards)
	for s := range out {
		var pos []int
		for i, o := range owner {
			if o == s {
				pos = append(pos, i)
			}
		}
		out[s] = all.subset(pos)
	}
	return out
}

// distributed runs Local on every shard and Merge on the results, with the
// parts handed to Merge in the given order.
func distributed(t *testing.T, cfg Config, shards []Rows, pre Rows, order []int) *Result {
	t.Helper()
	ctx := context.Background()
	parts := make([]Candidates, len(shards))
	for s, sh := range shards {
		c, err := Local(ctx, cfg, sh, pre)
		if err != nil {
			t.Fatal(err)
		}
		parts[s] = *c
	}
	if order != nil {
		perm := make([]Candidates, len(parts))
		for i, o := range order {
			perm[i] = parts[o]
		}
		parts = perm
	}
	res, err := Merge(ctx, cfg, parts, pre)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func keys(res *Result) []int {
	out := make([]int, len(res.Picks))
	for i, p := range res.Picks {
		out[i] = p.Index
	}
	return out
}

func preOf(all Rows, pre []int) Rows {
	var pos []int
	for _, k := range pre {
		i, _ := slices.BinarySearch(all.Index, k)
		pos = append(pos, i)
	}
	return all.subset(pos)
}

// TestOneShardEqualsSingleMachine: with one shard, every configuration
// returns exactly the single-machine engine's picks, with and without
// preselection.
func TestOneShardEqualsSingleMachine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 6; trial++ {
		d := randomData(rng, 150+rng.IntN(150), 1+rng.IntN(6), 2+rng.IntN(4))
		for name, specs := range configs(d.classes) {
			for _, pre := range [][]int{nil, {3, 40, 77}} {
				n := 1 + rng.IntN(40)
				t.Run(fmt.Sprintf("%d/%s/pre%d/n%d", trial, name, len(pre), n), func(t *testing.T) {
					cfg := Config{Specs: specs, Picks: n, Workers: 1}
					want := reference(t, specs, n, d.rows, pre)
					got := keys(distributed(t, cfg, []Rows{d.rows}, preOf(d.rows, pre), nil))
					if !slices.Equal(got, want) {
						t.Fatalf("one shard picks %v\nsingle machine  %v", got, want)
					}
				})
			}
		}
	}
}

// TestWeightsExactOnManyShards: weights alone are exact on any number of
// shards, contiguous or scattered, preselection included.
func TestWeightsExactOnManyShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 20; trial++ {
		d := randomData(rng, 100+rng.IntN(400), 2, 3)
		if trial%2 == 1 { // continuous weights: no ties at all
			for i := range d.rows.Weights[0] {
				d.rows.Weights[0][i] = rng.Float64()
			}
		}
		for _, name := range []string{"weights", "weights-negative", "weights+weights"} {
			specs := configs(3)[name]
			shards := []int{2, 3, 8, 32}[trial%4]
			n := 1 + rng.IntN(60)
			pre := []int{5, 6}
			cfg := Config{Specs: specs, Picks: n}
			want := reference(t, specs, n, d.rows, pre)
			got := keys(distributed(t, cfg, split(rng, d.rows, shards, trial%3 == 0), preOf(d.rows, pre), nil))
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d %s, %d shards, n=%d: picks %v\nsingle machine %v", trial, name, shards, n, got, want)
			}
		}
	}
}

// TestShardOrderDoesNotMatter: the merge's result does not depend on the
// order shards arrive in, for every configuration.
func TestShardOrderDoesNotMatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := randomData(rng, 400, 3, 4)
	shards := split(rng, d.rows, 5, false)
	for name, specs := range configs(d.classes) {
		cfg := Config{Specs: specs, Picks: 25}
		a := keys(distributed(t, cfg, shards, Rows{}, nil))
		b := keys(distributed(t, cfg, shards, Rows{}, []int{4, 2, 0, 3, 1}))
		if !slices.Equal(a, b) {
			t.Errorf("%s: picks depend on shard order:\n%v\n%v", name, a, b)
		}
	}
}

// TestSpecExamplesOnShards: the spec's diversity examples, split over
// shards.
func TestSpecExamplesOnShards(t *testing.T) {
	one := Rows{Index: []int{0, 1, 2}, Vectors: []Vectors{{Data: []float32{1, 3, 5}, Dim: 1}}}
	cfg := Config{Specs: []Spec{{Kind: Diversity, Strength: 1}}, Picks: 2, Oversample: 1}
	shards := []Rows{one.subset([]int{0, 1}), one.subset([]int{2})}
	if got := keys(distributed(t, cfg, shards, Rows{}, nil)); !slices.Equal(got, []int{0, 2}) {
		t.Errorf("[1] [3] [5], n=2: %v, want [0 2]", got)
	}
	diag := Rows{Index: make([]int, 20), Vectors: []Vectors{{Data: make([]float32, 40), Dim: 2}}}
	for i := range 20 {
		diag.Index[i] = i
		diag.Vectors[0].Data[2*i], diag.Vectors[0].Data[2*i+1] = float32(i), float32(i)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	got := keys(distributed(t, cfg, split(rng, diag, 4, false), Rows{}, nil))
	if !slices.Equal(got, []int{0, 19}) {
		t.Errorf("(i,i), n=2: %v, want [0 19]", got)
	}
	// Deduplication: 0, 19, 9, 14, 4 and then nothing is eligible.
	dd := Config{Specs: []Spec{{Kind: Deduplication, Strength: 1, MinDistance: 5}}, Picks: 10}
	got = keys(distributed(t, dd, split(rng, diag, 3, true), Rows{}, nil))
	if !slices.Equal(got, []int{0, 19, 9, 14, 4}) {
		t.Errorf("(i,i), n=10, min_distance 5: %v, want [0 19 9 14 4]", got)
	}
}

// radius is the exact covering radius of all by the picks plus pre.
func radius(t *testing.T, all Rows, picks, pre []int) float64 {
	t.Helper()
	var centers []int
	for _, k := range append(slices.Clone(picks), pre...) {
		i, _ := slices.BinarySearch(all.Index, k)
		centers = append(centers, i)
	}
	pts := make([]int, all.Len())
	for i := range pts {
		pts[i] = i
	}
	r, err := strategies.CoverageRadius(context.Background(), strategies.Vectors{Dim: all.Vectors[0].Dim, F32: all.Vectors[0].Data}, pts, centers, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestKCenterBound: on random inputs the certificate holds: the true
// radius is at most Local+Union and at most Ratio (and 4) times the single
// machine's, which is >= OPT.
func TestKCenterBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 30; trial++ {
		d := randomData(rng, 200+rng.IntN(300), 1+rng.IntN(8), 2)
		n := 1 + rng.IntN(30)
		shards := 1 + rng.IntN(12)
		var pre []int
		if trial%3 == 0 {
			pre = []int{0, 10}
		}
		cfg := Config{Specs: []Spec{{Kind: Diversity, Strength: 1}}, Picks: n, Oversample: 1 + rng.Float64()*3}
		res := distributed(t, cfg, split(rng, d.rows, shards, trial%2 == 0), preOf(d.rows, pre), nil)
		if res.Bound == nil {
			t.Fatal("no bound for a k-center configuration")
		}
		got := radius(t, d.rows, keys(res), pre)
		single := radius(t, d.rows, reference(t, cfg.Specs, n, d.rows, pre), pre)
		b := *res.Bound
		if got > b.Radius()*(1+1e-9) {
			t.Errorf("trial %d: radius %v above the certified %v (local %v, union %v)", trial, got, b.Radius(), b.Local, b.Union)
		}
		if got > b.Ratio()*single*(1+1e-9) { // single >= OPT
			t.Errorf("trial %d: radius %v above the certified ratio %v times the single machine's %v", trial, got, b.Ratio(), single)
		}
		if got > 4*single*(1+1e-9) {
			t.Errorf("trial %d: radius %v more than 4x the single machine's %v", trial, got, single)
		}
		if b.Union > 2*single*(1+1e-9) { // OPT >= Union/2 and single >= OPT... and single <= 2 OPT
			// Union/2 <= OPT <= single, so Union <= 2 single.
			t.Errorf("trial %d: union radius %v above twice the single machine's %v", trial, b.Union, single)
		}
	}
}

// TestBalanceTopUp: a class that lives on one shard only still reaches the
// merge with enough rows to meet its target, and a class rare everywhere
// arrives with every row it has.
func TestBalanceTopUp(t *testing.T) {
	const n, rows, shards = 40, 2000, 8
	rng := rand.New(rand.NewPCG(11, 12))
	d := randomData(rng, rows, 2, 3)
	c := d.rows.Counts[0].Data
	clear(c)
	rare := 0
	for i := 0; i < rows; i++ {
		switch {
		case i >= 1500 && i < 1500+60: // class 1 only on shard 6
			c[i*3+1] = 1
		case i%250 == 7: // class 2: 8 rows, one per shard
			c[i*3+2] = 1
			rare++
		default:
			c[i*3] = 1
		}
	}
	specs := []Spec{{Kind: Diversity, Strength: 1}, {Kind: Balance, Strength: 1, Target: []float64{1, 1, 1}}}
	cfg := Config{Specs: specs, Picks: n}
	ctx := context.Background()
	sh := split(rng, d.rows, shards, true)
	var parts []Candidates
	for _, s := range sh {
		p, err := Local(ctx, cfg, s, Rows{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, *p)
	}
	union, err := concat([]Rows{parts[0].Rows, parts[1].Rows, parts[2].Rows, parts[3].Rows, parts[4].Rows, parts[5].Rows, parts[6].Rows, parts[7].Rows})
	if err != nil {
		t.Fatal(err)
	}
	per := make([]int, 3)
	for i := 0; i < union.Len(); i++ {
		for k := 0; k < 3; k++ {
			if union.Counts[0].Data[i*3+k] > 0 {
				per[k]++
			}
		}
	}
	need := int(math.Ceil(DefaultOversample * float64(n) / 3))
	if per[1] < need || per[2] != rare {
		t.Errorf("union holds %v rows per class; want class 1 >= %d and all %d rows of class 2", per, need, rare)
	}
	res, err := Merge(ctx, cfg, parts, Rows{})
	if err != nil {
		t.Fatal(err)
	}
	want := reference(t, specs, n, d.rows, nil)
	got := make([]int, 3)
	exp := make([]int, 3)
	for i, p := range res.Picks {
		for k := 0; k < 3; k++ {
			got[k] += int(c[p.Index*3+k])
			exp[k] += int(c[want[i]*3+k])
		}
	}
	for k := range got {
		if d := got[k] - exp[k]; d < -1 || d > 1 {
			t.Errorf("class counts %v, single machine %v: more than one sample apart", got, exp)
			break
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	ok := Rows{Index: []int{0, 1}, Vectors: []Vectors{{Data: []float32{0, 1}, Dim: 1}}}
	div := []Spec{{Kind: Diversity, Strength: 1}}
	tests := []struct {
		name  string
		cfg   Config
		shard Rows
		pre   Rows
		want  string
	}{
		{"n", Config{Specs: div}, ok, Rows{}, "select: n = 0 new picks, must be at least 1"},
		{"no strategy", Config{Picks: 1}, ok, Rows{}, "select: no strategy"},
		{"oversample", Config{Specs: div, Picks: 1, Oversample: 0.5}, ok, Rows{}, "select: oversample 0.5 must be finite and >= 1"},
		{"kind", Config{Specs: []Spec{{Kind: 9}}, Picks: 1}, ok, Rows{}, "select: strategy 0 has unknown kind 9"},
		{"input", Config{Specs: []Spec{{Kind: Weights, Input: -1}}, Picks: 1}, ok, Rows{}, "select: strategy 0 (weights) has input -1"},
		{"mean row sum", Config{Specs: []Spec{{Kind: Balance, MeanRowSum: math.NaN()}}, Picks: 1}, ok, Rows{}, "select: strategy 0 (balance): mean row sum NaN must be finite and >= 0"},
		{"order", Config{Specs: div, Picks: 1}, Rows{Index: []int{1, 1}, Vectors: ok.Vectors}, Rows{}, "shard: keys not strictly increasing: 1 after 1 at row 1"},
		{"negative key", Config{Specs: div, Picks: 1}, Rows{Index: []int{-1, 0}, Vectors: ok.Vectors}, Rows{}, "shard: negative key -1"},
		{"missing vectors", Config{Specs: []Spec{{Kind: Diversity, Input: 1, Strength: 1}}, Picks: 1}, ok, Rows{}, "shard: strategy 0 uses vectors 1 of 1"},
		{"vector shape", Config{Specs: div, Picks: 1}, Rows{Index: []int{0, 1, 2}, Vectors: ok.Vectors}, Rows{}, "shard: vectors 0 hold 2 values, want 3 rows of dimension 1"},
		{"weights shape", Config{Specs: []Spec{{Kind: Weights}}, Picks: 1}, Rows{Index: []int{0}, Weights: [][]float64{{1, 2}}}, Rows{}, "shard: weights 0 hold 2 values for 1 rows"},
		{"missing weights", Config{Specs: []Spec{{Kind: Weights}}, Picks: 1}, ok, Rows{}, "shard: strategy 0 uses weights 0 of 0"},
		{"counts shape", Config{Specs: []Spec{{Kind: Balance, Target: []float64{1, 1}}}, Picks: 1}, Rows{Index: []int{0}, Counts: []CountRows{{Data: []float64{1, 0, 0}, Classes: 3}}}, Rows{}, "shard: counts 0 hold 3 values of 3 classes, want 1 rows of the target's 2 classes"},
		{"pre inputs", Config{Specs: []Spec{{Kind: Weights}}, Picks: 1}, Rows{Index: []int{0}, Weights: [][]float64{{1}}}, Rows{Index: []int{5}, Weights: [][]float64{{1}, {2}}}, "preselected: inputs differ: 0/2/0 vectors/weights/counts, want 0/1/0"},
		{"pre dim", Config{Specs: div, Picks: 1}, ok, Rows{Index: []int{5}, Vectors: []Vectors{{Data: []float32{1, 2}, Dim: 2}}}, "preselected: vectors 0 have dimension 2, want 1"},
		{"bad vector", Config{Specs: div, Picks: 1}, Rows{Index: []int{0, 1}, Vectors: []Vectors{{Data: []float32{0, float32(math.NaN())}, Dim: 1}}}, Rows{}, "shard: strategy 0 (diversity): diversity: vectors: row 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Local(ctx, tc.cfg, tc.shard, tc.pre)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("duplicate key", func(t *testing.T) {
		cfg := Config{Specs: div, Picks: 1}
		_, err := Merge(ctx, cfg, []Candidates{{Rows: ok, Radius: 0}, {Rows: ok.subset([]int{1}), Radius: 0}}, Rows{})
		if want := "merge: key 1 comes from shards 0 and 1"; err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("no radius", func(t *testing.T) {
		cfg := Config{Specs: div, Picks: 1}
		_, err := Merge(ctx, cfg, []Candidates{{Rows: ok, Radius: math.NaN()}}, Rows{})
		if want := "merge: shard 0 has no coreset radius"; err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
}

// TestEmpty: empty shards contribute nothing, and a merge of nothing
// picks nothing.
func TestEmpty(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Specs: []Spec{{Kind: Diversity, Strength: 1}}, Picks: 3}
	empty := Rows{Vectors: []Vectors{{Dim: 2}}}
	c, err := Local(ctx, cfg, empty, Rows{})
	if err != nil || c.Rows.Len() != 0 || c.Radius != 0 {
		t.Fatalf("Local on an empty shard: %+v, %v", c, err)
	}
	res, err := Merge(ctx, cfg, []Candidates{*c}, Rows{})
	if err != nil || len(res.Picks) != 0 || res.Bound == nil || res.Bound.Ratio() != 1 {
		t.Fatalf("Merge of empty shards: %+v, %v", res, err)
	}
	res, err = Merge(ctx, cfg, nil, Rows{})
	if err != nil || len(res.Picks) != 0 {
		t.Fatalf("Merge of no shards: %+v, %v", res, err)
	}
}

// TestManyShardsValid: on many shards every configuration returns distinct
// candidate keys, never a preselected one, n of them unless deduplication
// ran out, and deduplication's rule holds over the whole selection.
func TestManyShardsValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := 0; trial < 8; trial++ {
		d := randomData(rng, 300+rng.IntN(300), 1+rng.IntN(4), 3)
		pre := []int{1, 2, 100}
		for name, specs := range configs(d.classes) {
			n := 5 + rng.IntN(30)
			cfg := Config{Specs: specs, Picks: n}
			shards := split(rng, d.rows, 2+rng.IntN(10), trial%2 == 0)
			got := keys(distributed(t, cfg, shards, preOf(d.rows, pre), nil))
			seen := map[int]bool{1: true, 2: true, 100: true}
			for _, k := range got {
				if seen[k] {
					t.Fatalf("%s: key %d picked twice or preselected: %v", name, k, got)
				}
				seen[k] = true
			}
			dedup := specs[0].Kind == Deduplication
			if len(got) != n && !dedup {
				t.Fatalf("%s: %d picks, want %d", name, len(got), n)
			}
			if !dedup {
				continue
			}
			all := append(slices.Clone(got), pre...)
			v := d.rows.Vectors[0]
			for a := range all {
				for b := range a {
					x, y := v.Data[all[a]*v.Dim:(all[a]+1)*v.Dim], v.Data[all[b]*v.Dim:(all[b]+1)*v.Dim]
					s := 0.0
					for i := range x {
						s += float64(x[i]-y[i]) * float64(x[i]-y[i])
					}
					if a >= len(got) && b >= len(got) {
						continue // two preselected samples may be close
					}
					if math.Sqrt(s) < specs[0].MinDistance*(1-1e-9) {
						t.Fatalf("%s: keys %d and %d are %v apart, below %v", name, all[a], all[b], math.Sqrt(s), specs[0].MinDistance)
					}
				}
			}
		}
	}
}

// TestQualityClustered checks the quality targets on clustered
// data with the default oversampling: at 8 and 32 shards the distributed
// coverage radius is within 1.15 of the single machine's, and a balanced
// selection's class counts are within one sample of the single machine's.
// cmd/coreset-quality measures the same on larger data and MNIST.
func TestQualityClustered(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of selection")
	}
	const rows, dim, n, classes = 24000, 16, 150, 5
	rng := rand.New(rand.NewPCG(41, 42))
	centers := make([]float32, 100*dim)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64() * 10)
	}
	all := Rows{Index: make([]int, rows)}
	v := make([]float32, rows*dim)
	c := make([]float64, rows*classes)
	for i := range rows {
		all.Index[i] = i
		k := int(math.Floor(100 * math.Pow(rng.Float64(), 2))) // skewed cluster sizes
		for d := range dim {
			v[i*dim+d] = centers[k*dim+d] + float32(rng.NormFloat64()*(0.5+float64(k%4)/2))
		}
		c[i*classes+k%classes] = 1
	}
	all.Vectors = []Vectors{{Data: v, Dim: dim}}
	all.Counts = []CountRows{{Data: c, Classes: classes}}
	div := []Spec{{Kind: Diversity, Strength: 1}}
	bal := []Spec{{Kind: Diversity, Strength: 1}, {Kind: Balance, Strength: 1, Target: []float64{1, 1, 1, 1, 1}}}
	single := radius(t, all, reference(t, div, n, all, nil), nil)
	singleBal := reference(t, bal, n, all, nil)
	for _, shards := range []int{8, 32} {
		parts := split(rng, all, shards, true)
		got := radius(t, all, keys(distributed(t, Config{Specs: div, Picks: n}, parts, Rows{}, nil)), nil)
		if got > 1.15*single {
			t.Errorf("%d shards: radius %.4g is %.3f times the single machine's %.4g", shards, got, got/single, single)
		}
		b := keys(distributed(t, Config{Specs: bal, Picks: n}, parts, Rows{}, nil))
		for k := range classes {
			nd, ns := 0, 0
			for i := range b {
				nd += int(c[b[i]*classes+k])
				ns += int(c[singleBal[i]*classes+k])
			}
			if nd-ns > 1 || ns-nd > 1 {
				t.Errorf("%d shards: class %d picked %d times, single machine %d", shards, k, nd, ns)
			}
		}
		t.Logf("%d shards: radius ratio %.4f", shards, got/single)
	}
}
