package columnar

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// TestIDIndexMatchesMap checks the hash index against a Go map on random
// and on counter-like ids (which share most bytes), including misses.
func TestIDIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, counter := range []bool{false, true} {
		for _, n := range []int{0, 1, 7, 1000, 50000} {
			ids := make([]uuid.UUID, n)
			want := map[uuid.UUID]int{}
			for i := range ids {
				if counter {
					binary.BigEndian.PutUint64(ids[i][8:], uint64(i))
				} else {
					binary.LittleEndian.PutUint64(ids[i][:8], rng.Uint64())
					binary.LittleEndian.PutUint64(ids[i][8:], rng.Uint64())
				}
				want[ids[i]] = i
			}
			x, err := buildIDIndex(ids)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			for id, row := range want {
				got, ok := x.find(id)
				if !ok || int(got) != row {
					t.Fatalf("n=%d counter=%v: find(%s) = %d, %v; want %d", n, counter, id, got, ok, row)
				}
			}
			var miss uuid.UUID
			miss[0] = 0xff
			if _, ok := x.find(miss); ok && want[miss] == 0 {
				t.Fatalf("found an id that was never inserted")
			}
			if n > 0 {
				// Two repeats: the earliest is reported, however the
				// parts were scheduled.
				dupIDs := append(slices.Clone(ids), ids[n/2], ids[0])
				_, err := buildIDIndex(dupIDs)
				want := fmt.Sprintf("duplicate sample id %s (rows %d and %d)", ids[n/2], n/2, n)
				if err == nil || err.Error() != want {
					t.Fatalf("n=%d: got %v, want %s", n, err, want)
				}
				if err := checkUnique(dupIDs); err == nil || err.Error() != want {
					t.Fatalf("n=%d: checkUnique: got %v, want %s", n, err, want)
				}
				if err := checkUnique(ids); err != nil {
					t.Fatalf("n=%d: checkUnique of unique ids: %v", n, err)
				}
			}
		}
	}
}

// TestIDIndexEarliestDuplicate repeats ids so that the repetitions land
// in different partitions and on different workers: the one with the
// smallest second row is reported, and find still answers for the rest.
func TestIDIndexEarliestDuplicate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 300000
	ids := make([]uuid.UUID, n)
	for i := range ids {
		binary.LittleEndian.PutUint64(ids[i][:8], rng.Uint64())
		binary.LittleEndian.PutUint64(ids[i][8:], rng.Uint64())
	}
	for _, c := range []struct{ from, to []int }{
		{from: []int{5}, to: []int{n - 1}},
		{from: []int{n - 10, 17, 250000}, to: []int{n - 2, n - 1, 260000}},
		{from: []int{1000, 1001}, to: []int{1002, 299000}},
	} {
		dup := slices.Clone(ids)
		first := -1
		for k := range c.from {
			dup[c.to[k]] = ids[c.from[k]]
			if first < 0 || c.to[k] < c.to[first] {
				first = k
			}
		}
		x, err := buildIDIndex(dup)
		want := fmt.Sprintf("duplicate sample id %s (rows %d and %d)", ids[c.from[first]], c.from[first], c.to[first])
		if err == nil || err.Error() != want {
			t.Fatalf("%v -> %v: got %v, want %s", c.from, c.to, err, want)
		}
		if err := checkUnique(dup); err == nil || err.Error() != want {
			t.Fatalf("%v -> %v: checkUnique: got %v, want %s", c.from, c.to, err, want)
		}
		if got, ok := x.find(ids[123]); !ok || got != 123 {
			t.Fatalf("find(row 123) = %d, %v after a duplicate", got, ok)
		}
	}
}

// BenchmarkIDIndex builds the index of 10 million random ids, and checks
// them for duplicates without keeping an index.
func BenchmarkIDIndex(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	ids := make([]uuid.UUID, 10_000_000)
	for i := range ids {
		binary.LittleEndian.PutUint64(ids[i][:8], rng.Uint64())
		binary.LittleEndian.PutUint64(ids[i][8:], rng.Uint64())
	}
	b.Run("index", func(b *testing.B) {
		for range b.N {
			if _, err := buildIDIndex(ids); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unique", func(b *testing.B) {
		for range b.N {
			if err := checkUnique(ids); err != nil {
				b.Fatal(err)
			}
		}
	})
}
