package strategies

// warm prepares the entries at the top of a lazy heap for re-scoring: a
// diversity strategy with pending centers brings them up to date in one
// batch (deferred.go's currentBatch). The heap's first levels hold its
// next tops, and while most candidates are far from everything (before
// every cluster has a center) each new center leaves thousands of them
// stale, each of which would otherwise wait for its own row. Only values
// current would compute are computed, so no pick changes.
func (e *engine) warm(hp []hent) {
	if len(hp) == 0 {
		return
	}
	var rows [warmRows]int32
	n := 0
	for _, a := range hp[:min(len(hp), warmRows)] {
		rows[n] = a.idx
		n++
	}
	for _, d := range e.divs {
		if f := d.s.def; f != nil && int(f.done[hp[0].idx]) < len(f.rows) {
			d.s.currentBatch(rows[:n])
		}
	}
}
