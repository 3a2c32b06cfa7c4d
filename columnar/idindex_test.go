package columnar

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
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
			x, err := buildIDIndex(uuidIDs(ids))
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			for id, row := range want {
				got, ok := x.findUUID(id)
				if !ok || int(got) != row {
					t.Fatalf("n=%d counter=%v: find(%s) = %d, %v; want %d", n, counter, id, got, ok, row)
				}
			}
			var miss uuid.UUID
			miss[0] = 0xff
			if _, ok := x.findUUID(miss); ok && want[miss] == 0 {
				t.Fatalf("found an id that was never inserted")
			}
			if n > 0 {
				// Two repeats: the earliest is reported, however the
				// parts were scheduled.
				dupIDs := append(slices.Clone(ids), ids[n/2], ids[0])
				_, err := buildIDIndex(uuidIDs(dupIDs))
				want := fmt.Sprintf("duplicate sample id %s (rows %d and %d)", ids[n/2], n/2, n)
				if err == nil || err.Error() != want {
					t.Fatalf("n=%d: got %v, want %s", n, err, want)
				}
				if err := checkUnique(uuidIDs(dupIDs)); err == nil || err.Error() != want {
					t.Fatalf("n=%d: checkUnique: got %v, want %s", n, err, want)
				}
				if err := checkUnique(uuidIDs(ids)); err != nil {
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
		x, err := buildIDIndex(uuidIDs(dup))
		want := fmt.Sprintf("duplicate sample id %s (rows %d and %d)", ids[c.from[first]], c.from[first], c.to[first])
		if err == nil || err.Error() != want {
			t.Fatalf("%v -> %v: got %v, want %s", c.from, c.to, err, want)
		}
		if err := checkUnique(uuidIDs(dup)); err == nil || err.Error() != want {
			t.Fatalf("%v -> %v: checkUnique: got %v, want %s", c.from, c.to, err, want)
		}
		if got, ok := x.findUUID(ids[123]); !ok || got != 123 {
			t.Fatalf("find(row 123) = %d, %v after a duplicate", got, ok)
		}
	}
}

// BenchmarkIDIndex builds the index of 10 million random ids, and checks
// them for duplicates without keeping an index: UUIDs, their canonical
// text as string ids, and random int64s.
func BenchmarkIDIndex(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 10_000_000
	ids := make([]uuid.UUID, n)
	ints := &IDs{kind: IntIDs, typ: arrow.PrimitiveTypes.Int64, ints: make([]int64, n)}
	strs := newIDs(arrow.BinaryTypes.String)
	for i := range ids {
		binary.LittleEndian.PutUint64(ids[i][:8], rng.Uint64())
		binary.LittleEndian.PutUint64(ids[i][8:], rng.Uint64())
		ints.ints[i] = int64(rng.Uint64())
		strs.appendText([]byte(ids[i].String()))
	}
	for _, c := range []struct {
		name string
		ids  *IDs
	}{{"uuid", uuidIDs(ids)}, {"string", strs}, {"int64", ints}} {
		b.Run(c.name+"/index", func(b *testing.B) {
			for range b.N {
				if _, err := buildIDIndex(c.ids); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/unique", func(b *testing.B) {
			for range b.N {
				if err := checkUnique(c.ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
