package columnar

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/winnow-data/winnow/internal/workpool"

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
//
// The passes work for every kind of ids: they take hashes a block at a
// time from IDs.hashes, whose loop per kind inlines its hash, so UUIDs
// pay no call per id for the other kinds' existence (a generic pass over
// a key interface cost 1.5 times as much: Go calls the methods of a type
// parameter through a dictionary, without inlining).
type idIndex struct {
	ids   *IDs
	shift uint     // hash >> shift is the partition; 64 with one partition
	off   []int    // partition p's table is slots[off[p]:off[p+1]], a power of two long
	slots []uint64 // uint32(hash)<<32 | row+1; 0 is empty
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

// hashBlock is the number of hashes computed at a time: they stay in
// the core's first-level cache until used.
const hashBlock = 512

// partition groups ids by the top bits of their hashes in two streaming
// passes: count each worker's ids per partition, then scatter.
func partition(ids *IDs) *partitioned {
	n := ids.Len()
	np := 1
	for np*partitionIDs < n {
		np *= 2
	}
	pt := &partitioned{shift: uint(64 - bits.Len(uint(np-1))), start: make([]int, np+1), w: 1}
	if n >= 1<<16 {
		pt.w = runtime.GOMAXPROCS(0)
	}
	span := (n + pt.w - 1) / pt.w
	rows := func(k int) (int, int) { return min(k*span, n), min((k+1)*span, n) }
	counts := make([][]int, pt.w)
	workpool.Do(pt.w, pt.w, func(k int) {
		c := make([]int, np)
		var hs [hashBlock]uint64
		lo, hi := rows(k)
		for b := lo; b < hi; b += hashBlock {
			h := hs[:min(hashBlock, hi-b)]
			ids.hashes(b, h)
			for _, v := range h {
				c[pt.part(v)]++
			}
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
	pt.ent = make([]uint64, n)
	workpool.Do(pt.w, pt.w, func(k int) {
		c := counts[k]
		var hs [hashBlock]uint64
		lo, hi := rows(k)
		for b := lo; b < hi; b += hashBlock {
			h := hs[:min(hashBlock, hi-b)]
			ids.hashes(b, h)
			for i, v := range h {
				p := pt.part(v)
				pt.ent[c[p]] = uint64(uint32(v))<<32 | uint64(b+i)
				c[p]++
			}
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
func checkUnique(ids *IDs) error {
	pt := partition(ids)
	scratch := make([][]uint64, pt.w)
	if dup := pt.each(func(k, p int) *dupError {
		ent := pt.ent[pt.start[p]:pt.start[p+1]]
		n := tableSize(len(ent))
		if cap(scratch[k]) < n {
			scratch[k] = make([]uint64, n)
		}
		t := scratch[k][:n]
		clear(t)
		return fill(t, ids, ent)
	}); dup != nil {
		return dup
	}
	return nil
}

// buildIDIndex indexes ids. A repeated id is an error naming both rows
// (the earliest repetition: the smallest second row).
func buildIDIndex(ids *IDs) (*idIndex, error) {
	pt := partition(ids)
	np := len(pt.start) - 1
	x := &idIndex{ids: ids, shift: pt.shift, off: make([]int, np+1)}
	for p := range np {
		x.off[p+1] = x.off[p] + tableSize(pt.start[p+1]-pt.start[p])
	}
	x.slots = make([]uint64, x.off[np])
	if dup := pt.each(func(_, p int) *dupError {
		return fill(x.slots[x.off[p]:x.off[p+1]], ids, pt.ent[pt.start[p]:pt.start[p+1]])
	}); dup != nil {
		return x, dup
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
// two long, and returns the first duplicate. Ids are compared only when
// 32 bits of their hashes agree, so the comparison's kind switch is
// almost only paid for a true duplicate.
func fill(t []uint64, ids *IDs, ent []uint64) *dupError {
	mask := uint64(len(t) - 1)
	for _, e := range ent {
		v := e + 1 // row+1: never 0
		for s := (e >> 32) & mask; ; s = (s + 1) & mask {
			u := t[s]
			if u == 0 {
				t[s] = v
				break
			}
			if u>>32 == e>>32 && ids.same(int(uint32(u)-1), ids, int(uint32(e))) {
				row := int(uint32(e))
				return &dupError{id: ids.quoted(row), prev: int(uint32(u) - 1), row: row}
			}
		}
	}
	return nil
}

// dupError reports a repeated sample id.
type dupError struct {
	what      string // "annotation id"; "" means a sample id
	id        string // the id as messages show it
	prev, row int
}

func (e *dupError) Error() string {
	what := e.what
	if what == "" {
		what = "sample id"
	}
	return fmt.Sprintf("duplicate %s %s (rows %d and %d)", what, e.id, e.prev, e.row)
}

// find returns the row of id i of y, a column of the index's kind.
func (x *idIndex) find(y *IDs, i int) (int32, bool) {
	h := y.hash(i)
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
		if u>>32 == tag && x.ids.same(int(uint32(u)-1), y, i) {
			return int32(uint32(u) - 1), true
		}
	}
}

// findUUID returns the row of id, in an index of UUIDs.
func (x *idIndex) findUUID(id uuid.UUID) (int32, bool) {
	y := IDs{kind: UUIDIDs, uuids: []uuid.UUID{id}}
	return x.find(&y, 0)
}
