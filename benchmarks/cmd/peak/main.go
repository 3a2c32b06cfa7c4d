// Command peak measures this machine's float32 FMA peak, the number the
// tile kernel's GFLOP/s (strategies' BenchmarkTile) is compared with, and
// where the CPU has AVX512_BF16 the bfloat16 dot-product peak, the
// screen's (BenchmarkScreen).
//
// It times, per second of its thread's CPU time (the machine is shared),
// a chain of dependent integer adds (one a cycle on every x86 core since
// the Pentium 4's day: the clock) and 24 independent 512-bit FMAs in a
// loop (the FMA units' throughput). Peak per core = FMAs a cycle × 16
// lanes × 2 flops × clock.
//
//	go run ./benchmarks/cmd/peak
package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/cpu"
)

func main() {
	if !cpu.X86.HasAVX512F {
		fmt.Println("no AVX-512 on this CPU")
		return
	}
	runtime.LockOSThread()
	const n = 200_000_000
	ghz := 0.0
	for range 5 {
		t := threadCPU()
		addChain(n)
		ghz = max(ghz, float64(n*8)/(threadCPU()-t).Seconds()/1e9)
	}
	gf := 0.0
	for range 5 {
		t := threadCPU()
		fmaPeak(n / 4)
		gf = max(gf, float64(n/4)*24*32/(threadCPU()-t).Seconds()/1e9)
	}
	perCycle := gf / 32 / ghz
	fmt.Printf("clock %.2f GHz; %.2f zmm FMAs a cycle; peak %.0f GFLOP/s a core, %.0f on %d cores\n",
		ghz, perCycle, gf, gf*float64(runtime.NumCPU()), runtime.NumCPU())
	if !cpu.X86.HasAVX512BF16 {
		return
	}
	bf := 0.0
	for range 5 {
		t := threadCPU()
		bf16Peak(n / 4)
		bf = max(bf, float64(n/4)*24*64/(threadCPU()-t).Seconds()/1e9)
	}
	fmt.Printf("bfloat16 (VDPBF16PS, the screen's): %.2f a cycle; peak %.0f GFLOP/s a core, %.0f on %d cores\n",
		bf/64/ghz, bf, bf*float64(runtime.NumCPU()), runtime.NumCPU())
}
