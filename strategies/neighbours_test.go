package strategies

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refNeighbours is the k nearest distances of every row, by sorting all.
func refNeighbours(v []float32, dim, n, k int) []float64 {
	out := make([]float64, 0, n*k)
	for i := 0; i < n; i++ {
		var d []float64
		for j := 0; j < n; j++ {
			if j != i {
				d = append(d, math.Sqrt(refSqDist(v[i*dim:(i+1)*dim], v[j*dim:(j+1)*dim])))
			}
		}
		slices.Sort(d)
		out = append(out, d[:k]...)
	}
	return out
}

// TestNeighboursExact compares the exact search with sorting every
// distance, on odd dimensions and with duplicates, and requires every
// kernel set and worker count to return the same bits.
func TestNeighboursExact(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, tc := range []struct{ n, dim, k int }{{2, 1, 1}, {7, 3, 6}, {70, 5, 20}, {300, 17, 20}, {513, 64, 20}, {400, 130, 3}} {
		v := make([]float32, tc.n*tc.dim)
		for i := 0; i < tc.n; i++ {
			if i > 0 && r.IntN(8) == 0 {
				j := r.IntN(i)
				copy(v[i*tc.dim:(i+1)*tc.dim], v[j*tc.dim:(j+1)*tc.dim])
				continue
			}
			for k := 0; k < tc.dim; k++ {
				v[i*tc.dim+k] = float32(r.IntN(5)) + float32(r.NormFloat64()*0.01)
			}
		}
		want := refNeighbours(v, tc.dim, tc.n, tc.k)
		var first []float64
		for _, ks := range kernelSets() {
			withKernels(ks, func() {
				for _, w := range []int{1, 3} {
					got, info, err := NeighbourDistances(context.Background(), vec32(v, tc.dim), tc.n, tc.k, NeighbourOptions{Workers: w})
					if err != nil {
						t.Fatal(err)
					}
					if info.Approximate || info.Recall != 1 || info.K != tc.k {
						t.Fatalf("small search: %+v", info)
					}
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-12*max(1, want[i]) {
							t.Fatalf("%s n=%d dim=%d: distance %d is %v, want %v", ks.name, tc.n, tc.dim, i, got[i], want[i])
						}
					}
					if first == nil {
						first = got
					} else if !slices.Equal(got, first) {
						t.Fatalf("%s workers %d: exact neighbours differ in their bits", ks.name, w)
					}
				}
			})
		}
	}
}

// clusteredSeparated returns n points around c well separated centers.
func clusteredSeparated(r *rand.Rand, n, dim, c int) []float32 {
	centers := randVec(r, c*dim, 4)
	v := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		k := r.IntN(c)
		for j := 0; j < dim; j++ {
			v[i*dim+j] = centers[k*dim+j] + float32(r.NormFloat64())
		}
	}
	return v
}

// TestNeighboursApproximate checks the IVF search: the same bits on any
// number of workers and every kernel set, never nearer than the exact
// neighbours, a reported recall close to the recall over every row, one
// list equal to exact search, progress that only grows and ends at its
// total, and cancellation.
func TestNeighboursApproximate(t *testing.T) {
	const n, dim, k = 6000, 24, 20
	r := rand.New(rand.NewPCG(53, 54))
	v := vec32(clusteredSeparated(r, n, dim, 40), dim)
	exact, _, err := NeighbourDistances(context.Background(), v, n, k, NeighbourOptions{Mode: NeighboursExact})
	if err != nil {
		t.Fatal(err)
	}
	var last, total int
	calls := 0
	opt := NeighbourOptions{Mode: NeighboursApproximate, Lists: 120, Probe: 2, RecallQueries: 500, Seed: 3,
		Progress: func(done, tot int) {
			if done < last || done > tot {
				t.Errorf("progress %d of %d after %d", done, tot, last)
			}
			last, total = done, tot
			calls++
		}}
	approx, info, err := NeighbourDistances(context.Background(), v, n, k, opt)
	if err != nil {
		t.Fatal(err)
	}
	if calls < 3 || last != total {
		t.Errorf("progress: %d calls, last %d of %d", calls, last, total)
	}
	if !info.Approximate || info.Lists != 120 || info.Probe != 2 || info.RecallQueries != 500 || !strings.Contains(info.String(), "approximate") {
		t.Fatalf("search %+v (%s)", info, info)
	}
	found := 0
	for i := 0; i < n; i++ {
		kth := exact[i*k+k-1]
		for j := 0; j < k; j++ {
			if approx[i*k+j] < exact[i*k+j] {
				t.Fatalf("row %d: approximate neighbour %d at %v, nearer than the exact %v", i, j, approx[i*k+j], exact[i*k+j])
			}
			if approx[i*k+j] <= kth {
				found++
			}
		}
	}
	recall := float64(found) / float64(n*k)
	t.Logf("%s; recall over all rows %.4f", info, recall)
	if math.Abs(recall-info.Recall) > 0.03 || recall < 0.8 {
		t.Errorf("recall over all rows %.4f, reported %.4f", recall, info.Recall)
	}
	opt.Progress = nil
	for _, ks := range kernelSets() {
		withKernels(ks, func() {
			for _, w := range []int{1, 3} {
				opt.Workers = w
				again, _, err := NeighbourDistances(context.Background(), v, n, k, opt)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(again, approx) {
					t.Fatalf("%s workers %d: approximate neighbours differ", ks.name, w)
				}
			}
		})
	}
	// Tuned: the recall over all rows reaches about the target.
	tuned, info2, err := NeighbourDistances(context.Background(), v, n, k, NeighbourOptions{Mode: NeighboursApproximate, Lists: 120, TargetRecall: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	found = 0
	for i := 0; i < n; i++ {
		for _, d := range tuned[i*k : (i+1)*k] {
			if d <= exact[i*k+k-1] {
				found++
			}
		}
	}
	t.Logf("%s; recall over all rows %.4f", info2, float64(found)/float64(n*k))
	if info2.TargetRecall != 0.95 || info2.Probe <= 2 || float64(found)/float64(n*k) < 0.93 || info2.Recall < 0.93 {
		t.Errorf("tuned for 0.95: %+v, recall over all rows %.4f", info2, float64(found)/float64(n*k))
	}
	one, info1, err := NeighbourDistances(context.Background(), v, n, k, NeighbourOptions{Mode: NeighboursApproximate, Lists: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one, exact) || info1.Recall != 1 {
		t.Errorf("one list: not the exact neighbours (recall %v)", info1.Recall)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opt.Progress = func(done, total int) {
		if done > total/3 {
			cancel()
		}
	}
	if _, _, err := NeighbourDistances(ctx, v, n, k, opt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
}

// TestNeighboursAuto: small problems are searched exactly, large ones
// approximately (a tiny time limit forces it).
func TestNeighboursAuto(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	v := vec32(clusteredSeparated(r, 3000, 8, 10), 8)
	_, info, err := TypicalityWeights(context.Background(), v, 3000, NeighbourOptions{})
	if err != nil || info.Approximate {
		t.Fatalf("auto on 3000 rows: %+v, %v", info, err)
	}
	_, info, err = TypicalityWeights(context.Background(), v, 3000, NeighbourOptions{ExactSeconds: 1e-6})
	if err != nil || !info.Approximate || math.IsNaN(info.Recall) {
		t.Fatalf("auto with a tiny limit: %+v, %v", info, err)
	}
	if _, _, err := NeighbourDistances(context.Background(), v, 3000, 3000, NeighbourOptions{}); err == nil {
		t.Error("3000 nearest of 3000 rows: no error")
	}
}

// TestIVFListBalance: lists left to the search are split when above twice
// the average (their number grows and the largest shrinks), and rows end
// in their nearest centroid's list; an explicit Lists is kept.
func TestIVFListBalance(t *testing.T) {
	const n, dim = 6000, 8
	r := rand.New(rand.NewPCG(57, 58))
	// Skewed clusters: half the rows in one tight cluster.
	v := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			if i%2 == 0 {
				v[i*dim+j] = float32(r.NormFloat64() * 0.1)
			} else {
				v[i*dim+j] = float32(r.NormFloat64() * 10)
			}
		}
	}
	vv := vec32(v, dim)
	largest := func(x *ivf) int {
		m := 0
		for _, l := range x.lists {
			m = max(m, len(l))
		}
		return m
	}
	base := int(math.Round(2 * math.Sqrt(n)))
	var fixed, auto NeighbourSearch
	xf, err := buildIVF(context.Background(), &vv, norms32(&vv, 1), NeighbourOptions{Lists: base}, &progress{}, &fixed)
	if err != nil {
		t.Fatal(err)
	}
	xa, err := buildIVF(context.Background(), &vv, norms32(&vv, 1), NeighbourOptions{}, &progress{}, &auto)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("explicit %d lists: largest %d rows; auto %d lists: largest %d rows", fixed.Lists, largest(xf), auto.Lists, largest(xa))
	if fixed.Lists != base || len(xf.lists) != base {
		t.Errorf("explicit Lists %d: searched %d (%d)", base, fixed.Lists, len(xf.lists))
	}
	if auto.Lists != len(xa.lists) || auto.Lists <= base || largest(xa) >= largest(xf) {
		t.Errorf("auto lists: %d lists (reported %d), largest %d, not balanced beyond %d lists, largest %d",
			len(xa.lists), auto.Lists, largest(xa), base, largest(xf))
	}
	total := 0
	for _, l := range xa.lists {
		total += len(l)
	}
	if total != n {
		t.Errorf("auto lists hold %d rows, want %d", total, n)
	}
	// After the splits' incremental assigns every row is in the list of
	// its nearest centroid (exact distance, ties to the lower list), as a
	// full assign would put it.
	cv := xa.cent.v
	for x := range n {
		row, best := vv.Row(x, nil), int32(0)
		for c := range int32(len(xa.lists)) {
			if cv.sqDistTo(int(c), row) < cv.sqDistTo(int(best), row) {
				best = c
			}
		}
		if xa.list[x] != best || !slices.Contains(xa.lists[best], int32(x)) {
			t.Fatalf("row %d in list %d, nearest centroid %d", x, xa.list[x], best)
		}
	}
}

// probeTargets is the straightforward reading of what the IVF search
// measures for each row: the rows of its probe lists nearest centroids
// (exact distances, ties to the lower list), and every row whose own
// probes include its list.
func probeTargets(x *ivf, probe int) [][]int32 {
	n, nl := x.v.Rows(), len(x.lists)
	cv := x.cent.v
	probes := make([][]int32, n)
	for q := range n {
		row := x.v.Row(q, nil)
		ls := make([]int32, nl)
		d := make([]float64, nl)
		for l := range nl {
			ls[l], d[l] = int32(l), cv.sqDistTo(l, row)
		}
		slices.SortFunc(ls, func(a, b int32) int {
			if c := cmp.Compare(d[a], d[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		probes[q] = ls[:min(probe, nl)]
	}
	seen := make([]map[int32]bool, n)
	for q := range n {
		seen[q] = map[int32]bool{}
	}
	for q := range n {
		for _, l := range probes[q] {
			for _, y := range x.lists[l] {
				if int(y) != q {
					seen[q][y] = true
					seen[y][int32(q)] = true
				}
			}
		}
	}
	out := make([][]int32, n)
	for q := range n {
		for y := range seen[q] {
			out[q] = append(out[q], y)
		}
		slices.Sort(out[q])
	}
	return out
}

// TestIVFSearchStraightforward: the search returns, for every row, the k
// nearest by exact distance (ties to the lower row) of probeTargets,
// on every kernel set and number of workers, float32 and float16; and
// the tuned probe is the least whose targets hold the target share of
// the sample's exact neighbours.
func TestIVFSearchStraightforward(t *testing.T) {
	const n, dim, k = 2500, 12, 10
	r := rand.New(rand.NewPCG(61, 62))
	raw := clusteredSeparated(r, n, dim, 12)
	v := vec32(raw, dim)
	for _, c := range []struct {
		half  bool
		probe int
	}{{false, 1}, {false, 3}, {false, 8}, {true, 3}} {
		probe, v := c.probe, halfIf(slices.Clone(raw), dim, c.half)
		var info NeighbourSearch
		x, err := buildIVF(context.Background(), &v, norms32(&v, 1), NeighbourOptions{Lists: 40}, &progress{}, &info)
		if err != nil {
			t.Fatal(err)
		}
		targets := probeTargets(x, probe)
		want := make([]float64, n*k)
		for q := range n {
			row := v.Row(q, nil)
			ts := targets[q]
			if len(ts) < k { // searched exactly
				ts = nil
				for y := range int32(n) {
					if int(y) != q {
						ts = append(ts, y)
					}
				}
			}
			d := make([]float64, len(ts))
			for i, y := range ts {
				d[i] = v.sqDistTo(int(y), row)
			}
			slices.Sort(d)
			for j := range k {
				want[q*k+j] = math.Sqrt(d[j])
			}
		}
		for _, ks := range kernelSets() {
			withKernels(ks, func() {
				for _, w := range []int{1, 3} {
					got, _, err := NeighbourDistances(context.Background(), v, n, k, NeighbourOptions{Mode: NeighboursApproximate, Lists: 40, Probe: probe, Workers: w, RecallQueries: -1})
					if err != nil {
						t.Fatal(err)
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("probe %d (float16 %v), %s, %d workers: row %d neighbour %d at %v, straightforward %v", probe, c.half, ks.name, w, i/k, i%k, got[i], want[i])
						}
					}
				}
			})
		}
	}
	// The tuner against the same definition.
	var info NeighbourSearch
	x, err := buildIVF(context.Background(), &v, norms32(&v, 1), NeighbourOptions{Lists: 40}, &progress{}, &info)
	if err != nil {
		t.Fatal(err)
	}
	qs := x.samples(NeighbourOptions{}, &info).tune
	exactNB := map[int32][]int32{}
	exactSearch(context.Background(), x.v, x.norms, qs, k, 1, nil, func(i int, nb []nbCand) {
		for _, c := range nb {
			exactNB[qs[i]] = append(exactNB[qs[i]], c.idx)
		}
	})
	found := func(p int) float64 {
		ts := probeTargets(x, p)
		hit := 0
		for _, q := range qs {
			for _, y := range exactNB[q] {
				if _, ok := slices.BinarySearch(ts[q], y); ok {
					hit++
				}
			}
		}
		return float64(hit) / float64(len(qs)*k)
	}
	for _, target := range []float64{0.5, 0.9, 0.99} {
		p, err := x.tune(context.Background(), qs, k, target, 2, &progress{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("target %.2f: probe %d (share %.4f; at %d: %.4f)", target, p, found(p), p-1, found(p-1))
		if found(p) < target || (p > 1 && found(p-1) >= target) {
			t.Errorf("target %.2f: tuned probe %d finds %.4f, probe %d %.4f", target, p, found(p), p-1, found(p-1))
		}
	}
}

// The tuning draws lists in proportion to their sizes: of a list of 900
// rows and nine of 100 the large one comes first about half the time
// (uniformly: a tenth), and an empty list never before a non-empty one.
func TestTuneOrderWeighsBySize(t *testing.T) {
	x := &ivf{lists: make([][]int32, 11)}
	x.lists[0] = make([]int32, 900)
	for l := 1; l < 10; l++ {
		x.lists[l] = make([]int32, 100)
	}
	first := 0
	const runs = 2000
	for seed := range uint64(runs) {
		o := x.tuneOrder(rand.New(rand.NewPCG(seed, 1)))
		if o[len(o)-1] != 10 {
			t.Fatalf("seed %d: empty list 10 not last in %v", seed, o)
		}
		if o[0] == 0 {
			first++
		}
	}
	if share := float64(first) / runs; share < 0.45 || share > 0.55 {
		t.Fatalf("the large list came first in %.3f of runs, want about 0.5", share)
	}
}
