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
// column over Arrow arrays, producing a Bitmap over the samples.
//
// columnar imports no other package of winnow.
package columnar
