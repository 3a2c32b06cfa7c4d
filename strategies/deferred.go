package strategies

import (
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
)

// Deferred diversity updates.
//
// Eagerly, every new center is measured against every candidate it might
// come closer to: before every cluster of the data has a center that is
// about half the candidates per pick, a pass over memory per pick.
// Deferred, a new center only joins a pending list; the pick after it
// needs the current distance of the few candidates the engine looks at
// (heap tops, or every candidate when the engine scans), and those are
// brought up to date on demand. Every deferBatch centers, one pass
// applies all pending centers to every candidate: each candidate's row
// is read once for the whole
// batch and stays in cache while it is measured against each center, so
// the pass costs compute rather than memory bandwidth. Within it a float32
// distance bound with a rigorous rounding margin, from the tile kernel's
// dot products (a matrix product of six candidates by the 64 pending
// centers at a time), settles most pairs before the float64 kernel is
// needed.
//
// A candidate's distance after centers c_1..c_m is min(d_0, d(x,c_1), ...,
// d(x,c_m)) whichever way it is computed, and every skipped distance is
// proven (triangle inequality on a lower bound of the center-to-center
// distance, then the float32 bound) not below the distance at
// that moment, so the values, and the picks, are those of the eager
// update. Once a center has few candidates within its reach (every
// cluster has a center), the eager update, which skips whole groups by
// their radius, is cheaper, and deferral ends.

// deferBatch is the number of centers applied per pass (at most 255: the
// per-candidate count of applied centers is a byte).
const deferBatch = 64

// deferShare: when a center of a pass had fewer than 1/deferShare of the
// candidates within reach of the triangle test, on average, deferral ends
// (on clustered data the share falls from ~1/2 to a cluster's share once
// every cluster has a center).
const deferShare = 8

// deferred is the pending part of a divState.
type deferred struct {
	rows   []int32 // pending centers (problem rows), in order
	groups []int32 // their group ids
	// lbs[g·deferBatch+j] <= d(center of group g, rows[j]) for every group
	// g that existed when rows[j] was added (the only ones a test reads:
	// a candidate joins a pending center's group only once that center
	// is applied to it, and then it is only tested against later ones).
	lbs  []float64
	done []uint8 // per candidate: pending centers already applied
	// The pending centers' rows as float32: row-major (crow) for the
	// exact distances, transposed (panel) for the tile kernel, and their
	// squared norms as float32 sums.
	crow    []float32
	panel   []float32
	panel16 []uint32 // the pass's centers in bfloat16 pairs (screen.go)
	cnorm   [tileCols]float64
	zeros   [tileCols]float64
	// members backs every group's member list between passes.
	members []int32
	work    atomic.Int64
	// lbWork counts this batch's exact center distances; noLB makes a
	// batch's lbs all 0 (see lbPays); probeIn counts the batches until
	// the next that computes them again.
	lbWork  int64
	noLB    bool
	probeIn int
	cached  int // lbCached when 0 (tests set it)
}

// lbProbe: while the lbs do not pay, one batch in lbProbe computes them
// again, so that the pass can find the triangle test effective and end
// deferral.
const lbProbe = 8

// The cost of one center distance, counted in tile pairs: a few times a
// pair while the centers' rows stay in cache (lbCached bytes of them),
// and a row read from memory beyond it.
const (
	lbCached     = 8 << 20
	lbCostCached = 4
	lbCostMemory = 32
)

// lbPays decides, at the end of a pass over tested (candidate, pending
// center) pairs, whether the next batch computes its lbs. Each lb is an
// exact distance to a group's center, one per group per new center, so
// late in a long run (thousands of groups: a shard picking k' of its
// rows) they can cost more than the pass they serve, which at worst runs
// the tile on every tested pair. Then the next batch's lbs are all 0, a
// valid lower bound that rules nothing out and changes no value (the
// tile settles those pairs), until a probe batch measures again.
func (f *deferred) lbPays(tested int64, groups, dim int) bool {
	if f.noLB {
		f.probeIn--
		return f.probeIn <= 0
	}
	cached := f.cached
	if cached == 0 {
		cached = lbCached
	}
	cost := int64(lbCostCached)
	if groups*dim*4 > cached {
		cost = lbCostMemory
	}
	if f.lbWork*cost <= tested {
		return true
	}
	f.probeIn = lbProbe
	return false
}

// A pass's batch is one tile panel wide.
var _ [tileCols - deferBatch]struct{}
var _ [deferBatch - tileCols]struct{}

// addDeferred records a new center; the pass runs when the batch is full.
func (s *divState) addDeferred(row int) {
	f, dim := s.def, s.d.v.Dim
	g := int32(len(s.groups))
	s.addCenterRow(int(g), row)
	s.groups = append(s.groups, group{center: int32(row), radius: math.Inf(1)})
	j := len(f.rows)
	if len(f.crow) == 0 {
		f.crow = make([]float32, deferBatch*dim)
		f.panel = make([]float32, dim*tileCols)
	}
	c := s.d.v.Row(row, f.crow[j*dim:(j+1)*dim])
	f.cnorm[j] = float64(kern.sqNorm32(c))
	for k, x := range c {
		f.panel[k*tileCols+j] = x
	}
	// The distances from the new center to every group's center (lower
	// bounds where that is all a test needs). Groups left empty need none.
	f.lbs = slices.Grow(f.lbs, len(s.groups)*deferBatch-len(f.lbs))
	f.lbs = f.lbs[:max(len(f.lbs), len(s.groups)*deferBatch)]
	const gsize = 64
	nch := chunks(len(s.groups), gsize)
	exact := make([]int64, nch)
	parallel(s.workers, nch, func(t int) {
		for k := t * gsize; k < min((t+1)*gsize, len(s.groups)); k++ {
			gr := &s.groups[k]
			lb := &f.lbs[k*deferBatch+j]
			switch {
			case gr.center < 0 || k == int(g) || f.noLB:
				*lb = 0
			case len(gr.members) == 0 && gr.radius == 0:
				*lb = math.Inf(1) // empty since the last pass: no member to test
			default:
				exact[t]++
				*lb = s.centerDist(k, c)
			}
		}
	})
	for _, n := range exact {
		f.work.Add(n)
		f.lbWork += n
	}
	f.rows = append(f.rows, int32(row))
	f.groups = append(f.groups, g)
	if len(f.rows) == deferBatch {
		s.flush()
	}
}

// tileScratch is one goroutine's tile and row buffers.
type tileScratch struct {
	t    tile
	rows []float32 // tileRows·dim, for float16 rows
	bf   []uint32  // tileRows·dim/2, the screen's rows in bfloat16
}

var tilePool = sync.Pool{New: func() any { return new(tileScratch) }}

// stale reports whether candidate i has pending centers not yet applied.
func (s *divState) stale(i int) bool {
	f := s.def
	return f != nil && int(f.done[i]) < len(f.rows)
}

// current returns candidate i's distance to S, applying the pending
// centers it has not seen. Calls for different candidates may run
// concurrently; each writes only its own candidate's state.
func (s *divState) current(i int) float64 {
	if s.stale(i) {
		f := s.def
		from, to := int(f.done[i]), len(f.rows)
		if tri := s.triMask(i, from, to); tri != 0 {
			f.work.Add(int64(bits.OnesCount64(tri)))
			if bits.OnesCount64(tri) <= directCenters {
				s.applyDirect(i, tri)
			} else {
				// Only the panel's column chunks holding these
				// centers: usually the last few were added since i
				// was last brought up to date.
				sc := tilePool.Get().(*tileScratch)
				t := s.prepTile(sc, []int32{int32(i)}, to)
				t.c0, t.c1 = from/16, (to+15)/16
				kern.runTile(t)
				s.applyMask(i, t.masks[0]&tri, &t.dots[0], t.an[0], false)
				tilePool.Put(sc)
			}
		}
		f.done[i] = uint8(to)
	}
	return s.md[i]
}

// currentBatch brings rows (candidates the engine is about to look at, such
// as the heap's top entries) up to date together: their memory is fetched
// at once and those with many pending centers share tiles, where one at a
// time each would wait for its row. It changes no value current would not.
func (s *divState) currentBatch(rows []int32) {
	f := s.def
	if f == nil {
		return
	}
	to := len(f.rows)
	var need [warmRows]int32
	var tri [warmRows]uint64
	n := 0
	for _, x := range rows {
		if n == len(need) {
			break
		}
		if from := int(f.done[x]); from < to {
			if m := s.triMask(int(x), from, to); m != 0 {
				s.d.v.prefetch(int(x))
				need[n], tri[n] = x, m
				n++
			} else {
				f.done[x] = uint8(to)
			}
		}
	}
	if n == 0 {
		return
	}
	var work int64
	var tiled [warmRows]int32
	nt := 0
	for k, x := range need[:n] {
		work += int64(bits.OnesCount64(tri[k]))
		if bits.OnesCount64(tri[k]) <= directCenters {
			s.applyDirect(int(x), tri[k])
			f.done[x] = uint8(to)
			continue
		}
		tri[nt], tiled[nt] = tri[k], x
		nt++
	}
	if nt > 0 {
		sc := tilePool.Get().(*tileScratch)
		for k := 0; k < nt; k += tileRows {
			rs := tiled[k:min(k+tileRows, nt)]
			t := s.prepTile(sc, rs, to)
			from := to
			for _, x := range rs {
				from = min(from, int(f.done[x]))
			}
			t.c0, t.c1 = from/16, (to+15)/16
			kern.runTile(t)
			for r, x := range rs {
				s.applyMask(int(x), t.masks[r]&tri[k+r], &t.dots[r], t.an[r], false)
				f.done[x] = uint8(to)
			}
		}
		tilePool.Put(sc)
	}
	f.work.Add(work)
}

// warmRows is the most rows currentBatch takes.
const warmRows = 2 * tileRows

// directCenters: up to this many pending centers are applied to one
// candidate with a float32 distance each rather than a tile (whose row
// norm and panel pass cost about as much as three).
const directCenters = 3

// applyDirect applies the pending centers of mask m to candidate x in
// order, each settled by the float32 distance bound where it can be.
func (s *divState) applyDirect(x int, m uint64) {
	f, dim := s.def, s.d.v.Dim
	for ; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		g := s.grp[x]
		if g < 0 {
			return
		}
		dx := s.md[x]
		c := f.crow[j*dim : (j+1)*dim]
		if f.lbs[int(g)*deferBatch+j] >= 2*dx*skipMargin || s.d.v.farEnough32(x, c, dx) {
			continue
		}
		s.setIfCloser(x, j, s.d.v.distUpTo(x, c, dx))
	}
}

// setIfCloser records pending center j's distance d to x if it is a new
// minimum.
func (s *divState) setIfCloser(x, j int, d float64) {
	if d < s.md[x] {
		s.md[x] = d
		if s.d.dedup && d < s.d.minDist {
			s.grp[x] = -1
		} else {
			s.grp[x] = s.def.groups[j]
		}
	}
}

// triMask returns the pending centers from..to-1 that x may come closer
// to by the triangle test: d(x,c) >= d(a,c) - d(x,a) >= lb - dx >= dx
// rules c out. It is empty for an ineligible x.
func (s *divState) triMask(x, from, to int) uint64 {
	g := s.grp[x]
	if g < 0 {
		return 0
	}
	lbs := (*[deferBatch]float64)(s.def.lbs[int(g)*deferBatch:])
	return kern.below(lbs, 2*s.md[x]*skipMargin) & colMask(to) &^ colMask(from)
}

// prepTile fills sc's tile for rows (at most tileRows candidates) against
// the first to pending centers: row pointers (float16 rows converted into
// sc's buffer), norms, and thresholds (dx·skipMargin)², so that a clear
// mask bit proves the pending center no closer than dx.
func (s *divState) prepTile(sc *tileScratch, rows []int32, to int) *tile {
	f, dim, t := s.def, s.d.v.Dim, &sc.t
	if s.d.v.F16 != nil && len(sc.rows) < tileRows*dim {
		sc.rows = make([]float32, tileRows*dim)
	}
	for r := 0; r < tileRows; r++ {
		x := int(rows[min(r, len(rows)-1)])
		var row []float32
		if s.d.v.F16 != nil {
			row = sc.rows[r*dim : (r+1)*dim]
			if r < len(rows) {
				kern.decode16(row, s.d.v.F16[x*dim:(x+1)*dim])
			}
		} else {
			row = s.d.v.F32[x*dim : (x+1)*dim]
		}
		if r >= len(rows) {
			t.rows[r] = t.rows[0]
			continue
		}
		t.rows[r] = &row[0]
		t.an[r] = float64(kern.sqNorm32(row))
		lim := s.md[x] * skipMargin
		t.rthr[r] = lim * lim
	}
	t.panel, t.dim, t.nrows, t.c0, t.c1 = &f.panel[0], dim, len(rows), 0, tileCols/16
	t.pfBytes = 0 // no prefetch unless the caller sets one
	t.bn, t.cthr = &f.cnorm, &f.zeros
	t.gamma, t.slack = tileNormGamma(dim), tileSlack(dim)
	t.colmask = colMask(to)
	return t
}

// prepScreen points a tile that prepTile filled at the pass's bfloat16
// panel and sc's row buffer, with the screen's margins.
func (s *divState) prepScreen(sc *tileScratch, t *tile) {
	f, dim := s.def, s.d.v.Dim
	if len(sc.bf) < tileRows*dim/2 {
		sc.bf = make([]uint32, tileRows*dim/2)
	}
	t.panel16, t.rowbuf = &f.panel16[0], &sc.bf[0]
	t.gamma, t.slack = screenGamma(dim), screenSlack(dim)
}

// applyMask applies to candidate x, in order, the pending centers of mask m
// (those the tile's float32 bound could not rule out at the state of the
// tile, among those the triangle test left), testing each again with x's
// current distance before the exact float64 one. Dots from the bfloat16
// screen (screened) are tested with its wider margin, and a pair it
// leaves open gets the float32 bound of that one pair before the exact
// distance.
func (s *divState) applyMask(x int, m uint64, dots *[tileCols]float32, an float64, screened bool) {
	f, dim := s.def, s.d.v.Dim
	gamma, slack := tileNormGamma(dim), tileSlack(dim)
	if screened {
		gamma, slack = screenGamma(dim), screenSlack(dim)
	}
	for ; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		g := s.grp[x]
		if g < 0 {
			return // ineligible for good
		}
		dx := s.md[x]
		if f.lbs[int(g)*deferBatch+j] >= 2*dx*skipMargin {
			continue
		}
		d := float64(dots[j])
		sum := an + f.cnorm[j]
		lim := dx * skipMargin
		if lb := sum - 2*d - gamma*sum - slack; lb >= lim*lim && !math.IsInf(d, 0) && !math.IsNaN(d) {
			continue
		}
		c := f.crow[j*dim : (j+1)*dim]
		if screened && s.d.v.farEnough32(x, c, dx) {
			continue
		}
		s.setIfCloser(x, j, s.d.v.distUpTo(x, c, dx))
	}
}

// flush applies every pending center to every candidate, then rebuilds
// the groups' member lists and radii from the candidates' groups.
func (s *divState) flush() {
	f := s.def
	to := len(f.rows)
	if to == 0 {
		return
	}
	skipped := f.noLB
	dim := s.d.v.Dim
	screened := screenOK(dim)
	if screened {
		if len(f.panel16) == 0 {
			f.panel16 = make([]uint32, dim/2*tileCols)
		}
		fillPanel16(f.panel16, f.crow, to, dim)
	}
	const size = 4096
	nt := chunks(s.cand, size)
	work := make([]int64, nt)  // pairs the triangle tests left
	tests := make([]int64, nt) // pairs tested
	parallel(s.workers, nt, func(t int) {
		var need [denseWin]int32
		var tri [denseWin]uint64
		sc := tilePool.Get().(*tileScratch)
		defer tilePool.Put(sc)
		for lo := t * size; lo < min((t+1)*size, s.cand); lo += denseWin {
			if s.ctx != nil && s.ctx.Err() != nil {
				return // Select returns ctx's error after this Add
			}
			wh := min(lo+denseWin, s.cand)
			// Rows some pending center may come closer to, by the
			// triangle test alone (the state only improves the tests
			// as centers are applied, so a row none can reach now
			// stays out of reach).
			n := 0
			for x := lo; x < wh; x++ {
				if from := int(f.done[x]); from < to {
					tests[t] += int64(to - from)
					if m := s.triMask(x, from, to); m != 0 {
						need[n], tri[n] = int32(x), m
						work[t] += int64(bits.OnesCount64(m))
						n++
					}
				}
			}
			// Six rows at a time against every pending center: the
			// float32 products settle most pairs.
			for k := 0; k < n; k += tileRows {
				rows := need[k:min(k+tileRows, n)]
				// The next tile's rows are on their way while this
				// one computes: the AVX-512 kernels fetch them a line
				// at a time between their products
				// (a burst of prefetches stalls once the core's miss
				// buffers are full).
				ahead := need[min(k+tileRows, n):min(k+2*tileRows, n)]
				inKernel := kern.prefetches && len(ahead) > 0
				if !inKernel {
					for _, x := range ahead {
						s.d.v.prefetch(int(x))
					}
				}
				tl := s.prepTile(sc, rows, to)
				if inKernel {
					for r := range tl.pf {
						tl.pf[r] = s.d.v.rowStart(int(ahead[min(r, len(ahead)-1)]))
					}
					tl.pfBytes = s.d.v.rowBytes()
				}
				if screened {
					s.prepScreen(sc, tl)
					kern.screen(tl)
				} else {
					kern.runTile(tl)
				}
				for r, x := range rows {
					s.applyMask(int(x), tl.masks[r]&tri[k+r], &tl.dots[r], tl.an[r], screened)
				}
			}
			markDone(f.done[lo:wh], to)
		}
	})
	if s.ctx != nil && s.ctx.Err() != nil {
		return // a partial pass: only ever followed by Select's error
	}
	var needed, tested int64
	for t := range work {
		needed += work[t]
		tested += tests[t]
	}
	s.work += needed + f.work.Swap(0)
	f.noLB = !f.lbPays(tested, len(s.groups), s.d.v.Dim)
	f.lbWork = 0
	f.rows, f.groups = f.rows[:0], f.groups[:0]
	clear(f.done)
	s.regroup()
	// Once few candidates are within reach of new centers (every cluster
	// has one), the eager update, which skips whole groups by their
	// radius and touches only the candidates a center can reach, is the
	// cheaper one: from here on every center is applied at once. A batch
	// without lbs (noLB was set for it) measured nothing of the kind.
	if !skipped && needed*deferShare < int64(s.cand)*int64(to) {
		s.def = nil
	}
}

// regroup rebuilds every group's member list (in candidate order) and
// radius from grp and md.
func (s *divState) regroup() {
	count := make([]int32, len(s.groups)+1)
	for _, g := range s.grp {
		count[g+1]++
	}
	off := make([]int32, len(s.groups)+1)
	for g := 1; g <= len(s.groups); g++ {
		off[g] = off[g-1] + count[g]
	}
	// The member lists of the last pass are dead (rebuilt here from grp),
	// so their backing array is reused.
	all := s.def.members
	if cap(all) < int(off[len(s.groups)]) {
		all = make([]int32, off[len(s.groups)])
	}
	all = all[:off[len(s.groups)]]
	s.def.members = all
	pos := append([]int32(nil), off[:len(s.groups)]...)
	radius := make([]float64, len(s.groups))
	for x, g := range s.grp {
		if g < 0 {
			continue
		}
		all[pos[g]] = int32(x)
		pos[g]++
		radius[g] = max(radius[g], s.md[x])
	}
	for g := range s.groups {
		s.groups[g].set(all[off[g]:pos[g]:pos[g]], radius[g])
	}
}

// markDone records that a window's rows have every pending center applied
// (so a pass stopped by cancellation and run again skips them).
func markDone(done []uint8, to int) {
	for i := range done {
		done[i] = uint8(to)
	}
}
