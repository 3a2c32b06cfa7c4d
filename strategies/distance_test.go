package strategies

import (
	"math"
	"math/rand/v2"
	"testing"
)

func refSqDist(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

// withKernels runs fn with ks as the process's kernel set.
func withKernels(ks *kernelSet, fn func()) {
	old := kern
	kern = ks
	defer func() { kern = old }()
	fn()
}

// kernelDims are the lengths the kernel tests try: every length up to
// 80, then around the tile and block sizes, odd ones included.
func kernelDims() []int {
	var d []int
	for n := 0; n <= 80; n++ {
		d = append(d, n)
	}
	return append(d, 127, 128, 129, 255, 256, 257, 500, 511, 512, 513, 777, 1000, 1024)
}

// randHalf returns random float32 values exactly representable in float16.
func randHalf(r *rand.Rand, n int, scale float64) ([]uint16, []float32) {
	h := make([]uint16, n)
	f := make([]float32, n)
	for i := range h {
		h[i] = ToFloat16(float32(r.NormFloat64() * scale))
		f[i] = FromFloat16(h[i])
	}
	return h, f
}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// TestKernelSetsAgree checks every kernel set against the portable one:
// the float64 distances bit for bit (float32 and float16 rows, whole and
// blocked with every stopping point), the float32 kernels within their
// rounding, the float16 conversions exactly.
func TestKernelSetsAgree(t *testing.T) {
	sets := kernelSets()
	t.Logf("kernel sets: %d, in use: %s", len(sets), kern.name)
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range kernelDims() {
		for trial := 0; trial < 4; trial++ {
			scale := []float64{1, 100, 1e-3, 3}[trial]
			ah, af := randHalf(r, n, scale)
			b := randVec(r, n+3, scale)
			want := sqDistGo(af, b)
			if ref := refSqDist(af, b); math.Abs(want-ref) > 1e-12*ref {
				t.Fatalf("n=%d: portable kernel %v, reference %v", n, want, ref)
			}
			w32 := refSqDist(af, b)
			var wb [3]float64
			var wn [3]int
			lims := []float64{math.Inf(1), want / 3, want / 2}
			for i, l := range lims {
				wb[i], wn[i] = sqBlocksGo(af, b, 0.5, l)
			}
			for _, ks := range sets {
				if got := ks.sqDist(af, b[:n]); got != want {
					t.Fatalf("%s n=%d: sqDist %v, portable %v", ks.name, n, got, want)
				}
				if got := ks.sqDist16(ah, b[:n]); got != want {
					t.Fatalf("%s n=%d: sqDist16 %v, float32 copy %v", ks.name, n, got, want)
				}
				for i, l := range lims {
					gs, gn := ks.sqBlocks(af, b[:n], 0.5, l)
					hs, hn := ks.sqBlocks16(ah, b[:n], 0.5, l)
					if gs != wb[i] || gn != wn[i] || hs != wb[i] || hn != wn[i] {
						t.Fatalf("%s n=%d lim2=%v: blocks (%v,%d) and (%v,%d), portable (%v,%d)", ks.name, n, l, gs, gn, hs, hn, wb[i], wn[i])
					}
				}
				if got := float64(ks.sqDist32(af, b[:n])); math.Abs(got-w32) > float64(n+8)*0x1p-23*w32 {
					t.Errorf("%s n=%d: sqDist32 %v, want %v", ks.name, n, got, w32)
				}
				if got := float64(ks.sqDist32h(ah, b[:n])); math.Abs(got-w32) > float64(n+8)*0x1p-23*w32 {
					t.Errorf("%s n=%d: sqDist32h %v, want %v", ks.name, n, got, w32)
				}
				nrm := refSqDist(af, make([]float32, n))
				if got := float64(ks.sqNorm32(af)); math.Abs(got-nrm) > float64(n+8)*0x1p-23*nrm {
					t.Errorf("%s n=%d: sqNorm32 %v, want %v", ks.name, n, got, nrm)
				}
				if got := float64(ks.sqNorm32h(ah)); math.Abs(got-nrm) > float64(n+8)*0x1p-23*nrm {
					t.Errorf("%s n=%d: sqNorm32h %v, want %v", ks.name, n, got, nrm)
				}
				dec := make([]float32, n)
				ks.decode16(dec, ah)
				enc := make([]uint16, n)
				ks.encode16(enc, b[:n])
				for i := range dec {
					if math.Float32bits(dec[i]) != math.Float32bits(af[i]) {
						t.Fatalf("%s: decode16(%#04x) = %v, want %v", ks.name, ah[i], dec[i], af[i])
					}
					if enc[i] != ToFloat16(b[i]) {
						t.Fatalf("%s: encode16(%v) = %#04x, want %#04x", ks.name, b[i], enc[i], ToFloat16(b[i]))
					}
				}
			}
		}
	}
	// Exact for small integers, whatever the summation order: exact ties
	// stay exact.
	a, z := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, make([]float32, 9)
	for _, ks := range sets {
		if ks.sqDist(a, z) != 285 || ks.sqDist32(a, z) != 285 {
			t.Errorf("%s: integer distances not exact", ks.name)
		}
	}
}

// TestFloat16Conversions checks FromFloat16 on every bit pattern (against
// the definition: sign, exponent, fraction) and ToFloat16 as the nearest
// binary16 value, ties to even, on random and boundary floats.
func TestFloat16Conversions(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		x := float64(FromFloat16(uint16(h)))
		e, m := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch e {
		case 0:
			want = float64(m) * 0x1p-24
		case 0x1f:
			want = math.Inf(1)
			if m != 0 {
				want = math.NaN()
			}
		default:
			want = (1 + float64(m)/1024) * math.Ldexp(1, e-15)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if !(x == want || math.IsNaN(x) && math.IsNaN(want)) || x == 0 && math.Signbit(x) != (h&0x8000 != 0) {
			t.Fatalf("FromFloat16(%#04x) = %v, want %v", h, x, want)
		}
		if e != 0x1f || m == 0 {
			if back := ToFloat16(float32(x)); back != uint16(h) {
				t.Fatalf("ToFloat16(FromFloat16(%#04x)) = %#04x", h, back)
			}
		}
	}
	// Nearest: compare with the two neighbouring binary16 values.
	r := rand.New(rand.NewPCG(2, 3))
	xs := []float32{65504, 65519.99, 65520, 1e9, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26, 6.1e-5, 1.00048828125, 1.000244140625}
	for i := 0; i < 200000; i++ {
		xs = append(xs, float32(r.NormFloat64()*math.Pow(2, float64(r.IntN(40)-25))))
	}
	for _, x := range xs {
		for _, x := range []float32{x, -x} {
			h := ToFloat16(x)
			got := float64(FromFloat16(h))
			if math.IsInf(got, 0) {
				if math.Abs(float64(x)) < 65520 {
					t.Fatalf("ToFloat16(%v) overflows", x)
				}
				continue
			}
			for _, nb := range []uint16{h + 1, h - 1} {
				other := float64(FromFloat16(nb))
				if nb&0x7c00 == 0x7c00 || (nb^h)&0x8000 != 0 {
					continue
				}
				dg, do := math.Abs(got-float64(x)), math.Abs(other-float64(x))
				if do < dg || do == dg && h&1 == 1 {
					t.Fatalf("ToFloat16(%v) = %v, but %v is nearer (or even)", x, got, other)
				}
			}
		}
	}
}

// TestTileKernels checks every set's tile against float64 dot products
// within tileGamma's bound, its masks against tileMaskGo on the same dots
// bit for bit, and the masks' promise (a clear bit proves d² >= thr)
// against exact distances, for odd dimensions, every row count and both
// threshold orientations; and runMask, which recomputes only the masks
// at new thresholds, against tileMaskGo.
func TestTileKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, dim := range []int{1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 100, 511, 512, 777} {
		for nrows := 1; nrows <= tileRows; nrows++ {
			ncols := []int{64, 1, 37, 63}[(dim+nrows)%4]
			rows := make([][]float32, tileRows)
			for i := range rows {
				rows[i] = randVec(r, dim, 1)
			}
			cols := make([][]float32, ncols)
			for j := range cols {
				cols[j] = randVec(r, dim, 1)
				if j%5 == 0 { // near one of the rows: thresholds bite
					for k := range cols[j] {
						cols[j][k] = rows[j%nrows][k] + float32(r.NormFloat64()*0.05)
					}
				}
			}
			panel := make([]float32, dim*tileCols)
			transposeInto(panel, cols, dim)
			var bn, cthr, zero [tileCols]float64
			var t0 tile
			for j := range cols {
				bn[j] = float64(sqNorm32Go(cols[j]))
			}
			for i := range rows {
				t0.rows[i] = &rows[min(i, nrows-1)][0]
				t0.an[i] = float64(sqNorm32Go(rows[i]))
			}
			t0.panel, t0.dim, t0.nrows, t0.bn = &panel[0], dim, nrows, &bn
			t0.gamma, t0.slack, t0.colmask = tileNormGamma(dim), tileSlack(dim), colMask(ncols)
			for orient := 0; orient < 2; orient++ {
				// Thresholds around the true squared distances.
				for i := 0; i < tileRows; i++ {
					t0.rthr[i] = 0
					if orient == 0 {
						t0.rthr[i] = refSqDist(rows[i], cols[i%ncols]) * (0.5 + r.Float64())
					}
				}
				for j := range cthr {
					cthr[j] = 0
					if orient == 1 && j < ncols {
						cthr[j] = refSqDist(rows[0], cols[j]) * (0.5 + r.Float64())
					}
				}
				t0.cthr = &cthr
				if orient == 0 {
					t0.cthr = &zero
				}
				for _, ks := range kernelSets() {
					tl := t0
					ks.runTile(&tl)
					// Prefetching rows (the next tile's, in a pass)
					// changes nothing.
					pf := t0
					pf.pf, pf.pfBytes = prefetchRows(t0.rows), 4*dim
					ks.runTile(&pf)
					if pf.dots != tl.dots || pf.masks != tl.masks {
						t.Fatalf("%s dim %d rows %d: prefetching changed the tile", ks.name, dim, nrows)
					}
					// A column-chunk range computes the same dots
					// (within rounding: the order of the sums may differ).
					part := t0
					part.c0 = r.IntN(4)
					part.c1 = part.c0 + 1 + r.IntN(4-part.c0)
					ks.runTile(&part)
					for i := 0; i < nrows; i++ {
						for j := 16 * part.c0; j < 16*part.c1; j++ {
							if d := float64(part.dots[i][j] - tl.dots[i][j]); math.Abs(d) > float64(dim+2)*0x1p-23*max(1, math.Abs(float64(tl.dots[i][j]))) {
								t.Fatalf("%s dim %d: chunks %d..%d: dot (%d,%d) is %v, whole tile %v", ks.name, dim, part.c0, part.c1, i, j, part.dots[i][j], tl.dots[i][j])
							}
						}
					}
					check := tl
					tileMaskGo(&check)
					// The mask alone, at the other orientation's
					// thresholds: what the portable masks say there.
					again, want := tl, tl
					var colThr [tileCols]float64
					for j := 0; j < ncols; j++ {
						colThr[j] = refSqDist(rows[j%nrows], cols[j]) * (0.5 + r.Float64())
					}
					again.rthr, again.cthr = [tileRows]float64{}, &colThr
					if orient == 1 {
						again.rthr, again.cthr = t0.rthr, &zero
						for i := range again.rthr {
							again.rthr[i] = refSqDist(rows[i], cols[i%ncols])
						}
					}
					want.rthr, want.cthr = again.rthr, again.cthr
					ks.runMask(&again)
					tileMaskGo(&want)
					if again.masks != want.masks {
						t.Fatalf("%s dim %d rows %d: masks alone %#x, portable %#x", ks.name, dim, nrows, again.masks, want.masks)
					}
					for i := 0; i < tileRows; i++ {
						if tl.masks[i] != check.masks[i] {
							t.Fatalf("%s dim %d rows %d: row %d mask %#x, portable mask of the same dots %#x", ks.name, dim, nrows, i, tl.masks[i], check.masks[i])
						}
						if i >= nrows {
							continue
						}
						for j := 0; j < ncols; j++ {
							want, mag := 0.0, 0.0
							for k := 0; k < dim; k++ {
								p := float64(rows[i][k]) * float64(cols[j][k])
								want += p
								mag += math.Abs(p)
							}
							if math.Abs(float64(tl.dots[i][j])-want) > float64(dim+2)*0x1p-24*mag*1.0001 {
								t.Fatalf("%s dim %d: dot[%d][%d] %v, want %v", ks.name, dim, i, j, tl.dots[i][j], want)
							}
							thr := tl.rthr[i] + tl.cthr[j]
							if tl.masks[i]&(1<<j) == 0 && refSqDist(rows[i], cols[j]) < thr {
								t.Fatalf("%s dim %d: pair (%d,%d) ruled out with d² %v < thr %v", ks.name, dim, i, j, refSqDist(rows[i], cols[j]), thr)
							}
						}
					}
				}
			}
		}
	}
}

// TestBelow compares the sets' threshold masks with the portable one,
// NaNs and equal values included.
func TestBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 1000; trial++ {
		var v [64]float64
		lim := r.NormFloat64()
		for j := range v {
			switch r.IntN(10) {
			case 0:
				v[j] = math.NaN()
			case 1:
				v[j] = lim
			case 2:
				v[j] = math.Inf(1 - 2*r.IntN(2))
			default:
				v[j] = r.NormFloat64()
			}
		}
		want := belowGo(&v, lim)
		for _, ks := range kernelSets() {
			if got := ks.below(&v, lim); got != want {
				t.Fatalf("%s: mask %#x, want %#x", ks.name, got, want)
			}
		}
	}
}

// TestTileOverflow: a float32 dot product that overflows proves nothing.
func TestTileOverflow(t *testing.T) {
	const dim = 16
	row := make([]float32, dim)
	col := make([]float32, dim)
	for k := range row {
		row[k], col[k] = 3e38, -3e38
	}
	panel := make([]float32, dim*tileCols)
	transposeInto(panel, [][]float32{col}, dim)
	var bn, cthr [tileCols]float64
	for _, ks := range kernelSets() {
		tl := tile{panel: &panel[0], dim: dim, nrows: 1, bn: &bn, cthr: &cthr, colmask: 1}
		for i := range tl.rows {
			tl.rows[i] = &row[0]
		}
		tl.an[0] = math.MaxFloat64 / 4 // a large finite norm
		ks.runTile(&tl)
		if !math.IsInf(float64(tl.dots[0][0]), -1) || tl.masks[0] != 1 {
			t.Errorf("%s: dot %v, mask %#x: an overflowed dot must not rule the pair out", ks.name, tl.dots[0][0], tl.masks[0])
		}
	}
}

func TestDistUpTo(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + r.IntN(300)
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		full := dist(a, b)
		if math.Abs(full*full-refSqDist(a, b)) > 1e-12*full*full {
			t.Fatalf("n=%d: dist %v, reference %v", n, full*full, refSqDist(a, b))
		}
		// limits around the distance itself, where rounding could matter
		for _, limit := range []float64{full, math.Nextafter(full, 0), math.Nextafter(full, 10), full / 2, full * 2, 0, math.Inf(1)} {
			got := distUpTo(a, b, limit)
			if (got < limit) != (full < limit) || (full < limit && got != full) {
				t.Fatalf("n=%d limit %v: distUpTo %v, dist %v", n, limit, got, full)
			}
		}
	}
}

// TestBlocksKernel checks that sqDist is the per-block sum it has always
// been, for float32 and float16 rows.
func TestBlocksKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 3000; trial++ {
		n := r.IntN(600)
		ah, a := randHalf(r, n, 3)
		b := randVec(r, n, 1)
		perBlock := 0.0
		for lo := 0; lo < n; lo += distBlock {
			perBlock += kern.sqDist(a[lo:min(lo+distBlock, n)], b[lo:min(lo+distBlock, n)])
		}
		if got := sqDist(a, b); n > 0 && got != perBlock {
			t.Fatalf("n=%d: sqDist %v, per-block sum %v", n, got, perBlock)
		}
		if got := sqDistUpTo16(ah, b, math.Inf(1)); n > 0 && got != perBlock {
			t.Fatalf("n=%d: float16 sqDist %v, per-block sum %v", n, got, perBlock)
		}
	}
}

// TestFarEnough32 checks the float32 bound against the float64 distance on
// rows of very different magnitudes (down to subnormal differences and up
// to overflow) and limits just below, at and above the distance: it may
// only claim what the distance reaches, and must settle clear cases.
func TestFarEnough32(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, ks := range kernelSets() {
		withKernels(ks, func() {
			settled, moderate := 0, 0
			for trial := 0; trial < 3000; trial++ {
				dim := 1 + r.IntN(700)
				scale := math.Pow(10, float64(r.IntN(80)-40))
				a, b := make([]float32, dim), make([]float32, dim)
				for i := range a {
					a[i] = float32(r.NormFloat64() * scale)
					b[i] = a[i]
					if r.IntN(3) > 0 {
						b[i] = float32(r.NormFloat64() * scale)
					}
				}
				exact := dist(a, b)
				if scale > 1e-15 && scale < 1e15 && exact > 0 {
					moderate++
				}
				for _, f := range []float64{0.5, 0.99, 1 - 1e-6, 1 - 1e-9, 1, 1 + 1e-9, 2} {
					lim := exact * f
					if farEnough32(a, b, lim) {
						if exact < lim*skipMargin {
							t.Fatalf("%s dim %d scale %g: claims %v >= %v but the distance is %v", ks.name, dim, scale, exact, lim*skipMargin, exact)
						}
						if f == 0.5 && scale > 1e-15 && scale < 1e15 && exact > 0 {
							settled++
						}
					}
				}
			}
			// Squares of moderate magnitudes neither overflow nor
			// underflow in float32: there every clear case (half the
			// distance) is settled.
			if settled != moderate {
				t.Errorf("%s: settled %d of %d clear cases of moderate magnitude", ks.name, settled, moderate)
			}
		})
	}
}
