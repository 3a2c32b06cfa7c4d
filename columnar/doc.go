// Package columnar reads and writes winnow datasets: folders of Parquet
// tables (samples, embeddings/MODEL, annotations, tags) as described in
// docs/datasets.md. It is winnow's only user of arrow-go.
//
// Tables are read with column projection, so a job reads only the columns
// it needs, and handed to the packages above as plain Go values: numeric
// columns as float64s with a validity bitmap (NumericColumn), categorical
// ones as codes into their values (CategoricalColumn), the annotations as
// such columns aligned to sample rows (Annotations), small tables that
// winnow writes itself as plain columns (WritePlain, ReadPlain). Embedding
// tables take a faster path: the vectors of one model are decoded straight
// from the Parquet column chunks, row groups in parallel, into one
// contiguous row-major []float32 (N×D) aligned to the samples' order, with
// no second copy of the matrix. For the match language (package query) a
// Dataset is a query.Streamer: it serves Arrow tables and streams samples
// columns row group by row group on all cores.
//
// Sample ids are UUIDs, strings or integers (IDKind), held in the form
// that costs least for their kind (IDs) and never converted: lookups,
// the tags table, selection records and exports use the type the samples
// table stores, and a reference column of another kind (UUID text against
// UUIDs, int32 against int64) is converted to the samples' kind where it
// is read. Open validates the sample ids (unique, non-null) and the tags
// table's ids. The tags tables winnow writes carry a seal: digests of the
// bytes holding the samples' ids and of the tags file itself. While both
// still match, Open trusts the validation that the seal records instead
// of decoding the ids again, and decodes them only when a job needs them
// (see Dataset.IDs). Any change to either file breaks the seal, and Open
// validates in full.
//
// The package writes a tags table's bytes (WriteTags) but not its commit:
// locking, replacing files and keeping selection records consistent is
// package tags'. It evaluates no predicates and selects nothing.
package columnar
