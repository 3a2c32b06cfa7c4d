package columnar

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/winnow-data/winnow/internal/testseam"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// poolAllocator is an Arrow allocator that keeps the buffers it gets back
// for reuse. A scan decodes the same few batch-sized buffers over and over
// (a batch's arrays are released before the next is decoded), and with
// Go's allocator each would be new garbage: on a 10-million-row scan that
// is over 100 MB allocated, zeroed and collected, and the garbage
// collector, seeing a small live heap, runs every few megabytes. Reused
// buffers are zeroed again, as Allocate promises, but stay in cache.
//
// Buffers of 4 KiB to 64 MiB come from power-of-two classes; others are
// plain Go allocations. Free pools only buffers it handed out, by their
// first byte, so a slice of one can never be mistaken for a whole one. An
// allocator serves one scan and is dropped with it.
type poolAllocator struct {
	mu   sync.Mutex
	free [maxClass + 1][][]byte // whole class buffers, 64-byte aligned
	live map[unsafe.Pointer]int // first byte of each pooled buffer out -> class
}

func newPoolAllocator() *poolAllocator {
	return &poolAllocator{live: map[unsafe.Pointer]int{}}
}

const (
	minClass = 12 // 4 KiB
	maxClass = 26 // 64 MiB
	align    = 64 // Arrow's buffer alignment
)

var _ memory.Allocator = (*poolAllocator)(nil)

// class returns the class of a buffer of size bytes, or -1 if it is not
// pooled.
func class(size int) int {
	if size < 1<<minClass || size > 1<<maxClass {
		return -1
	}
	return bits.Len(uint(size - 1))
}

// Allocate returns size zeroed bytes, 64-byte aligned.
func (a *poolAllocator) Allocate(size int) []byte {
	c := class(size)
	if c < 0 {
		return alignedMake(size)
	}
	var b []byte
	a.mu.Lock()
	if k := len(a.free[c]); k > 0 {
		b, a.free[c] = a.free[c][k-1], a.free[c][:k-1]
	}
	a.mu.Unlock()
	if b == nil {
		b = alignedMake(1 << c)
	} else {
		clear(b[:size])
	}
	a.mu.Lock()
	a.live[unsafe.Pointer(unsafe.SliceData(b))] = c
	a.mu.Unlock()
	return b[:size:size]
}

// Reallocate returns b resized to size bytes, moved if it must grow.
func (a *poolAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free takes b back for reuse. The caller must not use b again.
func (a *poolAllocator) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.live[p]
	if !ok {
		return
	}
	delete(a.live, p)
	full := unsafe.Slice((*byte)(p), 1<<c)
	if testseam.Enabled { // a buffer used after release reads garbage
		for i := range full {
			full[i] = 0xAA
		}
	}
	a.free[c] = append(a.free[c], full)
}

// alignedMake returns size zeroed bytes starting on a 64-byte boundary.
func alignedMake(size int) []byte {
	buf := make([]byte, size+align)
	shift := (align - int(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%align)) % align
	return buf[shift : shift+size : shift+size]
}
