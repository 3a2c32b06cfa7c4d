// Package shardselect is shard-composable selection: the greedy engine of
// winnow/strategies run on shards of a dataset (each shard picks local
// candidates on its own machine) and once more on the union of the shards'
// candidates (the merge), so a selection over more rows than one machine
// holds costs one machine's memory per shard plus the union.
//
// It is plain Go over package strategies, with no Beam and no I/O; the Beam
// pipeline of winnow/beam calls it from DoFns. It lives here only until the
// core library's restructured pipeline API lands; then it belongs next to
// that API (it needs strategies resolved for a subset of rows, which is the
// pipeline's job), and this package should move there unchanged.
//
// # Rows and determinism
//
// Every row carries its global key (Rows.Index): the dataset row, so that
// ordering by key is dataset order and, as in the engine, every tie goes to
// the lowest key. Each problem this package builds lists its candidates in
// key order, so the engine's "lowest index" is the lowest key on every
// shard and in the merge, whatever order shards arrive in and whichever
// runner or worker ran them. Preselected samples (spec §8) are given to
// every shard and to the merge as extra rows that count but are never
// picked; a preselected sample that is also a candidate is dropped from the
// candidates, which changes no pick (the engine never picks a row of S).
//
// # What each configuration guarantees
//
//   - Weights only (every strategy a Weights): each shard keeps its top n;
//     the union holds the global top n, so the merge returns exactly the
//     single-machine picks.
//   - One shard, any configuration: the shard's run is the single-machine
//     run with k' >= n picks, and the merge runs the same greedy on a subset
//     that holds its first n picks, so it returns them again.
//   - Diversity alone (one strategy, strength > 0, no deduplication): local
//     greedy k-center coresets of k' >= n points and greedy on their union.
//     This is the two-round algorithm of Malkomes, Kusner, Chen, Weinberger
//     and Moseley (NeurIPS 2015), a 4-approximation of the optimal k-center
//     radius; Merge also returns the a-posteriori certificate of Ceccarello,
//     Pietracaprina and Pucci (VLDB 2019): with r the largest coreset radius
//     over the shards and R the radius of the picks over the union,
//     radius <= r + R and OPT >= R/2, so the ratio to the optimum is at most
//     min(4, 2 + 2r/R). Larger k' makes r small against R and the ratio
//     tend to 2, greedy's own factor (the Ceccarello et al. 2+ε, with
//     ε = 2r/R measured instead of bought with k' = n·(c/ε)^D for data of
//     doubling dimension D). See Bound.
//   - Balancing (alone or combined): each shard runs the whole
//     configuration for k' picks and then tops up every class c of a target
//     with ratio t_c > 0 to need_c = ceil(Oversample · t_c · (n + |pre|) · ā)
//     rows holding class c (ā the mean count-row sum over all candidates,
//     Spec.MeanRowSum; 1 for one label per sample), or all it has, picking
//     those by the same engine among that class's rows. The union therefore
//     holds min(need_c, available) rows of every class, and the merge
//     selects exactly as the single-machine engine would on that union. The
//     quality loss is measured (cmd/coreset-quality), not bounded.
//   - Deduplication and other combinations: shards and merge run the same
//     configuration; the merge enforces every rule globally. Not exact: a
//     row a shard skipped as a near-duplicate of a local pick is lost even
//     if the merge drops that pick.
//
// The engine breaks near-ties with a relative tolerance of 1e-9 (spec §2).
// "Exactly" above holds whenever no two different scores lie within that
// tolerance of each other; where they do, a subset can change which of them
// the tolerance ties with the best, and a pick may differ.
//
// # What the caller resolves globally
//
// Strategies whose objective depends on all candidates must be resolved
// over all of them before the shards run, and enter as plain inputs:
// balancing targets (uniform and input depend on the classes present) and
// MeanRowSum, similarity weights (μ is the mean over all candidates) and
// typicality weights (neighbours across shards): see Neighbours and
// TypicalityFromNeighbours for the first pipeline stage that computes the
// latter exactly.
package shardselect
