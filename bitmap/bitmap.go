// Package bitmap is a fixed-length set of row numbers, one bit a row, the
// currency in which winnow's packages pass sets of samples to each other:
// a query's matches, a tag, the samples that have an embedding.
//
// A Bitmap is packed into 64-bit words, row i in bit i%64 of word i/64.
// Bits past Len are always zero (the invariant every word-wise operation
// relies on), so counting and combining need no masking. The package
// also reads Arrow-style bitmaps (bytes, least significant bit first) into
// words, for the readers and kernels that decode them.
//
// It knows nothing about datasets, tables or files, and it does not grow:
// a Bitmap covers exactly the rows it was made for.
package bitmap

import (
	"encoding/binary"
	"math/bits"
)

// Bitmap is a fixed-length set of row indexes, one bit per row, packed
// into 64-bit words. Bit i set means row i is in the set. Bits past Len
// are always zero. The zero value is an empty set over no rows.
type Bitmap struct {
	words []uint64
	n     int
}

// New returns an empty bitmap over n rows.
func New(n int) *Bitmap {
	return &Bitmap{words: make([]uint64, (n+63)/64), n: n}
}

// Full returns a bitmap over n rows with every bit set.
func Full(n int) *Bitmap {
	b := New(n)
	for i := range b.words {
		b.words[i] = ^uint64(0)
	}
	b.Trim()
	return b
}

// FromIndexes returns a bitmap over n rows holding rows, which must lie
// in [0, n).
func FromIndexes(n int, rows []int) *Bitmap {
	b := New(n)
	for _, r := range rows {
		b.Set(r)
	}
	return b
}

// Len is the number of rows the bitmap covers.
func (b *Bitmap) Len() int { return b.n }

// Words exposes the packed words for vectorised kernels. A kernel that
// writes them must leave bits past Len zero (Trim restores that).
func (b *Bitmap) Words() []uint64 { return b.words }

// Trim clears the bits past Len, after a kernel wrote whole words.
func (b *Bitmap) Trim() {
	if r := b.n & 63; r != 0 {
		b.words[len(b.words)-1] &= (1 << uint(r)) - 1
	}
}

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
	b.Trim()
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

// OrWord ors the low bits of w into dst starting at bit pos; bits that
// would land past the end of dst are dropped.
func OrWord(dst []uint64, pos int, w uint64) {
	i, s := pos>>6, uint(pos&63)
	dst[i] |= w << s
	if s != 0 && i+1 < len(dst) {
		dst[i+1] |= w >> (64 - s)
	}
}

// LowMask is a word with the low n bits set (all 64 for n >= 64).
func LowMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(n) - 1
}

// SetRange sets bits [pos, pos+n) of dst.
func SetRange(dst []uint64, pos, n int) {
	for n > 0 {
		c := min(64, n)
		OrWord(dst, pos, LowMask(c))
		pos += c
		n -= c
	}
}

// OrBytes ors n bits of the byte bitmap src (least significant bit first,
// as Arrow and Parquet store validity), starting at bit off, into dst
// starting at bit pos.
func OrBytes(dst []uint64, pos int, src []byte, off, n int) {
	for j := 0; j < n; j += 64 {
		c := min(64, n-j)
		OrWord(dst, pos+j, loadBits(src, off+j, c))
	}
}

// loadBits reads n <= 64 bits of b starting at bit off (LSB first).
func loadBits(b []byte, off, n int) uint64 {
	i, s := off>>3, uint(off&7)
	var w uint64
	if i+9 <= len(b) {
		w = binary.LittleEndian.Uint64(b[i:]) >> s
		if s != 0 {
			w |= uint64(b[i+8]) << (64 - s)
		}
	} else {
		for j := 0; j < n; j++ {
			p := off + j
			if p>>3 < len(b) && b[p>>3]&(1<<uint(p&7)) != 0 {
				w |= 1 << (uint(j) & 63)
			}
		}
	}
	return w & LowMask(n)
}
