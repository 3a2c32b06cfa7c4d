// Package pipeline is winnow's user-facing Go API: open a dataset, narrow
// it with a query, and run selections whose result is stored as a tag.
//
// The model follows LightlyStudio's Selection API:
//
//	ds, err := pipeline.Open("testdata/mnist")
//	sel, err := ds.Query().Match(pipeline.Field("thickness").Eq("bold")).Selection()
//	res, err := sel.MultiStrategies(ctx, 100, "bold-picks", []pipeline.Strategy{
//		pipeline.EmbeddingDiversity{},
//		pipeline.AnnotationBalancing{Target: pipeline.Uniform},
//	})
//
// A Query is a value: Match returns a new query, so a base query can be
// refined several ways. Selection evaluates it once and snapshots the
// matching samples, in dataset order, as the candidates; later tag changes
// do not move them.
//
// Every selection method resolves names to data before the engine runs (the
// embedding model, "" meaning the dataset's only one; numeric or categorical
// metadata columns; annotation labels and sources; query and preselected
// tags), so a typo fails fast and nothing is written. Strategies combine as
// a product of objectives raised to their strengths (spec/selection.md §2);
// a nil Strength means 1, Strength(0) makes a strategy inert and a negative
// one inverts it.
//
// Preselected samples (Options.Preselected) that are not candidates still
// count: the engine sees the candidates first, then those samples, and only
// candidates can be picked.
//
// A finished selection writes selections/<tag>.parquet, one row per sample
// of the tag with its rank, combined score and each strategy's objective
// when picked, the whole request in its metadata, and then the tag itself,
// atomically (package tags). The tag is the commit point: if it cannot be
// written, the record is removed again. Result carries the same facts and a
// per-strategy summary: the coverage radius against a random subset for
// diversity, class shares for balancing, mean weights for weighting.
package pipeline
