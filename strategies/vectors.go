package strategies

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/winnow-data/winnow/internal/half"
)

// Vectors is a row-major matrix of embeddings: row i is values
// [i·Dim, (i+1)·Dim) of F32, or of F16 for half-precision data. Exactly one
// of F32 and F16 is set.
//
// F16 holds IEEE 754 binary16 bit patterns. They stay 16-bit in memory: the
// kernels widen them to float32 as they load them (which is exact), so every
// distance is the one of the float32 matrix holding the same values, bit for
// bit, and a selection over F16 data equals the selection over its float32
// copy.
//
// Finite promises that every value is finite, as a reader that refused NaN
// and ±Inf while decoding knows; the constructors then skip their own check
// (one pass over the whole matrix). Without it they check on all cores.
type Vectors struct {
	Dim    int
	F32    []float32
	F16    []uint16
	Finite bool
}

// Rows returns the number of vectors.
func (v Vectors) Rows() int {
	if v.Dim <= 0 {
		return 0
	}
	if v.F16 != nil {
		return len(v.F16) / v.Dim
	}
	return len(v.F32) / v.Dim
}

// Half reports whether the values are float16.
func (v Vectors) Half() bool { return v.F16 != nil }

// Row returns row i as float32 values in dst (grown when it is too short).
func (v Vectors) Row(i int, dst []float32) []float32 {
	if cap(dst) < v.Dim {
		dst = make([]float32, v.Dim)
	}
	dst = dst[:v.Dim]
	if v.F16 != nil {
		kern.decode16(dst, v.F16[i*v.Dim:(i+1)*v.Dim])
	} else {
		copy(dst, v.F32[i*v.Dim:(i+1)*v.Dim])
	}
	return dst
}

// Slice returns rows lo..hi-1, sharing the values.
func (v Vectors) Slice(lo, hi int) Vectors {
	out := Vectors{Dim: v.Dim, Finite: v.Finite}
	if v.F16 != nil {
		out.F16 = v.F16[lo*v.Dim : hi*v.Dim]
	} else {
		out.F32 = v.F32[lo*v.Dim : hi*v.Dim]
	}
	return out
}

// checkShape verifies the dimension and that the values are whole rows of
// exactly one precision.
func (v Vectors) checkShape() error {
	if v.Dim <= 0 {
		return fmt.Errorf("dimension %d must be positive", v.Dim)
	}
	n := len(v.F32)
	switch {
	case v.F32 != nil && v.F16 != nil:
		return errors.New("vectors hold both float32 and float16 values")
	case v.F16 != nil:
		n = len(v.F16)
	}
	if n%v.Dim != 0 {
		return fmt.Errorf("%d values are not a whole number of %d-dimensional vectors", n, v.Dim)
	}
	return nil
}

// Check returns a *ValueError for the rows holding NaN or ±Inf, scanning
// the rows on up to workers goroutines (0: all cores). It ignores Finite.
func (v Vectors) Check(workers int) error {
	if err := v.checkShape(); err != nil {
		return err
	}
	const size = 4096 // rows a task
	rows := v.Rows()
	errs := make([]*ValueError, chunks(rows, size))
	parallel(workerCount(workers), len(errs), func(t int) {
		var e *ValueError
		for i := t * size; i < min((t+1)*size, rows); i++ {
			r := v.badRow(i)
			if r == "" {
				continue
			}
			if e == nil {
				e = &ValueError{Input: "vectors", Row: i, Reason: r}
			}
			e.Count++
		}
		errs[t] = e
	})
	var first *ValueError
	for _, e := range errs {
		switch {
		case e == nil:
		case first == nil:
			first = e
		default:
			first.Count += e.Count
		}
	}
	if first == nil {
		return nil
	}
	return first
}

// badRow names the first non-finite value of row i, or returns "". Only
// the exponent bits are tested in the loop; a hit is classified after.
func (v Vectors) badRow(i int) string {
	if v.F16 != nil {
		for _, h := range v.F16[i*v.Dim : (i+1)*v.Dim] {
			if h&0x7c00 == 0x7c00 {
				return badValue(float64(FromFloat16(h)), true)
			}
		}
		return ""
	}
	for _, x := range v.F32[i*v.Dim : (i+1)*v.Dim] {
		if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
			return badValue(float64(x), true)
		}
	}
	return ""
}

// validate checks the shape and, unless the caller vouched for them, the
// values, naming the strategy in errors.
func (v Vectors) validate(what string) error {
	if err := v.checkShape(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if v.Finite {
		return nil
	}
	if err := v.Check(0); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// sqDistTo is sqDist between row i and b (float32, len Dim).
func (v *Vectors) sqDistTo(i int, b []float32) float64 {
	d := v.Dim
	if v.F16 != nil {
		return sqDistUpTo16(v.F16[i*d:(i+1)*d], b, math.Inf(1))
	}
	return sqDistUpTo(v.F32[i*d:(i+1)*d], b, math.Inf(1))
}

// distTo is the Euclidean distance between row i and b.
func (v *Vectors) distTo(i int, b []float32) float64 { return math.Sqrt(v.sqDistTo(i, b)) }

// distUpTo is distUpTo between row i and b.
func (v *Vectors) distUpTo(i int, b []float32, limit float64) float64 {
	d := v.Dim
	if v.F16 != nil {
		return math.Sqrt(sqDistUpTo16(v.F16[i*d:(i+1)*d], b, limit))
	}
	return math.Sqrt(sqDistUpTo(v.F32[i*d:(i+1)*d], b, limit))
}

// farEnough32 is farEnough32 between row i and b.
func (v *Vectors) farEnough32(i int, b []float32, limit float64) bool {
	d := v.Dim
	if v.F16 != nil {
		return farEnough(float64(kern.sqDist32h(v.F16[i*d:(i+1)*d], b)), d, limit)
	}
	return farEnough(float64(kern.sqDist32(v.F32[i*d:(i+1)*d], b)), d, limit)
}

// sqNorm32 is the float32 sum of squares of row i (see tileNormGamma).
func (v *Vectors) sqNorm32(i int) float32 {
	d := v.Dim
	if v.F16 != nil {
		return kern.sqNorm32h(v.F16[i*d : (i+1)*d])
	}
	return kern.sqNorm32(v.F32[i*d : (i+1)*d])
}

// rowStart returns the address of row i's first value (float32 or
// float16), for the kernels' prefetches.
func (v *Vectors) rowStart(i int) unsafe.Pointer {
	if v.F16 != nil {
		return unsafe.Pointer(&v.F16[i*v.Dim])
	}
	return unsafe.Pointer(&v.F32[i*v.Dim])
}

// rowBytes is the size of a row in memory.
func (v *Vectors) rowBytes() int {
	if v.F16 != nil {
		return 2 * v.Dim
	}
	return 4 * v.Dim
}

// prefetch hints row i into the cache.
func (v *Vectors) prefetch(i int) {
	d := v.Dim
	if v.F16 != nil {
		kern.prefetch16(v.F16[i*d : (i+1)*d])
		return
	}
	kern.prefetch(v.F32[i*d : (i+1)*d])
}

// row32 returns row i as float32: the row itself for F32 data, a
// converted copy in buf otherwise.
func (v *Vectors) row32(i int, buf []float32) []float32 {
	if v.F16 == nil {
		return v.F32[i*v.Dim : (i+1)*v.Dim]
	}
	return v.Row(i, buf)
}

// ToFloat16 returns the binary16 bit pattern nearest to x (ties to even);
// values beyond ±65504 round to ±Inf, NaN stays NaN.
func ToFloat16(x float32) uint16 { return half.FromFloat32(x) }

// FromFloat16 returns the float32 value of a binary16 bit pattern (exact).
func FromFloat16(h uint16) float32 { return half.ToFloat32(h) }

// EncodeFloat16 sets dst[i] = ToFloat16(src[i]) for every i of src.
func EncodeFloat16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	kern.encode16(dst, src)
}

// DecodeFloat16 sets dst[i] = FromFloat16(src[i]) for every i of src.
func DecodeFloat16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	kern.decode16(dst, src)
}

func encode16Go(dst []uint16, src []float32) {
	for i, x := range src {
		dst[i] = ToFloat16(x)
	}
}

func decode16Go(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = FromFloat16(h)
	}
}
