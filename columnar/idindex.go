package columnar

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"

	"winnow/internal/workpool"

	"github.com/google/uuid"
)

// idIndex maps sample ids to dataset rows.
//
// At ten million samples every insert into one big hash table is a cache
// miss (a Go map spent seconds there, one open-addressing table still
// spent 1.3 CPU-s). So the index is radix-partitioned: the top bits of an
// id's hash pick one of many small open-addressing tables, each about
// 2,048 ids (32 KB of slots, inside the core's cache). Building it is two
// streaming passes over the ids (count per partition, then scatter each
// id's hash and row into its partition's range, in row order) and one
// pass that fills each table from its cached range. A slot holds 32 bits
// of the hash beside the row, so a probe compares ids in memory only when
// those bits agree: almost only for a true duplicate.
type idIndex struct {
	ids   []uuid.UUID
	shift uint     // hash >> shift is the partition; 64 with one partition
	off   []int    // partition p's table is slots[off[p]:off[p+1]], a power of two long
	slots []uint64 // uint32(hash)<<32 | row+1; 0 is empty
}

// hashID mixes both halves of id: UUIDs are mostly random, but ids made
// from counters are not.
func hashID(id uuid.UUID) uint64 {
	lo := binary.LittleEndian.Uint64(id[:8])
	hi := binary.LittleEndian.Uint64(id[8:])
	h := (lo ^ bits.RotateLeft64(hi, 31)) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

// partitionIDs is about how many ids share one table.
const partitionIDs = 2048

// partitioned is ids' hashes and rows grouped by partition: partition
// p's entries, uint32(hash)<<32 | row, are ent[start[p]:start[p+1]] in
// row order.
type partitioned struct {
	shift uint
	start []int
	ent   []uint64
	w     int // goroutines to use
}

func (pt *partitioned) part(h uint64) int {
	if pt.shift >= 64 {
		return 0
	}
	return int(h >> pt.shift)
}

// partition groups ids by the top bits of their hashes in two streaming
// passes: count each worker's ids per partition, then scatter.
func partition(ids []uuid.UUID) *partitioned {
	np := 1
	for np*partitionIDs < len(ids) {
		np *= 2
	}
	pt := &partitioned{shift: uint(64 - bits.Len(uint(np-1))), start: make([]int, np+1), w: 1}
	if len(ids) >= 1<<16 {
		pt.w = runtime.GOMAXPROCS(0)
	}
	span := (len(ids) + pt.w - 1) / pt.w
	rows := func(k int) []uuid.UUID { return ids[min(k*span, len(ids)):min((k+1)*span, len(ids))] }
	counts := make([][]int, pt.w)
	workpool.Do(pt.w, pt.w, func(k int) {
		c := make([]int, np)
		for _, id := range rows(k) {
			c[pt.part(hashID(id))]++
		}
		counts[k] = c
	})
	// Partition p starts at start[p], worker k's share of it where the
	// shares of workers before k end: rows stay in row order.
	size := 0
	for p := range np {
		pt.start[p] = size
		for k := range pt.w {
			counts[k][p], size = size, size+counts[k][p]
		}
	}
	pt.start[np] = size
	pt.ent = make([]uint64, len(ids))
	workpool.Do(pt.w, pt.w, func(k int) {
		c, base := counts[k], k*span
		for i, id := range rows(k) {
			h := hashID(id)
			p := pt.part(h)
			pt.ent[c[p]] = uint64(uint32(h))<<32 | uint64(base+i)
			c[p]++
		}
	})
	return pt
}

// each calls f for every partition, on pt.w goroutines handing out blocks
// of partitions, and returns the duplicate with the smallest second row
// that f reports (f gets its goroutine's number k).
func (pt *partitioned) each(f func(k, p int) *dupError) *dupError {
	np := len(pt.start) - 1
	var next atomic.Int64
	errs := make([]*dupError, pt.w)
	const block = 64
	workpool.Do(pt.w, pt.w, func(k int) {
		for {
			lo := int(next.Add(block)) - block
			if lo >= np {
				return
			}
			for p := lo; p < min(lo+block, np); p++ {
				if err := f(k, p); err != nil && (errs[k] == nil || err.row < errs[k].row) {
					errs[k] = err
				}
			}
		}
	})
	var first *dupError
	for _, err := range errs {
		if err != nil && (first == nil || err.row < first.row) {
			first = err
		}
	}
	return first
}

// checkUnique returns an error naming the earliest repeated id (the one
// with the smallest second row) and both its rows. It keeps no index:
// each partition is checked in a small table that is reused for the next,
// so the check costs little memory (every new page costs a fault).
func checkUnique(ids []uuid.UUID) error {
	pt := partition(ids)
	scratch := make([][]uint64, pt.w)
	if err := pt.each(func(k, p int) *dupError {
		ent := pt.ent[pt.start[p]:pt.start[p+1]]
		n := tableSize(len(ent))
		if cap(scratch[k]) < n {
			scratch[k] = make([]uint64, n)
		}
		t := scratch[k][:n]
		clear(t)
		return fill(t, ids, ent)
	}); err != nil {
		return err
	}
	return nil
}

// buildIDIndex indexes ids. A repeated id is an error naming both rows
// (the earliest repetition: the smallest second row).
func buildIDIndex(ids []uuid.UUID) (*idIndex, error) {
	pt := partition(ids)
	np := len(pt.start) - 1
	x := &idIndex{ids: ids, shift: pt.shift, off: make([]int, np+1)}
	for p := range np {
		x.off[p+1] = x.off[p] + tableSize(pt.start[p+1]-pt.start[p])
	}
	x.slots = make([]uint64, x.off[np])
	if err := pt.each(func(_, p int) *dupError {
		return fill(x.slots[x.off[p]:x.off[p+1]], ids, pt.ent[pt.start[p]:pt.start[p+1]])
	}); err != nil {
		return x, err
	}
	return x, nil
}

// tableSize is the slot count for n ids: a power of two at a load factor
// of at most 3/4.
func tableSize(n int) int {
	if n == 0 {
		return 0
	}
	return 1 << bits.Len(uint(n*4/3))
}

func (x *idIndex) part(h uint64) int {
	if x.shift >= 64 {
		return 0
	}
	return int(h >> x.shift)
}

// fill inserts entries (in row order) into the empty table t, a power of
// two long, and returns the first duplicate.
func fill(t []uint64, ids []uuid.UUID, ent []uint64) *dupError {
	mask := uint64(len(t) - 1)
	for _, e := range ent {
		v := e + 1 // row+1: never 0
		for s := (e >> 32) & mask; ; s = (s + 1) & mask {
			u := t[s]
			if u == 0 {
				t[s] = v
				break
			}
			if u>>32 == e>>32 && ids[uint32(u)-1] == ids[uint32(e)] {
				return &dupError{id: ids[uint32(e)], prev: int(uint32(u) - 1), row: int(uint32(e))}
			}
		}
	}
	return nil
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
	p := x.part(h)
	t := x.slots[x.off[p]:x.off[p+1]]
	if len(t) == 0 {
		return 0, false
	}
	mask, tag := uint64(len(t)-1), h<<32>>32
	for s := h & mask; ; s = (s + 1) & mask {
		u := t[s]
		if u == 0 {
			return 0, false
		}
		if u>>32 == tag && x.ids[uint32(u)-1] == id {
			return int32(uint32(u) - 1), true
		}
	}
}
