package strategies

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
)

// TestDeferredUpdates runs the deferred updates through many batches and
// past the switch to eager updates, with preselection,
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
	dedup, err := NewDeduplication(vec32(v, dim), 3, 1)
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
				got, err := selectWith(context.Background(), p, options{})
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
	ds.workers = 2
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
		if !ds.inCF(g) {
			continue
		}
		if !slices.Equal(ds.cf[g*dim:(g+1)*dim], v[int(ds.groups[g].center)*dim:][:dim]) {
			t.Fatalf("group %d: center row differs from the matrix", g)
		}
	}
}

// countingCtx reports cancellation from its after-th call of Err on.
type countingCtx struct {
	context.Context
	calls atomic.Int64
	after int64
}

func (c *countingCtx) Err() error {
	if c.calls.Add(1) > c.after {
		return context.Canceled
	}
	return nil
}

// TestDeferredPassCancels cancels a deferred pass midway: it stops between
// windows and keeps its batch pending (Select then returns the context's
// error); a later pass over the same batch, re-applying centers to rows the
// first one reached, gives every candidate the distances of the
// straightforward update, bit for bit.
func TestDeferredPassCancels(t *testing.T) {
	const n, dim = 40000, 8
	v := clustered(rand.New(rand.NewPCG(37, 38)), n, dim)
	st, err := mustDiv(t, v, dim, 1).Start(n, n)
	if err != nil {
		t.Fatal(err)
	}
	ds := st.(*divState)
	ds.workers, ds.def = 2, &deferred{done: make([]uint8, n)}
	ctx := &countingCtx{Context: context.Background(), after: 3}
	ds.ctx = ctx
	r := rand.New(rand.NewPCG(39, 40))
	centers := make([]int, deferBatch)
	for i := range centers {
		centers[i] = r.IntN(n)
		ds.Add(centers[i])
	}
	if len(ds.def.rows) != deferBatch {
		t.Fatalf("the cancelled pass emptied its batch (%d pending)", len(ds.def.rows))
	}
	if ctx.calls.Load() >= int64(n/denseWin) {
		t.Fatalf("ctx consulted %d times: the pass did not stop early", ctx.calls.Load())
	}
	ds.ctx = nil
	ds.flush()
	for x := 0; x < n; x++ {
		want := math.Inf(1)
		for _, c := range centers {
			if d := dist(v[x*dim:(x+1)*dim], v[c*dim:(c+1)*dim]); d < want {
				want = d
			}
		}
		if got := ds.current(x); got != want {
			t.Fatalf("row %d: distance %v after the resumed pass, want %v", x, got, want)
		}
	}
	if _, err := Select(ctx, Problem{Rows: n, Candidates: n, Picks: 100, Strategies: []Strategy{mustDiv(t, v, dim, 1)}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Select with a cancelled context: %v", err)
	}
}

// TestDeferredWithoutLowerBounds: once the centers' lower bounds would
// cost more than a pass (many groups, rows not in cache: forced here by
// a cache of one byte), batches run without them and probe again every
// lbProbe batches, and every candidate's distance to S stays exactly the
// straightforward one.
func TestDeferredWithoutLowerBounds(t *testing.T) {
	const n, dim, k = 3000, 64, 900
	r := rand.New(rand.NewPCG(41, 42))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	want, err := selectWith(context.Background(), Problem{Rows: n, Candidates: n, Picks: k, Strategies: []Strategy{mustDiv(t, v, dim, 1)}}, options{naive: true})
	if err != nil {
		t.Fatal(err)
	}
	d := mustDiv(t, v, dim, 1)
	s, err := d.Start(n, n)
	if err != nil {
		t.Fatal(err)
	}
	ds := s.(*divState)
	ds.workers = 2
	ds.def = &deferred{done: make([]uint8, n), cached: 1}
	md := make([]float64, n)
	for i := range md {
		md[i] = math.Inf(1)
	}
	skipped, probed := 0, 0
	for p, pk := range want.Picks {
		if ds.def == nil {
			t.Fatalf("deferral ended at pick %d", p)
		}
		before, noLB := len(ds.def.rows), ds.def.noLB
		ds.Add(pk.Row)
		for i := range md {
			md[i] = min(md[i], d.dist(i, pk.Row))
		}
		if before < deferBatch-1 {
			continue
		}
		if noLB {
			skipped++
		} else if skipped > 0 {
			probed++
		}
		for i := range md {
			if got := ds.Objective(i); got != md[i] {
				t.Fatalf("pick %d (no lbs: %v): candidate %d at %v, want %v", p, noLB, i, got, md[i])
			}
		}
	}
	if skipped == 0 || probed == 0 {
		t.Fatalf("%d batches without lower bounds, %d probes after them; want both", skipped, probed)
	}
}
