package benchmarks

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/winnow-data/winnow/strategies"
)

// Engine benchmarks run on in-memory data; sizes come from the
// environment so the defaults stay small:
//
//	WINNOW_BENCH_N            rows (default 20000)
//	WINNOW_BENCH_D            dimension (default 64)
//	WINNOW_BENCH_K            comma-separated pick counts (default 200)
//	WINNOW_BENCH_SCAN_PICKS   picks of the straightforward scan (default 50)
//	WINNOW_BENCH_TYP_N        rows for typicality (default 5000)
//	WINNOW_BENCH_TYP_D        dimension for typicality (default 128)
//	WINNOW_BENCH_SEP          scale of the cluster centers (default 1)
//	WINNOW_BENCH_F16          1: the vectors as float16 (Vectors.F16)
//	WINNOW_BENCH_SKIP_SCAN    1: no straightforward scan (its picks are
//	                          then not compared)
//
// Run one op each (the figures in the README):
//
//	WINNOW_BENCH_N=1000000 WINNOW_BENCH_D=512 WINNOW_BENCH_SEP=3 \
//	  WINNOW_BENCH_K=1000,10000 WINNOW_BENCH_SCAN_PICKS=10 \
//	  go test -run '^$' -bench Engine -benchtime 1x ./benchmarks/
//
// scan is the straightforward parallel scan; diversity must return its
// picks, which the benchmark checks; combined adds weights and balancing.
type engineSizes struct {
	n, dim, scanPicks int
	ks                []int
}

func engineEnv(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			return v
		}
	}
	return def
}

func engineSizesFromEnv() engineSizes {
	s := engineSizes{n: engineEnv("WINNOW_BENCH_N", 20000), dim: engineEnv("WINNOW_BENCH_D", 64),
		scanPicks: engineEnv("WINNOW_BENCH_SCAN_PICKS", 50)}
	for _, f := range strings.Split(os.Getenv("WINNOW_BENCH_K"), ",") {
		if k, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && k > 0 {
			s.ks = append(s.ks, k)
		}
	}
	if len(s.ks) == 0 {
		s.ks = []int{200}
	}
	return s
}

// engineMixture returns n vectors of dim values (row-major) drawn from a
// Gaussian mixture with fixed seed: max(10, n/500) clusters whose sizes
// follow Zipf's law (weight ∝ 1/rank^1.1), each a Gaussian with a random
// rank-12 covariance of random scale plus small isotropic noise (real
// embeddings have a low intrinsic dimension), and each row's cluster id.
// Rows are in random cluster order. The centers are N(0, sep²) per
// coordinate (WINNOW_BENCH_SEP): with sep = 1 neighbouring clusters
// overlap, larger values separate them. Chunks use their own seeded generators,
// so the data do not depend on the number of goroutines.
func engineMixture(n, dim int, seed uint64) ([]float32, []int) {
	v := make([]float32, n*dim)
	cls := mixture(n, dim, seed, func(i int, row []float32) { copy(v[i*dim:], row) })
	return v, cls
}

// engineMixture16 is engineMixture rounded to float16 (nearest), made
// without the float32 matrix (a float16 working set of 10M × 768 is
// 15.4 GB; its float32 copy would not fit beside it).
func engineMixture16(n, dim int, seed uint64) ([]uint16, []int) {
	v := make([]uint16, n*dim)
	cls := mixture(n, dim, seed, func(i int, row []float32) { strategies.EncodeFloat16(v[i*dim:(i+1)*dim], row) })
	return v, cls
}

// mixture draws engineMixture's rows and passes each to emit (from
// several goroutines, each row once).
func mixture(n, dim int, seed uint64, emit func(i int, row []float32)) []int {
	const rank = 12
	k := max(10, n/500)
	r := rand.New(rand.NewPCG(seed, 1))
	cum := make([]float64, k)
	total := 0.0
	for j := range cum {
		total += 1 / math.Pow(float64(j+1), 1.1)
		cum[j] = total
	}
	sep := float64(engineEnv("WINNOW_BENCH_SEP", 1))
	centers := make([]float32, k*dim)
	for i := range centers {
		centers[i] = float32(r.NormFloat64() * sep)
	}
	basis := make([]float32, k*rank*dim)
	for j := 0; j < k; j++ {
		scale := (0.3 + 0.7*r.Float64()) / math.Sqrt(rank)
		for i := j * rank * dim; i < (j+1)*rank*dim; i++ {
			basis[i] = float32(r.NormFloat64() * scale)
		}
	}
	cls := make([]int, n)
	const chunk = 4096
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := make([]float64, rank)
			row := make([]float32, dim)
			for {
				c := int(next.Add(1) - 1)
				if c*chunk >= n {
					return
				}
				cr := rand.New(rand.NewPCG(seed, uint64(c)+2))
				for i := c * chunk; i < min((c+1)*chunk, n); i++ {
					j, _ := slices.BinarySearch(cum, cr.Float64()*total)
					j = min(j, k-1)
					cls[i] = j
					for q := range z {
						z[q] = cr.NormFloat64()
					}
					for d := range row {
						x := float64(centers[j*dim+d]) + 0.05*cr.NormFloat64()
						for q := range z {
							x += z[q] * float64(basis[(j*rank+q)*dim+d])
						}
						row[d] = float32(x)
					}
					emit(i, row)
				}
			}
		}()
	}
	wg.Wait()
	return cls
}

// peakHeap samples the live heap every few milliseconds until stopped and
// returns the largest value seen.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func liveHeap() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// runEngine runs one selection per op and reports ms per pick (wall and
// CPU), the fraction of the n·k candidate distances computed, and in bytes
// per candidate above the inputs the peak heap (garbage included) and the
// engine's live state at the last pick (measured after a collection).
func runEngine(b *testing.B, p strategies.Problem) *strategies.Result {
	var res *strategies.Result
	base := liveHeap()
	// The engine's state is live during the last pick: measure it there,
	// after a collection, so garbage does not count.
	var state uint64
	p.Progress = func(done, total int) {
		if done == total {
			state = liveHeap() - min(liveHeap(), base)
		}
	}
	stop := peakHeap()
	cpu0 := cpuTime()
	start := time.Now()
	for b.Loop() {
		var err error
		res, err = strategies.Select(context.Background(), p)
		if err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	peak := stop()
	picks := float64(len(res.Picks)) * float64(b.N)
	b.ReportMetric(el.Seconds()*1e3/picks, "ms/pick")
	// CPU time survives a machine shared with other jobs better than wall
	// time: compare cpu-ms/pick between runs.
	b.ReportMetric(cpu.Seconds()*1e3/picks, "cpu-ms/pick")
	b.ReportMetric(float64(res.Distances)/(float64(p.Candidates)*float64(len(res.Picks))), "dist-frac")
	b.ReportMetric(float64(peak-min(peak, base))/float64(p.Candidates), "peak-B/cand")
	b.ReportMetric(float64(state)/float64(p.Candidates), "state-B/cand")
	return res
}

func BenchmarkEngine(b *testing.B) {
	sz := engineSizesFromEnv()
	var vec strategies.Vectors
	var cls []int
	if os.Getenv("WINNOW_BENCH_F16") == "1" {
		var h []uint16
		h, cls = engineMixture16(sz.n, sz.dim, 1)
		vec = strategies.Vectors{Dim: sz.dim, F16: h}
	} else {
		var v []float32
		v, cls = engineMixture(sz.n, sz.dim, 1)
		vec = strategies.Vectors{Dim: sz.dim, F32: v}
	}
	div, err := strategies.NewDiversity(vec, 1)
	if err != nil {
		b.Fatal(err)
	}
	// Weights and a 10-class one-hot label correlated with the clusters
	// for the combined run, made when it runs (they take 96 bytes a
	// candidate).
	combined := func() []strategies.Strategy {
		r := rand.New(rand.NewPCG(2, 2))
		w := make([]float64, sz.n)
		onehot := make([]float64, sz.n*10)
		for i := range w {
			w[i] = 0.5 + r.Float64()
			onehot[i*10+cls[i]%10] = 1
		}
		wts, err := strategies.NewWeights(w, 1)
		if err != nil {
			b.Fatal(err)
		}
		bal, err := strategies.NewBalance(onehot, 10, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1)
		if err != nil {
			b.Fatal(err)
		}
		return []strategies.Strategy{div, wts, bal}
	}
	problem := func(k int, s ...strategies.Strategy) strategies.Problem {
		return strategies.Problem{Rows: sz.n, Candidates: sz.n, Picks: k, Strategies: s}
	}
	var scanPicks []int
	b.Run("scan", func(b *testing.B) {
		if os.Getenv("WINNOW_BENCH_SKIP_SCAN") == "1" {
			b.Skip("WINNOW_BENCH_SKIP_SCAN")
		}
		p := problem(sz.scanPicks, div)
		p.Straightforward = true
		start := time.Now()
		res := runEngine(b, p)
		el := time.Since(start).Seconds() / float64(b.N)
		// Every pick reads every candidate's vector once.
		b.ReportMetric(float64(sz.n)*float64(sz.dim)*4*float64(len(res.Picks))/el/1e9, "GB/s")
		b.ReportMetric(float64(sz.n)*float64(sz.dim)*4/1e9, "GB/pick")
		for _, pk := range res.Picks {
			scanPicks = append(scanPicks, pk.Row)
		}
	})
	for _, k := range sz.ks {
		b.Run("diversity/k="+strconv.Itoa(k), func(b *testing.B) {
			res := runEngine(b, problem(k, div))
			var got []int
			for _, pk := range res.Picks[:min(len(res.Picks), len(scanPicks))] {
				got = append(got, pk.Row)
			}
			if !slices.Equal(got, scanPicks[:len(got)]) {
				b.Fatal("fast picks differ from the straightforward scan")
			}
		})
		b.Run("combined/k="+strconv.Itoa(k), func(b *testing.B) {
			runEngine(b, problem(k, combined()...))
		})
	}
}

func BenchmarkTypicality(b *testing.B) {
	n, dim := engineEnv("WINNOW_BENCH_TYP_N", 5000), engineEnv("WINNOW_BENCH_TYP_D", 128)
	v, _ := engineMixture(n, dim, 3)
	cpu0 := cpuTime()
	for b.Loop() {
		if _, _, err := strategies.TypicalityWeights(context.Background(), strategies.Vectors{Dim: dim, F32: v}, n, strategies.NeighbourOptions{Mode: strategies.NeighboursExact}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(n)*float64(dim)/(b.Elapsed().Seconds()/float64(b.N))/1e9, "Gdim/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
