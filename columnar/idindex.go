package columnar

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/google/uuid"
)

// idIndex maps sample ids to dataset rows: open-addressing hash tables of
// row numbers into the ids slice it indexes. At ten million samples a Go
// map keyed by uuid.UUID spends seconds on cache misses and 40+ bytes a
// sample; this index probes int32 slots (about 6.7 bytes a sample at its
// load factor) and compares ids in place. The ids are split by hash into
// one table per core, so the tables are built in parallel; each table is
// filled in row order, so which duplicate is reported never depends on
// scheduling.
type idIndex struct {
	ids    []uuid.UUID
	parts  []idTable
	pshift uint // hash >> pshift selects the part
}

type idTable struct {
	slots []int32 // row+1; 0 is empty
	mask  uint64
	used  int
}

// hashID mixes both halves of id: UUIDs are mostly random, but ids made
// from counters are not.
func hashID(id uuid.UUID) uint64 {
	lo := binary.LittleEndian.Uint64(id[:8])
	hi := binary.LittleEndian.Uint64(id[8:])
	h := (lo ^ bits.RotateLeft64(hi, 31)) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

// buildIDIndex indexes ids. A repeated id is an error naming both rows
// (the earliest repetition).
func buildIDIndex(ids []uuid.UUID) (*idIndex, error) {
	p := 1
	for p < runtime.GOMAXPROCS(0) && p < 8 && len(ids) >= 1<<16 {
		p *= 2
	}
	x := &idIndex{ids: ids, parts: make([]idTable, p), pshift: uint(64 - bits.Len(uint(p-1)))}
	if p == 1 {
		x.pshift = 64
	}
	errs := make([]error, p)
	var wg sync.WaitGroup
	for k := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = x.fill(k, len(ids)/p)
		}()
	}
	wg.Wait()
	var first error
	firstRow := len(ids)
	for _, err := range errs {
		if de, ok := err.(*dupError); ok && de.row < firstRow {
			first, firstRow = err, de.row
		}
	}
	return x, first
}

func (x *idIndex) part(h uint64) int {
	if x.pshift >= 64 {
		return 0
	}
	return int(h >> x.pshift)
}

// fill builds part k, expecting about n ids.
func (x *idIndex) fill(k, n int) error {
	t := &x.parts[k]
	t.alloc(n)
	for row, id := range x.ids {
		h := hashID(id)
		if x.part(h) != k {
			continue
		}
		if prev, dup := t.insert(x.ids, h, row); dup {
			return &dupError{id: id, prev: prev, row: row}
		}
	}
	return nil
}

// alloc sizes t for n ids at a load factor of at most about 3/4.
func (t *idTable) alloc(n int) {
	size := 1 << (bits.Len(uint(n*4/3)) + 1)
	t.slots, t.mask, t.used = make([]int32, size), uint64(size-1), 0
}

// insert adds row (with hash h) unless its id is already present, in
// which case it returns the earlier row.
func (t *idTable) insert(ids []uuid.UUID, h uint64, row int) (int, bool) {
	if (t.used+1)*4 > len(t.slots)*3 {
		t.grow(ids) // more ids than expected landed here: keep probes short
	}
	id := ids[row]
	for s := h & t.mask; ; s = (s + 1) & t.mask {
		v := t.slots[s]
		if v == 0 {
			t.slots[s] = int32(row + 1)
			t.used++
			return 0, false
		}
		if ids[v-1] == id {
			return int(v - 1), true
		}
	}
}

// grow doubles t and re-inserts its rows.
func (t *idTable) grow(ids []uuid.UUID) {
	old := t.slots
	t.alloc(len(old))
	for _, v := range old {
		if v != 0 {
			t.insert(ids, hashID(ids[v-1]), int(v-1))
		}
	}
}

// dupError reports a repeated sample id.
type dupError struct {
	id        uuid.UUID
	prev, row int
}

func (e *dupError) Error() string {
	return fmt.Sprintf("duplicate sample id %s (rows %d and %d)", e.id, e.prev, e.row)
}

// find returns the row of id.
func (x *idIndex) find(id uuid.UUID) (int32, bool) {
	h := hashID(id)
	t := &x.parts[x.part(h)]
	for s := h & t.mask; ; s = (s + 1) & t.mask {
		v := t.slots[s]
		if v == 0 {
			return 0, false
		}
		if x.ids[v-1] == id {
			return v - 1, true
		}
	}
}
