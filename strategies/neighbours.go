package strategies

import (
	"context"
	"fmt"
	"math"
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
// joins the list of its nearest centroid, and the rows of each list are
// searched among the rows of the Probe lists whose centroids are nearest
// to their own list's centroid. Probing per list rather than per row makes
// the search a sequence of dense matrix products (a list's rows as tile
// columns, each probed list's rows streaming through), which run near the
// FMA units' peak; within the probed lists the k nearest are exact.
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
	// Lists is the number of IVF lists; 0 means about 2·√rows (at least
	// 1, at most rows/16).
	Lists int
	// Probe is the number of lists searched for the rows of each list
	// (the list itself and the nearest others); 0 means defaultProbe.
	Probe int
	// TrainRows is the k-means sample size; 0 means 64 per list.
	TrainRows int
	// Iterations of k-means; 0 means 10.
	Iterations int
	// RecallQueries is the number of sampled rows whose neighbours are
	// also found exactly to measure recall; 0 means 1000, negative none.
	RecallQueries int
	// Seed seeds the sample, the k-means start and the recall queries.
	Seed uint64
	// Workers bounds the goroutines; 0 means all cores. Results never
	// depend on it.
	Workers int
	// Progress, when set, is called as the search advances with the work
	// done and the total (in pairs of vectors measured, estimated up
	// front); calls are serialised and done never decreases.
	Progress func(done, total int)
}

// defaultProbe is the number of lists probed per list unless set.
const defaultProbe = 16

// NeighbourSearch says how neighbours were found, for the caller's
// record.
type NeighbourSearch struct {
	Approximate bool
	K           int // neighbours per row
	Rows        int
	// The IVF parameters (approximate only).
	Lists, Probe, TrainRows, Iterations int
	// Recall is the measured share of approximate neighbours no farther
	// than the exact K-th (1 for exact search), over RecallQueries rows;
	// NaN when not measured.
	Recall        float64
	RecallQueries int
}

func (s NeighbourSearch) String() string {
	if !s.Approximate {
		return fmt.Sprintf("exact %d nearest neighbours of %d rows", s.K, s.Rows)
	}
	r := "recall not measured"
	if !math.IsNaN(s.Recall) {
		r = fmt.Sprintf("measured recall@%d %.4f on %d queries", s.K, s.Recall, s.RecallQueries)
	}
	return fmt.Sprintf("approximate %d nearest neighbours of %d rows (IVF: %d lists, probe %d, k-means on %d rows, %d iterations), %s",
		s.K, s.Rows, s.Lists, s.Probe, s.TrainRows, s.Iterations, r)
}

// exactRate is the pairs·dimension a core measures per second in an exact
// search with the tile kernel of each set (about 60% of AVX-512's peak on
// a 2.6 GHz core, measured by BenchmarkNeighbours), for NeighboursAuto.
func exactRate() float64 {
	switch kern.name {
	case "avx512":
		return 40e9
	case "avx2":
		return 15e9
	}
	return 1e9
}

// progress serialises a search's progress reports over phases whose
// shares of the total are fixed up front.
type progress struct {
	mu    sync.Mutex
	fn    func(done, total int)
	total int
	base  int // work of the finished phases
	phase int // this phase's share
	of    int // this phase's own units
	at    int // of which done
	shown int
}

func (p *progress) start(share, units int) {
	p.mu.Lock()
	p.base += p.phase
	p.phase, p.of, p.at = share, max(units, 1), 0
	p.mu.Unlock()
}

func (p *progress) add(units int) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at += units
	done := p.base + int(float64(p.phase)*min(1, float64(p.at)/float64(p.of)))
	if done > p.shown {
		p.shown = done
		p.fn(min(done, p.total), p.total)
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
		prog.total = n * n
		prog.start(n*n, n*n)
		all := iota32(n)
		err := exactSearch(ctx, v, norms, all, k, workers, prog, func(i int, nb []nbCand) { store(all[i], nb) })
		return out, info, err
	}
	idx, err := buildIVF(ctx, v, norms, opt, prog, &info)
	if err != nil {
		return nil, info, err
	}
	short, err := idx.search(ctx, k, workers, prog, store)
	if err != nil {
		return nil, info, err
	}
	// Rows whose probed lists hold fewer than k others: search them all.
	if err := exactSearch(ctx, v, norms, short, k, workers, nil, func(i int, nb []nbCand) { store(short[i], nb) }); err != nil {
		return nil, info, err
	}
	if err := measureRecall(ctx, v, norms, out, k, opt, workers, prog, &info); err != nil {
		return nil, info, err
	}
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
	v      *Vectors
	norms  []float64
	lists  [][]int32 // per list its rows, ascending
	probes [][]int32 // per list the lists its rows are searched in
	share  int       // the search's share of the progress total
}

// buildIVF trains the centroids, assigns every row and chooses each list's
// probes.
func buildIVF(ctx context.Context, v *Vectors, norms []float64, opt NeighbourOptions, prog *progress, info *NeighbourSearch) (*ivf, error) {
	n, dim := v.Rows(), v.Dim
	workers := workerCount(opt.Workers)
	nl := opt.Lists
	if nl <= 0 {
		nl = max(1, min(int(math.Round(2*math.Sqrt(float64(n)))), n/16))
	}
	nl = min(nl, n)
	probe := opt.Probe
	if probe <= 0 {
		probe = defaultProbe
	}
	probe = min(probe, nl)
	train := opt.TrainRows
	if train <= 0 {
		train = 64 * nl
	}
	train = min(max(train, nl), n)
	iters := opt.Iterations
	if iters <= 0 {
		iters = 10
	}
	rq := opt.RecallQueries
	if rq == 0 {
		rq = 1000
	}
	rq = min(max(rq, 0), n)
	*info = NeighbourSearch{Approximate: true, K: info.K, Rows: n, Lists: nl, Probe: probe, TrainRows: train, Iterations: iters, Recall: math.NaN()}
	// Phase shares of the progress total, in pairs measured (the
	// search's estimate assumes lists of equal size).
	search := int(float64(n) * float64(probe) * float64(n) / float64(nl))
	prog.total = iters*train*nl + n*nl + search + rq*n
	r := rand.New(rand.NewPCG(opt.Seed, 0x697666))
	sample := make([]int32, train)
	for i, x := range r.Perm(n)[:train] {
		sample[i] = int32(x)
	}
	slices.Sort(sample)
	prog.start(iters*train*nl, iters*train)
	cent, err := kmeans(ctx, v, norms, sample, nl, iters, workers, r, prog)
	if err != nil {
		return nil, err
	}
	cv := &Vectors{Dim: dim, F32: cent}
	cn := norms32(cv, workers)
	tp := newTargetPanels(cv, iota32(nl), cn)
	stop := func() bool { return ctx.Err() != nil }
	// Every row's list.
	prog.start(n*nl, n)
	list := make([]int32, n)
	tp.nearestRows(v, iota32(n), norms, 1, false, workers, stop, prog.add, func(i int, nb []nbCand) { list[i] = nb[0].idx })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idx := &ivf{v: v, norms: norms, lists: make([][]int32, nl), probes: make([][]int32, nl), share: search}
	count := make([]int, nl)
	for _, l := range list {
		count[l]++
	}
	for l := range idx.lists {
		idx.lists[l] = make([]int32, 0, count[l])
	}
	for x, l := range list {
		idx.lists[l] = append(idx.lists[l], int32(x))
	}
	// Each list's probes: the nearest centroids to its own (itself first).
	tp.nearestRows(cv, iota32(nl), cn, probe, false, workers, stop, func(int) {}, func(i int, nb []nbCand) {
		p := make([]int32, len(nb))
		for j, c := range nb {
			p[j] = c.idx
		}
		idx.probes[i] = p
	})
	return idx, ctx.Err()
}

// search finds each row's k nearest among the rows of its list's probes;
// it returns the rows that found fewer than k.
func (x *ivf) search(ctx context.Context, k, workers int, prog *progress, store func(q int32, nb []nbCand)) ([]int32, error) {
	work := 0
	for l, rows := range x.lists {
		for _, p := range x.probes[l] {
			work += len(rows) * len(x.lists[p])
		}
	}
	prog.start(x.share, work)
	// Tasks are blocks of a list's rows, largest lists first so that the
	// last tasks are short.
	type task struct{ l, lo, hi int }
	qb := exactBlocks(x.v.Dim) * tileCols
	var tasks []task
	for l, rows := range x.lists {
		for lo := 0; lo < len(rows); lo += qb {
			tasks = append(tasks, task{l, lo, min(lo+qb, len(rows))})
		}
	}
	slices.SortStableFunc(tasks, func(a, b task) int { return len(x.lists[b.l]) - len(x.lists[a.l]) })
	var mu sync.Mutex
	var short []int32
	err := parallelCtx(ctx, workers, len(tasks), func(t int) {
		tk := tasks[t]
		qs := x.lists[tk.l][tk.lo:tk.hi]
		b := newQueryBlock(x.v, qs, x.norms, k, true)
		for _, p := range x.probes[tk.l] {
			if ctx.Err() != nil {
				return
			}
			b.scan(x.lists[p], x.norms)
			prog.add(len(qs) * len(x.lists[p]))
		}
		for i, q := range qs {
			nb := b.results(i)
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

// measureRecall searches a seeded sample of rows exactly and compares.
func measureRecall(ctx context.Context, v *Vectors, norms []float64, out []float64, k int, opt NeighbourOptions, workers int, prog *progress, info *NeighbourSearch) error {
	n := v.Rows()
	rq := opt.RecallQueries
	if rq == 0 {
		rq = 1000
	}
	rq = min(max(rq, 0), n)
	if rq == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x726563616c6c))
	qs := make([]int32, rq)
	for i, x := range r.Perm(n)[:rq] {
		qs[i] = int32(x)
	}
	slices.Sort(qs)
	prog.start(rq*n, rq*n)
	found := make([]int, rq)
	err := exactSearch(ctx, v, norms, qs, k, workers, prog, func(i int, nb []nbCand) {
		kth := math.Sqrt(nb[len(nb)-1].hi)
		for _, d := range out[int(qs[i])*k : int(qs[i]+1)*k] {
			if d <= kth {
				found[i]++
			}
		}
	})
	if err != nil {
		return err
	}
	total := 0
	for _, f := range found {
		total += f
	}
	info.Recall = float64(total) / float64(rq*k)
	info.RecallQueries = rq
	return nil
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
		tp.nearestRows(v, sample, norms, 1, false, workers, stop, prog.add, func(i int, nb []nbCand) { assign[i] = nb[0].idx })
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
