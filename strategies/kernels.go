package strategies

import (
	"math"
	"unsafe"
)

// A kernelSet is one implementation of every numeric kernel: portable Go,
// AVX2+FMA+F16C, or AVX-512 (F, DQ, BW, VL). One set is chosen when the
// package initialises (the widest the CPU has) and every distance of the
// process goes through it.
//
// The float64 distance kernels (sqDist*, sqBlocks*) of every set add the
// same terms in the same order with fused multiply-adds, so they return
// bit-identical values and picks never depend on the CPU. The float32
// kernels (sqDist32*, sqNorm32*, tile) only ever feed bounds that carry a
// rigorous rounding margin valid for any summation order, so their last
// bits may differ between sets without changing a result.
type kernelSet struct {
	name string
	// sqDist is the float64-accumulated squared distance of a and b
	// (len(b) == len(a)): sixteen partial sums, one per position modulo
	// 16, then a fixed reduction (see sqDistGo).
	sqDist   func(a, b []float32) float64
	sqDist16 func(a []uint16, b []float32) float64
	// sqBlocks adds to s the sqDist of whole distBlock blocks of a and b
	// in order, stopping after the first block that brings s to lim2 or
	// above or when less than a block is left; it returns s and the
	// number of values consumed.
	sqBlocks   func(a, b []float32, s, lim2 float64) (float64, int)
	sqBlocks16 func(a []uint16, b []float32, s, lim2 float64) (float64, int)
	// sqDist32 is the float32 squared distance (bounds only).
	sqDist32  func(a, b []float32) float32
	sqDist32h func(a []uint16, b []float32) float32
	// sqNorm32 is the float32 sum of squares (bounds only).
	sqNorm32  func(a []float32) float32
	sqNorm32h func(a []uint16) float32
	// below sets bit j for each of the 64 values of v that is not >= lim
	// (smaller, or NaN).
	below func(v *[64]float64, lim float64) uint64
	// decode16 and encode16 convert between float16 and float32
	// (len(dst) == len(src)).
	decode16 func(dst []float32, src []uint16)
	encode16 func(dst []uint16, src []float32)
	// prefetch hints a row into the cache ahead of its use.
	prefetch   func(row []float32)
	prefetch16 func(row []uint16)
	// prefetchHeap hints heap entries into the cache (heaps.go's down).
	prefetchHeap func(h []hent)
	// prefetches: the set's full-tile kernels (runTile with six rows,
	// screen) prefetch the rows of tile.pf as they compute.
	prefetches bool
	// screen, where the set has one, is the bfloat16 tile (screen.go):
	// the dots of all tileCols columns of panel16, and masks at the
	// tile's gamma, for dim a multiple of 16.
	screen func(t *tile)
}

// kern is the kernel set of this process, chosen at initialisation
// (kernels_amd64.go); tests swap it to compare the sets, never
// concurrently with a selection.
var kern = goKernels

// kernelSets returns every kernel set this CPU can run, portable first.
func kernelSets() []*kernelSet {
	return append([]*kernelSet{goKernels, goScreenKernels}, nativeKernels()...)
}

var goKernels = &kernelSet{
	name:         "go",
	sqDist:       sqDistGo,
	sqDist16:     sqDist16Go,
	sqBlocks:     sqBlocksGo,
	sqBlocks16:   sqBlocks16Go,
	sqDist32:     sqDist32Go,
	sqDist32h:    sqDist32hGo,
	sqNorm32:     sqNorm32Go,
	sqNorm32h:    sqNorm32hGo,
	below:        belowGo,
	decode16:     decode16Go,
	encode16:     encode16Go,
	prefetch:     func([]float32) {},
	prefetch16:   func([]uint16) {},
	prefetchHeap: func([]hent) {},
}

// goScreenKernels is goKernels with the portable bfloat16 screen, so that
// the screened pass is tested on every machine.
var goScreenKernels = func() *kernelSet {
	k := *goKernels
	k.name, k.screen = "go+screen", screenGo
	return &k
}()

// sqDistGo is the reference summation every set reproduces: positions
// i ≡ k (mod 16) of the whole 16-value chunks go to partial sum k; the
// remaining whole 4-value chunks go to partial sums 0..3; the sixteen are
// reduced as ((p[l]+p[l+4]) + (p[l+8]+p[l+12])) for l = 0..3, then
// (t0+t2) + (t1+t3); the last len%4 values are added one by one. Every
// product is fused with its addition (math.FMA), as the vector FMAs do.
func sqDistGo(a, b []float32) float64 {
	b = b[:len(a)]
	var p [16]float64
	i := 0
	for ; i+16 <= len(a); i += 16 {
		for k := range p {
			d := float64(a[i+k]) - float64(b[i+k])
			p[k] = math.FMA(d, d, p[k])
		}
	}
	for ; i+4 <= len(a); i += 4 {
		for k := 0; k < 4; k++ {
			d := float64(a[i+k]) - float64(b[i+k])
			p[k] = math.FMA(d, d, p[k])
		}
	}
	s := reduce16(&p)
	for ; i < len(a); i++ {
		d := float64(a[i]) - float64(b[i])
		s = math.FMA(d, d, s)
	}
	return s
}

func sqDist16Go(a []uint16, b []float32) float64 {
	b = b[:len(a)]
	var p [16]float64
	i := 0
	for ; i+16 <= len(a); i += 16 {
		for k := range p {
			d := float64(FromFloat16(a[i+k])) - float64(b[i+k])
			p[k] = math.FMA(d, d, p[k])
		}
	}
	for ; i+4 <= len(a); i += 4 {
		for k := 0; k < 4; k++ {
			d := float64(FromFloat16(a[i+k])) - float64(b[i+k])
			p[k] = math.FMA(d, d, p[k])
		}
	}
	s := reduce16(&p)
	for ; i < len(a); i++ {
		d := float64(FromFloat16(a[i])) - float64(b[i])
		s = math.FMA(d, d, s)
	}
	return s
}

func reduce16(p *[16]float64) float64 {
	var t [4]float64
	for l := range t {
		t[l] = (p[l] + p[l+4]) + (p[l+8] + p[l+12])
	}
	return (t[0] + t[2]) + (t[1] + t[3])
}

func sqBlocksGo(a, b []float32, s, lim2 float64) (float64, int) {
	n := 0
	for len(a)-n >= distBlock {
		s += sqDistGo(a[n:n+distBlock], b[n:n+distBlock])
		n += distBlock
		if s >= lim2 {
			break
		}
	}
	return s, n
}

func sqBlocks16Go(a []uint16, b []float32, s, lim2 float64) (float64, int) {
	n := 0
	for len(a)-n >= distBlock {
		s += sqDist16Go(a[n:n+distBlock], b[n:n+distBlock])
		n += distBlock
		if s >= lim2 {
			break
		}
	}
	return s, n
}

// sqDist32Go is the float32 kernel: four independent accumulators so the
// adds pipeline instead of waiting on one another.
func sqDist32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func sqDist32hGo(a []uint16, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		d0 := FromFloat16(a[i]) - b[i]
		d1 := FromFloat16(a[i+1]) - b[i+1]
		s0 += d0 * d0
		s1 += d1 * d1
	}
	for ; i < len(a); i++ {
		d := FromFloat16(a[i]) - b[i]
		s0 += d * d
	}
	return s0 + s1
}

func sqNorm32Go(a []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * a[i]
		s1 += a[i+1] * a[i+1]
		s2 += a[i+2] * a[i+2]
		s3 += a[i+3] * a[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * a[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func sqNorm32hGo(a []uint16) float32 {
	var s float32
	for _, h := range a {
		x := FromFloat16(h)
		s += x * x
	}
	return s
}

func belowGo(v *[64]float64, lim float64) uint64 {
	var m uint64
	for j, x := range v {
		if !(x >= lim) {
			m |= 1 << j
		}
	}
	return m
}

// Tiles: the matrix-product kernel.
//
// A tile multiplies tileRows rows (float32, row-major, anywhere in memory)
// by a panel of tileCols columns stored transposed (panel[k·tileCols+j] is
// dimension k of column j), so each dimension of a row is broadcast once
// and multiplied with tileCols column values held in registers: on
// AVX-512, 6 rows × 64 columns are 24 accumulator registers, 10 loads per
// 24 fused multiply-adds, near the FMA units' peak. Columns are the
// vectors a batch is measured against (pending centers, centroids, a
// block of queries); the panel is built once per batch (transposeInto).
//
// After the products the kernel tests, for every (row r, column j), the
// float64 lower bound on the squared distance
//
//	lb = s − 2·dot − gamma·s − slack,   s = an[r] + bn[j]
//
// against thr = rthr[r] + cthr[j] (one of the two is 0 for every use) and
// sets bit j of masks[r] unless lb >= thr is proven: where lb < thr, where
// either is NaN, or where the float32 dot overflowed. With an and bn the
// squared norms, gamma·s + slack bounds the float32 dot product's error
// (tileGamma), so a clear bit proves d² >= thr. Bits of columns outside
// colmask and rows beyond nrows are clear.
const (
	tileRows = 6
	tileCols = 64
)

// tile is one kernel call; the assembly kernels read its fields at fixed
// offsets (checked in kernels_amd64.go's init), so the layout is part of
// their contract.
type tile struct {
	rows    [tileRows]*float32 // 0: row r's dim values (rows >= nrows repeat a valid one)
	panel   *float32           // 48: dim·tileCols values
	dim     int                // 56: >= 1
	nrows   int                // 64: 1..tileRows
	bn      *[tileCols]float64 // 72
	cthr    *[tileCols]float64 // 80
	gamma   float64            // 88
	slack   float64            // 96
	colmask uint64             // 104
	an      [tileRows]float64  // 112
	rthr    [tileRows]float64  // 160
	masks   [tileRows]uint64   // 208
	dots    [tileRows][tileCols]float32
	// c0, c1: the AVX-512 kernel may compute only the dots of columns
	// 16·c0 .. 16·c1-1 (0, 0 means all); the others and their mask bits
	// are then meaningless, for the caller to mask off.
	c0, c1 int // 1792, 1800
	// panel16 and rowbuf are the screen's (screen.go): dim/2·tileCols
	// words of column values in bfloat16 pairs, and room for the rows
	// in bfloat16 (tileRows·dim/2 words).
	panel16 *uint32 // 1808
	rowbuf  *uint32 // 1816
	// pf are rows the AVX-512 tile and screen kernels prefetch while
	// they compute six rows, a line a step (the next tile's: see flush),
	// pfBytes of each (float32 or float16 rows); pfBytes 0 means none.
	pf      [tileRows]unsafe.Pointer // 1824
	pfBytes int                      // 1872
}

const tileDotsOffset = 256

// tileGamma returns the relative factor of the dot-product error bound
// over dim dimensions: each product and addition of a float32 sum of dim
// terms rounds once, in any order, so |dot32 − dot| <= (dim+2)·2^-24·
// Σ|x_k·c_k| <= (dim+2)·2^-24·(‖x‖²+‖c‖²)/2. The factor doubles that
// margin; callers whose norms are float32 sums too (tileNormGamma) double
// it again. slack = dim·2^-126 covers underflow.
func tileGamma(dim int) float64 { return float64(dim+8) * 0x1p-23 }

// tileNormGamma is tileGamma for an and bn that are float32 sums of
// squares themselves (each within (dim+2)·2^-24 relative of the exact
// norm): their error adds at most another tileGamma.
func tileNormGamma(dim int) float64 { return 2 * tileGamma(dim) }

func tileSlack(dim int) float64 { return float64(dim) * 0x1p-126 }

// runTile computes a tile's dot products and masks with the set's kernel.
func (k *kernelSet) runTile(t *tile) {
	if !runTileNative(k, t) {
		tileGo(t)
	}
}

// runMask recomputes a tile's masks from the dots of its last runTile,
// at the thresholds it holds now (the same masks runTile would set).
func (k *kernelSet) runMask(t *tile) {
	if !runMaskNative(k, t) {
		tileMaskGo(t)
	}
}

// tileGo is the portable tile kernel.
func tileGo(t *tile) {
	panel := unsafe.Slice(t.panel, t.dim*tileCols)
	for r := 0; r < t.nrows; r++ {
		row := unsafe.Slice(t.rows[r], t.dim)
		acc := &t.dots[r]
		*acc = [tileCols]float32{}
		for k, x := range row {
			p := (*[tileCols]float32)(panel[k*tileCols:])
			for j := range acc {
				acc[j] += x * p[j]
			}
		}
	}
	tileMaskGo(t)
}

// tileMaskGo sets t.masks from t.dots (see tile).
func tileMaskGo(t *tile) {
	for r := range t.masks {
		t.masks[r] = 0
		if r >= t.nrows {
			continue
		}
		var m uint64
		for j := 0; j < tileCols; j++ {
			d := float64(t.dots[r][j])
			s := t.an[r] + t.bn[j]
			lb := s - 2*d - t.gamma*s - t.slack
			thr := t.rthr[r] + t.cthr[j]
			if !(lb >= thr) || math.IsInf(d, 0) || math.IsNaN(d) {
				m |= 1 << j
			}
		}
		t.masks[r] = m & t.colmask
	}
}

// transposeInto writes rows (each of dim float32 values; at most tileCols)
// into panel as columns, zeroing the columns after them.
func transposeInto(panel []float32, rows [][]float32, dim int) {
	panel = panel[:dim*tileCols]
	for j, r := range rows {
		r = r[:dim]
		for k, x := range r {
			panel[k*tileCols+j] = x
		}
	}
	if len(rows) < tileCols {
		for k := 0; k < dim; k++ {
			clear(panel[k*tileCols+len(rows) : (k+1)*tileCols])
		}
	}
}

// colMask returns the mask of the first n columns.
func colMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}
