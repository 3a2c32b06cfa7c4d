package columnar

// Rounding to float16 as vectors are decoded (WithFloat16).
//
// A read WithFloat16 writes every value into the matrix as IEEE binary16
// bits the moment it is decoded, so the float32 matrix never exists: the
// peak memory of the read is the float16 matrix plus each worker's
// buffers, half of a float32 read. The rounding is the one strategies
// uses (internal/half, which strategies.ToFloat16 also calls: nearest,
// ties to even); a test compares the two packages' results bit for bit. float64 values are narrowed to float32 first,
// as a float32 read would store them, so a float16 read equals rounding
// the float32 read's matrix afterwards, bit for bit.

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/winnow-data/winnow/internal/half"
)

// toHalf is the shared rounding (internal/half), named for this file.
func toHalf(x float32) uint16 { return half.FromFloat32(x) }

// encodeHalf sets dst[i] = toHalf(src[i]) for every i of src.
func encodeHalf(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = toHalf(x)
	}
}

// fillHalf writes the PLAIN values src (width bytes each: float16,
// float32 or float64) into dst as float16 bits: float16 as they are, the
// others rounded (float64 through float32). Checking the result is the
// caller's (embWorker.checkHalf).
func fillHalf(dst []uint16, src []byte, width int) {
	switch width {
	case 2: // the bits as they are
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)*2), src)
	case 4:
		for i := range dst {
			dst[i] = toHalf(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case 8:
		for i := range dst {
			dst[i] = toHalf(float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))))
		}
	}
}

// checkHalf checks dst, whole vectors of the consecutive matrix rows t0,
// t0+1, ... just rounded to float16, whose source values (as float32) at
// gives. A value that was not finite is an error as in a float32 read; a
// finite one that rounded to ±Inf is noted (embWorker.overflow) and the
// read goes on, so that its error can count every such vector.
func (w *embWorker) checkHalf(path string, t0 int, dst []uint16, at func(i int) float32) error {
	bad := firstNonFinite16(dst)
	if bad < 0 {
		return nil
	}
	dim := w.m.Dim
	noted := -1
	for i := bad; i < len(dst); i++ {
		if dst[i]&f16Exp != f16Exp {
			continue
		}
		t := t0 + i/dim
		v := at(i)
		if !finite(v) {
			return w.nonFinite(path, t, i%dim, float64(v))
		}
		if t != noted {
			w.overflow(t, v)
			noted = t
		}
	}
	return nil
}

// halfRange gathers, per worker, the vectors of a WithFloat16 read with
// finite values float16 cannot hold.
type halfRange struct {
	count int     // such vectors
	row   int     // the first of them in matrix order; valid if count > 0
	value float32 // its first such value
}

// overflow notes matrix row t, whose first value float16 cannot hold is
// v. Each row is noted once (its vector is claimed once).
func (w *embWorker) overflow(t int, v float32) {
	if w.over.count == 0 || t < w.over.row {
		w.over.row, w.over.value = t, v
	}
	w.over.count++
}

// Float16RangeError reports that a read WithFloat16 met finite values
// float16 cannot hold: of magnitude 65520 or more, they would round to
// ±Inf (up to that they round to ±65504). The read returns no matrix.
type Float16RangeError struct {
	Path   string  // the table
	Column string  // its vector column
	Space  string  // what the vectors belong to: "sample" or "annotation"
	Count  int     // vectors with such a value
	Row    int     // the first of them, in dataset (or annotations) order
	ID     string  // its id, as messages quote it
	Value  float32 // its first value float16 cannot hold
}

func (e *Float16RangeError) Error() string {
	return fmt.Sprintf("%s: column %q: %d vectors have values beyond float16's range of ±65504 (first: %s %s, value %g)",
		e.Path, e.Column, e.Count, e.Space, e.ID, e.Value)
}

// WithFloat16 has an embedding read (ReadEmbeddings, ReadObjectEmbeddings)
// return a float16 matrix (Matrix.F16) whatever the stored element type:
// float32 and float64 values are rounded to the nearest float16 (ties to
// even; float64 through float32) as they are decoded, so the read needs
// the memory of the float16 matrix, not of a float32 one. Stored float16
// values are kept as they are. Non-finite values are errors as in any
// read; a finite value that float16 cannot hold is a *Float16RangeError
// counting the vectors that have one.
func WithFloat16() ReadOption { return func(o *readOptions) { o.float16 = true } }
