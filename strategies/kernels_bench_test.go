package strategies

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Kernel benchmarks, per kernel set the CPU has:
//
//	go test ./strategies -run '^$' -bench 'Tile|Kernels'
//
// BenchmarkTile's GFLOP/cpu-s is the figure to hold against the core's
// peak (go run ./benchmarks/cmd/peak).

// benchTile reports one kernel set's tile GFLOP/s (two flops a multiply-add)
// on panels in cache, the shape of a deferred pass.
func benchTile(b *testing.B, ks *kernelSet, dim int) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]float32, tileRows)
	for i := range rows {
		rows[i] = randVec(r, dim, 1)
	}
	panel := randVec(r, dim*tileCols, 1)
	var bn, cthr [tileCols]float64
	tl := tile{panel: &panel[0], dim: dim, nrows: tileRows, bn: &bn, cthr: &cthr, colmask: ^uint64(0)}
	for i := range rows {
		tl.rows[i] = &rows[i][0]
	}
	reportTileFLOPs(b, dim, func() { ks.runTile(&tl) })
}

// reportTileFLOPs runs one tile call a loop and reports GFLOP/s (two
// flops a multiply-add) per second of this thread's CPU time as well as
// of wall time: the shared machine's other jobs take the CPU away at
// times.
func reportTileFLOPs(b *testing.B, dim int, run func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		run()
	}
	flops := 2 * float64(tileRows*tileCols*dim) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/(threadCPU()-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil { // RUSAGE_THREAD
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkTile(b *testing.B) {
	for _, ks := range kernelSets() {
		for _, dim := range []int{128, 512, 768} {
			b.Run(ks.name+"/dim="+strconv.Itoa(dim), func(b *testing.B) { benchTile(b, ks, dim) })
		}
	}
}

// BenchmarkKernels reports the distance kernels per set on 4096 rows of
// 512 dimensions in cache-sized batches.
func BenchmarkKernels(b *testing.B) {
	const rows, dim = 512, 512
	r := rand.New(rand.NewPCG(3, 4))
	v := randVec(r, rows*dim, 1)
	h := make([]uint16, len(v))
	EncodeFloat16(h, v)
	q := v[:dim]
	for _, ks := range kernelSets() {
		run := func(name string, f func(i int)) {
			b.Run(ks.name+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(rows * dim * 4))
				for b.Loop() {
					for i := 0; i < rows; i++ {
						f(i)
					}
				}
			})
		}
		var sink float64
		run("sqDist", func(i int) { sink += ks.sqDist(v[i*dim:(i+1)*dim], q) })
		run("sqDist16", func(i int) { sink += ks.sqDist16(h[i*dim:(i+1)*dim], q) })
		run("sqBlocks", func(i int) { s, _ := ks.sqBlocks(v[i*dim:(i+1)*dim], q, 0, math.Inf(1)); sink += s })
		run("sqDist32", func(i int) { sink += float64(ks.sqDist32(v[i*dim:(i+1)*dim], q)) })
		run("sqDist32h", func(i int) { sink += float64(ks.sqDist32h(h[i*dim:(i+1)*dim], q)) })
		_ = sink
	}
}

// benchScreen is benchTile for the bfloat16 screen: the same shape, a
// row's conversion included.
func benchScreen(b *testing.B, ks *kernelSet, dim int) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]float32, tileRows)
	for i := range rows {
		rows[i] = randVec(r, dim, 1)
	}
	crow := randVec(r, dim*tileCols, 1)
	panel16 := make([]uint32, dim/2*tileCols)
	fillPanel16(panel16, crow, tileCols, dim)
	rowbuf := make([]uint32, tileRows*dim/2)
	panel := make([]float32, dim*tileCols)
	var bn, cthr [tileCols]float64
	tl := tile{panel: &panel[0], panel16: &panel16[0], rowbuf: &rowbuf[0], dim: dim, nrows: tileRows,
		bn: &bn, cthr: &cthr, colmask: ^uint64(0), c1: tileCols / 16}
	for i := range rows {
		tl.rows[i] = &rows[i][0]
	}
	tl.pf, tl.pfBytes = prefetchRows(tl.rows), 4*dim
	reportTileFLOPs(b, dim, func() { ks.screen(&tl) })
}

func BenchmarkScreen(b *testing.B) {
	for _, ks := range screenSets() {
		for _, dim := range []int{128, 512, 768} {
			b.Run(ks.name+"/dim="+strconv.Itoa(dim), func(b *testing.B) { benchScreen(b, ks, dim) })
		}
	}
}

// BenchmarkDeferredPass times one deferred pass (64 pending centers
// against every candidate) on 200,000 clustered rows of 512 dimensions,
// far larger than the caches, with and without the screen: the second
// pass of the selection's own picks, whose centers land in clusters that
// have none yet, as in a real run.
//
//	go test ./strategies -run '^$' -bench DeferredPass -count 6 | benchstat -
func BenchmarkDeferredPass(b *testing.B) {
	const n, dim, clusters = 200000, 512, 1000
	r := rand.New(rand.NewPCG(5, 6))
	v := make([]float32, n*dim)
	centers := randVec(r, clusters*dim, 1/math.Sqrt(dim))
	for i := 0; i < n; i++ {
		c := r.IntN(clusters)
		for k := 0; k < dim; k++ {
			v[i*dim+k] = centers[c*dim+k] + float32(r.NormFloat64()*0.5/math.Sqrt(dim))
		}
	}
	d, err := NewDiversity(Vectors{Dim: dim, F32: v, Finite: true}, 1)
	if err != nil {
		b.Fatal(err)
	}
	res, err := Select(context.Background(), Problem{Rows: n, Candidates: n, Picks: 2 * deferBatch, Strategies: []Strategy{d}})
	if err != nil {
		b.Fatal(err)
	}
	h := make([]uint16, len(v))
	EncodeFloat16(h, v)
	d16, err := NewDiversity(Vectors{Dim: dim, F16: h, Finite: true}, 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, ks := range kernelSets() {
		if ks == goKernels || ks == goScreenKernels {
			continue
		}
		b.Run(ks.name, func(b *testing.B) { benchPass(b, ks, d, res, n) })
		b.Run(ks.name+"/float16", func(b *testing.B) { benchPass(b, ks, d16, res, n) })
	}
}

// benchPass times the second deferred pass of res's picks on d.
func benchPass(b *testing.B, ks *kernelSet, d *Diversity, res *Result, n int) {
	withKernels(ks, func() {
		for b.Loop() {
			b.StopTimer()
			st, _ := d.Start(n, n)
			s := st.(*divState)
			s.workers = runtime.GOMAXPROCS(0)
			s.def = &deferred{done: make([]uint8, n)}
			for _, pk := range res.Picks[:2*deferBatch-1] {
				s.Add(pk.Row)
			}
			b.StartTimer()
			s.Add(res.Picks[2*deferBatch-1].Row) // the second pass
		}
	})
}
