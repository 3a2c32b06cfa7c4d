package strategies

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func sqDistAVX2(a, b []float32) float64

//go:noescape
func sqDist16AVX2(a []uint16, b []float32) float64

//go:noescape
func sqBlocksAVX2(a, b []float32, s, lim2 float64) (sum float64, n int)

//go:noescape
func sqBlocks16AVX2(a []uint16, b []float32, s, lim2 float64) (sum float64, n int)

//go:noescape
func sqDist32AVX2(a, b []float32) float32

//go:noescape
func sqDist32hAVX2(a []uint16, b []float32) float32

//go:noescape
func sqNorm32AVX2(a []float32) float32

//go:noescape
func sqNorm32hAVX2(a []uint16) float32

//go:noescape
func decode16AVX2(dst []float32, src []uint16)

//go:noescape
func encode16AVX2(dst []uint16, src []float32)

//go:noescape
func prefetchAVX2(p unsafe.Pointer, bytes int)

//go:noescape
func tileAVX2(t *tile)

//go:noescape
func tileMaskAVX2(t *tile)

//go:noescape
func tileMaskAVX512(t *tile)

//go:noescape
func belowAVX2(v *[64]float64, lim float64) uint64

//go:noescape
func belowAVX512(v *[64]float64, lim float64) uint64

//go:noescape
func sqDistAVX512(a, b []float32) float64

//go:noescape
func sqDist16AVX512(a []uint16, b []float32) float64

//go:noescape
func sqBlocksAVX512(a, b []float32, s, lim2 float64) (sum float64, n int)

//go:noescape
func sqBlocks16AVX512(a []uint16, b []float32, s, lim2 float64) (sum float64, n int)

//go:noescape
func sqDist32AVX512(a, b []float32) float32

//go:noescape
func sqDist32hAVX512(a []uint16, b []float32) float32

//go:noescape
func sqNorm32AVX512(a []float32) float32

//go:noescape
func sqNorm32hAVX512(a []uint16) float32

//go:noescape
func tileAVX512(t *tile)

//go:noescape
func screenAVX512(t *tile)

// The wrappers below check lengths in Go (the assembly trusts them) and
// keep empty slices away from the kernels.

var avx2Kernels = &kernelSet{
	name:         "avx2",
	sqDist:       func(a, b []float32) float64 { return sqDistAVX2(a, b[:len(a)]) },
	sqDist16:     func(a []uint16, b []float32) float64 { return sqDist16AVX2(a, b[:len(a)]) },
	sqBlocks:     func(a, b []float32, s, l float64) (float64, int) { return sqBlocksAVX2(a, b[:len(a)], s, l) },
	sqBlocks16:   func(a []uint16, b []float32, s, l float64) (float64, int) { return sqBlocks16AVX2(a, b[:len(a)], s, l) },
	sqDist32:     func(a, b []float32) float32 { return sqDist32AVX2(a, b[:len(a)]) },
	sqDist32h:    func(a []uint16, b []float32) float32 { return sqDist32hAVX2(a, b[:len(a)]) },
	sqNorm32:     sqNorm32AVX2,
	sqNorm32h:    sqNorm32hAVX2,
	below:        belowAVX2,
	decode16:     func(dst []float32, src []uint16) { decode16AVX2(dst[:len(src)], src) },
	encode16:     func(dst []uint16, src []float32) { encode16AVX2(dst[:len(src)], src) },
	prefetch:     prefetch32,
	prefetch16:   prefetch16,
	prefetchHeap: prefetchHeap,
}

var avx512Kernels = &kernelSet{
	name:       "avx512",
	prefetches: true,
	sqDist:     func(a, b []float32) float64 { return sqDistAVX512(a, b[:len(a)]) },
	sqDist16:   func(a []uint16, b []float32) float64 { return sqDist16AVX512(a, b[:len(a)]) },
	sqBlocks:   func(a, b []float32, s, l float64) (float64, int) { return sqBlocksAVX512(a, b[:len(a)], s, l) },
	sqBlocks16: func(a []uint16, b []float32, s, l float64) (float64, int) {
		return sqBlocks16AVX512(a, b[:len(a)], s, l)
	},
	sqDist32:     func(a, b []float32) float32 { return sqDist32AVX512(a, b[:len(a)]) },
	sqDist32h:    func(a []uint16, b []float32) float32 { return sqDist32hAVX512(a, b[:len(a)]) },
	sqNorm32:     sqNorm32AVX512,
	sqNorm32h:    sqNorm32hAVX512,
	below:        belowAVX512,
	decode16:     func(dst []float32, src []uint16) { decode16AVX2(dst[:len(src)], src) },
	encode16:     func(dst []uint16, src []float32) { encode16AVX2(dst[:len(src)], src) },
	prefetch:     prefetch32,
	prefetch16:   prefetch16,
	prefetchHeap: prefetchHeap,
}

// avx512BF16Kernels is the AVX-512 set with the bfloat16 screen.
var avx512BF16Kernels = func() *kernelSet {
	k := *avx512Kernels
	k.name = "avx512+bf16"
	k.screen = func(t *tile) {
		checkScreen(t)
		screenAVX512(t)
	}
	return &k
}()

func prefetch32(row []float32) {
	if len(row) > 0 {
		prefetchAVX2(unsafe.Pointer(&row[0]), 4*len(row))
	}
}

func prefetchHeap(h []hent) {
	if len(h) > 0 {
		prefetchAVX2(unsafe.Pointer(&h[0]), int(unsafe.Sizeof(h[0]))*len(h))
	}
}

func prefetch16(row []uint16) {
	if len(row) > 0 {
		prefetchAVX2(unsafe.Pointer(&row[0]), 2*len(row))
	}
}

// runTileNative runs t through k's assembly tile kernel, if it has one.
func runTileNative(k *kernelSet, t *tile) bool {
	switch k {
	case avx512Kernels, avx512BF16Kernels:
		checkTile(t)
		checkPrefetch(t)
		tileAVX512(t)
	case avx2Kernels:
		checkTile(t)
		tileAVX2(t)
	default:
		return false
	}
	return true
}

// runMaskNative recomputes t's masks from its dots with k's assembly, if
// it has any.
func runMaskNative(k *kernelSet, t *tile) bool {
	switch k {
	case avx512Kernels, avx512BF16Kernels:
		checkTile(t)
		tileMaskAVX512(t)
	case avx2Kernels:
		checkTile(t)
		tileMaskAVX2(t)
	default:
		return false
	}
	return true
}

// checkTile guards the assembly against a malformed tile.
func checkTile(t *tile) {
	if t.dim < 1 || t.nrows < 1 || t.nrows > tileRows || t.panel == nil || t.bn == nil || t.cthr == nil {
		panic("strategies: malformed tile")
	}
	for r := range t.rows {
		if t.rows[r] == nil {
			panic("strategies: tile row missing")
		}
	}
	if t.c0 == 0 && t.c1 == 0 {
		t.c1 = tileCols / 16
	}
	if t.c0 < 0 || t.c1 > tileCols/16 || t.c0 > t.c1 {
		panic("strategies: tile column chunks out of range")
	}
}

// checkScreen guards the screen kernel: whole tiles of a dimension that
// is a multiple of 16, with its panel and row buffer.
func checkScreen(t *tile) {
	checkTile(t)
	checkPrefetch(t)
	if t.dim%16 != 0 || t.panel16 == nil || t.rowbuf == nil || t.c0 != 0 || t.c1 != tileCols/16 {
		panic("strategies: malformed screen tile")
	}
}

// checkPrefetch guards the AVX-512 kernels' prefetches: none, or six
// rows of at most a float32 row's bytes.
func checkPrefetch(t *tile) {
	if t.pfBytes == 0 {
		return
	}
	if t.pfBytes < 0 || t.pfBytes > 4*t.dim {
		panic("strategies: tile prefetch length out of range")
	}
	for _, p := range t.pf {
		if p == nil {
			panic("strategies: tile prefetch row missing")
		}
	}
}

func hasAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C }

func hasAVX512() bool {
	return hasAVX2() && cpu.X86.HasAVX512 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ &&
		cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
}

// nativeKernels returns the assembly sets this CPU runs, narrowest first.
func nativeKernels() []*kernelSet {
	var out []*kernelSet
	if hasAVX2() {
		out = append(out, avx2Kernels)
	}
	if hasAVX512() {
		out = append(out, avx512Kernels)
		if cpu.X86.HasAVX512BF16 {
			out = append(out, avx512BF16Kernels)
		}
	}
	return out
}

func init() {
	// The assembly reads tile fields at these offsets.
	var t tile
	if unsafe.Offsetof(t.panel) != 48 || unsafe.Offsetof(t.bn) != 72 || unsafe.Offsetof(t.an) != 112 ||
		unsafe.Offsetof(t.rthr) != 160 || unsafe.Offsetof(t.masks) != 208 || unsafe.Offsetof(t.dots) != tileDotsOffset ||
		unsafe.Offsetof(t.c0) != 1792 || unsafe.Offsetof(t.c1) != 1800 ||
		unsafe.Offsetof(t.panel16) != 1808 || unsafe.Offsetof(t.rowbuf) != 1816 || unsafe.Offsetof(t.pf) != 1824 ||
		unsafe.Offsetof(t.pfBytes) != 1872 {
		panic("strategies: tile layout changed")
	}
	if n := nativeKernels(); len(n) > 0 {
		kern = n[len(n)-1]
	}
}
