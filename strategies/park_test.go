package strategies

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestParkOrder checks a parking heap against sorting: entries of random
// scores (ties, both infinite classes, keys below the build's range
// pushed later) come out of pops, with an unpark whenever the heap runs
// empty, exactly in the heaps' order, and the heap never holds an entry
// of a bucket below one the park holds.
func TestParkOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	for trial := range 40 {
		n := 200 + r.IntN(3000)
		target := 1 + r.IntN(64)
		_, hs := alignedHeaps([]int{n})
		hp := hs[0]
		var want []hent
		for i := 0; i < n; i++ {
			a := hent{key: float64(r.IntN(50)) / 7, idx: int32(i)}
			switch r.IntN(40) {
			case 0:
				a.inf = 1
			case 1:
				a.inf = -1
			}
			if i < n*3/4 {
				hp = append(hp, a)
			}
			want = append(want, a)
		}
		hp, p := newPark(hp, target)
		if p == nil {
			t.Fatalf("trial %d: %d entries, target %d: no park", trial, len(want)*3/4, target)
		}
		heapify(hp)
		for _, a := range want[n*3/4:] { // the rest arrive lower (re-scored)
			a.key -= 3
			want[a.idx] = a
			hp = p.push(hp, a)
		}
		slices.SortFunc(want, func(a, b hent) int {
			if above(a, b) {
				return -1
			}
			return 1
		})
		for k, w := range want {
			if len(hp) == 0 {
				hp = p.unpark(hp)
			}
			for _, a := range hp {
				if p.bucket(a) < p.b {
					t.Fatalf("trial %d: heap entry %+v of bucket %d below the heap's %d", trial, a, p.bucket(a), p.b)
				}
			}
			if hp[0] != w {
				t.Fatalf("trial %d: pop %d is %+v, want %+v", trial, k, hp[0], w)
			}
			hp = pop(hp)
		}
		if len(hp) != 0 || p.n != 0 {
			t.Fatalf("trial %d: %d left in the heap, %d parked", trial, len(hp), p.n)
		}
	}
}
