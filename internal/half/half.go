// Package half converts between float32 and IEEE 754 binary16 (float16),
// the one conversion winnow uses wherever it stores or computes on
// float16: columnar when it narrows or widens vectors as they are read,
// strategies for queries and conversions. The vector kernels stay with
// their users.
package half

import "math"

// FromFloat32 returns the binary16 bit pattern nearest to x (ties to
// even); values of magnitude 65520 and more round to ±Inf, NaN stays NaN
// (as the quiet NaN 0x7e00 with x's sign).
func FromFloat32(x float32) uint16 {
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp >= 113 && exp <= 142: // normal binary16: the common case first
		e := uint32(exp-112)<<10 | mant>>13
		rest := mant & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && e&1 == 1 {
			e++ // may carry into the exponent, up to Inf: both correct
		}
		return sign | uint16(e)
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp > 142: // >= 2^16: overflows
		return sign | 0x7c00
	case exp >= 102: // subnormal binary16 (or rounds up to the smallest normal)
		m := mant | 0x800000
		shift := uint(126 - exp) // 14..24: value = m·2^(exp-150), unit 2^-24
		e := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || rest == half && e&1 == 1 {
			e++
		}
		return sign | uint16(e)
	}
	return sign // underflows to ±0
}

// ToFloat32 returns the float32 value of binary16 bits h, exactly
// (subnormals included; arrow-go's float16.Float32 gets those wrong).
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	f := float32(mant) * 0x1p-24 // subnormal: exact
	if sign != 0 {
		f = -f
	}
	return f
}
