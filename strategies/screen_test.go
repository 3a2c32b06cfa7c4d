package strategies

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// screenSets returns the kernel sets with a bfloat16 screen.
func screenSets() []*kernelSet {
	var out []*kernelSet
	for _, ks := range kernelSets() {
		if ks.screen != nil {
			out = append(out, ks)
		}
	}
	return out
}

// wideVec returns n values spread over many binades, a few of them
// below 2^-126 (flushed by the conversion) and some zero, so bfloat16
// rounding errs as much as it can relative to the vector's norm.
func wideVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r.IntN(10) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = float32(math.Ldexp(r.Float64()+1, -127-r.IntN(20))) // subnormal
		default:
			v[i] = float32(math.Ldexp(r.NormFloat64(), r.IntN(40)-20))
		}
	}
	return v
}

// TestScreenKernels checks every screen against exact arithmetic: the
// tile's lower bound lb = s − 2·dot − gamma·s − slack, from the screen's
// dots at screenGamma, never exceeds the exact squared distance (so a
// clear mask bit proves what the float32 tile's does), on unit-scale,
// near-duplicate and wide-range data; the masks are tileMaskGo's of the
// same dots; and the native screen's dots agree with the portable one's
// within float32 rounding (both round the same bfloat16 products).
func TestScreenKernels(t *testing.T) {
	sets := screenSets()
	if len(sets) == 0 {
		t.Fatal("no screen kernel set (the portable one is always there)")
	}
	r := rand.New(rand.NewPCG(71, 72))
	for _, dim := range []int{16, 32, 48, 64, 112, 512, 784} {
		for nrows := 1; nrows <= tileRows; nrows++ {
			for kind := 0; kind < 3; kind++ {
				screenCase(t, r, sets, dim, nrows, kind)
			}
		}
	}
}

func screenCase(t *testing.T, r *rand.Rand, sets []*kernelSet, dim, nrows, kind int) {
	t.Helper()
	gen := func() []float32 {
		if kind == 2 {
			return wideVec(r, dim)
		}
		return randVec(r, dim, 1)
	}
	ncols := []int{64, 1, 37, 63}[(dim/16+nrows)%4]
	rows := make([][]float32, tileRows)
	for i := range rows {
		rows[i] = gen()
	}
	cols := make([][]float32, ncols)
	for j := range cols {
		cols[j] = gen()
		if kind == 1 && j%3 == 0 { // near a row: the bound is what decides
			for k := range cols[j] {
				cols[j][k] = rows[j%nrows][k] * float32(1+r.NormFloat64()*1e-3)
			}
		}
	}
	crow := make([]float32, tileCols*dim)
	for j, c := range cols {
		copy(crow[j*dim:], c)
	}
	panel16 := make([]uint32, dim/2*tileCols)
	fillPanel16(panel16, crow, ncols, dim)
	rowbuf := make([]uint32, tileRows*dim/2)
	var bn, zero [tileCols]float64
	var t0 tile
	for j := range cols {
		bn[j] = float64(sqNorm32Go(cols[j]))
	}
	for i := range rows {
		t0.rows[i] = &rows[min(i, nrows-1)][0]
		t0.an[i] = float64(sqNorm32Go(rows[i]))
		t0.rthr[i] = refSqDist(rows[i], cols[i%ncols]) * (0.5 + r.Float64())
	}
	panel := make([]float32, dim*tileCols) // unused by the screen; checkTile wants one
	t0.panel, t0.dim, t0.nrows, t0.bn, t0.cthr = &panel[0], dim, nrows, &bn, &zero
	t0.gamma, t0.slack, t0.colmask = screenGamma(dim), screenSlack(dim), colMask(ncols)
	t0.panel16, t0.rowbuf = &panel16[0], &rowbuf[0]
	if kind > 0 {
		t0.pf, t0.pfBytes = prefetchRows(t0.rows), 4*dim // prefetching (or not) changes nothing
	}
	var portable *tile
	for _, ks := range sets {
		tl := t0
		ks.screen(&tl)
		for i := 0; i < nrows; i++ {
			for j := 0; j < ncols; j++ {
				d := float64(tl.dots[i][j])
				if math.IsInf(d, 0) || math.IsNaN(d) {
					if tl.masks[i]&(1<<j) == 0 {
						t.Fatalf("%s dim %d: overflowed dot (%d,%d) with a clear mask bit", ks.name, dim, i, j)
					}
					continue
				}
				s := tl.an[i] + bn[j]
				lb := s - 2*d - tl.gamma*s - tl.slack
				if exact := refSqDist(rows[i], cols[j]); lb > exact {
					t.Fatalf("%s dim %d kind %d: pair (%d,%d): screen bound %v above the exact squared distance %v", ks.name, dim, kind, i, j, lb, exact)
				}
			}
		}
		check := tl
		tileMaskGo(&check)
		if tl.masks != check.masks {
			t.Fatalf("%s dim %d rows %d: masks %#x, portable masks of the same dots %#x", ks.name, dim, nrows, tl.masks, check.masks)
		}
		if portable == nil {
			portable = &tl
			continue
		}
		for i := 0; i < nrows; i++ {
			for j := 0; j < ncols; j++ {
				a, b := float64(tl.dots[i][j]), float64(portable.dots[i][j])
				if tol := tileNormGamma(dim) * (tl.an[i] + bn[j]); math.Abs(a-b) > tol+screenSlack(dim) && !math.IsInf(a, 0) {
					t.Fatalf("%s dim %d: dot (%d,%d) is %v, portable screen %v", ks.name, dim, i, j, a, b)
				}
			}
		}
	}
}

// TestToBF16 checks the rounding against big.Float's round to nearest
// even at 8 significant bits, on random values of every binade and on
// the edges: ties both ways, subnormals (flushed to signed zero), and
// the largest values (which round to infinity).
func TestToBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1 + 1.0/256, 1 + 3.0/256, 1 + 1.0/512, -(1 + 3.0/512),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Ldexp(1, -126)),
		float32(math.Ldexp(1.99, -127))}
	for range 100000 {
		vals = append(vals, math.Float32frombits(r.Uint32()&^0x7f800000|uint32(1+r.IntN(254))<<23))
	}
	for _, x := range vals {
		got := fromBF16(toBF16(x))
		var want float32
		switch {
		case math.Float32bits(x)&0x7f800000 == 0:
			want = float32(math.Copysign(0, float64(x)))
		default:
			f := new(big.Float).SetPrec(8).SetMode(big.ToNearestEven).SetFloat64(float64(x))
			w, _ := f.Float64()
			want = float32(w) // exact, or ±Inf past the float32 range
			if math.Abs(w) > math.MaxFloat32 {
				want = float32(math.Inf(int(math.Copysign(1, w))))
			}
		}
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("toBF16(%v = %#x) = %v, want %v", x, math.Float32bits(x), got, want)
		}
	}
}

// TestScreenedPasses runs selections whose deferred passes take the
// screen (dimensions that are multiples of 16, enough picks for several
// passes) on data where it must not decide alone: clustered with exact
// duplicates, a grid with many equal distances, wide-range values, and
// float16 rows; allPaths compares every path and kernel set (screened,
// unscreened, straightforward).
func TestScreenedPasses(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	grid := func(n, dim int) []float32 {
		v := make([]float32, n*dim)
		for i := range v {
			v[i] = float32(r.IntN(3))
		}
		return v
	}
	wide := func(n, dim int) []float32 {
		v := make([]float32, 0, n*dim)
		for i := 0; i < n; i++ {
			v = append(v, wideVec(r, dim)...)
		}
		return v
	}
	cases := []struct {
		name   string
		n, dim int
		v      func(n, dim int) []float32
	}{
		{"clustered 16", 1500, 16, func(n, dim int) []float32 { return clustered(r, n, dim) }},
		{"clustered 48", 1200, 48, func(n, dim int) []float32 { return clustered(r, n, dim) }},
		{"grid 32", 1000, 32, grid},
		{"wide 64", 800, 64, wide},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v(tc.n, tc.dim)
			p := Problem{Rows: tc.n, Candidates: tc.n, Picks: 300, Strategies: []Strategy{mustDiv(t, v, tc.dim, 1)}}
			allPaths(t, p)
			if tc.name == "clustered 48" {
				h := make([]uint16, len(v))
				for i, x := range v {
					h[i] = ToFloat16(x)
				}
				d, err := NewDiversity(Vectors{Dim: tc.dim, F16: h}, 1)
				if err != nil {
					t.Fatal(err)
				}
				p.Strategies = []Strategy{d}
				allPaths(t, p)
			}
		})
	}
}

// prefetchRows is a tile's rows as prefetch addresses.
func prefetchRows(rows [tileRows]*float32) [tileRows]unsafe.Pointer {
	var pf [tileRows]unsafe.Pointer
	for r, p := range rows {
		pf[r] = unsafe.Pointer(p)
	}
	return pf
}
