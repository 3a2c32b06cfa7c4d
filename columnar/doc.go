// Package columnar reads and writes winnow datasets: folders of Parquet
// tables (samples, embeddings/MODEL, annotations, tags) as described in
// shared/spec/dataset.md.
//
// Tables are read as Arrow record batches with column projection, so a job
// reads only the columns it needs. Embedding tables take a faster path: the
// vectors of one model are decoded straight from the Parquet column chunks,
// row groups in parallel, into one contiguous row-major []float32 (N×D)
// aligned to the samples' order, with no second copy of the matrix.
//
// The package also evaluates match predicates (spec/query.md) column by
// column over Arrow arrays, producing a Bitmap over the samples. A Dataset
// streams the columns a predicate names row group by row group on all
// cores and evaluates each batch as it is decoded, so a query over ten
// million samples holds a few batches in memory, not whole columns.
//
// Open validates the sample ids (unique, non-null UUIDs) and the tags
// table's ids. The tags tables winnow writes carry a seal: digests of the
// bytes holding the samples' ids and of the tags file itself. While both
// still match, Open trusts the validation that the seal records instead
// of decoding the ids again, and decodes them only when a job needs them
// (see Dataset.IDs). Any change to either file breaks the seal, and Open
// validates in full.
//
// columnar imports no other package of winnow.
package columnar
