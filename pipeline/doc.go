// Package pipeline is winnow's user-facing Go API: open a dataset, narrow
// it with a query, and run selections whose result is stored as a tag.
//
// The model follows LightlyStudio's Selection API:
//
//	ds, err := pipeline.Open("testdata/mnist")
//	sel, err := ds.Query().Match(query.Field("thickness").Eq("bold")).Selection()
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
// a product of objectives raised to their strengths (docs/selection.md);
// a nil Strength means 1, Strength(0) makes a strategy inert and a negative
// one inverts it. Each strategy kind is one file of this package: its type,
// its fields in LightlyStudio's request format and the --strategy text
// form, how it resolves its data and builds its part of the engine problem
// (package strategies), and what it reports.
//
// Preselected samples (Options.Preselected) that are not candidates still
// count: the engine sees the candidates first, then those samples, and only
// candidates can be picked.
//
// A finished selection commits the result tag and its selection record
// together (package tags): the record holds one row per sample of the tag
// with its rank, combined score and each strategy's objective when picked,
// and the whole request. Result carries the same facts and a per-strategy
// summary: the coverage radius against a random subset for diversity,
// class shares for balancing, mean weights for weighting. ReadRecord reads
// a record back and ExplainSample tells one sample's story from it. Tags
// are also added from lists (AddTagFromList), deleted and renamed with
// their records (DeleteTag, RenameTag), and Options.Replace lets a
// selection overwrite a tag on purpose, all in one commit each.
//
// Requests come in LightlyStudio's formats (ParseRequest: its Python
// SelectionConfig and SamplingConfig and its REST sampling request, whose
// filter is translated into the query language where it can be; see
// docs/configs.md) or in the compact --strategy text form
// (ParseStrategy).
//
// Errors are typed where a caller needs to tell them apart: names the
// dataset lacks are *NameError values (errors.Is with ErrUnknownTag,
// ErrUnknownColumn, ErrUnknownModel, ErrUnknownSource), and
// *AmbiguousModelError, *MissingEmbeddingsError, *ValueError and
// *ColumnTypeError say what a selection could not use; query errors are
// *query.Error values with the position in the text. Messages speak the
// API's terms; the CLI adds its flags.
//
// The package handles no Arrow value and no file: those are packages
// columnar and tags, below it.
package pipeline
