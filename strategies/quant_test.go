package strategies

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDotInt8 compares the integer dot product kernel with the portable
// loop on lengths with every kind of tail, and on extreme codes.
func TestDotInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 64, 100, 512, 777} {
		a, b := make([]int8, n), make([]int8, n+3)
		for i := range a {
			a[i] = int8(r.IntN(255) - 127)
		}
		for i := range b {
			b[i] = int8(r.IntN(255) - 127)
		}
		if got, want := dotInt8Impl(a, b), dotInt8Go(a, b); got != want {
			t.Errorf("n=%d: %d, want %d", n, got, want)
		}
		for i := range a {
			a[i], b[i] = -127, -127
		}
		if got, want := dotInt8Impl(a, b), int32(n*127*127); got != want {
			t.Errorf("n=%d extreme: %d, want %d", n, got, want)
		}
	}
}

// TestQuantLowerBound checks that the 8-bit bound never exceeds the exact
// distance (computed in float64 from the float32 rows): on random rows of
// very different scales, on near-duplicates (where the bound must fall to
// about zero), on zero rows and on rows with one huge coordinate.
func TestQuantLowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	const n, dim = 400, 37
	v := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		scale := math.Pow(10, float64(r.IntN(7)-3))
		for k := 0; k < dim; k++ {
			switch {
			case i%10 == 1:
				v[i*dim+k] = v[(i-1)*dim+k] * (1 + float32(r.NormFloat64())*1e-6)
			case i%10 == 2:
				v[i*dim+k] = 0
			case i%10 == 3 && k == 5:
				v[i*dim+k] = 1e30
			default:
				v[i*dim+k] = float32(r.NormFloat64() * scale)
			}
		}
	}
	q := newQuant(v, dim, n, 2)
	// The pieces of the bound, checked directly: eps covers the rounding
	// error of every row, and the integer form of ‖x̃ − c̃‖ agrees with
	// the distance between the dequantized rows.
	deq := func(i int) []float64 {
		out := make([]float64, dim)
		for k, c := range q.row(i) {
			out[k] = float64(c) * q.rows[i].scale
		}
		return out
	}
	for x := 0; x < n; x++ {
		e := 0.0
		for k, d := range deq(x) {
			e += (float64(v[x*dim+k]) - d) * (float64(v[x*dim+k]) - d)
		}
		if math.Sqrt(e) > q.rows[x].eps {
			t.Fatalf("row %d: error %v above eps %v", x, math.Sqrt(e), q.rows[x].eps)
		}
		for c := 0; c < n; c += 7 {
			dx, dc := deq(x), deq(c)
			s := 0.0
			for k := range dx {
				s += (dx[k] - dc[k]) * (dx[k] - dc[k])
			}
			if lo := q.lower(x, c, q.row(c)); lo > 0 && lo+q.rows[x].eps+q.rows[c].eps > math.Sqrt(s) {
				t.Fatalf("rows %d, %d: integer form %v above the dequantized distance %v", x, c, lo+q.rows[x].eps+q.rows[c].eps, math.Sqrt(s))
			}
		}
	}
	tight := 0
	for x := 0; x < n; x++ {
		for c := 0; c < n; c++ {
			exact := 0.0
			for k := 0; k < dim; k++ {
				d := float64(v[x*dim+k]) - float64(v[c*dim+k])
				exact += d * d
			}
			exact = math.Sqrt(exact)
			lb := q.lower(x, c, q.row(c))
			if lb > exact {
				t.Fatalf("rows %d, %d: bound %v above the distance %v", x, c, lb, exact)
			}
			// cannotMove is the same bound compared in squares: it may
			// only claim a current distance the exact one reaches.
			for _, f := range []float64{0.5, 0.9, 0.999, 1 - 1e-9, 1} {
				if dx := exact * f; q.cannotMove(x, c, q.row(c), dx) && exact < dx*skipMargin {
					t.Fatalf("rows %d, %d: cannotMove at %v with distance %v", x, c, dx, exact)
				}
			}
			if lb > 0.95*exact {
				tight++
			}
		}
	}
	// The bound must also be useful: most pairs of same-scale rows.
	if tight < n*n/20 {
		t.Errorf("only %d of %d bounds within 5%% of the distance", tight, n*n)
	}
}

// TestPrefilterSkipsWork: on well-separated clusters the prefilter must
// save most exact distances and keep the straightforward picks.
func TestPrefilterSkipsWork(t *testing.T) {
	const n, dim, k = 6000, 64, 150
	r := rand.New(rand.NewPCG(25, 26))
	centers := make([]float32, 100*dim)
	for i := range centers {
		centers[i] = float32(r.NormFloat64() * 10)
	}
	v := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		c := r.IntN(100)
		for j := 0; j < dim; j++ {
			v[i*dim+j] = centers[c*dim+j] + float32(r.NormFloat64())
		}
	}
	var res [3]*Result
	for i, opt := range []options{{naive: true}, {}, {prefilter: true}} {
		var err error
		res[i], err = selectWith(context.Background(), Problem{Rows: n, Candidates: n, Picks: k, Strategies: []Strategy{mustDiv(t, v, dim, 1)}}, opt)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !slices.Equal(rows(res[i]), rows(res[0])) {
			t.Fatalf("%+v: picks differ from the straightforward path", opt)
		}
	}
	if res[2].Bounds == 0 || res[2].Distances > res[1].Distances/3 {
		t.Errorf("prefilter computed %d distances and %d bounds; without it %d distances",
			res[2].Distances, res[2].Bounds, res[1].Distances)
	}
}

// TestDeferredUpdates runs the prefilter's deferred updates through many
// batches and past the switch to eager updates, with preselection,
// deduplication, weights, balancing and a second model, on separated
// clusters (where deferral pays), and requires the straightforward picks.
// It also checks that deferral really ran and really ended.
func TestDeferredUpdates(t *testing.T) {
	const n, dim, k = 5000, 40, 260
	r := rand.New(rand.NewPCG(27, 28))
	centers := make([]float32, 150*dim)
	for i := range centers {
		centers[i] = float32(r.NormFloat64() * 8)
	}
	v := make([]float32, n*dim)
	onehot := make([]float64, n*3)
	w := make([]float64, n)
	for i := 0; i < n; i++ {
		c := r.IntN(150)
		for j := 0; j < dim; j++ {
			v[i*dim+j] = centers[c*dim+j] + float32(r.NormFloat64())
		}
		onehot[i*3+c%3] = 1
		w[i] = 0.5 + r.Float64()
	}
	v2 := clustered(r, n, 6)
	dedup, err := NewDeduplication(v, dim, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    []Strategy
		pre  []int
	}{
		{"diversity", []Strategy{mustDiv(t, v, dim, 1)}, nil},
		{"preselected outside", []Strategy{mustDiv(t, v, dim, 1)}, []int{n - 1, 7, n - 3}},
		{"dedup", []Strategy{dedup}, nil},
		{"combined", []Strategy{mustDiv(t, v, dim, 1), mustW(t, w, 0.5), mustBal(t, onehot, 3, []float64{1, 1, 1}, 1)}, []int{3}},
		{"two models", []Strategy{mustDiv(t, v, dim, 1), mustDiv(t, v2, 6, 0.3)}, nil},
		{"negative strength scans", []Strategy{mustDiv(t, v, dim, 1), mustDiv(t, v2, 6, -0.2)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Problem{Rows: n, Candidates: n - 10, Preselected: tc.pre, Picks: k, Strategies: tc.s}
			want, err := selectWith(context.Background(), p, options{naive: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 2, 5} {
				p.Workers = workers
				got, err := selectWith(context.Background(), p, options{prefilter: true})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rows(got), rows(want)) {
					t.Fatalf("workers %d: picks differ from the straightforward path", workers)
				}
				for i := range got.Picks {
					if !slices.Equal(got.Picks[i].Objectives, want.Picks[i].Objectives) {
						t.Fatalf("workers %d: pick %d objectives %v, want %v", workers, i, got.Picks[i].Objectives, want.Picks[i].Objectives)
					}
				}
			}
		})
	}
	// Deferral runs while most candidates are within reach of new
	// centers, then ends (fed the k-center's own picks).
	order, err := Select(context.Background(), Problem{Rows: n, Candidates: n, Picks: 400, Strategies: []Strategy{mustDiv(t, v, dim, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := mustDiv(t, v, dim, 1).Start(n, n)
	if err != nil {
		t.Fatal(err)
	}
	ds := s.(*divState)
	ds.workers, ds.q = 2, newQuant(v, dim, n, 2)
	ds.cq.add(ds.q, -1)
	ds.def = &deferred{done: make([]uint8, n)}
	flushes := 0
	for _, pk := range order.Picks {
		if ds.def == nil {
			break
		}
		before := len(ds.def.rows)
		ds.Add(pk.Row)
		if before == deferBatch-1 {
			flushes++
		}
	}
	if flushes < 2 || ds.def != nil {
		t.Errorf("deferral ran %d batches and ended: %v", flushes, ds.def == nil)
	}
}

// TestCenterRowsBeyondBudget selects more centers than the contiguous copy
// of center rows may hold (24 bytes a candidate), so later centers are
// read from the matrix: every path must still agree.
func TestCenterRowsBeyondBudget(t *testing.T) {
	const n, dim = 300, 64
	v := clustered(rand.New(rand.NewPCG(33, 34)), n, dim)
	p := Problem{Rows: n, Candidates: n, Picks: 200, Strategies: []Strategy{mustDiv(t, v, dim, 1)}}
	allPaths(t, p)
	s, _ := p.Strategies[0].Start(n, n)
	ds := s.(*divState)
	for i := 0; i < 60; i++ {
		ds.addGroup(group{center: int32(i)})
	}
	if len(ds.cf) > centerBudget*n || len(ds.cf) == 0 || len(ds.cf)%dim != 0 {
		t.Fatalf("center copy holds %d floats, budget %d", len(ds.cf), centerBudget*n)
	}
	for g := 1; g < len(ds.groups); g++ {
		if !slices.Equal(ds.centerRow(g), ds.d.row(int(ds.groups[g].center))) {
			t.Fatalf("group %d: center row differs from the matrix", g)
		}
	}
}
