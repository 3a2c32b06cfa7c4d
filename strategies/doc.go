// Package strategies is winnow's selection engine: pure kernels and the
// greedy loop of shared/spec/selection.md over plain slices. It does no I/O
// and its API holds no Arrow types.
//
// # Problem shape
//
// A Problem has Rows rows of data (vectors, weights, count rows); the first
// Candidates rows are the candidates, in dataset order, and the rest exist
// only so that preselected samples outside the candidates count. Select
// runs the greedy loop and returns the new picks with their scores and
// per-strategy objectives. Strategies are built with NewDiversity,
// NewDeduplication, NewWeights (also for SimilarityWeights and
// TypicalityWeights) and NewBalance (with ResolveTarget for the target).
//
// # Choices where the spec is silent
//
//   - Scores are compared in log space as Score values; strategies with
//     strength 0 are skipped entirely, so 0·log 0 never becomes NaN.
//   - Balancing works with log objective = −D directly; exp(−D) is never
//     formed, so a large imbalance does not underflow to a zero objective.
//   - Picks larger than the eligible candidates is not an error: Select
//     returns fewer picks and the caller warns. Picks < 1 is an error.
//   - A preselected row listed twice is an error.
//   - Distances are computed from the float32 vectors with float64
//     accumulation (AVX2+FMA where available); the rounding (about
//     dim·2^-53 relative) is far below the 1e-9 tie tolerance.
//   - Typicality searches neighbours exactly with float32 distances; its
//     objectives depend only on neighbour distances, so ties between
//     neighbours cannot change them.
//   - An explicit balancing target pools every unlisted class given to
//     ResolveTarget (present among the candidates or not) into OtherClass.
//
// # Fast paths
//
// Every fast path returns exactly the picks of the straightforward one
// (Problem.Straightforward), which the tests check on thousands of random
// problems together with a literal float64 reference:
//
//   - Diversity keeps the candidates grouped by nearest selected sample and
//     skips, by the triangle inequality, whole groups and single members
//     that a new sample cannot get closer to; skip tests carry a 1e-9
//     relative margin and every distance that is computed goes through the
//     same summation, stopping early once it cannot be a new minimum.
//
//   - The arg-max uses lazy max-heaps (one per distinct balancing count
//     row) when scores can only fall: diversity with strength > 0,
//     weights, one balancing strategy. Without a varying diversity term
//     (weights and balancing only, where huge groups tie exactly) each
//     count row's candidates are sorted once and a segment tree finds the
//     lowest tied index. Otherwise (negative diversity strength, several
//     balancing strategies, strategies of other types, more than
//     max(1024, candidates/64) distinct count rows) every candidate is
//     scored each pick, in parallel.
//
//   - When a new sample may take members from groups holding more than an
//     eighth of the candidates, the update walks the candidates in row
//     order instead (same tests, same distances), because scattered row
//     reads cost several times a streamed pass. The skips only pay when
//     the data has structure at the scale of the selection: on overlapping
//     clusters most distances still have to be computed.
//
//   - While most candidates are within reach of new samples (before every
//     cluster has one), new samples are applied in batches of 64, each
//     candidate's row read once per batch and measured against all of
//     them in cache, first with float32 dot products (four rows by three
//     samples in registers, AVX2) and a rigorous rounding margin; a
//     candidate the engine looks at in between is brought up to date
//     first (deferred.go). The centers' rows are kept side by side
//     (within 24 bytes a candidate, 8 beside other strategies) so the
//     per-pick pass over thousands of centers streams them, and a float32
//     bound rules most groups out before the float64 distance.
//
// Results never depend on Problem.Workers. Engine state beyond the inputs
// is about 34 bytes per candidate for diversity (distance, group, group
// member, heap entry, selected and batch counters) plus up to 24 for the
// centers' rows (8 with other strategies, weights adding 16): measured at
// the last of 10,000 picks from 1M, 59 bytes alone and 63 combined.
//
// Bad values are reported as *ValueError (WeightError is an alias) with the
// first bad row and the number of bad rows, for the caller to name the
// column and sample id.
package strategies
