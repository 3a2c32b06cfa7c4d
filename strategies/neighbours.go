package strategies

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
)

// Neighbour search for typicality and outliers (spec §6).
//
// Exact search measures every pair: rows² · dim multiply-adds, an hour at
// a million rows of 512 dimensions on two cores. Above about a minute of
// that (NeighboursAuto) the search is approximate, with an inverted file
// (IVF): k-means on a sample of the rows gives Lists centroids, every row
// joins the list of its nearest centroid, and each row is searched among
// the rows of the Probe lists whose centroids are nearest to the row
// itself (as FAISS's IVF-Flat does), and among the rows whose own probes
// include its list: every pair the search measures counts for both of its
// rows, which on 300k clustered rows reached recall 0.98 at about half the
// probe (and pairs) of the one-sided search. Lists are stored as tile panels and
// searched by groups of lists with nearby centroids, whose rows probe
// mostly the same lists: each probed list's panels are read once for all
// the group's rows that probe it, so the search is a sequence of dense
// matrix products on the tile kernel; within the probed lists the k
// nearest are exact.
//
// An IVF index was chosen over a graph index (HNSW, NN-descent) because
// its work is dense matrix products on the tile kernel, its result depends
// only on the data (a graph built in parallel depends on the schedule),
// its one knob (Probe) trades time for recall predictably, and it is the
// index FAISS users know, which makes FAISS's IVF-Flat a direct peer.
//
// Everything is deterministic: the sample and the k-means start come from
// a fixed seed, assignments are exact arg-mins (ties to the lower index),
// centroid means are summed in row order, and every neighbour set is the
// exact one among the rows searched. The result does not depend on the
// number of workers or the CPU. The quality is measured, not assumed: the
// rows of RecallQueries sampled queries are also searched exactly and
// NeighbourSearch.Recall reports the share of the approximate neighbours
// that are no farther than the exact k-th neighbour.

// NeighbourMode chooses between exact and approximate neighbour search.
type NeighbourMode int

const (
	// NeighboursAuto searches exactly unless that is estimated to take
	// more than ExactSeconds (default 60).
	NeighboursAuto NeighbourMode = iota
	// NeighboursExact always measures every pair.
	NeighboursExact
	// NeighboursApproximate always uses the IVF index.
	NeighboursApproximate
)

func (m NeighbourMode) String() string {
	switch m {
	case NeighboursAuto:
		return "auto"
	case NeighboursExact:
		return "exact"
	case NeighboursApproximate:
		return "approximate"
	}
	return fmt.Sprintf("NeighbourMode(%d)", int(m))
}

// NeighbourOptions configure the neighbour search of TypicalityWeights.
// The zero value is NeighboursAuto with every parameter chosen from the
// data's size.
type NeighbourOptions struct {
	Mode NeighbourMode
	// ExactSeconds is the estimated exact search time above which
	// NeighboursAuto goes approximate; 0 means 60.
	ExactSeconds float64
	// Lists is the number of IVF lists, kept exactly when given. 0 means
	// about 2·√rows (at least 1, at most rows/16) k-means lists, then
	// those above twice the average size split by k-means on their own
	// rows (up to three rounds), so the number searched, reported in
	// NeighbourSearch.Lists, can be larger.
	Lists int
	// Probe is the number of lists searched for each row: those whose
	// centroids are nearest to the row (its own first); a row is also
	// searched among the rows whose probes include its list. 0 tunes it:
	// the least probe at which the search finds TargetRecall of the exact
	// neighbours of a sample of rows (searched exactly too).
	Probe int
	// TargetRecall is the recall the tuning aims at; 0 means 0.98.
	TargetRecall float64
	// TrainRows is the k-means sample size; 0 means 64 per list.
	TrainRows int
	// Iterations of k-means; 0 means 10.
	Iterations int
	// RecallQueries is the number of sampled rows (other than the
	// tuning sample) whose neighbours are also found exactly to measure
	// the recall reported; 0 means 1000, negative none.
	RecallQueries int
	// Seed seeds the samples and the k-means start.
	Seed uint64
	// Workers bounds the goroutines; 0 means all cores. Results never
	// depend on it.
	Workers int
	// Progress, when set, is called as the search advances with the
	// number of vector pairs measured and the estimated total (revised
	// once, when the probe has been tuned); calls are serialised, done
	// never decreases and the last call has done == total.
	Progress func(done, total int)
}

// NeighbourSearch says how neighbours were found, for the caller's
// record.
type NeighbourSearch struct {
	Approximate bool
	K           int // neighbours per row
	Rows        int
	// The IVF parameters (approximate only). TargetRecall is set when
	// Probe was tuned to reach it.
	Lists, Probe, TrainRows, Iterations int
	TargetRecall                        float64
	// Recall is the measured share of approximate neighbours no farther
	// than the exact K-th (1 for exact search), over RecallQueries rows
	// not used for tuning; NaN when not measured.
	Recall        float64
	RecallQueries int
}

func (s NeighbourSearch) String() string {
	if !s.Approximate {
		return fmt.Sprintf("exact %d nearest neighbours of %d rows", s.K, s.Rows)
	}
	probe := fmt.Sprintf("probe %d", s.Probe)
	if s.TargetRecall > 0 {
		probe = fmt.Sprintf("probe %d tuned for recall %.2f", s.Probe, s.TargetRecall)
	}
	r := "recall not measured"
	if !math.IsNaN(s.Recall) {
		r = fmt.Sprintf("measured recall@%d %.4f on %d queries", s.K, s.Recall, s.RecallQueries)
	}
	return fmt.Sprintf("approximate %d nearest neighbours of %d rows (IVF: %d lists, %s, k-means on %d rows, %d iterations), %s",
		s.K, s.Rows, s.Lists, probe, s.TrainRows, s.Iterations, r)
}

// exactRate is the pairs·dimension a core measures per second in an exact
// search with the tile kernel of each set (about half of the kernel's
// peak, which the per-pair work around it costs), for NeighboursAuto.
func exactRate() float64 {
	switch kern.name {
	case "avx512":
		return 40e9
	case "avx2":
		return 15e9
	}
	return 1e9
}

// progress serialises a search's progress reports, in pairs measured.
type progress struct {
	mu          sync.Mutex
	fn          func(done, total int)
	done, total int
	shown       int
}

func (p *progress) setTotal(t int) {
	p.mu.Lock()
	p.total = max(t, p.done)
	p.mu.Unlock()
}

func (p *progress) add(units int) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += units
	if d := min(p.done, p.total); d > p.shown {
		p.shown = d
		p.fn(d, p.total)
	}
}

// finish reports done == total.
func (p *progress) finish() {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown < p.total || p.total == 0 {
		p.shown = p.total
		p.fn(p.total, p.total)
	}
}

// neighbours returns, for every row of v, its k smallest exact distances
// to the other rows searched (ascending, k per row).
func neighbours(ctx context.Context, v *Vectors, k int, opt NeighbourOptions) ([]float64, NeighbourSearch, error) {
	n := v.Rows()
	info := NeighbourSearch{K: k, Rows: n, Recall: 1}
	workers := workerCount(opt.Workers)
	norms := norms32(v, workers)
	approx := opt.Mode == NeighboursApproximate
	if opt.Mode == NeighboursAuto {
		limit := opt.ExactSeconds
		if limit <= 0 {
			limit = 60
		}
		approx = float64(n)*float64(n)*float64(v.Dim)/(exactRate()*float64(workers)) > limit
	}
	prog := &progress{fn: opt.Progress}
	out := make([]float64, n*k)
	store := func(q int32, nb []nbCand) {
		for j := range k {
			out[int(q)*k+j] = math.Inf(1)
			if j < len(nb) {
				out[int(q)*k+j] = math.Sqrt(nb[j].hi)
			}
		}
	}
	if !approx {
		prog.setTotal(n * n)
		all := iota32(n)
		if err := exactSearch(ctx, v, norms, all, k, workers, prog, func(i int, nb []nbCand) { store(all[i], nb) }); err != nil {
			return nil, info, err
		}
		prog.finish()
		return out, info, nil
	}
	x, err := buildIVF(ctx, v, norms, opt, prog, &info)
	if err != nil {
		return nil, info, err
	}
	samples := x.samples(opt, &info)
	if opt.Probe <= 0 {
		info.TargetRecall = opt.TargetRecall
		if info.TargetRecall <= 0 {
			info.TargetRecall = 0.98
		}
		if info.Probe, err = x.tune(ctx, samples.tune, k, info.TargetRecall, workers, prog); err != nil {
			return nil, info, err
		}
	}
	prog.setTotal(prog.done + x.searchWork(info.Probe) + len(samples.recall)*n)
	short, err := x.search(ctx, info.Probe, k, workers, prog, store)
	if err != nil {
		return nil, info, err
	}
	// Rows whose probed lists hold fewer than k others: search them all.
	if err := exactSearch(ctx, v, norms, short, k, workers, nil, func(i int, nb []nbCand) { store(short[i], nb) }); err != nil {
		return nil, info, err
	}
	switch {
	case info.Probe == len(x.lists):
		info.Recall = 1 // every list searched: exact
	case len(samples.recall) > 0:
		if info.Recall, err = x.recall(ctx, samples.recall, k, workers, prog, func(q int32) []float64 { return out[int(q)*k : int(q+1)*k] }); err != nil {
			return nil, info, err
		}
		info.RecallQueries = len(samples.recall)
	}
	prog.finish()
	return out, info, nil
}

func iota32(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

// exactBlocks is how many tile panels of queries an exact search task
// takes: as many as fit about 512 KiB, so they stay in cache while every
// target streams through.
func exactBlocks(dim int) int { return max(1, min(8, (512<<10)/(tileCols*dim*4))) }

// exactSearch finds the k nearest of all rows of v for each of queries,
// on workers goroutines; store(i, ...) gets query i's (calls for
// different queries may run concurrently).
func exactSearch(ctx context.Context, v *Vectors, norms []float64, queries []int32, k, workers int, prog *progress, store func(i int, nb []nbCand)) error {
	if len(queries) == 0 {
		return nil
	}
	n := v.Rows()
	all := iota32(n)
	qb := exactBlocks(v.Dim) * tileCols
	const seg = 8192 // targets between cancellation checks
	return parallelCtx(ctx, workers, chunks(len(queries), qb), func(t int) {
		lo, hi := t*qb, min((t+1)*qb, len(queries))
		b := newQueryBlock(v, queries[lo:hi], norms, k, true)
		for s := 0; s < n; s += seg {
			if ctx.Err() != nil {
				return
			}
			b.scan(all[s:min(s+seg, n)], norms)
			prog.add((min(s+seg, n) - s) * (hi - lo))
		}
		for i := range b.idx {
			store(lo+i, b.results(i))
		}
	})
}

// ivf is an inverted-file index over the rows of v.
type ivf struct {
	v     *Vectors
	norms []float64
	list  []int32   // each row's list
	lists [][]int32 // per list its rows, ascending
	cent  *targetPanels
	// cnorms are the centroids' squared norms (float32 sums).
	cnorms []float64
	// panels holds each list's rows transposed into tile panels, so that
	// a query's probed lists stream through the tile kernel as columns.
	panels [][]listPanel
	// groups are lists with nearby centroids, searched by one task: their
	// rows probe mostly the same lists, so each probed list's panels,
	// read from memory once per task, serve many of the task's rows.
	groups [][]int32
}

// groupRows is about how many rows a search task's lists hold.
const groupRows = 4096

// listPanel is up to tileCols rows of a list as a tile panel.
type listPanel struct {
	panel []float32
	norms [tileCols]float64
	rows  []int32
}

// buildIVF trains the centroids, assigns every row and orders each list's
// probes.
func buildIVF(ctx context.Context, v *Vectors, norms []float64, opt NeighbourOptions, prog *progress, info *NeighbourSearch) (*ivf, error) {
	n, dim := v.Rows(), v.Dim
	workers := workerCount(opt.Workers)
	nl := opt.Lists
	balance := nl <= 0 // an explicit Lists is kept exactly (FAISS's nlist)
	if nl <= 0 {
		nl = max(1, min(int(math.Round(2*math.Sqrt(float64(n)))), n/16))
	}
	nl = min(nl, n)
	train := opt.TrainRows
	if train <= 0 {
		train = 64 * nl
	}
	train = min(max(train, nl), n)
	iters := opt.Iterations
	if iters <= 0 {
		iters = 10
	}
	*info = NeighbourSearch{Approximate: true, K: info.K, Rows: n, Lists: nl, Probe: min(opt.Probe, nl),
		TrainRows: train, Iterations: iters, Recall: math.NaN()}
	// A first estimate of the total: the search at an assumed probe 16.
	guess := min(16, nl)
	prog.setTotal(iters*train*nl + 2*n*nl + nl*nl + tuneLists*tuneRows*n + int(float64(n)*float64(guess)*float64(n)/float64(nl)) + 1000*n)
	r := rand.New(rand.NewPCG(opt.Seed, 0x697666))
	sample := make([]int32, train)
	for i, x := range r.Perm(n)[:train] {
		sample[i] = int32(x)
	}
	slices.Sort(sample)
	cent, err := kmeans(ctx, v, norms, sample, nl, iters, workers, r, prog)
	if err != nil {
		return nil, err
	}
	stop := func() bool { return ctx.Err() != nil }
	// Every row's list: its nearest centroid (by exact distance, ties to
	// the lower index), and that distance.
	list := make([]int32, n)
	dist := make([]float64, n)
	// assign measures every row against every centroid when moved is
	// nil; else against the centroids changed (moved, or added) since the
	// last assign, except the rows of moved lists, which are measured
	// against all again. A row whose centroid stayed can only move to a
	// changed one (the others are where they were, no nearer), so the
	// lists are those a full assign makes (TestIVFListBalance).
	assign := func(moved []bool, changed []int32) ([][]int32, error) {
		nl := len(cent) / dim
		cv := &Vectors{Dim: dim, F32: cent}
		cn := norms32(cv, workers)
		all, rest := iota32(n), []int32(nil)
		if moved != nil {
			all = all[:0]
			for x, l := range list {
				if moved[l] {
					all = append(all, int32(x))
				} else {
					rest = append(rest, int32(x))
				}
			}
		}
		if len(all) > 0 {
			tp := newTargetPanels(cv, iota32(nl), cn)
			tp.nearestRows(v, all, norms, 1, false, workers, stop, func(q int) { prog.add(q * nl) },
				func(i int, nb []nbCand) { list[all[i]], dist[all[i]] = nb[0].idx, nb[0].hi })
		}
		if len(rest) > 0 && len(changed) > 0 {
			tp := newTargetPanels(cv, changed, cn)
			tp.nearestRows(v, rest, norms, 1, false, workers, stop, func(q int) { prog.add(q * len(changed)) },
				func(i int, nb []nbCand) {
					x, c := rest[i], nb[0]
					if c.hi < dist[x] || (c.hi == dist[x] && c.idx < list[x]) {
						list[x], dist[x] = c.idx, c.hi
					}
				})
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lists := make([][]int32, nl)
		count := make([]int, nl)
		for _, l := range list {
			count[l]++
		}
		for l := range lists {
			lists[l] = make([]int32, 0, count[l])
		}
		for r, l := range list {
			lists[l] = append(lists[l], int32(r))
		}
		return lists, nil
	}
	lists, err := assign(nil, nil)
	if err != nil {
		return nil, err
	}
	// k-means on clustered data leaves some lists many times the average,
	// and the rows near them probe them: the search's work grows with the
	// sum of the squared list sizes. Lists above twice the average are
	// split by k-means on their own rows, then every row is assigned again
	// (up to three rounds).
	// Only when the number of lists was left to the search: a caller who
	// asked for Lists gets exactly that many.
	avg := max(1, n/nl)
	for round := 0; balance && round < 3; round++ {
		split := false
		moved := make([]bool, len(lists))
		var changed []int32
		for l, rows := range lists {
			if len(rows) <= 2*avg {
				continue
			}
			m := (len(rows) + avg - 1) / avg
			sub := make([]int32, 0, min(len(rows), 64*m))
			for _, i := range r.Perm(len(rows))[:min(len(rows), 64*m)] {
				sub = append(sub, rows[i])
			}
			slices.Sort(sub)
			c, err := kmeans(ctx, v, norms, sub, m, 6, workers, r, nil)
			if err != nil {
				return nil, err
			}
			copy(cent[l*dim:(l+1)*dim], c[:dim])
			moved[l] = true
			changed = append(changed, int32(l))
			for id := len(cent) / dim; id < len(cent)/dim+m-1; id++ {
				changed = append(changed, int32(id))
			}
			cent = append(cent, c[dim:]...)
			split = true
		}
		if !split {
			break
		}
		if lists, err = assign(moved, changed); err != nil {
			return nil, err
		}
	}
	nl = len(lists)
	info.Lists = nl
	cv := &Vectors{Dim: dim, F32: cent}
	cn := norms32(cv, workers)
	tp := newTargetPanels(cv, iota32(nl), cn)
	x := &ivf{v: v, norms: norms, list: list, lists: lists, cent: tp, cnorms: cn, panels: make([][]listPanel, nl)}
	// Groups: each list not yet taken, with the nearest lists not yet
	// taken, up to groupRows rows.
	near := make([][]int32, nl)
	tp.nearestRows(cv, iota32(nl), cn, min(nl, 32), false, workers, stop, func(int) {}, func(i int, nb []nbCand) {
		near[i] = make([]int32, len(nb))
		for j, c := range nb {
			near[i][j] = c.idx
		}
	})
	taken := make([]bool, nl)
	for l := range nl {
		if taken[l] {
			continue
		}
		g, rows := []int32{int32(l)}, len(x.lists[l])
		taken[l] = true
		for _, m := range near[l] {
			if rows >= groupRows {
				break
			}
			if !taken[m] {
				g, rows = append(g, m), rows+len(x.lists[m])
				taken[m] = true
			}
		}
		x.groups = append(x.groups, g)
	}
	parallel(workers, nl, func(l int) {
		rows := x.lists[l]
		ps := make([]listPanel, chunks(len(rows), tileCols))
		cols := make([][]float32, 0, tileCols)
		for p := range ps {
			lp := &ps[p]
			lp.rows = rows[p*tileCols : min((p+1)*tileCols, len(rows))]
			cols = cols[:0]
			for j, r := range lp.rows {
				cols = append(cols, v.Row(int(r), nil))
				lp.norms[j] = norms[r]
			}
			lp.panel = make([]float32, dim*tileCols)
			transposeInto(lp.panel, cols, dim)
		}
		x.panels[l] = ps
	})
	return x, ctx.Err()
}

// samples are the two disjoint seeded samples of rows an approximate
// search is checked on. The probe is tuned on up to tuneRows rows of each
// of tuneLists lists (in a seeded order); recall is measured on rows drawn
// from the other lists.
type samples struct{ tune, recall []int32 }

const (
	tuneLists = 128
	tuneRows  = 16
)

func (x *ivf) samples(opt NeighbourOptions, info *NeighbourSearch) samples {
	n := x.v.Rows()
	r := rand.New(rand.NewPCG(opt.Seed, 0x73616d70))
	var s samples
	tuned := make([]bool, len(x.lists))
	if opt.Probe <= 0 {
		for _, l := range x.tuneOrder(r)[:min(tuneLists, len(x.lists)/2)] {
			rows := x.lists[l]
			for _, i := range r.Perm(len(rows))[:min(tuneRows, len(rows))] {
				s.tune = append(s.tune, rows[i])
			}
			tuned[l] = true
		}
	}
	nr := opt.RecallQueries
	if nr == 0 {
		nr = 1000
	}
	for _, q := range r.Perm(n) {
		if len(s.recall) >= nr {
			break
		}
		if !tuned[x.list[q]] {
			s.recall = append(s.recall, int32(q))
		}
	}
	slices.Sort(s.tune)
	slices.Sort(s.recall)
	return s
}

// tuneOrder returns the lists in a seeded random order drawn with
// probability proportional to their sizes (Efraimidis and Spirakis'
// weighted sampling without replacement: the largest u^(1/size) first),
// so that the tuning sample's recall estimates the recall of a row drawn
// at random, which the search is measured by. Drawn uniformly, lists
// count alike however few rows they hold, and the small lists between
// clusters, whose rows' neighbours lie in other lists, dominated: on 1M
// clustered rows the probe tuned for 0.98 measured 0.993.
func (x *ivf) tuneOrder(r *rand.Rand) []int {
	key := make([]float64, len(x.lists))
	order := make([]int, len(x.lists))
	for l, rows := range x.lists {
		order[l] = l
		key[l] = -1 // empty lists last
		if len(rows) > 0 {
			key[l] = math.Pow(r.Float64(), 1/float64(len(rows)))
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(key[b], key[a]) })
	return order
}

// searchWork estimates the pairs a search with probe measures, for the
// progress total. A query's probed lists are those nearest its own, and
// a row sits in a large list more often than in a small one, so probed
// lists run larger than the mean size; the size-biased mean Σs²/Σs
// overshoots as much. On 300k clustered rows the mean put the total 21 %
// under the pairs measured and Σs²/Σs 17 % over, so the estimate takes
// the midpoint of the two (a progress estimate, nothing else reads it).
func (x *ivf) searchWork(probe int) int {
	var sum, sq float64
	for _, l := range x.lists {
		s := float64(len(l))
		sum, sq = sum+s, sq+s*s
	}
	if sum == 0 {
		return 0
	}
	size := (sum/float64(len(x.lists)) + sq/sum) / 2
	return int(float64(x.v.Rows()) * float64(min(probe, len(x.lists))) * size)
}

// search finds, for every row, the k nearest among the rows of the probe
// lists whose centroids are nearest to it and the rows whose own probe
// lists include its list; it returns the rows that found fewer than k.
// A task takes the rows of a group of lists: their probes (exact nearest
// centroids), then each probed list's panels against the task's rows
// that probe it, so that a panel is read once for all of them. Each
// measured pair counts for both of its rows: for the task's row through
// the task's own candidates, for the probed list's row through the
// shared offers (its list's lock held a tile at a time). Both halves of
// a row's result are exact and order-free, so the merge is the same on
// any number of workers.
func (x *ivf) search(ctx context.Context, probe, k, workers int, prog *progress, store func(q int32, nb []nbCand)) ([]int32, error) {
	n := x.v.Rows()
	// Tasks: the rows of each group (blocks of 2·groupRows at most),
	// largest first so that the last tasks are short.
	type task struct {
		lead int32 // the group's first list
		qs   []int32
	}
	var tasks []task
	for _, g := range x.groups {
		var qs []int32
		for _, l := range g {
			qs = append(qs, x.lists[l]...)
		}
		for lo := 0; lo < len(qs); lo += 2 * groupRows {
			tasks = append(tasks, task{g[0], qs[lo:min(lo+2*groupRows, len(qs))]})
		}
	}
	slices.SortStableFunc(tasks, func(a, b task) int { return len(b.qs) - len(a.qs) })
	of := newOffers(x, k)
	own := make([]nbCand, n*k) // each row's k nearest among its probes
	ownN := make([]int32, n)
	err := parallelCtx(ctx, workers, len(tasks), func(t int) {
		qs := tasks[t].qs
		if len(qs) == 0 {
			return
		}
		rq := newRowQueries(x.v, qs, x.norms, k, x.v)
		// Each row's probes, then the rows of each probed list. The
		// centroids go through nearest to the group first, so that the
		// probes' bound is tight from the start and few far centroids
		// pass the kernel (the result is the same in any order).
		pq := rq.with(probe, x.cent.v)
		x.centroidsFrom(tasks[t].lead).scan(pq, false)
		byList := map[int32][]int32{}
		for i := range qs {
			for _, c := range pq.results(i) {
				byList[c.idx] = append(byList[c.idx], int32(i))
			}
		}
		probed := make([]int32, 0, len(byList))
		for l := range byList {
			probed = append(probed, l)
		}
		slices.Sort(probed)
		for _, l := range probed {
			if ctx.Err() != nil {
				return
			}
			sel := byList[l]
			for p := range x.panels[l] {
				lp := &x.panels[l][p]
				rq.scanPanel(sel, lp.panel, &lp.norms, lp.rows, true, of, l)
			}
			prog.add(len(sel) * len(x.lists[l]))
		}
		for i, q := range qs {
			nb := rq.results(i)
			ownN[q] = int32(copy(own[int(q)*k:(int(q)+1)*k], nb))
			if len(nb) == k {
				of.bound(x.list[q], q, nb[k-1].hi)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// Each row's k nearest of the two halves: its own k (exact) and the
	// offers that may beat the own k-th (a pair both rows probed is in
	// both, and counted once).
	short := make([][]int32, chunks(n, 4096))
	parallel(workers, len(short), func(t int) {
		var buf []float32
		merged := make([]nbCand, 0, 2*k)
		for q := t * 4096; q < min((t+1)*4096, n); q++ {
			mine := own[q*k : q*k+int(ownN[q])]
			kth := math.Inf(1)
			if len(mine) == k {
				kth = mine[k-1].hi
			}
			merged = append(merged[:0], mine...)
			tp := &of.tops[q]
			exact := of.exact(int32(q), &buf)
			for _, c := range tp.c {
				if c.lo > kth || c.lo > tp.u || slices.ContainsFunc(mine, func(m nbCand) bool { return m.idx == c.idx }) {
					continue
				}
				if !c.exact {
					exact = exact.load()
					d := exact.of(c.idx)
					c.lo, c.hi, c.exact = d, d, true
				}
				if c.hi <= kth {
					merged = append(merged, c)
				}
			}
			slices.SortFunc(merged, byDistance)
			if len(merged) < k {
				short[t] = append(short[t], int32(q))
				continue
			}
			store(int32(q), merged[:k])
		}
	})
	return slices.Concat(short...), nil
}

// centroidsFrom returns the centroids as tile panels ordered by their
// distance to list l's centroid.
func (x *ivf) centroidsFrom(l int32) *targetPanels {
	cv := x.cent.v
	c := cv.Row(int(l), nil)
	order := iota32(len(x.lists))
	d := make([]float64, len(order))
	for i := range order {
		d[i] = cv.sqDistTo(i, c)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(d[a], d[b]) })
	return newTargetPanels(cv, order, x.cnorms)
}

// offers are the candidates each row of an IVF search gets from the
// tasks of other rows, whose probes include its list: each row's topk,
// guarded by its list's lock (a task offers a tile's pairs to the rows
// of one list at a time).
type offers struct {
	v    *Vectors
	mu   []sync.Mutex // per list
	bufs [][]float32  // per list: a float16 row converted, under the lock
	tops []topk       // per row
}

// offerCap is the candidate buffer of a row's offers: smaller than a
// query's (topkCap), since it is held for every row at once; it
// compacts more often.
func offerCap(k int) int { return 2*k + 8 }

func newOffers(x *ivf, k int) *offers {
	n := x.v.Rows()
	of := &offers{v: x.v, mu: make([]sync.Mutex, len(x.lists)), bufs: make([][]float32, len(x.lists)), tops: make([]topk, n)}
	c := offerCap(k)
	cands := make([]nbCand, n*c)
	heaps := make([]float64, n*k) // one allocation, not one a row
	for i := range of.tops {
		of.tops[i] = newTopk(k, cands[i*c:(i+1)*c])
		of.tops[i].hh = heaps[i*k : i*k : (i+1)*k]
	}
	return of
}

// exact is how row y's exact distances are computed (a float16 row is
// converted into *buf when needed).
func (of *offers) exact(y int32, buf *[]float32) exactDist {
	if of.v.F16 == nil {
		d := of.v.Dim
		return exactDist{v: of.v, q: of.v.F32[int(y)*d : (int(y)+1)*d]}
	}
	return exactDist{v: of.v, row: y, buf: buf}
}

// bound tells row y's offers (y in list l) that its own search found k
// candidates within d² <= u: an offer farther than that cannot be among
// the k nearest of the two halves, so it is dropped on arrival (the
// offers' topk may then keep fewer than k; the merge takes the rest from
// the row's own).
func (of *offers) bound(l, y int32, u float64) {
	of.mu[l].Lock()
	of.tops[y].u = min(of.tops[y].u, u)
	of.mu[l].Unlock()
}

// thresholds sets thr[j] to the kernel threshold of row tidx[j] of list l.
func (of *offers) thresholds(l int32, tidx []int32, thr *[tileCols]float64) {
	of.mu[l].Lock()
	for j, y := range tidx {
		thr[j] = of.tops[y].thr()
	}
	of.mu[l].Unlock()
}

// take offers the pairs of t's masks (computed at the targets'
// thresholds thr) to the targets, rows tidx of list l; qrows are the
// tile's rows. thr is brought up to date.
func (of *offers) take(l int32, t *tile, qrows *[tileRows]int32, tidx []int32, thr *[tileCols]float64) {
	any := uint64(0)
	for r := 0; r < t.nrows; r++ {
		any |= t.masks[r]
	}
	if any == 0 {
		return
	}
	of.mu[l].Lock()
	defer of.mu[l].Unlock()
	for r := 0; r < t.nrows; r++ {
		for m := t.masks[r]; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m)
			y := tidx[j]
			if y == qrows[r] {
				continue
			}
			lo, hi := bounds(t.dots[r][j], t.an[r], t.bn[j], t.gamma, t.slack)
			tp := &of.tops[y]
			tp.add(lo, hi, qrows[r], of.exact(y, &of.bufs[l]))
			thr[j] = tp.thr()
		}
	}
}

// exactKth returns each query's exact k-th nearest distance.
func (x *ivf) exactKth(ctx context.Context, qs []int32, k, workers int, prog *progress) ([]float64, error) {
	kth := make([]float64, len(qs))
	err := exactSearch(ctx, x.v, x.norms, qs, k, workers, prog, func(i int, nb []nbCand) { kth[i] = math.Sqrt(nb[len(nb)-1].hi) })
	return kth, err
}

// recallOf is the share of the found distances (k a query, in the
// queries' order) no farther than each query's exact k-th.
func recallOf(found func(i int) []float64, kth []float64, k int) float64 {
	hit := 0
	for i, t := range kth {
		for _, d := range found(i) {
			if d <= t {
				hit++
			}
		}
	}
	return float64(hit) / float64(len(kth)*k)
}

// tune returns the least probe at which the search finds, for the sample
// qs, at least target of the exact k nearest; all lists (an exhaustive
// search) if none does. The search finds neighbour y of row q at probe p
// exactly when y's list is among q's p nearest centroids or q's list is
// among y's, so each pair's least probe comes from the two rows' centroid
// orders (the search's own: exact distances, ties to the lower list) and
// the probe is read off their distribution instead of searched for.
func (x *ivf) tune(ctx context.Context, qs []int32, k int, target float64, workers int, prog *progress) (int, error) {
	nl := len(x.lists)
	if len(qs) == 0 {
		return nl, nil
	}
	nbs := make([][]int32, len(qs))
	if err := exactSearch(ctx, x.v, x.norms, qs, k, workers, prog, func(i int, nb []nbCand) {
		nbs[i] = make([]int32, len(nb))
		for j, c := range nb {
			nbs[i][j] = c.idx
		}
	}); err != nil {
		return 0, err
	}
	// The rows whose centroid orders are needed: the sample and its
	// neighbours.
	var rows []int32
	for i, q := range qs {
		rows = append(append(rows, q), nbs[i]...)
	}
	slices.Sort(rows)
	rows = slices.Compact(rows)
	at := make(map[int32]int, len(rows))
	for i, r := range rows {
		at[r] = i
	}
	stop := func() bool { return ctx.Err() != nil }
	for depth := min(nl, 256); ; depth = min(nl, 4*depth) {
		// order[i]: the depth nearest centroids of rows[i], nearest first.
		order := make([]int32, len(rows)*depth)
		x.cent.nearestRows(x.v, rows, x.norms, depth, false, workers, stop, func(q int) { prog.add(q * nl) }, func(i int, nb []nbCand) {
			for j, c := range nb {
				order[i*depth+j] = c.idx
			}
		})
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rank := func(r int32, l int32) int {
			o := order[at[r]*depth : (at[r]+1)*depth]
			if j := slices.Index(o, l); j >= 0 {
				return j + 1
			}
			return nl + 1 // beyond depth
		}
		var least []int
		for i, q := range qs {
			for _, y := range nbs[i] {
				least = append(least, min(rank(q, x.list[y]), rank(y, x.list[q])))
			}
		}
		// Rows with fewer than k others count their missing neighbours
		// as never found.
		for i := range qs {
			for range k - len(nbs[i]) {
				least = append(least, nl+1)
			}
		}
		slices.Sort(least)
		need := least[min(len(least)-1, max(0, int(math.Ceil(target*float64(len(least))))-1))]
		if need <= depth || depth == nl {
			return max(1, min(need, nl)), nil
		}
	}
}

// recall measures the search's result (found returns a query's k
// distances) against exact search on the sample qs.
func (x *ivf) recall(ctx context.Context, qs []int32, k, workers int, prog *progress, found func(q int32) []float64) (float64, error) {
	kth, err := x.exactKth(ctx, qs, k, workers, prog)
	if err != nil {
		return 0, err
	}
	return recallOf(func(i int) []float64 { return found(qs[i]) }, kth, k), nil
}

// kmeans clusters the sample rows of v into k centroids with Lloyd's
// algorithm: iters rounds from k distinct sample rows drawn with r. An
// emptied cluster takes half of the largest one (its centroid split by a
// small symmetric perturbation, as FAISS does).
func kmeans(ctx context.Context, v *Vectors, norms []float64, sample []int32, k, iters, workers int, r *rand.Rand, prog *progress) ([]float32, error) {
	dim := v.Dim
	cent := make([]float32, k*dim)
	for c, p := range r.Perm(len(sample))[:k] {
		v.Row(int(sample[p]), cent[c*dim:(c+1)*dim])
	}
	assign := make([]int32, len(sample))
	stop := func() bool { return ctx.Err() != nil }
	for range iters {
		cv := &Vectors{Dim: dim, F32: cent}
		tp := newTargetPanels(cv, iota32(k), norms32(cv, workers))
		tp.nearestRows(v, sample, norms, 1, false, workers, stop, func(q int) { prog.add(q * k) }, func(i int, nb []nbCand) { assign[i] = nb[0].idx })
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Members of each centroid in sample order, then their means.
		count := make([]int, k+1)
		for _, c := range assign {
			count[c+1]++
		}
		for c := 1; c <= k; c++ {
			count[c] += count[c-1]
		}
		order := make([]int32, len(sample))
		pos := slices.Clone(count[:k])
		for i, c := range assign {
			order[pos[c]] = int32(i)
			pos[c]++
		}
		const size = 16 // centroids a task
		parallel(workers, chunks(k, size), func(t int) {
			sum := make([]float64, dim)
			row := make([]float32, dim)
			for c := t * size; c < min((t+1)*size, k); c++ {
				members := order[count[c]:count[c+1]]
				if len(members) == 0 {
					continue
				}
				clear(sum)
				for _, i := range members {
					for j, x := range v.Row(int(sample[i]), row) {
						sum[j] += float64(x)
					}
				}
				for j := range sum {
					cent[c*dim+j] = float32(sum[j] / float64(len(members)))
				}
			}
		})
		sizes := make([]int, k)
		for c := range sizes {
			sizes[c] = count[c+1] - count[c]
		}
		splitEmpty(cent, sizes, dim)
	}
	return cent, nil
}

// splitEmpty gives every empty cluster half of the largest cluster.
func splitEmpty(cent []float32, sizes []int, dim int) {
	const eps = 1.0 / 1024
	for c := range sizes {
		if sizes[c] > 0 {
			continue
		}
		big := 0
		for m := range sizes {
			if sizes[m] > sizes[big] {
				big = m
			}
		}
		if sizes[big] < 2 {
			return
		}
		for j := 0; j < dim; j++ {
			x := cent[big*dim+j]
			if j%2 == 0 {
				cent[c*dim+j], cent[big*dim+j] = x*(1+eps), x*(1-eps)
			} else {
				cent[c*dim+j], cent[big*dim+j] = x*(1-eps), x*(1+eps)
			}
		}
		sizes[c] = sizes[big] / 2
		sizes[big] -= sizes[c]
	}
}
