package strategies

import "math"

// distBlock is the number of dimensions summed per kernel call. A distance
// is the float64 sum, block after block in order, of the blocks' squared
// distances, so a partial sum only grows: distUpTo can stop early and still
// agree exactly with the full computation about every comparison.
const distBlock = 64

// sqDist returns the squared Euclidean distance between a and b
// (len(b) >= len(a)), accumulating in float64. Every distance the engine
// compares goes through this one summation, so the straightforward and the
// fast paths see bit-identical values; the float64 accumulator keeps the
// rounding error (about len(a)·2^-53 relative) far below the tie tolerance.
func sqDist(a, b []float32) float64 {
	return sqDistUpTo(a, b, math.Inf(1))
}

// sqDistUpTo is sqDist summed block by block, stopped after the first
// block that brings its square root to limit or above.
func sqDistUpTo(a, b []float32, limit float64) float64 {
	if len(a) <= distBlock {
		return sqDistImpl(a, b)
	}
	lim2 := limit * limit
	s := 0.0
	for lo := 0; lo < len(a); {
		if len(a)-lo >= distBlock {
			var n int
			s, n = sqDistBlocksImpl(a[lo:], b[lo:], s, lim2)
			lo += n
		} else {
			s += sqDistImpl(a[lo:], b[lo:])
			lo = len(a)
		}
		// s >= lim2 does not imply sqrt(s) >= limit after rounding:
		// only the second test may stop early.
		if s >= lim2 && math.Sqrt(s) >= limit {
			break
		}
	}
	return s
}

// dist returns the Euclidean distance between a and b.
func dist(a, b []float32) float64 {
	return math.Sqrt(sqDist(a, b))
}

// distUpTo returns dist(a, b) when it is below limit, and otherwise some
// value >= limit, computed from a prefix of the blocks. Callers that only
// ask whether the distance is below limit get dist's answer exactly.
func distUpTo(a, b []float32, limit float64) float64 {
	return math.Sqrt(sqDistUpTo(a, b, limit))
}

// sqDistBlocksGo adds to s the kernel's sums of whole distBlock blocks of
// a and b, in order, stopping after the first block that brings s to lim2
// or above or when less than a block is left; it returns s and the number
// of values consumed.
func sqDistBlocksGo(a, b []float32, s, lim2 float64) (float64, int) {
	n := 0
	for len(a)-n >= distBlock {
		s += sqDistImpl(a[n:n+distBlock], b[n:n+distBlock])
		n += distBlock
		if s >= lim2 {
			break
		}
	}
	return s, n
}

// sqDistGo is the portable kernel: four independent accumulators so the
// adds pipeline instead of waiting on one another.
func sqDistGo(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := float64(a[i]) - float64(b[i])
		d1 := float64(a[i+1]) - float64(b[i+1])
		d2 := float64(a[i+2]) - float64(b[i+2])
		d3 := float64(a[i+3]) - float64(b[i+3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := float64(a[i]) - float64(b[i])
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// sqDist32Go is the float32 kernel used where only an exact neighbour search
// over one precision is needed (typicality), trading precision for speed.
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

// dot4x3Step divides the dimensions dot4x3Impl takes.
const dot4x3Step = 8

var (
	sqDistImpl = sqDistGo
	// sqDistBlocksImpl is sqDistBlocksGo in one call where the CPU allows.
	sqDistBlocksImpl = sqDistBlocksGo
	sqDist32Impl     = sqDist32Go
	// sqDist32x4Impl sets out to the float32 squared distances from q to
	// the four consecutive rows of len(q) values at rows, or returns false
	// when it cannot (no kernel for this CPU or dimension).
	sqDist32x4Impl = func(q, rows []float32, out *[4]float32) bool { return false }
	// prefetchImpl hints a row into the cache ahead of its use; it changes
	// no result.
	prefetchImpl = func(row []float32) {}
	// dot4x3Impl, where the CPU has a kernel, sets out[4*j+i] to the
	// float32 dot product of row x[i] with center j (c holds three
	// centers of dim values side by side); dim must be a positive
	// multiple of dot4x3Step. It is nil elsewhere.
	dot4x3Impl func(x *[4][]float32, c []float32, dim int, out *[12]float32)
)

// farEnough32 reports whether the float32 kernel proves d(a, b) >=
// limit·skipMargin. The float32 sum of n squared differences is at least
// the exact one times 1-(n+3)·2^-24 (each difference and each addition
// rounds once, all terms are non-negative); the factor used here doubles
// that margin, and an absolute term covers results near underflow. An
// overflowed or NaN sum proves nothing. It costs about half the float64
// kernel where rows are in cache.
func farEnough32(a, b []float32, limit float64) bool {
	s := float64(sqDist32Impl(a, b))
	if math.IsInf(s, 0) || math.IsNaN(s) || math.IsInf(limit, 0) {
		return false
	}
	n := float64(len(a))
	lim := limit * skipMargin
	return s*(1-(n+8)*0x1p-23)-n*0x1p-126 >= lim*lim
}
