package strategies

import (
	"math"
	"slices"
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
// distance with a rigorous rounding margin settles most pairs before the
// float64 kernel is needed.
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
	rows   []int32     // pending centers (problem rows), in order
	groups []int32     // their group ids
	lbs    [][]float64 // lbs[j][g] <= d(center of group g, rows[j])
	done   []uint8     // per candidate: pending centers already applied
	cbuf   []float32   // during a pass: the pending centers' rows, padded to threes
	cnorm  []float64   // their squared norms
	zero   []float32   // a zero row, to take norms with the distance kernel
	// members backs every group's member list between passes.
	members []int32
	work    atomic.Int64
}

// addDeferred records a new center; the pass runs when the batch is full.
func (s *divState) addDeferred(row int) {
	f := s.def
	g := int32(len(s.groups))
	s.addCenterRow(int(g), row)
	s.groups = append(s.groups, group{center: int32(row), radius: math.Inf(1)})
	// The distances from the new center to every group's center (lower
	// bounds where that is all a test needs). Groups left empty need none.
	j := len(f.rows)
	if j == len(f.lbs) {
		f.lbs = append(f.lbs, nil)
	}
	lb := f.lbs[j][:0]
	lb = slices.Grow(lb, len(s.groups))[:len(s.groups)]
	c := s.d.row(row)
	const gsize = 64
	nch := chunks(len(s.groups), gsize)
	exact := make([]int64, nch)
	parallel(s.workers, nch, func(t int) {
		for k := t * gsize; k < min((t+1)*gsize, len(s.groups)); k++ {
			gr := &s.groups[k]
			switch {
			case gr.center < 0 || k == int(g):
				lb[k] = 0
			case len(gr.members) == 0 && gr.radius == 0:
				lb[k] = math.Inf(1) // empty since the last pass: no member to test
			default:
				exact[t]++
				lb[k] = dist(s.centerRow(k), c)
			}
		}
	})
	for _, n := range exact {
		f.work.Add(n)
	}
	f.lbs[j] = lb
	f.rows = append(f.rows, int32(row))
	f.groups = append(f.groups, g)
	if len(f.rows) == deferBatch {
		s.flush()
	}
}

// current returns candidate i's distance to S, applying the pending
// centers it has not seen. Calls for different candidates may run
// concurrently; each writes only its own candidate's state.
func (s *divState) current(i int) float64 {
	if f := s.def; f != nil && int(f.done[i]) < len(f.rows) {
		f.work.Add(s.apply(i, int(f.done[i]), len(f.rows), nil))
		f.done[i] = uint8(len(f.rows))
	}
	return s.md[i]
}

// apply applies pending centers from..to-1 to candidate x in order and
// returns the number of distances it computed. lb2, when not
// nil, holds lower bounds on x's squared distances to the pending centers
// (from the tiled float32 kernel, see bounds4).
func (s *divState) apply(x, from, to int, lb2 []float64) (work int64) {
	f := s.def
	for j := from; j < to; j++ {
		g := s.grp[x]
		if g < 0 {
			return // ineligible for good
		}
		dx := s.md[x]
		// d(x,c) >= d(a,c) - d(x,a) >= lb - dx >= dx: x keeps dx.
		if f.lbs[j][g] >= 2*dx*skipMargin {
			continue
		}
		c := int(f.rows[j])
		// The float32 kernel settles most of the rest at half the cost
		// of the float64 one (the row is in cache for the whole batch);
		// either reads the row, so each counts as one distance.
		work++
		if lb2 != nil {
			if lim := dx * skipMargin; lb2[j] >= lim*lim {
				continue
			}
		} else if farEnough32(s.d.row(x), s.d.row(c), dx) {
			continue
		}
		if d := distUpTo(s.d.row(x), s.d.row(c), dx); d < dx {
			s.md[x] = d
			if s.d.dedup && d < s.d.minDist {
				s.grp[x] = -1
			} else {
				s.grp[x] = f.groups[j]
			}
		}
	}
	return work
}

// flush applies every pending center to every candidate, then rebuilds
// the groups' member lists and radii from the candidates' groups.
func (s *divState) flush() {
	f := s.def
	to := len(f.rows)
	if to == 0 {
		return
	}
	tiled := s.tile(to)
	const size = 4096
	nt := chunks(s.cand, size)
	work, needs := make([]int64, nt), make([]int64, nt)
	parallel(s.workers, nt, func(t int) {
		var buf [denseWin]int32
		var lb2 [4][deferBatch]float64
		for lo := t * size; lo < min((t+1)*size, s.cand); lo += denseWin {
			if s.ctx != nil && s.ctx.Err() != nil {
				return // Select returns ctx's error after this Add
			}
			wh := min(lo+denseWin, s.cand)
			// Rows some pending center may come closer to, by the
			// triangle test alone (the state only improves the tests
			// as centers are applied, so a row none can reach now
			// stays out of reach).
			need := buf[:0]
			for x := lo; x < wh; x++ {
				from := int(f.done[x])
				g := s.grp[x]
				if from >= to || g < 0 {
					continue
				}
				lim := 2 * s.md[x] * skipMargin
				reach := 0
				for j := from; j < to; j++ {
					if !(f.lbs[j][g] >= lim) {
						reach++
					}
				}
				if reach > 0 {
					need = append(need, int32(x))
					needs[t] += int64(reach)
				}
			}
			if tiled {
				// Four rows at a time against every pending center.
				for k := 0; k < len(need); k += 4 {
					var rows [4]int
					for i := range rows {
						rows[i] = int(need[min(k+i, len(need)-1)])
					}
					s.bounds4(rows, to, &lb2)
					for i := 0; i < min(4, len(need)-k); i++ {
						work[t] += s.apply(rows[i], int(f.done[rows[i]]), to, lb2[i][:to])
					}
				}
				markDone(f.done[lo:wh], to)
				continue
			}
			for k, x := range need {
				if k+batchAhead < len(need) {
					prefetchImpl(s.d.row(int(need[k+batchAhead])))
				}
				work[t] += s.apply(int(x), int(f.done[x]), to, nil)
			}
			markDone(f.done[lo:wh], to)
		}
	})
	if s.ctx != nil && s.ctx.Err() != nil {
		return // a partial pass: only ever followed by Select's error
	}
	var needed int64
	for t := range work {
		s.work += work[t]
		needed += needs[t]
	}
	s.work += f.work.Swap(0)
	f.rows, f.groups = f.rows[:0], f.groups[:0]
	clear(f.done)
	s.regroup()
	// Once few candidates are within reach of new centers (every cluster
	// has one), the eager update, which skips whole groups by their
	// radius and touches only the candidates a center can reach, is the
	// cheaper one: from here on every center is applied at once.
	if needed*deferShare < int64(s.cand)*int64(to) {
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

// tile prepares a pass of the to pending centers for the tiled kernel:
// their rows side by side (padded with zero rows to a multiple of three)
// and their squared norms. It reports false when the kernel cannot run.
func (s *divState) tile(to int) bool {
	f, dim := s.def, s.d.dim
	if dot4x3Impl == nil || dim%dot4x3Step != 0 {
		return false
	}
	n := (to + 2) / 3 * 3 * dim
	f.cbuf = slices.Grow(f.cbuf[:0], n)[:n]
	clear(f.cbuf[to*dim:])
	if len(f.zero) != dim {
		f.zero = make([]float32, dim)
	}
	f.cnorm = f.cnorm[:0]
	for j := 0; j < to; j++ {
		r := s.d.row(int(f.rows[j]))
		copy(f.cbuf[j*dim:], r)
		f.cnorm = append(f.cnorm, sqDistImpl(r, f.zero))
	}
	return true
}

// bounds4 sets lb2[i][j] to a lower bound on the squared distance from
// candidate rows[i] to pending center j, from float32 dot products:
// d² = ‖x‖² + ‖c‖² − 2⟨x,c⟩, where the float32 dot product over n
// dimensions is within (n+8)·2^-24·Σ|x_k c_k| <= (n+8)·2^-24·(‖x‖²+‖c‖²)/2
// of the exact one (each lane sums n/8 products with one rounding each,
// then three reductions; the bound doubles that). The norms are float64
// sums (the distance kernel against a zero row), whose error is far
// below. Overflow gives no bound; an absolute term covers underflow.
func (s *divState) bounds4(rows [4]int, to int, lb2 *[4][deferBatch]float64) {
	f, dim := s.def, s.d.dim
	var x [4][]float32
	var nx [4]float64
	for i, r := range rows {
		x[i] = s.d.row(r)
		nx[i] = sqDistImpl(x[i], f.zero) // ‖x‖², float64 sums (AVX2)
	}
	gamma := float64(dim+8) * 0x1p-23
	slack := float64(dim) * 0x1p-126
	var out [12]float32
	for j := 0; j < to; j += 3 {
		dot4x3Impl(&x, f.cbuf[j*dim:(j+3)*dim], dim, &out)
		for jj := j; jj < min(j+3, to); jj++ {
			for i := range rows {
				d := float64(out[4*(jj-j)+i])
				sum := nx[i] + f.cnorm[jj]
				if math.IsInf(d, 0) || math.IsNaN(d) || math.IsInf(sum, 0) {
					lb2[i][jj] = math.Inf(-1)
					continue
				}
				lb2[i][jj] = sum - 2*d - gamma*sum - slack
			}
		}
	}
}

// markDone records that a window's rows have every pending center applied
// (so a pass stopped by cancellation and run again skips them).
func markDone(done []uint8, to int) {
	for i := range done {
		done[i] = uint8(to)
	}
}
