package report

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomVectors returns n vectors of dimension dim around a few centres.
func randomVectors(seed uint64, n, dim int) *Vectors {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, 4)
	for c := range centres {
		centres[c] = make([]float32, dim)
		for k := range centres[c] {
			centres[c][k] = float32(rng.NormFloat64() * 5)
		}
	}
	v := &Vectors{Dim: dim, Data: make([]float32, n*dim)}
	for i := 0; i < n; i++ {
		c := centres[i%len(centres)]
		for k := 0; k < dim; k++ {
			v.Data[i*dim+k] = c[k] + float32(rng.NormFloat64())
		}
	}
	return v
}

func dist(a, b []float32) float64 {
	s := 0.0
	for k := range a {
		d := float64(a[k]) - float64(b[k])
		s += d * d
	}
	return math.Sqrt(s)
}

// greedy is the straightforward farthest-point selection of spec §3 over
// rows cands, starting from pre: it returns the picks and each pick's
// diversity objective (1 for the first pick when pre is empty).
func greedy(v *Vectors, cands, pre []int, n int) (picks []int, obj []float64) {
	mind := make([]float64, len(cands))
	for i := range mind {
		mind[i] = math.Inf(1)
	}
	update := func(r int) {
		for i, c := range cands {
			mind[i] = math.Min(mind[i], dist(v.Row(c), v.Row(r)))
		}
	}
	for _, r := range pre {
		update(r)
	}
	chosen := map[int]bool{}
	for _, r := range pre {
		chosen[r] = true
	}
	for len(picks) < n {
		best, bestD := -1, -1.0
		for i, c := range cands {
			d := mind[i]
			if math.IsInf(d, 1) {
				d = 1 // neutral objective with nothing selected
			}
			if !chosen[c] && d > bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			break
		}
		picks, obj = append(picks, cands[best]), append(obj, bestD)
		chosen[cands[best]] = true
		update(cands[best])
	}
	return picks, obj
}

// diversityInput is a record of a diversity selection of n among the
// given candidates of v, made by greedy, with optional preselection.
func diversityInput(v *Vectors, cands, pre []int, n int) *Input {
	picks, obj := greedy(v, cands, pre, n)
	in := &Input{
		Header:     Header{Tag: "t", Candidates: len(cands), Requested: n, Selected: len(picks), Preselected: len(pre)},
		Strategies: []StrategyInput{{Name: "diversity", Strength: 1, Model: "m", MinDistance: math.NaN()}},
		Candidates: cands,
		Embeddings: map[string]*Vectors{"m": v},
		MapModel:   "m",
	}
	for _, r := range pre {
		in.Picks = append(in.Picks, PickInput{SampleID: fmt.Sprint(r), Row: r, Rank: len(in.Picks), Preselected: true})
	}
	for k, r := range picks {
		in.Picks = append(in.Picks, PickInput{SampleID: fmt.Sprint(r), Row: r, Rank: len(in.Picks),
			Score: math.Log(obj[k]), Objectives: []float64{obj[k]}})
	}
	return in
}

func allRows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// The coverage curve is the record's diversity objectives, pick by pick,
// and for diversity alone each is the coverage radius of the picks before
// it, which the report's own radius kernel confirms.
func TestCurveIsTheRecordedObjectives(t *testing.T) {
	v := randomVectors(1, 300, 6)
	for _, tc := range []struct {
		name string
		pre  []int
	}{{"no preselection", nil}, {"preselected", []int{5, 17}}} {
		t.Run(tc.name, func(t *testing.T) {
			in := diversityInput(v, allRows(300), tc.pre, 40)
			d, err := Build(context.Background(), in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Coverage) != 1 {
				t.Fatalf("got %d coverage curves, want 1", len(d.Coverage))
			}
			c := d.Coverage[0]
			if len(c.Curve) != 40 || len(c.Random) != 41 {
				t.Fatalf("curve has %d points and random %d, want 40 and 41", len(c.Curve), len(c.Random))
			}
			var picks []int
			for k, p := range newPicks(in) {
				want := p.Objectives[0]
				if k == 0 && tc.pre == nil {
					if !math.IsNaN(c.Curve[0]) {
						t.Errorf("first point %v, want NaN (neutral objective)", c.Curve[0])
					}
				} else if c.Curve[k] != want {
					t.Errorf("curve[%d] = %v, want the recorded objective %v", k, c.Curve[k], want)
				}
				picks = append(picks, p.Row)
			}
			// Measured with every candidate as a point, the radius of the
			// greedy prefix is the next pick's objective.
			measured, err := radiusCurve(context.Background(), v, allRows(300), tc.pre, picks)
			if err != nil {
				t.Fatal(err)
			}
			for k := 1; k < 40; k++ {
				if math.Abs(measured[k]-c.Curve[k]) > 1e-4*c.Curve[k] {
					t.Errorf("radius after %d picks %v, objective of pick %d %v", k, measured[k], k+1, c.Curve[k])
				}
			}
			if c.Measured != 300 || c.Of != 300 {
				t.Errorf("measured over %d of %d, want all 300", c.Measured, c.Of)
			}
			if c.Combined {
				t.Error("diversity alone marked as combined")
			}
		})
	}
}

func TestRadiusCurveMatchesBruteForce(t *testing.T) {
	v := randomVectors(2, 500, 33)
	points := []int{0, 3, 9, 100, 101, 250, 499}
	pre := []int{7}
	order := []int{400, 2, 3, 60, 499, 123}
	got, err := radiusCurve(context.Background(), v, points, pre, order)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k <= len(order); k++ {
		set := append(slices.Clone(pre), order[:k]...)
		want := 0.0
		for _, p := range points {
			m := math.Inf(1)
			for _, c := range set {
				m = math.Min(m, dist(v.Row(p), v.Row(c)))
			}
			want = math.Max(want, m)
		}
		if math.Abs(got[k]-want) > 1e-4*want+1e-3 {
			t.Errorf("radius after %d: got %v, want %v", k, got[k], want)
		}
	}
	empty, err := radiusCurve(context.Background(), v, points, nil, order[:1])
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(empty[0]) {
		t.Errorf("radius of the empty set %v, want NaN", empty[0])
	}
}

func TestNearestDistancesMatchBruteForce(t *testing.T) {
	v := randomVectors(3, 700, 17)
	copy(v.Row(11), v.Row(12)) // an exact duplicate has distance 0
	ref := []int{12, 11, 5, 600, 300, 299, 42, 43, 0, 1}
	got, err := nearestDistances(context.Background(), v, ref, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d distances, want 4", len(got))
	}
	for i := 0; i < 4; i++ {
		want := math.Inf(1)
		for j, r := range ref {
			if j != i {
				want = math.Min(want, dist(v.Row(ref[i]), v.Row(r)))
			}
		}
		if math.Abs(got[i]-want) > 1e-9*want {
			t.Errorf("query %d: got %v, want %v", i, got[i], want)
		}
	}
	if got[0] != 0 || got[1] != 0 {
		t.Errorf("duplicates' distances %v, %v; want 0", got[0], got[1])
	}
}

func TestRandomOrder(t *testing.T) {
	for _, tc := range []struct{ n, m int }{{10, 3}, {10, 10}, {10, 20}, {1000, 5}, {1000, 900}, {0, 4}} {
		a := randomOrder(newRand(1, streamMap, tc.n), tc.n, tc.m)
		b := randomOrder(newRand(1, streamMap, tc.n), tc.n, tc.m)
		if !slices.Equal(a, b) {
			t.Errorf("n=%d m=%d: two draws differ: %v, %v", tc.n, tc.m, a, b)
		}
		if want := min(tc.n, tc.m); len(a) != want {
			t.Errorf("n=%d m=%d: %d indices, want %d", tc.n, tc.m, len(a), want)
		}
		seen := map[int]bool{}
		for _, x := range a {
			if x < 0 || x >= tc.n || seen[x] {
				t.Errorf("n=%d m=%d: bad or repeated index %d in %v", tc.n, tc.m, x, a)
			}
			seen[x] = true
		}
	}
	// The map-backed path and the slice-backed path are one shuffle.
	n := 1000
	small := randomOrder(newRand(9, streamMap, n), n, 20) // map path
	rng := newRand(9, streamMap, n)
	p := allRows(n)
	for i := 0; i < 20; i++ {
		j := i + rng.IntN(n-i)
		p[i], p[j] = p[j], p[i]
	}
	if !slices.Equal(small, p[:20]) {
		t.Errorf("map path %v, slice shuffle %v", small, p[:20])
	}
}

func TestClassesShares(t *testing.T) {
	s := StrategyInput{Name: "balance", Balance: &BalanceSummary{
		Classes:    []string{"a", "b", "c", "other"},
		Candidates: []float64{0.5, 0.3, 0.2, 0},
		Target:     []float64{2, 1, 1, 0}, // not normalised
		Selection:  []float64{0.3, 0.3, 0.4},
	}}
	c := classesOf(0, s, 10)
	for _, sh := range [][]float64{c.Candidates, c.Target, c.Selection} {
		sum := 0.0
		for _, x := range sh {
			sum += x
		}
		if math.Abs(sum-1) > 1e-12 || len(sh) != 4 {
			t.Errorf("shares %v sum to %v over %d classes, want 1 over 4", sh, sum, len(sh))
		}
	}
	if want := []bool{true, false, false, false}; !slices.Equal(c.Short, want) {
		t.Errorf("short %v, want %v (a: target 0.5, selected 0.3 of 10)", c.Short, want)
	}
	// Half a sample short is not short.
	c = classesOf(0, StrategyInput{Balance: &BalanceSummary{Classes: []string{"x", "y"},
		Target: []float64{0.5, 0.5}, Selection: []float64{0.45, 0.55}}}, 10)
	if slices.Contains(c.Short, true) {
		t.Errorf("short %v at half a sample's gap", c.Short)
	}
	z := shares([]float64{0, 0, math.NaN(), -1})
	if !slices.Equal(z, []float64{0, 0, 0, 0}) {
		t.Errorf("shares of nothing %v, want zeros", z)
	}
}

func TestElbow(t *testing.T) {
	// A sharp bend at index 4: steep to there, flat after.
	curve := []float64{math.NaN(), 10, 8, 6, 4, 2, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3}
	if got := elbow(curve); got != 5 {
		t.Errorf("elbow %d, want 5", got)
	}
	if got := elbow([]float64{5, 4, 3, 2, 1, 0}); got != -1 {
		t.Errorf("straight line: elbow %d, want -1", got)
	}
	if got := elbow([]float64{1, 1, 1}); got != -1 {
		t.Errorf("too short: elbow %d, want -1", got)
	}
}

func TestHistogram(t *testing.T) {
	h := histogram([]float64{0, 0.5, 1, 1, math.NaN(), 2, -3}, 0, 1, 4)
	if !slices.Equal(h.Counts, []int{2, 0, 1, 3}) || h.Total != 6 {
		t.Errorf("counts %v total %d, want [2 0 1 3] (clamped) and 6", h.Counts, h.Total)
	}
	lo, hi := rangeOf([]float64{3}, nil)
	if !(lo < 3 && hi > 3) {
		t.Errorf("range of one value [%v, %v] does not contain it", lo, hi)
	}
}

func TestClassLegendPoolsRareClasses(t *testing.T) {
	b := &BalanceSummary{}
	for i := 0; i < 14; i++ {
		b.Classes = append(b.Classes, fmt.Sprint("c", i))
		b.Selection = append(b.Selection, float64(i))
	}
	legend, index := classLegend(b)
	if len(legend) != maxMapClasses || legend[0] != "c13" || legend[len(legend)-1] != "other classes" {
		t.Errorf("legend %v", legend)
	}
	if index[13] != 0 || index[0] != maxMapClasses-1 {
		t.Errorf("index %v", index)
	}
}

// Two builds of one input are identical: every sample is deterministic.
func TestBuildIsDeterministic(t *testing.T) {
	v := randomVectors(4, 3000, 8)
	in := diversityInput(v, allRows(3000), nil, 30)
	opts := Options{MapPoints: 500, FitPoints: 200, Queries: 50, DistanceBudget: 50 * 100 * 8, CurveBudget: 30 * 300 * 8}
	a, err := Build(context.Background(), in, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(context.Background(), in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sameData(t, a, b) {
		t.Error("two builds of one input differ")
	}
	if a.Map.Drawn != 500 || a.Map.Fit != 200 || a.Map.Of != 3000 {
		t.Errorf("map drew %d (fit %d) of %d, want 500 (200) of 3000", a.Map.Drawn, a.Map.Fit, a.Map.Of)
	}
	if len(a.Map.Selected) != 30 {
		t.Errorf("map has %d selected points, want all 30", len(a.Map.Selected))
	}
	if c := a.Distances.Candidates; c.Queries != 50 || c.Reference != 100 || c.Of != 3000 {
		t.Errorf("candidate distances: %d queries against %d of %d, want 50 against 100 of 3000", c.Queries, c.Reference, c.Of)
	}
	if c := a.Coverage[0]; c.Measured != 300 {
		t.Errorf("random curve measured over %d, want 300", c.Measured)
	}
	if len(a.Notes) == 0 {
		t.Error("sampled report states no sampling")
	}
	// A different seed draws differently.
	opts.Seed = 2
	c, err := Build(context.Background(), in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Map.Candidates) == fmt.Sprint(a.Map.Candidates) {
		t.Error("seed 2 drew the same map sample as seed 1")
	}
}

// Degenerate inputs build without panicking and say what they lack.
func TestBuildDegenerate(t *testing.T) {
	v := randomVectors(5, 50, 3)
	same := &Vectors{Dim: 4, Data: make([]float32, 40*4)} // all vectors equal
	one := randomVectors(6, 20, 1)
	cases := map[string]*Input{
		"empty":             {},
		"no candidates":     diversityInput(v, []int{}, []int{1, 2}, 5),
		"one pick":          diversityInput(v, allRows(50), nil, 1),
		"identical vectors": diversityInput(same, allRows(40), nil, 5),
		"one dimension":     diversityInput(one, allRows(20), nil, 5),
		"unknown candidates": func() *Input {
			in := diversityInput(v, allRows(50), nil, 5)
			in.Candidates = nil
			return in
		}(),
		"missing vectors": func() *Input {
			in := diversityInput(v, allRows(50), nil, 5)
			in.Embeddings["m"] = &Vectors{Dim: 3, Data: v.Data, Has: func(r int) bool { return r%2 == 0 }}
			in.Picks[0].Row = -1 // no longer in the dataset
			return in
		}(),
		"balance only": {
			Header:     Header{Selected: 0},
			Strategies: []StrategyInput{{Name: "balance", Balance: &BalanceSummary{Classes: []string{"a"}}}},
		},
		"weights without objectives": {
			Strategies: []StrategyInput{{Name: "typicality", Weights: &WeightSummary{Candidates: 0.3, Selection: 0.5}}},
			Picks:      []PickInput{{Row: 0}},
		},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := Build(context.Background(), in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := drawPlots(d, 30); err != nil {
				t.Fatalf("plots: %v", err)
			}
		})
	}
}

func TestPCAMatchesSVD(t *testing.T) {
	v := randomVectors(8, 400, 12)
	// Stretch two directions so the leading axes are well separated.
	for i := 0; i < 400; i++ {
		v.Data[i*12] *= 6
		v.Data[i*12+3] *= 3
	}
	rows := allRows(400)
	pr := fitPCA(v, rows, 1)
	ref := exactPCA(v, rows)
	for a := 0; a < 2; a++ {
		for k := range ref.axes[a] {
			if math.Abs(pr.axes[a][k]-ref.axes[a][k]) > 1e-6 {
				t.Fatalf("axis %d differs from the SVD's: %v against %v", a, pr.axes[a], ref.axes[a])
			}
		}
		if math.Abs(pr.variance[a]-ref.variance[a]) > 1e-9 {
			t.Errorf("variance share %d: %v, SVD %v", a, pr.variance[a], ref.variance[a])
		}
	}
	if !(pr.variance[0] >= pr.variance[1] && pr.variance[1] > 0 && pr.variance[0]+pr.variance[1] <= 1) {
		t.Errorf("variance shares %v", pr.variance)
	}
}

// sameData reports whether a and b are equal, NaN equal to NaN (gob
// writes a NaN's bits, where reflect.DeepEqual calls two NaNs unequal).
func sameData(t *testing.T, a, b *Data) bool {
	t.Helper()
	var ba, bb bytes.Buffer
	if err := gob.NewEncoder(&ba).Encode(a); err != nil {
		t.Fatal(err)
	}
	if err := gob.NewEncoder(&bb).Encode(b); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ba.Bytes(), bb.Bytes())
}

// Sets larger than one tile (256 centres × 2048 points) give the same
// numbers as the direct computation.
func TestKernelsAcrossTiles(t *testing.T) {
	v := randomVectors(10, 6000, 3)
	points := allRows(6000)[:5000]
	pre := []int{5001, 5002}
	var order []int
	for i := 0; i < 300; i++ {
		order = append(order, 5003+i*3)
	}
	got, err := radiusCurve(context.Background(), v, points, pre, order)
	if err != nil {
		t.Fatal(err)
	}
	mind := make([]float64, len(points))
	for i, p := range points {
		mind[i] = math.Min(dist(v.Row(p), v.Row(pre[0])), dist(v.Row(p), v.Row(pre[1])))
	}
	for k := 0; k <= len(order); k++ {
		if k > 0 {
			for i, p := range points {
				mind[i] = math.Min(mind[i], dist(v.Row(p), v.Row(order[k-1])))
			}
		}
		want := slices.Max(mind)
		if math.Abs(got[k]-want) > 1e-4*want {
			t.Fatalf("radius after %d: got %v, want %v", k, got[k], want)
		}
	}
	ref := allRows(6000)
	nn, err := nearestDistances(context.Background(), v, ref, 300)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i += 37 {
		want := math.Inf(1)
		for j := range ref {
			if j != i {
				want = math.Min(want, dist(v.Row(i), v.Row(j)))
			}
		}
		if math.Abs(nn[i]-want) > 1e-9*want {
			t.Errorf("query %d: nearest %v, want %v", i, nn[i], want)
		}
	}
}

// The page stays small whatever the sizes: the map samples candidates
// and is a PNG, so drawing 5,000 selected samples costs what 5 do.
func TestPageSizeBounded(t *testing.T) {
	n, k := 30000, 5000
	v := randomVectors(11, n, 8)
	in := &Input{
		Header:     Header{Tag: "big", Candidates: n, Selected: k, Requested: k},
		Strategies: []StrategyInput{{Name: "diversity", Strength: 1, Model: "m", MinDistance: math.NaN()}},
		Candidates: allRows(n),
		Embeddings: map[string]*Vectors{"m": v},
		MapModel:   "m",
	}
	for i := 0; i < k; i++ {
		in.Picks = append(in.Picks, PickInput{SampleID: fmt.Sprint(i * 3), Row: i * 3, Rank: i, Objectives: []float64{10 / math.Sqrt(float64(i+1))}})
	}
	d, err := Build(context.Background(), in, Options{CurveBudget: 2e7, DistanceBudget: 1e7})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Map.Selected) != k || len(d.Map.Candidates) > 5000 {
		t.Errorf("map: %d selected, %d candidates; want all %d and at most 5000", len(d.Map.Selected), len(d.Map.Candidates), k)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, d); err != nil {
		t.Fatal(err)
	}
	if page.Len() > 2<<20 {
		t.Errorf("page of %d selected samples is %d bytes", k, page.Len())
	}
	t.Logf("page %d kB", page.Len()>>10)
}
