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
// Every kernel set sums in the same order (sqDistGo spells it out), so the
// value does not depend on the CPU either.
func sqDist(a, b []float32) float64 {
	return sqDistUpTo(a, b, math.Inf(1))
}

// sqDistUpTo is sqDist summed block by block, stopped after the first
// block that brings its square root to limit or above.
func sqDistUpTo(a, b []float32, limit float64) float64 {
	b = b[:len(a)]
	if len(a) <= distBlock {
		return kern.sqDist(a, b)
	}
	lim2 := limit * limit
	s := 0.0
	for lo := 0; lo < len(a); {
		if len(a)-lo >= distBlock {
			var n int
			s, n = kern.sqBlocks(a[lo:], b[lo:], s, lim2)
			lo += n
		} else {
			s += kern.sqDist(a[lo:], b[lo:])
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

// sqDistUpTo16 is sqDistUpTo for a float16 row a: the same sums of the
// same (exactly widened) values, so the same result.
func sqDistUpTo16(a []uint16, b []float32, limit float64) float64 {
	b = b[:len(a)]
	if len(a) <= distBlock {
		return kern.sqDist16(a, b)
	}
	lim2 := limit * limit
	s := 0.0
	for lo := 0; lo < len(a); {
		if len(a)-lo >= distBlock {
			var n int
			s, n = kern.sqBlocks16(a[lo:], b[lo:], s, lim2)
			lo += n
		} else {
			s += kern.sqDist16(a[lo:], b[lo:])
			lo = len(a)
		}
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

// farEnough32 reports whether the float32 kernel proves d(a, b) >=
// limit·skipMargin. It costs about half the float64 kernel where rows are
// in cache.
func farEnough32(a, b []float32, limit float64) bool {
	return farEnough(float64(kern.sqDist32(a, b[:len(a)])), len(a), limit)
}

// farEnough reports whether s, a float32 kernel's sum of n squared
// differences, proves the distance >= limit·skipMargin. The float32 sum is
// at least the exact one times 1-(n+3)·2^-24 (each difference and each
// addition rounds once, all terms are non-negative, in any order); the
// factor used here doubles that margin, and an absolute term covers
// results near underflow. An overflowed or NaN sum proves nothing.
func farEnough(s float64, n int, limit float64) bool {
	if math.IsInf(s, 0) || math.IsNaN(s) || math.IsInf(limit, 0) {
		return false
	}
	fn := float64(n)
	lim := limit * skipMargin
	return s*(1-(fn+8)*0x1p-23)-fn*0x1p-126 >= lim*lim
}
