package half

import (
	"math"
	"testing"
)

// value is the value of binary16 bits h from the format's definition, in
// float64 arithmetic (exact), independent of ToFloat32.
func value(h uint16) float32 {
	sign, exp, mant := 1.0, int(h>>10)&0x1f, float64(h&0x3ff)
	if h&0x8000 != 0 {
		sign = -1
	}
	switch {
	case exp == 0x1f && mant == 0:
		return float32(math.Inf(int(sign)))
	case exp == 0x1f:
		return float32(math.NaN())
	case exp == 0:
		return float32(sign * math.Ldexp(mant, -24))
	}
	return float32(sign * math.Ldexp(1024+mant, exp-25))
}

// TestToFloat32 widens every pattern exactly. (arrow-go's float16 widening
// turns 0x0001, 5.96e-8, into 1.15e-41: the reason this package exists.)
func TestToFloat32(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got, want := ToFloat32(uint16(h)), value(uint16(h))
		if got != want && !(got != got && want != want) {
			t.Fatalf("ToFloat32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

// TestFromFloat32: every float16 value survives the round trip, and
// between two neighbours the midpoint goes to the even one while a float32
// step either side goes to the nearer.
func TestFromFloat32(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		v := value(uint16(h))
		if v != v { // NaN
			if got := FromFloat32(v); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x became %#04x", h, got)
			}
			continue
		}
		if got := FromFloat32(v); got != uint16(h) && !(v == 0 && got&0x7fff == 0) {
			t.Fatalf("%#04x (%v) round-trips to %#04x", h, v, got)
		}
	}
	for h := uint16(0); h < 0x7bff; h++ { // positive finite neighbours h, h+1
		lo, hi := value(h), value(h+1)
		mid := float32((float64(lo) + float64(hi)) / 2)
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		if got := FromFloat32(mid); got != even {
			t.Fatalf("midpoint of %#04x and %#04x went to %#04x", h, h+1, got)
		}
		if got := FromFloat32(math.Nextafter32(mid, 0)); got != h {
			t.Fatalf("just below the midpoint of %#04x: %#04x", h, got)
		}
		if got := FromFloat32(math.Nextafter32(mid, 1e9)); got != h+1 {
			t.Fatalf("just above the midpoint of %#04x: %#04x", h, got)
		}
	}
	for _, c := range []struct {
		x    float32
		want uint16
	}{{65504, 0x7bff}, {65519, 0x7bff}, {65520, 0x7c00}, {-1e9, 0xfc00}, {float32(math.Inf(1)), 0x7c00}, {1e-9, 0}} {
		if got := FromFloat32(c.x); got != c.want {
			t.Errorf("FromFloat32(%v) = %#04x, want %#04x", c.x, got, c.want)
		}
	}
}
