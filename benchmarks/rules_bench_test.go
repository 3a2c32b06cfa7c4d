package benchmarks

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/winnow-data/winnow/strategies"
)

// Benchmarks of spec §10 and §11 against diversity alone, in one process
// so the ratios compare runs on the same machine state. Sizes come from
// the environment (defaults small), as for BenchmarkEngine, plus:
//
//	WINNOW_BENCH_EXCLUDED  comma-separated sizes of the excluded tag (default 2000)
//	WINNOW_BENCH_SUB_N     samples for object-level diversity (default 5000)
//	WINNOW_BENCH_SUB_OBJ   objects per sample (default 7)
//	WINNOW_BENCH_SUB_D     object dimension (default 64)
//	WINNOW_BENCH_SUB_K     picks (default 100)
//
// The targets, one op each:
//
//	WINNOW_BENCH_N=1000000 WINNOW_BENCH_D=512 WINNOW_BENCH_SEP=3 WINNOW_BENCH_K=1000 \
//	  WINNOW_BENCH_SCAN_PICKS=5 WINNOW_BENCH_EXCLUDED=10000,100000 \
//	  go test -run '^$' -bench Rules -benchtime 1x -timeout 2h ./benchmarks/
//	WINNOW_BENCH_SUB_N=200000 WINNOW_BENCH_SUB_D=512 WINNOW_BENCH_SUB_K=1000 WINNOW_BENCH_SEP=3 \
//	  WINNOW_BENCH_SCAN_PICKS=3 go test -run '^$' -bench Subpart -benchtime 1x -timeout 2h ./benchmarks/
//
// Each run of BenchmarkRules reports its wall and CPU time per pick and
// x-div and x-div-cpu, its time over diversity alone's (the first
// sub-benchmark; CPU time survives a shared machine better). Every rule's
// setup (grouping the excluded tag, computing uncertainty from
// predictions) is inside the timed op.
func BenchmarkRules(b *testing.B) {
	sz := engineSizesFromEnv()
	var exSizes []int
	for _, f := range strings.Split(os.Getenv("WINNOW_BENCH_EXCLUDED"), ",") {
		if k, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && k > 0 {
			exSizes = append(exSizes, k)
		}
	}
	if len(exSizes) == 0 {
		exSizes = []int{2000}
	}
	maxEx := slices.Max(exSizes)
	// One mixture for the candidates and the excluded tag (the test split
	// of the same data), then 1% of the candidates leaked from the test
	// split: copies with a little noise, which exclude_near must catch.
	all, cls := engineMixture(sz.n+maxEx, sz.dim, 1)
	v, ex := all[:sz.n*sz.dim], all[sz.n*sz.dim:]
	r := rand.New(rand.NewPCG(4, 4))
	for k := 0; k < sz.n/100; k++ {
		i, j := r.IntN(sz.n), r.IntN(maxEx)
		for d := 0; d < sz.dim; d++ {
			v[i*sz.dim+d] = ex[j*sz.dim+d] + float32(r.NormFloat64()*0.01)
		}
	}
	// Predictions: five class confidences per sample, a softmax of
	// random logits, as a classifier's top five.
	preds := strategies.Predictions{Start: make([]int, sz.n+1)}
	logit := make([]float64, 6)
	for i := 0; i < sz.n; i++ {
		sum := 0.0
		for c := range logit {
			logit[c] = math.Exp(r.NormFloat64() * 2)
			sum += logit[c]
		}
		for c := 0; c < 5; c++ {
			preds.Confidence = append(preds.Confidence, logit[c]/sum)
		}
		preds.Start[i+1] = len(preds.Confidence)
	}
	// Groups: "videos" of 50 consecutive rows, and the mixture's cluster.
	video := make([]int32, sz.n)
	cluster := make([]int32, sz.n)
	for i := range video {
		video[i] = int32(i / 50)
		cluster[i] = int32(cls[i])
	}
	div, err := strategies.NewDiversity(strategies.Vectors{Dim: sz.dim, F32: v}, 1)
	if err != nil {
		b.Fatal(err)
	}
	problem := func(k int, rules []strategies.Rule, s ...strategies.Strategy) strategies.Problem {
		return strategies.Problem{Rows: sz.n, Candidates: sz.n, Picks: k, Strategies: s, Rules: rules}
	}
	for _, k := range sz.ks {
		var base opTimes
		var basePicks []int
		ks := "/k=" + strconv.Itoa(k)
		b.Run("diversity"+ks, func(b *testing.B) {
			res, t := timeOps(b, func() (*strategies.Result, error) {
				return strategies.Select(context.Background(), problem(k, nil, div))
			})
			base, basePicks = t, pickRows(res)
			t.report(b, len(res.Picks), base)
		})
		b.Run("uncertainty"+ks, func(b *testing.B) {
			res, t := timeOps(b, func() (*strategies.Result, error) {
				u, err := strategies.ClassificationUncertainty(preds, strategies.Margin, false)
				if err != nil {
					return nil, err
				}
				w, err := strategies.NewWeights(u.Weights, 1)
				if err != nil {
					return nil, err
				}
				return strategies.Select(context.Background(), problem(k, nil, div, w))
			})
			t.report(b, len(res.Picks), base)
		})
		quotaRun := func(name string, groups []int32, m int) {
			b.Run(name+ks, func(b *testing.B) {
				var p strategies.Problem
				res, t := timeOps(b, func() (*strategies.Result, error) {
					q, err := strategies.NewQuota(groups, m)
					if err != nil {
						return nil, err
					}
					p = problem(k, []strategies.Rule{q}, div)
					return strategies.Select(context.Background(), p)
				})
				t.report(b, len(res.Picks), base)
				checkStraight(b, p, res, sz.scanPicks)
			})
		}
		quotaRun("quota-video-3", video, 3)
		quotaRun("quota-cluster-1", cluster, 1)
		for _, ne := range exSizes {
			b.Run("exclude="+strconv.Itoa(ne)+ks, func(b *testing.B) {
				var p strategies.Problem
				var x *strategies.ExcludeNear
				res, t := timeOps(b, func() (*strategies.Result, error) {
					var err error
					if x, err = strategies.NewExcludeNear(strategies.Vectors{Dim: sz.dim, F32: v}, strategies.Vectors{Dim: sz.dim, F32: ex[:ne*sz.dim]}, 1, nil); err != nil {
						return nil, err
					}
					p = problem(k, []strategies.Rule{x}, div)
					return strategies.Select(context.Background(), p)
				})
				t.report(b, len(res.Picks), base)
				// How many of diversity's own picks were leaked rows
				// (the rule's effect), and the nearest excluded vector
				// of the rule's picks (>= 1 by construction).
				leaked := 0
				for _, row := range basePicks {
					if _, d := x.Nearest(row); d < 1 {
						leaked++
					}
				}
				nearest := math.Inf(1)
				for _, pk := range res.Picks {
					_, d := x.Nearest(pk.Row)
					nearest = min(nearest, d)
				}
				b.ReportMetric(float64(leaked), "div-picks-leaked")
				b.ReportMetric(nearest, "min-dist-excluded")
				checkStraight(b, p, res, sz.scanPicks)
			})
		}
	}
}

// opTimes is one op's wall and CPU time.
type opTimes struct{ wall, cpu time.Duration }

// timeOps runs fn once per op and returns the last result and the mean
// times per op.
func timeOps(b *testing.B, fn func() (*strategies.Result, error)) (*strategies.Result, opTimes) {
	var res *strategies.Result
	cpu0, start := cpuTime(), time.Now()
	for b.Loop() {
		var err error
		if res, err = fn(); err != nil {
			b.Fatal(err)
		}
	}
	n := time.Duration(b.N)
	return res, opTimes{time.Since(start) / n, (cpuTime() - cpu0) / n}
}

// report reports per-pick times and the ratios to base (when measured).
func (t opTimes) report(b *testing.B, picks int, base opTimes) {
	b.ReportMetric(t.wall.Seconds()*1e3/float64(picks), "ms/pick")
	b.ReportMetric(t.cpu.Seconds()*1e3/float64(picks), "cpu-ms/pick")
	if base.wall > 0 {
		b.ReportMetric(t.wall.Seconds()/base.wall.Seconds(), "x-div")
		b.ReportMetric(t.cpu.Seconds()/base.cpu.Seconds(), "x-div-cpu")
	}
}

func pickRows(res *strategies.Result) []int {
	var r []int
	for _, p := range res.Picks {
		r = append(r, p.Row)
	}
	return r
}

// checkStraight requires the first picks of res to be those of the
// straightforward path (outside the timing).
func checkStraight(b *testing.B, p strategies.Problem, res *strategies.Result, picks int) {
	p.Picks, p.Straightforward = min(picks, len(res.Picks)), true
	want, err := strategies.Select(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	if got := pickRows(res)[:len(want.Picks)]; !slices.Equal(got, pickRows(want)) {
		b.Fatalf("picks %v, straightforward %v", got, pickRows(want))
	}
}

// BenchmarkSubpart measures object-level diversity (spec §11) on N samples
// with OBJ objects each, drawn from the clustered mixture, against the
// straightforward computation (every candidate object measured against
// every new object, every sample scored each pick), whose first picks it
// must return; speedup is the straightforward ms/pick over the fast one.
func BenchmarkSubpart(b *testing.B) {
	n, per := engineEnv("WINNOW_BENCH_SUB_N", 5000), engineEnv("WINNOW_BENCH_SUB_OBJ", 7)
	dim, k := engineEnv("WINNOW_BENCH_SUB_D", 64), engineEnv("WINNOW_BENCH_SUB_K", 100)
	scanPicks := engineEnv("WINNOW_BENCH_SCAN_PICKS", 3)
	v, _ := engineMixture(n*per, dim, 5)
	start := make([]int, n+1)
	for i := range start {
		start[i] = i * per
	}
	sub, err := strategies.NewSubpartDiversity(start, strategies.Vectors{Dim: dim, F32: v}, 1)
	if err != nil {
		b.Fatal(err)
	}
	p := strategies.Problem{Rows: n, Candidates: n, Strategies: []strategies.Strategy{sub}}
	var straight []int
	var straightPerPick float64
	b.Run("straightforward", func(b *testing.B) {
		q := p
		q.Picks, q.Straightforward = scanPicks, true
		res, t := timeOps(b, func() (*strategies.Result, error) { return strategies.Select(context.Background(), q) })
		t.report(b, len(res.Picks), opTimes{})
		straight = pickRows(res)
		straightPerPick = t.wall.Seconds() / float64(len(res.Picks))
	})
	b.Run("fast/k="+strconv.Itoa(k), func(b *testing.B) {
		q := p
		q.Picks = k
		res, t := timeOps(b, func() (*strategies.Result, error) { return strategies.Select(context.Background(), q) })
		t.report(b, len(res.Picks), opTimes{})
		if got := pickRows(res)[:min(len(straight), len(res.Picks))]; !slices.Equal(got, straight[:len(got)]) {
			b.Fatalf("picks %v, straightforward %v", got, straight)
		}
		b.ReportMetric(straightPerPick/(t.wall.Seconds()/float64(len(res.Picks))), "speedup")
		b.ReportMetric(float64(res.Distances)/(float64(n*per)*float64(len(res.Picks)*per)), "dist-frac")
	})
}
