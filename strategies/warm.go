package strategies

import (
	"sync"
	"sync/atomic"
)

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
// does them in parallel. The pops are the serial part (each a sift from
// the root to a leaf of a heap larger than the caches), so while the
// other workers re-score a batch this goroutine pops the next one, then
// joins them.
//
// No value changes: a candidate's current distance is the same whenever
// the pending centers are applied to it, and applying them early only
// spares the next pass (which skips candidates already up to date). The
// heap invariant holds throughout: a pushed-back entry's score is exact,
// so it bounds its current score; the popped entries were the ones above
// every other cached score; and a batch popped ahead that turns out not to
// be needed goes back with its cached scores. So the top after the push is
// the one the one-at-a-time refresh would reach.

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
		if d.s.stale(int(i)) {
			return true
		}
	}
	return false
}

// popStale pops up to size stale entries off hp's top into buf (in score
// order, stopping at the first that is up to date).
func (e *engine) popStale(hp []hent, size int, buf []hent) ([]hent, []hent) {
	buf = buf[:0]
	for len(hp) > 0 && len(buf) < size && e.stale(hp[0].idx) {
		buf = append(buf, hp[0])
		hp = pop(hp)
	}
	return hp, buf
}

// rescoreTops re-scores stale heap tops, in batches of size and up,
// until hp's top is up to date or hp is empty, and returns the heap and
// the batch size reached (a later call in the same refresh goes on
// from it).
func (h *heaps) rescoreTops(e *engine, hp []hent, size int, p *park) ([]hent, int) {
	var cur, next []hent
	hp, cur = e.popStale(hp, size, h.bufs[0])
	for len(cur) > 0 {
		size = min(2*size, maxBatch)
		job := e.startRescore(cur)
		next = h.bufs[1][:0]
		if job.bg {
			// Ahead, while the other workers re-score cur: the
			// entries below it are the next batch unless one of
			// cur's new scores tops them all.
			hp, next = e.popStale(hp, size, next)
		}
		job.finish()
		for _, a := range cur {
			s := e.base(int(a.idx))
			hp = p.push(hp, hent{key: s.Log, inf: int32(s.Inf), idx: a.idx})
		}
		if len(next) > 0 && len(hp) > 0 && !e.stale(hp[0].idx) && !above(next[0], hp[0]) {
			// The top is exact and above every cached score popped
			// ahead: those go back as they were.
			for _, a := range next {
				hp = p.push(hp, a)
			}
			next = next[:0]
		} else if len(next) == 0 {
			hp, next = e.popStale(hp, size, next)
		}
		h.bufs[0], h.bufs[1] = next, cur
		cur = next
	}
	return hp, size
}

// rescoreJob is one batch's re-scoring: tasks of warmRows entries handed
// out in order to whoever asks (job.work).
type rescoreJob struct {
	e     *engine
	batch []hent
	tasks int
	next  atomic.Int64
	done  sync.WaitGroup
	bg    bool // running on other workers too
}

// startRescore begins re-scoring batch: small batches (or one worker)
// wait for finish on the calling goroutine; larger ones start on the
// other workers at once.
func (e *engine) startRescore(batch []hent) *rescoreJob {
	j := &rescoreJob{e: e, batch: batch, tasks: chunks(len(batch), warmRows)}
	if helpers := min(e.workers-1, j.tasks-1); len(batch) >= parBatch && helpers > 0 {
		j.bg = true
		j.done.Add(1)
		go func() {
			defer j.done.Done()
			parallel(helpers, helpers, func(int) { j.work() })
		}()
	}
	return j
}

// finish re-scores what is left of the job on the calling goroutine and
// returns once the whole batch is up to date.
func (j *rescoreJob) finish() {
	j.work()
	j.done.Wait()
}

// work takes tasks until none is left.
func (j *rescoreJob) work() {
	var rows [warmRows]int32
	for {
		t := int(j.next.Add(1) - 1)
		if t >= j.tasks {
			return
		}
		part := j.batch[t*warmRows : min((t+1)*warmRows, len(j.batch))]
		for k, a := range part {
			rows[k] = a.idx
		}
		for _, d := range j.e.divs {
			if d.s.def != nil {
				d.s.currentBatch(rows[:len(part)])
			}
		}
	}
}
