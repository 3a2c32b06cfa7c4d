package strategies

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// clustered returns n vectors of dim values around a few centers, with
// some exact duplicates, the shape on which the triangle-inequality skips
// matter.
func clustered(r *rand.Rand, n, dim int) []float32 {
	centers := make([]float32, 12*dim)
	for i := range centers {
		centers[i] = float32(r.NormFloat64() * 10)
	}
	v := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		if i > 0 && r.IntN(20) == 0 {
			j := r.IntN(i)
			copy(v[i*dim:(i+1)*dim], v[j*dim:(j+1)*dim])
			continue
		}
		c := r.IntN(12)
		for k := 0; k < dim; k++ {
			v[i*dim+k] = centers[c*dim+k] + float32(r.NormFloat64())
		}
	}
	return v
}

// TestFastPathsMatchStraightforward runs mid-sized problems on which the
// group skips, the per-member skips and the lazy heaps all do real work,
// and requires the picks of the straightforward path.
func TestFastPathsMatchStraightforward(t *testing.T) {
	const n, dim = 2000, 8
	r := rand.New(rand.NewPCG(1, 2))
	v := clustered(r, n, dim)
	v2 := clustered(r, n, 3)
	w := make([]float64, n)
	for i := range w {
		w[i] = []float64{0, 1, r.Float64() * 3, r.Float64()}[r.IntN(4)]
	}
	counts := make([]float64, n*3)
	for i := range counts {
		counts[i] = float64(r.IntN(3))
	}
	onehot := make([]float64, n*4)
	for i := 0; i < n; i++ {
		onehot[i*4+r.IntN(4)] = 1
	}
	dedup, err := NewDeduplication(vec32(v, dim), 2.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    []Strategy
		pre  []int
	}{
		{"diversity", []Strategy{mustDiv(t, v, dim, 1)}, nil},
		{"diversity preselected", []Strategy{mustDiv(t, v, dim, 1)}, []int{1999, 5, 17, 1500}},
		{"dedup", []Strategy{dedup}, nil},
		{"diversity weights", []Strategy{mustDiv(t, v, dim, 1), mustW(t, w, 0.7)}, nil},
		{"two models balance", []Strategy{mustDiv(t, v, dim, 1), mustDiv(t, v2, 3, 0.5), mustBal(t, onehot, 4, []float64{1, 2, 3, 4}, 3)}, []int{1990}},
		{"all", []Strategy{mustDiv(t, v, dim, 2), mustW(t, w, 1), mustBal(t, counts, 3, []float64{1, 1, 1}, 1)}, nil},
		{"negative diversity", []Strategy{mustDiv(t, v, dim, -1), mustW(t, w, 1)}, nil},
		{"negative balance", []Strategy{mustDiv(t, v, dim, 1), mustBal(t, onehot, 4, []float64{1, 1, 1, 1}, -1)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allPaths(t, Problem{Rows: n, Candidates: n - 20, Preselected: tc.pre, Picks: 150, Strategies: tc.s})
		})
	}
}

// TestFastDiversitySkipsWork checks that the fast update really avoids
// distance computations (a count, not a timing), with the picks of the
// straightforward path.
func TestFastDiversitySkipsWork(t *testing.T) {
	const n, dim, k = 4000, 8, 200
	v := clustered(rand.New(rand.NewPCG(3, 4)), n, dim)
	var res [2]*Result
	for i, straight := range []bool{false, true} {
		var err error
		res[i], err = Select(context.Background(), Problem{Rows: n, Candidates: n, Picks: k, Preselected: []int{7}, Straightforward: straight,
			Strategies: []Strategy{mustDiv(t, v, dim, 1)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(rows(res[0]), rows(res[1])) {
		t.Fatal("fast and straightforward picks differ")
	}
	if res[1].Distances != n*(k+1) || res[0].Distances > res[1].Distances/3 {
		t.Errorf("fast update computed %d distances, straightforward %d", res[0].Distances, res[1].Distances)
	}
}

func TestWorkersDoNotMatter(t *testing.T) {
	const n, dim = 2000, 5
	r := rand.New(rand.NewPCG(9, 9))
	v := clustered(r, n, dim)
	var first []int
	for _, w := range []int{1, 2, 3, 7, 0} {
		res, err := Select(context.Background(), Problem{Rows: n, Candidates: n, Picks: 300, Workers: w, Strategies: []Strategy{mustDiv(t, v, dim, 1)}})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = rows(res)
		} else if !slices.Equal(rows(res), first) {
			t.Fatalf("workers %d changed the picks", w)
		}
	}
	tw := make([][]float64, 0)
	for _, w := range []int{1, 3} {
		x, _, err := TypicalityWeights(context.Background(), vec32(v, dim), n, NeighbourOptions{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		tw = append(tw, x)
	}
	if !slices.Equal(tw[0], tw[1]) {
		t.Error("typicality depends on workers")
	}
}

// TestManyCountRows covers the fallback from per-row heaps to scanning
// when nearly every candidate has its own count row.
func TestManyCountRows(t *testing.T) {
	const n = 1500
	r := rand.New(rand.NewPCG(5, 5))
	v := clustered(r, n, 4)
	counts := make([]float64, n*3)
	for i := range counts {
		counts[i] = float64(r.IntN(40))
	}
	p := Problem{Rows: n, Candidates: n, Picks: 60, Strategies: []Strategy{mustDiv(t, v, 4, 1), mustBal(t, counts, 3, []float64{1, 2, 3}, 0.1)}}
	e := &engine{p: p, bal: nil}
	if _, _, ok := e.lazyRows(); !ok {
		t.Fatal("no balancing: rows not grouped")
	}
	allPaths(t, p)
	st, _ := p.Strategies[1].Start(n, n)
	e.bal = st.(*balState)
	if _, _, ok := e.lazyRows(); ok {
		t.Error("1500 distinct count rows grouped for heaps")
	}
}

// TestStaticOrder covers the sorted-order path for weights and balancing
// without diversity, where huge groups of candidates tie exactly.
func TestStaticOrder(t *testing.T) {
	const n = 3000
	r := rand.New(rand.NewPCG(6, 6))
	flags := make([]float64, n)
	onehot := make([]float64, n*3)
	for i := 0; i < n; i++ {
		flags[i] = float64(r.IntN(2))
		onehot[i*3+r.IntN(3)] = 1
	}
	v := clustered(r, n, 2)
	dedup, err := NewDeduplication(vec32(v, 2), 0.5, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]Strategy{
		{mustW(t, flags, 1)},
		{mustBal(t, onehot, 3, []float64{1, 2, 3}, 1)},
		{mustW(t, flags, -1), mustBal(t, onehot, 3, []float64{1, 1, 1}, 2)},
		{dedup, mustBal(t, onehot, 3, []float64{1, 1, 1}, 1), mustW(t, flags, 0.5)},
	} {
		allPaths(t, Problem{Rows: n, Candidates: n - 10, Preselected: []int{n - 1, 3}, Picks: 400, Strategies: s})
	}
}

// TestFastPathsWideVectors repeats the comparison on vectors wider than one
// distance block (two whole blocks and a tail), where distances go through
// the one-call blocked kernel and stop early, and where the row-order walk
// meets both windows it walks whole and sparse ones.
func TestFastPathsWideVectors(t *testing.T) {
	const n, dim = 3000, 2*distBlock + 5
	v := clustered(rand.New(rand.NewPCG(11, 12)), n, dim)
	dedup, err := NewDeduplication(vec32(v, dim), 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Strategy{mustDiv(t, v, dim, 1), dedup} {
		allPaths(t, Problem{Rows: n, Candidates: n, Picks: 120, Strategies: []Strategy{s}})
	}
}
