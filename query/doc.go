// Package query is winnow's match language: the predicates that narrow a
// dataset to the candidates of a selection (docs/query.md).
//
// A predicate is an Expr, built in Go (Field("width").Lt(256),
// Annotation(Label().Eq("cat")), And, Or, Not, Tagged, Count) or parsed
// from text with Parse ("width < 256 and not tagged(\"reviewed\")"); both
// print back as the same text (Format). Check resolves a predicate against
// a Source, the tables of a dataset, before anything is read: unknown
// columns and tags, literals that do not fit a column's type, and
// conditions in the wrong scope (samples columns inside annotation(...),
// and the reverse) are *Error values that point at the offending text.
//
// Eval then evaluates column by column over Arrow arrays, with SQL's
// three-valued logic (a comparison with null is unknown, and unknown
// samples do not match), producing a bitmap over the samples: leaf
// conditions run as bit kernels on the arrays' buffers (kernels.go), a
// Streamer source has its samples columns evaluated batch by batch while
// it decodes them (scan.go), and the plan combines the leaves' results
// (eval.go). No row is ever materialised as a Go struct.
//
// The package does not read files: package columnar's Dataset is the
// Source that winnow uses. It does not choose samples either; it only
// says which ones match.
package query
