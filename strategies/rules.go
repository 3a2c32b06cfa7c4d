package strategies

// Rule is an eligibility rule of spec §10 (at most m per group, keep away
// from a tag): it contributes no factor to the score, it only makes
// candidates ineligible. Rules are given in Problem.Rules; a candidate is
// eligible only while every rule (and every strategy) allows it.
//
// Ineligibility must be permanent: once a rule's state says a candidate is
// not eligible, it must stay so however S grows. The engine relies on it:
// its heaps and sorted orders drop an ineligible candidate for good. The
// built-in rules have this property by construction (group counts only
// grow; the distance to a fixed set does not change).
type Rule interface {
	// Start returns fresh per-run state for a problem with rows rows of
	// data of which the first candidates are candidates. It fails when
	// the rule's data covers fewer rows than it needs.
	Start(rows, candidates int) (RuleState, error)
}

// RuleState is the per-run state of a Rule while S grows.
type RuleState interface {
	// Eligible reports whether candidate i may be picked given S. Calls
	// for different candidates may run concurrently.
	Eligible(i int) bool
	// Add appends row (a candidate or any other row) to S.
	Add(row int)
}

// costlyRule marks a RuleState whose Eligible is expensive the first time
// it is asked about a candidate (it then caches the answer). The engine
// asks such rules last, and only about a candidate that would win the pick
// otherwise: heap tops whose score is exact, scan candidates that improve
// their chunk's best. Few candidates ever get that far, so the rule costs a
// small multiple of the picks instead of a pass over all candidates.
type costlyRule interface {
	RuleState
	costly()
}

// naiveRule is implemented by rule states that have a straightforward
// mode for Problem.Straightforward.
type naiveRule interface {
	setNaive(bool)
}
