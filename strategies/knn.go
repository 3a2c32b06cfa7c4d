package strategies

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// Exact k-nearest-neighbour search on the tile kernel.
//
// Every search here returns, for each query, the k targets with the
// smallest exact squared distance (the float64 kernel, so the same bits on
// every CPU and in both orientations), ties broken by the lower target
// index. The tile kernel's float32 dot products only prune: from the dot
// and the two norms (float32 sums) come a lower and an upper bound on the
// squared distance (tileNormGamma's margin), a target whose lower bound is
// above the k-th smallest upper bound seen so far cannot be among the k,
// and the few that survive get their exact distance at the end. So the
// result is the exact one, whichever kernel set ran, in whatever order the
// targets came, on any number of workers.

// nbCand is a target that may be among a query's k nearest: lo <= d² <=
// hi (equal once exact).
type nbCand struct {
	lo, hi float64
	idx    int32
	exact  bool
}

// topk collects one query's candidates. u is kept current with a max-heap
// of the k smallest upper bounds, so that the kernel's threshold tightens
// with every candidate and few targets pass it.
type topk struct {
	k  int
	u  float64   // >= the k-th smallest d² over all targets seen (+Inf before k)
	c  []nbCand  // candidates with lo <= u (and some since ruled out)
	hh []float64 // max-heap of the k smallest upper bounds seen
}

// topkCap is the size of the candidate buffer of a query's topk.
func topkCap(k int) int { return 4*k + 16 }

// newTopk returns a topk that keeps its candidates in buf, compacting
// them when buf is full (so len(buf) should be at least 2k).
func newTopk(k int, buf []nbCand) topk {
	return topk{k: k, u: math.Inf(1), c: buf[:0:len(buf)]}
}

// thr is the kernel threshold: a target passes the tile's strict test
// lb < thr exactly when lb <= u.
func (t *topk) thr() float64 { return math.Nextafter(t.u, math.Inf(1)) }

// exactDist names how a topk gets a target's exact d²: the float64
// kernel between target row idx of v and the query's float32 row q.
type exactDist struct {
	v *Vectors
	q []float32
	// When q is nil the query is row `row` of v, converted into *buf
	// when a distance is first needed (a float16 row).
	row int32
	buf *[]float32
}

// load returns e with its query row at hand.
func (e exactDist) load() exactDist {
	if e.q == nil {
		*e.buf = e.v.Row(int(e.row), *e.buf)
		e.q = *e.buf
	}
	return e
}

func (e exactDist) of(idx int32) float64 { return e.v.sqDistTo(int(idx), e.q) }

// add records a target with bounds lo <= d² <= hi; exact gives a target's
// d² when the candidates must be thinned by exact values.
func (t *topk) add(lo, hi float64, idx int32, exact exactDist) {
	if lo > t.u {
		return
	}
	t.c = append(t.c, nbCand{lo: lo, hi: hi, idx: idx})
	t.bound(hi)
	if len(t.c) == cap(t.c) {
		t.compact(exact)
	}
}

// bound offers an upper bound to the heap of the k smallest.
func (t *topk) bound(hi float64) {
	switch {
	case len(t.hh) < t.k:
		if t.hh == nil {
			t.hh = make([]float64, 0, t.k)
		}
		t.hh = append(t.hh, hi)
		upF(t.hh, len(t.hh)-1)
	case hi < t.hh[0]:
		t.hh[0] = hi
		downF(t.hh, 0)
	default:
		return
	}
	if len(t.hh) == t.k {
		t.u = min(t.u, t.hh[0])
	}
}

// compact drops the candidates u rules out; if many survive (near-ties,
// duplicates) it computes their exact distances and keeps the k best.
func (t *topk) compact(exact exactDist) {
	t.c = slices.DeleteFunc(t.c, func(c nbCand) bool { return c.lo > t.u })
	if len(t.c) <= cap(t.c)/2 {
		return
	}
	t.resolve(exact)
	t.c = t.c[:min(len(t.c), t.k)]
	t.hh = t.hh[:0]
	for _, c := range t.c {
		t.bound(c.hi)
	}
}

// resolve computes every candidate's exact distance and sorts them by
// (distance, index).
func (t *topk) resolve(exact exactDist) {
	if len(t.c) > 0 {
		exact = exact.load()
	}
	for i := range t.c {
		if c := &t.c[i]; !c.exact {
			d := exact.of(c.idx)
			c.lo, c.hi, c.exact = d, d, true
		}
	}
	slices.SortFunc(t.c, byDistance)
}

// byDistance orders exact candidates by distance, then index: the order
// of every search's result.
func byDistance(a, b nbCand) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.idx, b.idx)
}

// final returns the k nearest (fewer when fewer targets were seen), by
// exact squared distance and then index.
func (t *topk) final(exact exactDist) []nbCand {
	t.c = slices.DeleteFunc(t.c, func(c nbCand) bool { return c.lo > t.u })
	t.resolve(exact)
	return t.c[:min(len(t.c), t.k)]
}

func upF(h []float64, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !(h[i] > h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func downF(h []float64, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && h[r] > h[l] {
			l = r
		}
		if !(h[l] > h[i]) {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

// bounds returns lo <= d² <= hi from a tile's float32 dot product and the
// two float32-sum norms.
func bounds(dot float32, an, bn, gamma, slack float64) (lo, hi float64) {
	d := float64(dot)
	s := an + bn
	if math.IsInf(d, 0) || math.IsNaN(d) {
		return 0, math.Inf(1)
	}
	e := gamma*s + slack
	lo = s - 2*d - e
	hi = s - 2*d + e
	return max(lo, 0), hi
}

// norms32 returns every row's squared norm as a float32 sum, in float64.
func norms32(v *Vectors, workers int) []float64 {
	n := v.Rows()
	out := make([]float64, n)
	const size = 4096
	parallel(workerCount(workers), chunks(n, size), func(t int) {
		for i := t * size; i < min((t+1)*size, n); i++ {
			out[i] = float64(v.sqNorm32(i))
		}
	})
	return out
}

// rowSource hands out rows of a Vectors as float32 pointers for a tile:
// float32 rows in place, float16 rows converted into a buffer.
type rowSource struct {
	v   *Vectors
	buf []float32
}

// rows32 sets dst[r] to target rows idx[r] (r < len(idx)) as float32.
func (rs *rowSource) rows32(dst *[tileRows]*float32, idx []int32) {
	dim := rs.v.Dim
	for r := 0; r < tileRows; r++ {
		if r >= len(idx) {
			dst[r] = dst[0]
			continue
		}
		x := int(idx[r])
		if rs.v.F16 != nil {
			if len(rs.buf) < tileRows*dim {
				rs.buf = make([]float32, tileRows*dim)
			}
			row := rs.buf[r*dim : (r+1)*dim]
			kern.decode16(row, rs.v.F16[x*dim:(x+1)*dim])
			dst[r] = &row[0]
		} else {
			dst[r] = &rs.v.F32[x*dim]
		}
	}
}

// queryBlock is a block of queries held as tile panels: the queries are a
// tile's columns and targets stream through as its rows, so each target
// row is read once per block.
type queryBlock struct {
	v      *Vectors
	k      int
	self   bool      // skip the target equal to the query
	idx    []int32   // the queries
	q32    []float32 // their rows as float32, row-major
	panels [][]float32
	qn     [][tileCols]float64 // per panel: query norms
	thr    [][tileCols]float64 // per panel: current thresholds
	tops   []topk
	cands  []nbCand
	rs     rowSource
	t      tile
	zero   [tileRows]float64
	work   int64 // target rows × queries measured
}

// newQueryBlock prepares the queries idx of v (norms from qnorm, indexed
// like v's rows).
func newQueryBlock(v *Vectors, idx []int32, norms []float64, k int, self bool) *queryBlock {
	dim := v.Dim
	b := &queryBlock{v: v, k: k, self: self, idx: idx, rs: rowSource{v: v}}
	b.q32 = make([]float32, len(idx)*dim)
	for i, x := range idx {
		v.Row(int(x), b.q32[i*dim:(i+1)*dim])
	}
	np := chunks(len(idx), tileCols)
	b.panels = make([][]float32, np)
	b.qn = make([][tileCols]float64, np)
	b.thr = make([][tileCols]float64, np)
	rows := make([][]float32, 0, tileCols)
	for p := range b.panels {
		rows = rows[:0]
		for i := p * tileCols; i < min((p+1)*tileCols, len(idx)); i++ {
			rows = append(rows, b.q32[i*dim:(i+1)*dim])
			b.qn[p][i-p*tileCols] = norms[idx[i]]
			b.thr[p][i-p*tileCols] = math.Inf(1)
		}
		b.panels[p] = make([]float32, dim*tileCols)
		transposeInto(b.panels[p], rows, dim)
	}
	b.cands = make([]nbCand, len(idx)*topkCap(k))
	b.tops = make([]topk, len(idx))
	for i := range b.tops {
		b.tops[i] = newTopk(k, b.cands[i*topkCap(k):(i+1)*topkCap(k)])
	}
	return b
}

// exact returns how query i's exact distances are computed.
func (b *queryBlock) exact(i int) exactDist {
	return exactDist{v: b.v, q: b.q32[i*b.v.Dim : (i+1)*b.v.Dim]}
}

// scan measures every query of the block against targets (rows of the
// block's Vectors), with norms their squared norms by row.
func (b *queryBlock) scan(targets []int32, norms []float64) {
	dim, t := b.v.Dim, &b.t
	gamma, slack := tileNormGamma(dim), tileSlack(dim)
	t.dim, t.rthr = dim, b.zero
	for k := 0; k < len(targets); k += tileRows {
		rows := targets[k:min(k+tileRows, len(targets))]
		b.rs.rows32(&t.rows, rows)
		t.nrows = len(rows)
		for r, x := range rows {
			t.an[r] = norms[x]
		}
		for p := range b.panels {
			nq := min(tileCols, len(b.idx)-p*tileCols)
			t.panel, t.bn, t.cthr, t.colmask = &b.panels[p][0], &b.qn[p], &b.thr[p], colMask(nq)
			kern.runTile(t)
			for r, x := range rows {
				for m := t.masks[r]; m != 0; m &= m - 1 {
					j := bits.TrailingZeros64(m)
					qi := p*tileCols + j
					if b.self && b.idx[qi] == x {
						continue
					}
					lo, hi := bounds(t.dots[r][j], t.an[r], b.qn[p][j], gamma, slack)
					tp := &b.tops[qi]
					tp.add(lo, hi, x, b.exact(qi))
					b.thr[p][j] = tp.thr()
				}
			}
		}
	}
	b.work += int64(len(targets)) * int64(len(b.idx))
}

// results returns query i's k nearest.
func (b *queryBlock) results(i int) []nbCand { return b.tops[i].final(b.exact(i)) }

// targetPanels holds a small set of targets (centroids, query vectors,
// centers) as tile panels, against which many queries run as tile rows.
type targetPanels struct {
	v      *Vectors
	idx    []int32
	panels [][]float32
	tn     [][tileCols]float64
}

func newTargetPanels(v *Vectors, idx []int32, norms []float64) *targetPanels {
	dim := v.Dim
	tp := &targetPanels{v: v, idx: idx}
	np := chunks(len(idx), tileCols)
	tp.panels = make([][]float32, np)
	tp.tn = make([][tileCols]float64, np)
	rows := make([][]float32, 0, tileCols)
	for p := range tp.panels {
		rows = rows[:0]
		for i := p * tileCols; i < min((p+1)*tileCols, len(idx)); i++ {
			rows = append(rows, v.Row(int(idx[i]), nil))
			tp.tn[p][i-p*tileCols] = norms[idx[i]]
		}
		tp.panels[p] = make([]float32, dim*tileCols)
		transposeInto(tp.panels[p], rows, dim)
	}
	return tp
}

// nearestRows finds, for each query row idx[i] of qv, the k nearest of
// the panels' targets and passes them to res(i, ...), on workers
// goroutines (res is called concurrently for different i). self skips a
// target equal to the query (qv and the targets' Vectors must then be the
// same matrix). A task takes 96 queries and runs each panel against all of
// them while it is in cache; stop is polled between tasks, done gets the
// number of queries each finished.
func (tp *targetPanels) nearestRows(qv *Vectors, idx []int32, qnorms []float64, k int, self bool, workers int,
	stop func() bool, done func(int), res func(i int, nb []nbCand)) {
	const size = 16 * tileRows // queries a task
	parallel(workerCount(workers), chunks(len(idx), size), func(task int) {
		if stop() {
			return
		}
		lo, hi := task*size, min((task+1)*size, len(idx))
		qb := newRowQueries(qv, idx[lo:hi], qnorms, k, tp.v)
		tp.scan(qb, self)
		for i := range qb.idx {
			res(lo+i, qb.results(i))
		}
		done(hi - lo)
	})
}

// rowQueries are queries that run as tile rows (against target panels of
// rows of tv), with their float32 rows, norms and candidates.
type rowQueries struct {
	v, tv *Vectors
	idx   []int32
	q32   [][]float32
	qn    []float64
	tops  []topk
	t     tile
	zeros [tileCols]float64
}

func newRowQueries(v *Vectors, idx []int32, norms []float64, k int, tv *Vectors) *rowQueries {
	dim := v.Dim
	q := &rowQueries{v: v, tv: tv, idx: idx, q32: make([][]float32, len(idx)), qn: make([]float64, len(idx)), tops: make([]topk, len(idx))}
	var buf []float32
	if v.F16 != nil {
		buf = make([]float32, len(idx)*dim)
	}
	for i, x := range idx {
		if v.F16 != nil {
			q.q32[i] = v.Row(int(x), buf[i*dim:(i+1)*dim])
		} else {
			q.q32[i] = v.F32[int(x)*dim : (int(x)+1)*dim]
		}
		q.qn[i] = norms[x]
	}
	cands := make([]nbCand, len(idx)*topkCap(k))
	for i := range q.tops {
		q.tops[i] = newTopk(k, cands[i*topkCap(k):(i+1)*topkCap(k)])
	}
	q.t = tile{dim: dim, gamma: tileNormGamma(dim), slack: tileSlack(dim), cthr: &q.zeros}
	return q
}

// with returns the same queries (sharing their rows and norms) with fresh
// candidates for the k nearest rows of tv.
func (q *rowQueries) with(k int, tv *Vectors) *rowQueries {
	o := &rowQueries{v: q.v, tv: tv, idx: q.idx, q32: q.q32, qn: q.qn, tops: make([]topk, len(q.idx))}
	cands := make([]nbCand, len(q.idx)*topkCap(k))
	for i := range o.tops {
		o.tops[i] = newTopk(k, cands[i*topkCap(k):(i+1)*topkCap(k)])
	}
	o.t = tile{dim: q.v.Dim, gamma: q.t.gamma, slack: q.t.slack, cthr: &o.zeros}
	return o
}

// scanPanel measures the queries at positions sel (all when nil) against
// one panel of targets (target rows tidx, norms tn). self skips a target
// equal to the query. With of, every pair is offered to the target too
// (the targets are rows of list l of of's search): the tile's masks are
// computed again at the targets' thresholds.
func (q *rowQueries) scanPanel(sel []int32, panel []float32, tn *[tileCols]float64, tidx []int32, self bool, of *offers, l int32) {
	t := &q.t
	t.panel, t.bn, t.colmask = &panel[0], tn, colMask(len(tidx))
	var colThr [tileCols]float64
	if of != nil {
		of.thresholds(l, tidx, &colThr)
	}
	n := len(q.idx)
	if sel != nil {
		n = len(sel)
	}
	at := func(r int) int {
		if sel != nil {
			return int(sel[r])
		}
		return r
	}
	for r0 := 0; r0 < n; r0 += tileRows {
		r1 := min(r0+tileRows, n)
		t.nrows = r1 - r0
		for r := 0; r < tileRows; r++ {
			i := at(min(r0+r, r1-1))
			t.rows[r] = &q.q32[i][0]
			t.an[r] = q.qn[i]
			t.rthr[r] = q.tops[i].thr()
		}
		kern.runTile(t)
		for r := 0; r < r1-r0; r++ {
			i := at(r0 + r)
			for m := t.masks[r]; m != 0; m &= m - 1 {
				j := bits.TrailingZeros64(m)
				target := tidx[j]
				if self && target == q.idx[i] {
					continue
				}
				lo, hi := bounds(t.dots[r][j], t.an[r], tn[j], t.gamma, t.slack)
				q.tops[i].add(lo, hi, target, exactDist{v: q.tv, q: q.q32[i]})
			}
		}
		if of != nil {
			var qrows [tileRows]int32
			for r := 0; r < r1-r0; r++ {
				qrows[r] = q.idx[at(r0+r)]
			}
			t.rthr, t.cthr = [tileRows]float64{}, &colThr
			kern.runMask(t)
			of.take(l, t, &qrows, tidx, &colThr)
			t.cthr = &q.zeros
		}
	}
}

// scan measures every query against every panel.
func (tp *targetPanels) scan(q *rowQueries, self bool) {
	for p := range tp.panels {
		tidx := tp.idx[p*tileCols : min((p+1)*tileCols, len(tp.idx))]
		q.scanPanel(nil, tp.panels[p], &tp.tn[p], tidx, self, nil, 0)
	}
}

// results returns query i's k nearest (exact distances of the targets'
// Vectors).
func (q *rowQueries) results(i int) []nbCand { return q.tops[i].final(exactDist{v: q.tv, q: q.q32[i]}) }
