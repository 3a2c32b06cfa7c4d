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
			}
		}
	}
}

// TestIDTableGrows fills a table sized for one id with many: it must grow
// rather than loop on a full table (ids crafted to share a part do this).
func TestIDTableGrows(t *testing.T) {
	ids := make([]uuid.UUID, 1000)
	for i := range ids {
		binary.BigEndian.PutUint64(ids[i][8:], uint64(i))
	}
	var tb idTable
	tb.alloc(1)
	for row, id := range ids {
		if _, dup := tb.insert(ids, hashID(id), row); dup {
			t.Fatalf("row %d reported as duplicate", row)
		}
	}
	x := &idIndex{ids: ids, parts: []idTable{tb}, pshift: 64}
	for row, id := range ids {
		if got, ok := x.find(id); !ok || int(got) != row {
			t.Fatalf("find row %d: %d, %v", row, got, ok)
		}
	}
}
