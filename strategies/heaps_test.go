package strategies

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// randomEntries returns n entries with few distinct scores (many ties,
// some infinite counts) and distinct indices in random order.
func randomEntries(r *rand.Rand, n int) []hent {
	keys := []float64{-3, -1, 0, 0.5, 2, math.Inf(-1)}
	h := make([]hent, n)
	for i, p := range r.Perm(n) {
		h[i] = hent{key: keys[r.IntN(len(keys))], inf: int32(r.IntN(3)) - 1, idx: int32(p)}
	}
	return h
}

// checkHeap fails unless no entry is above its parent.
func checkHeap(t *testing.T, h []hent) {
	t.Helper()
	for i := 1; i < len(h); i++ {
		if p := (i - 1) / arity; above(h[i], h[p]) {
			t.Fatalf("entry %d %+v above its parent %d %+v", i, h[i], p, h[p])
		}
	}
}

// sorted is the order the heap must pop in.
func sorted(h []hent) []hent {
	s := slices.Clone(h)
	slices.SortFunc(s, func(a, b hent) int {
		switch {
		case above(a, b):
			return -1
		case above(b, a):
			return 1
		}
		return 0
	})
	return s
}

// TestHeapAgainstSort checks heapify, pop, up (re-inserting) and down
// (lowering the top, as refresh does) against a sort, on sizes around the
// 4-ary levels' boundaries.
func TestHeapAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 20, 21, 22, 85, 86, 341, 1000} {
		for trial := 0; trial < 20; trial++ {
			in := randomEntries(r, n)
			h := slices.Clone(in)
			heapify(h)
			checkHeap(t, h)
			// Lower some tops' scores and sift them down.
			for k := 0; k < n/3; k++ {
				h[0].key -= float64(r.IntN(4))
				down(h, 0)
				checkHeap(t, h)
			}
			want := sorted(h)
			// Pop a few and push them back, as best does with ties.
			var popped []hent
			for k := 0; k < min(len(h), 5); k++ {
				popped = append(popped, h[0])
				h = pop(h)
				checkHeap(t, h)
			}
			for _, a := range popped {
				h = append(h, a)
				up(h, len(h)-1)
				checkHeap(t, h)
			}
			var got []hent
			for len(h) > 0 {
				got = append(got, h[0])
				h = pop(h)
				checkHeap(t, h)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d: popped %v, sorted %v", n, got, want)
			}
		}
	}
}

// TestAlignedHeaps checks that the heaps do not overlap, have their
// capacities, and put every full child group on one cache line.
func TestAlignedHeaps(t *testing.T) {
	count := []int{0, 1, 5, 100, 3, 4096, 7}
	all, hs := alignedHeaps(count)
	used := make([]bool, len(all))
	base := uintptr(unsafe.Pointer(unsafe.SliceData(all)))
	size := unsafe.Sizeof(hent{})
	for g, c := range count {
		h := hs[g]
		if len(h) != 0 || cap(h) != c {
			t.Fatalf("heap %d: len %d cap %d, want 0 and %d", g, len(h), cap(h), c)
		}
		h = h[:c]
		for i := range h {
			k := int((uintptr(unsafe.Pointer(&h[i])) - base) / size)
			if used[k] {
				t.Fatalf("heap %d entry %d overlaps another heap", g, i)
			}
			used[k] = true
			if h[i].idx != -1 {
				t.Fatalf("heap %d entry %d has index %d, want -1", g, i, h[i].idx)
			}
		}
		for i := 1; i+arity <= c; i += arity {
			if a := uintptr(unsafe.Pointer(&h[i])); a%heapLine != 0 {
				t.Fatalf("heap %d: child group at %d starts at %d mod %d", g, i, a%heapLine, heapLine)
			}
		}
	}
}
