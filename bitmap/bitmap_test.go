package bitmap

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSetOps(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 130} {
		a := FromIndexes(n, evens(n))
		if got := a.Count(); got != (n+1)/2 {
			t.Fatalf("n=%d: %d evens, want %d", n, got, (n+1)/2)
		}
		b := a.Clone()
		b.Not()
		if b.Count() != n/2 || slices.ContainsFunc(b.Indexes(), func(i int) bool { return i%2 == 0 }) {
			t.Fatalf("n=%d: complement of the evens is wrong: %v", n, b.Indexes())
		}
		b.Or(a)
		if !slices.Equal(b.Indexes(), Full(n).Indexes()) {
			t.Fatalf("n=%d: evens or odds is not full", n)
		}
		b.AndNot(a)
		b.And(a)
		if b.Count() != 0 {
			t.Fatalf("n=%d: (full - evens) and evens is not empty", n)
		}
		if n > 0 {
			full := Full(n)
			if w := full.Words()[len(full.Words())-1]; n%64 != 0 && w>>(uint(n)%64) != 0 {
				t.Fatalf("n=%d: bits past Len are set", n)
			}
		}
	}
}

func evens(n int) []int {
	var out []int
	for i := 0; i < n; i += 2 {
		out = append(out, i)
	}
	return out
}

// TestOrBytes checks the Arrow-bitmap reader against a bit-by-bit copy at
// every offset and length up to a few words, near the end of the source
// too (where it cannot read a whole word).
func TestOrBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 40)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	bit := func(i int) bool { return src[i>>3]&(1<<uint(i&7)) != 0 }
	for off := 0; off < 70; off += 3 {
		for n := 0; n+off <= len(src)*8 && n < 200; n += 7 {
			for _, pos := range []int{0, 5, 64, 77} {
				dst := New(pos + n)
				OrBytes(dst.Words(), pos, src, off, n)
				for i := range n {
					if dst.Get(pos+i) != bit(off+i) {
						t.Fatalf("off %d n %d pos %d: bit %d differs", off, n, pos, i)
					}
				}
				if dst.Count() != countBits(bit, off, n) {
					t.Fatalf("off %d n %d pos %d: extra bits set", off, n, pos)
				}
			}
		}
	}
}

func countBits(bit func(int) bool, off, n int) int {
	c := 0
	for i := range n {
		if bit(off + i) {
			c++
		}
	}
	return c
}

func TestSetRange(t *testing.T) {
	dst := New(200)
	SetRange(dst.Words(), 7, 130)
	if dst.Count() != 130 || !dst.Get(7) || dst.Get(6) || !dst.Get(136) || dst.Get(137) {
		t.Fatalf("SetRange(7, 130) set %v", dst.Indexes())
	}
}
