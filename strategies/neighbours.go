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
// itself (as FAISS's IVF-Flat does). Lists are stored as tile panels and
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
	// centroids are nearest to the row (its own first). 0 tunes it:
	// the smallest of 4, 6, 8, 12, 16, 24, ... whose recall on a sample of
	// rows (searched exactly too) reaches TargetRecall.
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
	prog.setTotal(prog.done + x.searchWork(x.lists, info.Probe) + len(samples.recall)*n)
	short, err := x.search(ctx, x.lists, info.Probe, k, workers, prog, store)
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
	// Every row's list: its nearest centroid.
	list := make([]int32, n)
	assign := func() ([][]int32, error) {
		nl := len(cent) / dim
		cv := &Vectors{Dim: dim, F32: cent}
		tp := newTargetPanels(cv, iota32(nl), norms32(cv, workers))
		tp.nearestRows(v, iota32(n), norms, 1, false, workers, stop, func(q int) { prog.add(q * nl) },
			func(i int, nb []nbCand) { list[i] = nb[0].idx })
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
	lists, err := assign()
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
			cent = append(cent, c[dim:]...)
			split = true
		}
		if !split {
			break
		}
		if lists, err = assign(); err != nil {
			return nil, err
		}
	}
	nl = len(lists)
	info.Lists = nl
	cv := &Vectors{Dim: dim, F32: cent}
	cn := norms32(cv, workers)
	tp := newTargetPanels(cv, iota32(nl), cn)
	x := &ivf{v: v, norms: norms, list: list, lists: lists, cent: tp, panels: make([][]listPanel, nl)}
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
// of tuneLists lists (in a seeded order), which a search runs nearly as
// efficiently as the full one (a list's rows fill tile panels); recall is
// measured on rows drawn from the other lists.
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

// byList groups rows by their list.
func (x *ivf) byList(rows []int32) [][]int32 {
	out := make([][]int32, len(x.lists))
	for _, r := range rows {
		l := x.list[r]
		out[l] = append(out[l], r)
	}
	return out
}

// searchWork estimates the pairs a search with probe measures, for the
// progress total. A query's probed lists are those nearest its own, and
// a row sits in a large list more often than in a small one, so probed
// lists run larger than the mean size; the size-biased mean Σs²/Σs
// overshoots as much. On 300k clustered rows the mean put the total 21 %
// under the pairs measured and Σs²/Σs 17 % over, so the estimate takes
// the midpoint of the two (a progress estimate, nothing else reads it).
func (x *ivf) searchWork(queries [][]int32, probe int) int {
	nq := 0
	for _, qs := range queries {
		nq += len(qs)
	}
	var sum, sq float64
	for _, l := range x.lists {
		s := float64(len(l))
		sum, sq = sum+s, sq+s*s
	}
	if sum == 0 {
		return 0
	}
	size := (sum/float64(len(x.lists)) + sq/sum) / 2
	return int(float64(nq) * float64(min(probe, len(x.lists))) * size)
}

// search finds the k nearest of each query (queries[l] are rows of list
// l) among the rows of the probe lists whose centroids are nearest to
// the query; it returns the queries that found fewer than k. A task takes
// the queries of a group of lists: their probes (exact nearest
// centroids), then each probed list's panels against the task's queries
// that probe it, so that a panel is read once for all of them.
func (x *ivf) search(ctx context.Context, queries [][]int32, probe, k, workers int, prog *progress, store func(q int32, nb []nbCand)) ([]int32, error) {
	// Tasks: the queries of each group (blocks of 2·groupRows at most),
	// largest first so that the last tasks are short.
	var tasks [][]int32
	for _, g := range x.groups {
		var qs []int32
		for _, l := range g {
			qs = append(qs, queries[l]...)
		}
		for lo := 0; lo < len(qs); lo += 2 * groupRows {
			tasks = append(tasks, qs[lo:min(lo+2*groupRows, len(qs))])
		}
	}
	slices.SortStableFunc(tasks, func(a, b []int32) int { return len(b) - len(a) })
	var mu sync.Mutex
	var short []int32
	err := parallelCtx(ctx, workers, len(tasks), func(t int) {
		qs := tasks[t]
		if len(qs) == 0 {
			return
		}
		rq := newRowQueries(x.v, qs, x.norms, k, x.v)
		// Each query's probes, then the queries of each probed list.
		pq := rq.with(probe, x.cent.v)
		x.cent.scan(pq, false)
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
				rq.scanPanel(sel, lp.panel, &lp.norms, lp.rows, true)
			}
			prog.add(len(sel) * len(x.lists[l]))
		}
		for i, q := range qs {
			nb := rq.results(i)
			if len(nb) < k {
				mu.Lock()
				short = append(short, q)
				mu.Unlock()
				continue
			}
			store(q, nb)
		}
	})
	slices.Sort(short)
	return short, err
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

// nextProbe is the tuning ladder 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, ...:
// each power of two q, then q·5/4 and q·3/2. Each step of the full search
// costs its probe's share of all pairs, so the ladder is fine enough that
// the tuned probe is within a quarter of the least that reaches the
// target (steps of a half cost up to a third more search).
func nextProbe(p int) int {
	q := 1 << (bits.Len(uint(p)) - 1)
	switch {
	case p < q+q/4:
		return q + max(1, q/4)
	case p < q+q/2:
		return q + q/2
	default:
		return 2 * q
	}
}

// tune returns the smallest probe of the ladder nextProbe climbs
// whose search finds, for the sample qs (whole lists), at least target of
// the exact neighbours; all lists (an exhaustive search) if none does.
func (x *ivf) tune(ctx context.Context, qs []int32, k int, target float64, workers int, prog *progress) (int, error) {
	nl := len(x.lists)
	if len(qs) == 0 {
		return nl, nil
	}
	kth, err := x.exactKth(ctx, qs, k, workers, prog)
	if err != nil {
		return 0, err
	}
	pos := make(map[int32]int, len(qs))
	for i, q := range qs {
		pos[q] = i
	}
	got := make([]float64, len(qs)*k)
	for p := 4; ; {
		p = min(p, nl)
		for i := range got {
			got[i] = math.Inf(1)
		}
		if _, err := x.search(ctx, x.byList(qs), p, k, workers, nil, func(q int32, nb []nbCand) {
			for j, c := range nb {
				got[pos[q]*k+j] = math.Sqrt(c.hi)
			}
		}); err != nil {
			return 0, err
		}
		if p == nl || recallOf(func(i int) []float64 { return got[i*k : (i+1)*k] }, kth, k) >= target {
			return p, nil
		}
		p = nextProbe(p)
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
