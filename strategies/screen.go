package strategies

import (
	"math"
	"unsafe"
)

// The bfloat16 screen.
//
// A deferred pass (deferred.go) measures every candidate against the 64
// pending centers, and nearly every one of those pairs is far from
// deciding: the center is much farther than the candidate's current
// distance. Where the CPU has AVX512_BF16, a pass first runs its tiles in
// bfloat16: the rows and centers rounded to 8 significant bits, products
// exact and summed in float32 (VDPBF16PS), at about twice the float32
// kernel's rate. The rounding costs a wider but still rigorous margin
// (screenGamma), so a clear mask bit still proves the center no closer
// than the candidate's distance; the few pairs it leaves are tested
// again with the float32 bound of that one pair and, if still open, with
// the exact float64 distance. The values, and the picks, are those of the
// float32 tile.
//
// The screen is used where the dimension is a multiple of 16 (the
// kernel converts rows 16 values at a time); other dimensions run the
// float32 tile.

// screenGamma is the relative factor of the screen's error bound over dim
// dimensions. With u = 2^-8 the unit roundoff of bfloat16 (round to
// nearest even), |x̂ĉ − xc| <= (2u+u²)·|x|·|c| per product (values below
// 2^-126 flushed to zero: see screenSlack); the products of two bfloat16
// are exact in float32, and their float32 sum errs as the float32 tile's
// does (γ, tileGamma). So |dot̂ − dot| <= ((2u+u²)(1+γ) + γ)·Σ|x_k·c_k|,
// and Σ|x_k·c_k| <= (‖x‖²+‖c‖²)/2; the tile's lb = s − 2·dot̂ − gamma·s −
// slack needs gamma >= twice that factor. 2(2u+u²) = 2^-6 + 2^-15, and the
// 2^-12 added to it covers that 2^-15 and the cross term 2^-6·γ for any
// dimension below 2^14 (γ < 2^-9); tileNormGamma covers γ and the float32
// norms with its own margin, which also holds the cross term beyond.
func screenGamma(dim int) float64 { return tileNormGamma(dim) + 0x1p-6 + 0x1p-12 }

// screenSlack is the absolute part of the screen's bound: every product
// and partial sum below 2^-126 flushed to zero errs by less than 2^-126
// (2·dim of them), and a row or column value flushed at conversion errs
// by less than 2^-126 times the other value, Σ|c_k| <= √dim·‖c‖ <=
// √dim·(1+‖c‖²)/2: the √dim·2^-126 term is here, and the ‖c‖² one is far
// inside screenGamma's room. All negligible beside any distance.
func screenSlack(dim int) float64 {
	return 4*tileSlack(dim) + 2*math.Sqrt(float64(dim))*0x1p-126
}

// screenOK reports whether the screen runs on rows of dim values.
func screenOK(dim int) bool { return kern.screen != nil && dim%16 == 0 }

// toBF16 rounds x to bfloat16, to nearest even, flushing values below
// 2^-126 to signed zero as the hardware conversion does. Finite inputs
// only (a value near the float32 maximum may round to infinity, which the
// mask treats as unproven).
func toBF16(x float32) uint16 {
	b := math.Float32bits(x)
	if b&0x7f800000 == 0 {
		return uint16(b>>16) & 0x8000
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// fromBF16 widens a bfloat16 to float32 (exact).
func fromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// fillPanel16 writes the first n rows of crow (row-major, dim values each)
// into panel16 as the screen's columns: word p·tileCols+j holds column j's
// values 2p (low half) and 2p+1 (high half) in bfloat16. Columns n and
// after are zero.
func fillPanel16(panel16 []uint32, crow []float32, n, dim int) {
	panel16 = panel16[:dim/2*tileCols]
	clear(panel16)
	for j := 0; j < n; j++ {
		c := crow[j*dim : (j+1)*dim]
		for p := 0; p < dim/2; p++ {
			panel16[p*tileCols+j] = uint32(toBF16(c[2*p])) | uint32(toBF16(c[2*p+1]))<<16
		}
	}
}

// screenGo is the portable screen: the same roundings as the AVX512_BF16
// kernel, the float32 sums in a fixed order (the bound holds for any).
func screenGo(t *tile) {
	panel := unsafe.Slice(t.panel16, t.dim/2*tileCols)
	for r := 0; r < t.nrows; r++ {
		row := unsafe.Slice(t.rows[r], t.dim)
		acc := &t.dots[r]
		*acc = [tileCols]float32{}
		for p := 0; p < t.dim/2; p++ {
			x0, x1 := fromBF16(toBF16(row[2*p])), fromBF16(toBF16(row[2*p+1]))
			w := (*[tileCols]uint32)(panel[p*tileCols:])
			for j := range acc {
				acc[j] += x1 * fromBF16(uint16(w[j]>>16))
				acc[j] += x0 * fromBF16(uint16(w[j]))
			}
		}
	}
	tileMaskGo(t)
}
