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
// NewDeduplication, NewWeights (also for SimilarityWeights,
// TypicalityWeights and the uncertainty of ClassificationUncertainty and
// DetectionUncertainty), NewBalance (with ResolveTarget for the target) and
// NewSubpartDiversity (object-level diversity). Eligibility rules (spec §10)
// go in Problem.Rules: NewQuota (max_per_group) and NewExcludeNear
// (exclude_near). Group selection (clips, videos) is a Problem over units:
// GroupUnits cuts the candidates into units and derives their vectors,
// weights, count rows and objects; NewUnitQuota and UnitRule carry the
// rules over. Explain says, after a run, why a row was or was not picked.
//
// # Vectors
//
// Embeddings come as Vectors: a row-major matrix of float32 values or of
// IEEE binary16 bit patterns (F16), which stay 16-bit in memory. The
// kernels widen float16 values to float32 as they load them, which is
// exact, so every distance, and so every pick, is the one of the float32
// matrix holding the same values (tests compare them bit for bit on every
// path). ToFloat16 and EncodeFloat16 round float32 data to float16
// (nearest, ties to even) for callers that choose the smaller working set;
// that rounding is the only approximation, and it is the caller's.
// Vectors.Finite says the values were checked already (columnar refuses
// NaN and ±Inf while decoding); otherwise the constructors check them
// once, on all cores.
//
// # Kernels
//
// One kernel set is chosen when the package initialises: AVX-512 (F, DQ,
// BW, VL), AVX2 with FMA and F16C, or portable Go. The float64 distance
// kernels of every set add the same terms in the same order with fused
// multiply-adds (sqDistGo spells the order out), so a distance has the
// same bits on every CPU and picks never depend on it. The float32
// kernels (the tile kernel, float32 distances and norms) only feed bounds
// that carry a rigorous rounding margin valid for any summation order, so
// their last bits may differ between sets without changing any result;
// the tests run every engine test with every set the CPU has.
//
// The tile kernel is the engine's matrix product: six rows (broadcast one
// dimension at a time) by a panel of 64 columns stored transposed, 24
// AVX-512 accumulators, ten loads per 24 FMAs; after the products it tests
// a float64 lower bound on each pair's squared distance against per-row or
// per-column thresholds and returns bit masks of the pairs it could not
// rule out. Measured with BenchmarkTile at 512 dimensions, per second of
// one core's CPU time: AVX-512 229 GFLOP/s, AVX2 118, Go 5.0. The core's
// peak (benchmarks/cmd/peak) is 2 FMA instructions a cycle × 16 lanes × 2
// flops at the 3.91 GHz it ran at (measured with a dependent add chain),
// 248 GFLOP/s (496 on the machine's two cores), so the AVX-512 kernel runs
// at 92% of it and the AVX2 one at 94% of the 125 of 8-lane FMAs.
//
// Where the CPU has AVX512_BF16, diversity's deferred passes run their
// tiles through the bfloat16 screen first (screen.go): rows and centers
// rounded to bfloat16, exact products summed in float32 (VDPBF16PS), masks
// at a margin that covers the rounding, so a clear bit proves what the
// float32 tile's does and the pairs it leaves get the float32 bound of the
// pair, then the exact distance. It prefetches the next tile's rows a
// line between its products. BenchmarkScreen at 512 dimensions: 440
// GFLOP/s against the 491 peak of VDPBF16PS (benchmarks/cmd/peak), 90%.
// The portable go+screen set has the same roundings, so the screened
// passes are tested on every machine.

// # Choices where the spec is silent
//
//   - Scores are compared in log space as Score values; strategies with
//     strength 0 are skipped entirely, so 0·log 0 never becomes NaN.
//   - Balancing works with log objective = −D directly; exp(−D) is never
//     formed, so a large imbalance does not underflow to a zero objective.
//   - Picks larger than the eligible candidates is not an error: Select
//     returns fewer picks and the caller warns. Picks < 1 is an error.
//   - A preselected row listed twice is an error.
//   - Distances are computed from the float32 (or float16) values with
//     float64 accumulation; the rounding (about dim·2^-53 relative) is far
//     below the 1e-9 tie tolerance.
//   - Typicality's neighbour distances are exact float64 distances; its
//     objectives depend only on them, so ties between neighbours cannot
//     change them. Above about a minute of exact work the neighbours are
//     searched approximately (see below), and the search says so.
//   - An explicit balancing target pools every unlisted class given to
//     ResolveTarget (present among the candidates or not) into OtherClass.
//   - Balancing with strength 0 excludes no unlabeled candidate (it is
//     inert). Result.Unlabeled counts the excluded candidates that are not
//     preselected.
//   - Quotas take int32 group codes (dictionary indexes or raw values);
//     -1 is a null value, which has no limit.
//   - Keep-away compares distances with >=: a candidate at exactly
//     min_distance is eligible. With min_distance 0 only the tag's own
//     candidates are excluded.
//   - Object-level diversity scores 0 for a sample without objects even
//     while no object is selected (when every other sample scores 1): a
//     sample with nothing to add must not win the first pick on its index.
//     A preselected sample without objects leaves B empty.
//   - Units consist of candidates only, listed in ascending candidate
//     order; a unit's first member is its lowest candidate index, which
//     orders the units and breaks ties. A null group value puts a
//     candidate in no unit (it cannot be picked). order_by keys are int64
//     (callers rank other types; a null key is the caller's to reject).
//     A unit's vector is the float64 mean of its members' in member order.
//     A preselected sample in no candidate unit (not a candidate, a null
//     group, a dropped trailing run) becomes a singleton unit after the
//     candidate units, so that it still counts.
//   - Quotas over units count units: a unit belongs to every distinct
//     group of its members and counts once in each. "At most 3 clips per
//     video" is the use; counting frames would make any m below the clip
//     length exclude every clip.
//   - Keep-away over units (UnitRule) requires every member to be far
//     from the tag, and a unit holding a sample of the tag is never
//     picked: the point is that no selected sample is near the test set,
//     which a unit's mean vector would not ensure.
//   - Uncertainty: the extra entry max(0, 1 − Σp) is always added, so K is
//     the number of confidences + 1 (a sample's K does not flip with the
//     rounding of Σp); entropy is clamped to [0, 1] (confidences summing
//     above 1 could exceed it). For object detection a sample without
//     predicted objects scores empty_score and is no error; a bad
//     confidence is an error for both tasks. Dropping returns the rows for
//     the caller to remove from the candidates.
//   - Explain judges eligibility at the end of the run (rules only ever
//     exclude more), lists every rule that excludes the row, and names
//     for deduplication the first selected sample within reach (the one
//     that made the row ineligible) and for a quota the member that filled
//     the group.
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
//   - Eligibility rules must be permanent (see Rule), so the heaps and the
//     sorted orders drop an ineligible candidate for good. A costly rule
//     (keep-away) is asked only about a candidate that would otherwise win:
//     an exact heap top, a scan candidate raising its chunk's best; the
//     answer is cached. Its check walks a vantage-point tree of the
//     excluded vectors (built once, n·log n distances) and skips, by the
//     triangle inequality with the same 1e-9 margin, every side whose
//     distance range to its vantage vector cannot hold a vector within
//     reach, stopping at the first vector that is.
//
//   - Object-level diversity keeps every candidate object's distance to
//     the selected objects with the machinery of sample diversity (groups,
//     skips, deferred batches) over the object vectors; a sample's
//     objective is the max over its few objects, and it only falls once an
//     object is selected, so it runs on the lazy heaps too.
//
//   - When a new sample may take members from groups holding more than an
//     eighth of the candidates, the update walks the candidates in row
//     order instead (same tests, same distances), because scattered row
//     reads cost several times a streamed pass. The skips only pay when
//     the data has structure at the scale of the selection: on overlapping
//     clusters most distances still have to be computed.
//
//   - While most candidates are within reach of new samples (before every
//     cluster has one), new samples are applied in batches of 64
//     (deferred.go): each candidate's row is read once per batch and run
//     through the tile kernel against all 64 pending centers at once,
//     whose masks settle most pairs; the float64 distance decides the
//     rest. A candidate the engine looks at in between is brought up to
//     date first: the heap's stale tops are popped in batches that double
//     while the top stays stale (warm.go), re-scored on all cores with
//     only the tile columns of the centers each has not seen while the
//     next batch is popped, and pushed back. A heap of more than 2^17
//     entries holds only its highest score buckets, about 2^16 entries;
//     the others are parked unordered at the back of its array (park.go),
//     so a re-scored top that falls far is parked in O(1) instead of
//     sifted through levels beyond the caches. The centers'
//     rows are kept side by side (within 24 bytes a candidate, 8 beside
//     other strategies) so the per-pick pass over thousands of centers
//     streams them, and a float32 bound rules most groups out before the
//     float64 distance.
//
// Results never depend on Problem.Workers. Engine state beyond the inputs
// is about 34 bytes per candidate for diversity (distance, group, group
// member, heap entry, selected and batch counters) plus up to 24 for the
// centers' rows (8 with other strategies, weights adding 16) and, while
// batches run, 512 bytes per group for the batch's triangle bounds:
// measured at the last of 10,000 picks from 1M, 63.2 bytes alone (the
// peak heap, garbage included, 136 while batches run). Where the batch's
// triangle bounds would cost more distances than the pass they serve
// (thousands of groups), batches run without them (deferred.go, lbPays).
// Rules add little: keep-away a byte per candidate (its cached answer) plus
// its tree of the excluded vectors (about 22 bytes a vector), a quota 4 bytes a
// group, balancing a byte a row (its all-zero flags). Object-level
// diversity keeps the diversity state per candidate object.
//
// # Neighbours
//
// TypicalityWeights and NeighbourDistances find each row's k nearest
// others. Exact search runs query blocks (tile columns) against every row
// (tile rows) on the tile kernel; a target whose lower bound exceeds the
// query's k-th smallest upper bound so far is dropped, the survivors get
// exact float64 distances, and the k smallest by (distance, row) are the
// result, whatever the kernel set, order or number of workers.
//
// Above an estimated minute of that (NeighboursAuto) the search is an
// inverted file (neighbours.go): k-means on a seeded sample gives about
// 2·√rows centroids (lists above twice the average then split), each row
// joins the list of its nearest, and each row is searched, exactly as
// above, among the rows of the Probe lists whose centroids are nearest to
// it; every pair measured counts for both of its rows, so a row is also
// searched among the rows whose probes include its list. The lists are
// stored as tile panels (a float32 copy of the vectors: 4·rows·dim bytes
// while the search runs), so a list is read once for all the queries of a
// block that probe it. Probe is tuned: the least at which the search finds
// TargetRecall (0.98) of the exact neighbours of a sample of whole lists,
// read off the rank, in both rows' centroid orders, at which each exact
// neighbour pair is found; recall is then measured on 1,000 rows of other
// lists and returned in NeighbourSearch with the
// parameters, for the caller's record. The search is deterministic: seeded
// samples and start, exact arg-mins with ties to the lower index, means
// summed in row order.
//
// Bad values are reported as *ValueError (WeightError is an alias) with the
// first bad row and the number of bad rows, for the caller to name the
// column and sample id.
//
// The package does not read or write files, does not know sample ids or
// column names, and does not print: progress goes to callbacks.
package strategies
