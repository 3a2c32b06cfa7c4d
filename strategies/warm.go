package strategies

// Re-scoring a lazy heap's stale tops in batches.
//
// While a diversity strategy has pending centers (deferred.go), every
// cached score is stale, and before every cluster of the data has a center
// each new center leaves thousands of heap tops to re-score: its cluster's
// members, all about as far from the old centers as the next cluster's,
// sit above the true maximum until each is brought up to date and sinks.
// One at a time each waits for its row from memory and the whole phase
// runs on one core. Instead, refresh pops the stale tops in cached-score
// order into a batch, brings the batch up to date on all cores
// (currentBatch, a tile of rows against the pending centers), and pushes
// the entries back with their exact scores. Batches start small and double
// while the top stays stale, so a pick that needs one re-score (late in a
// run, the common case) does a handful, and one that needs thousands
// does them in parallel.
//
// No value changes: a candidate's current distance is the same whenever
// the pending centers are applied to it, and applying them early only
// spares the next pass (which skips candidates already up to date). The
// heap invariant holds throughout: a pushed-back entry's score is exact,
// so it bounds its current score, and the popped entries were the ones
// above every other cached score, so the top after the push is the one the
// one-at-a-time refresh would reach.

// Batch sizes: the first batch is one currentBatch; batches of parBatch
// entries or more are spread over the workers, warmRows entries a task.
const (
	firstBatch = warmRows
	maxBatch   = 2048
	parBatch   = 8 * warmRows
)

// stale reports whether candidate i's distance to some diversity
// strategy's S is missing pending centers, so its cached score may be
// above its current one.
func (e *engine) stale(i int32) bool {
	for _, d := range e.divs {
		if f := d.s.def; f != nil && int(f.done[i]) < len(f.rows) {
			return true
		}
	}
	return false
}

// rescoreTops pops up to size stale entries off hp's top (in score order,
// stopping at the first that is up to date), brings them up to date and
// pushes them back with their current base scores. It returns the heap.
func (h *heaps) rescoreTops(e *engine, hp []hent, size int) []hent {
	batch := h.batch[:0]
	for len(hp) > 0 && len(batch) < size && e.stale(hp[0].idx) {
		batch = append(batch, hp[0].idx)
		hp = pop(hp)
	}
	h.batch = batch
	tasks := chunks(len(batch), warmRows)
	warm := func(t int) {
		rows := batch[t*warmRows : min((t+1)*warmRows, len(batch))]
		for _, d := range e.divs {
			if d.s.def != nil {
				d.s.currentBatch(rows)
			}
		}
	}
	if len(batch) >= parBatch {
		parallel(e.workers, tasks, warm)
	} else {
		for t := range tasks {
			warm(t)
		}
	}
	for _, i := range batch {
		s := e.base(int(i))
		hp = append(hp, hent{key: s.Log, inf: int32(s.Inf), idx: i})
		up(hp, len(hp)-1)
	}
	return hp
}
