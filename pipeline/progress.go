package pipeline

// Progress reports: a selection's long phases tell Options.Progress how far
// they are, so that a terminal can draw a bar with an estimate of the time
// left and a batch log can record JSON lines. The pipeline only counts; it
// neither times nor draws.

// Phase names a stage of a selection that can take long.
type Phase string

// The phases of a selection, in the order they run. A phase may be
// reported more than once (one load per embedding model) or not at all.
const (
	// PhaseLoad reads an embedding model's vectors; Unit is "rows" of
	// the embedding table decoded (counted after each row group).
	PhaseLoad Phase = "load"
	// PhaseNeighbours searches nearest neighbours for typicality and
	// outliers; Unit is "pairs" of vectors measured, and Total is revised
	// once, when an approximate search has tuned how widely it probes.
	PhaseNeighbours Phase = "neighbours"
	// PhaseSelect makes the picks; Unit is "picks".
	PhaseSelect Phase = "select"
	// PhaseWrite commits the tag and its selection record; Unit is
	// "steps" (it is one step: the commit is atomic).
	PhaseWrite Phase = "write"
)

// Progress is one report of a phase's advance: Done of Total units.
// Within one phase and Item, Done never decreases and ends at Total when
// the phase completes; Total stays fixed except where the phase says it
// is revised (PhaseNeighbours).
type Progress struct {
	Phase Phase
	// Item names what the phase works on (an embedding model for load and
	// neighbours); "" when there is one thing.
	Item        string
	Done, Total int64
	Unit        string
}

// progressFunc returns a callback reporting phase's advance on item
// through fn, or nil when fn is nil: readers and kernels skip their
// reports then.
func progressFunc(fn func(Progress), phase Phase, item, unit string) func(done, total int64) {
	if fn == nil {
		return nil
	}
	return func(done, total int64) {
		fn(Progress{Phase: phase, Item: item, Done: done, Total: total, Unit: unit})
	}
}

// intProgress adapts progressFunc to callbacks counting in int.
func intProgress(fn func(Progress), phase Phase, item, unit string) func(done, total int) {
	f := progressFunc(fn, phase, item, unit)
	if f == nil {
		return nil
	}
	return func(done, total int) { f(int64(done), int64(total)) }
}
