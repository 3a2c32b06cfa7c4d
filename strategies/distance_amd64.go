package strategies

import "golang.org/x/sys/cpu"

// The assembly kernels are only used where the CPU has AVX2 and FMA; they
// are memory-bound on large matrices where the portable loops are not.
// One kernel is chosen per process, so every distance is computed the same
// way in every path of a run.

//go:noescape
func sqDistAVX2(a, b []float32) float64

//go:noescape
func sqDistBlocksAVX2(a, b []float32, s, lim2 float64) (sum float64, n int)

//go:noescape
func sqDist32AVX2(a, b []float32) float32

//go:noescape
func sqDist32x4AVX2(q, rows []float32, dim int, out *[4]float32)

//go:noescape
func prefetchAVX2(p *float32, bytes int)

//go:noescape
func dot4x3AVX2(x0, x1, x2, x3, c *float32, stride, dim int, out *[12]float32)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		sqDistImpl = func(a, b []float32) float64 { return sqDistAVX2(a, b[:len(a)]) }
		sqDistBlocksImpl = func(a, b []float32, s, lim2 float64) (float64, int) {
			return sqDistBlocksAVX2(a, b[:len(a)], s, lim2)
		}
		prefetchImpl = func(row []float32) {
			if len(row) > 0 {
				prefetchAVX2(&row[0], 4*len(row))
			}
		}
		dot4x3Impl = func(x *[4][]float32, c []float32, dim int, out *[12]float32) {
			_ = c[3*dim-1]
			for _, r := range x {
				_ = r[dim-1]
			}
			dot4x3AVX2(&x[0][0], &x[1][0], &x[2][0], &x[3][0], &c[0], dim, dim, out)
		}
		sqDist32Impl = func(a, b []float32) float32 { return sqDist32AVX2(a, b[:len(a)]) }
		sqDist32x4Impl = func(q, rows []float32, out *[4]float32) bool {
			if len(q)%16 != 0 || len(q) == 0 {
				return false
			}
			_ = rows[4*len(q)-1]
			sqDist32x4AVX2(q, rows, len(q), out)
			return true
		}
	}
}
