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

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := 0; n < 80; n++ {
		a, b := make([]float32, n), make([]float32, n+3)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()*100), float32(r.NormFloat64())
		}
		want := refSqDist(a, b)
		for name, k := range map[string]func(a, b []float32) float64{"go": sqDistGo, "impl": sqDistImpl} {
			if got := k(a, b); math.Abs(got-want) > 1e-12*want {
				t.Errorf("%s n=%d: %v, want %v", name, n, got, want)
			}
		}
		for name, k := range map[string]func(a, b []float32) float32{"go": sqDist32Go, "impl": sqDist32Impl} {
			if got := float64(k(a, b)); math.Abs(got-want) > 1e-5*want {
				t.Errorf("float32 %s n=%d: %v, want %v", name, n, got, want)
			}
		}
	}
	// Exact for small integers, whatever the summation order: exact ties
	// stay exact.
	a, b := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, []float32{0, 0, 0, 0, 0, 0, 0, 0, 0}
	if sqDistImpl(a, b) != 285 || sqDist32Impl(a, b) != 285 {
		t.Error("integer distances not exact")
	}
}

func benchKernel(b *testing.B, dim int, k func(a, b []float32) float64) {
	const rows = 4096
	v := make([]float32, rows*dim)
	for i := range v {
		v[i] = float32(i%13) * 0.1
	}
	q := v[:dim]
	b.SetBytes(int64(rows * dim * 4))
	var s float64
	for b.Loop() {
		for i := 0; i < rows; i++ {
			s += k(q, v[i*dim:(i+1)*dim])
		}
	}
	_ = s
}

func BenchmarkSqDist512Go(b *testing.B)   { benchKernel(b, 512, sqDistGo) }
func BenchmarkSqDist512Impl(b *testing.B) { benchKernel(b, 512, sqDistImpl) }
func BenchmarkSqDist32Go(b *testing.B) {
	benchKernel(b, 128, func(a, b []float32) float64 { return float64(sqDist32Go(a, b)) })
}
func BenchmarkSqDist32Impl(b *testing.B) {
	benchKernel(b, 128, func(a, b []float32) float64 { return float64(sqDist32Impl(a, b)) })
}

func TestKernel32x4(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, dim := range []int{16, 32, 128, 8, 17} {
		q, rows := make([]float32, dim), make([]float32, 4*dim)
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		for i := range rows {
			rows[i] = float32(r.NormFloat64())
		}
		var out [4]float32
		if !sqDist32x4Impl(q, rows, &out) {
			continue // no kernel here: callers fall back to sqDist32Impl
		}
		for k := range out {
			want := refSqDist(q, rows[k*dim:(k+1)*dim])
			if math.Abs(float64(out[k])-want) > 1e-5*want {
				t.Errorf("dim %d row %d: %v, want %v", dim, k, out[k], want)
			}
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

// TestBlocksKernel checks that the one-call blocked sum is bit-identical to
// the portable loop of per-block kernel calls, stops at the same block, and
// that sqDist still equals the per-block sum it has always been.
func TestBlocksKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 3000; trial++ {
		n := r.IntN(600)
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()*3), float32(r.NormFloat64())
		}
		s0 := float64(r.IntN(3))
		perBlock := 0.0
		for lo := 0; lo < n; lo += distBlock {
			perBlock += sqDistImpl(a[lo:min(lo+distBlock, n)], b[lo:min(lo+distBlock, n)])
		}
		if got := sqDist(a, b); n > 0 && got != perBlock {
			t.Fatalf("n=%d: sqDist %v, per-block sum %v", n, got, perBlock)
		}
		for _, lim2 := range []float64{math.Inf(1), 0, perBlock / 2, perBlock, math.Nextafter(perBlock, 0), perBlock / 7} {
			ws, wn := sqDistBlocksGo(a, b, s0, lim2)
			gs, gn := sqDistBlocksImpl(a, b, s0, lim2)
			if gs != ws || gn != wn {
				t.Fatalf("n=%d lim2=%v: kernel (%v, %d), portable (%v, %d)", n, lim2, gs, gn, ws, wn)
			}
		}
	}
}

// TestFarEnough32 checks the float32 bound against the float64 distance on
// rows of very different magnitudes (down to subnormal differences and up
// to overflow) and limits just below, at and above the distance: it may
// only claim what the distance reaches, and must settle clear cases.
func TestFarEnough32(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
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
					t.Fatalf("dim %d scale %g: claims %v >= %v but the distance is %v", dim, scale, exact, lim*skipMargin, exact)
				}
				if f == 0.5 && scale > 1e-15 && scale < 1e15 && exact > 0 {
					settled++
				}
			}
		}
	}
	// Squares of moderate magnitudes neither overflow nor underflow in
	// float32: there every clear case (half the distance) is settled.
	if settled != moderate {
		t.Errorf("settled %d of %d clear cases of moderate magnitude", settled, moderate)
	}
}

// TestDot4x3 compares the tiled dot-product kernel with float64 dot
// products within the float32 error bound the deferred batches rely on.
func TestDot4x3(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, dim := range []int{8, 16, 64, 512, 776} {
		var x [4][]float32
		for i := range x {
			x[i] = make([]float32, dim)
			for k := range x[i] {
				x[i][k] = float32(r.NormFloat64() * 3)
			}
		}
		c := make([]float32, 3*dim)
		for k := range c {
			c[k] = float32(r.NormFloat64() * 3)
		}
		var out [12]float32
		if dot4x3Impl == nil {
			t.Skip("no tiled kernel on this CPU")
		}
		dot4x3Impl(&x, c, dim, &out)
		for j := 0; j < 3; j++ {
			for i := 0; i < 4; i++ {
				want, mag := 0.0, 0.0
				for k := 0; k < dim; k++ {
					p := float64(x[i][k]) * float64(c[j*dim+k])
					want += p
					mag += math.Abs(p)
				}
				if math.Abs(float64(out[4*j+i])-want) > float64(dim+8)*0x1p-23*mag {
					t.Fatalf("dim %d: row %d center %d: %v, want %v", dim, i, j, out[4*j+i], want)
				}
			}
		}
	}
}
