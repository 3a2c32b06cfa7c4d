package columnar

import "math/bits"

// Bitmap is a fixed-length set of row indexes, one bit per row, packed
// into 64-bit words. Bit i set means row i is in the set. Bits past Len
// are always zero, so word-wise operations need no masking by callers.
type Bitmap struct {
	words []uint64
	n     int
}

// NewBitmap returns an empty bitmap over n rows.
func NewBitmap(n int) *Bitmap {
	return &Bitmap{words: make([]uint64, (n+63)/64), n: n}
}

// FullBitmap returns a bitmap over n rows with every bit set.
func FullBitmap(n int) *Bitmap {
	b := NewBitmap(n)
	for i := range b.words {
		b.words[i] = ^uint64(0)
	}
	b.clearTail()
	return b
}

// Len is the number of rows the bitmap covers.
func (b *Bitmap) Len() int { return b.n }

// Words exposes the packed words for vectorised kernels. Bits past Len
// must stay zero.
func (b *Bitmap) Words() []uint64 { return b.words }

// Set adds row i.
func (b *Bitmap) Set(i int) { b.words[i>>6] |= 1 << (uint(i) & 63) }

// Clear removes row i.
func (b *Bitmap) Clear(i int) { b.words[i>>6] &^= 1 << (uint(i) & 63) }

// Get reports whether row i is in the set.
func (b *Bitmap) Get(i int) bool { return b.words[i>>6]&(1<<(uint(i)&63)) != 0 }

// Count returns the number of rows in the set.
func (b *Bitmap) Count() int {
	c := 0
	for _, w := range b.words {
		c += bits.OnesCount64(w)
	}
	return c
}

// Clone returns an independent copy.
func (b *Bitmap) Clone() *Bitmap {
	return &Bitmap{words: append([]uint64(nil), b.words...), n: b.n}
}

// And keeps only the rows also in o. Both must have the same Len.
func (b *Bitmap) And(o *Bitmap) {
	for i, w := range o.words {
		b.words[i] &= w
	}
}

// Or adds the rows of o. Both must have the same Len.
func (b *Bitmap) Or(o *Bitmap) {
	for i, w := range o.words {
		b.words[i] |= w
	}
}

// AndNot removes the rows of o. Both must have the same Len.
func (b *Bitmap) AndNot(o *Bitmap) {
	for i, w := range o.words {
		b.words[i] &^= w
	}
}

// Not complements the set in place.
func (b *Bitmap) Not() {
	for i := range b.words {
		b.words[i] = ^b.words[i]
	}
	b.clearTail()
}

// Indexes returns the rows in the set in ascending order.
func (b *Bitmap) Indexes() []int {
	out := make([]int, 0, b.Count())
	for wi, w := range b.words {
		for w != 0 {
			out = append(out, wi*64+bits.TrailingZeros64(w))
			w &= w - 1
		}
	}
	return out
}

func (b *Bitmap) clearTail() {
	if r := b.n & 63; r != 0 {
		b.words[len(b.words)-1] &= (1 << uint(r)) - 1
	}
}
