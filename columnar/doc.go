// Package columnar reads and writes winnow datasets: Parquet tables
// (samples, embedding models, annotations, tags) as described in
// docs/datasets.md, read where and as other engines write them. It is
// winnow's only user of arrow-go.
//
// A dataset is opened through a Layout, the mapping of its tables and
// columns to winnow's roles: the conventional folder (samples.parquet,
// embeddings/MODEL.parquet, annotations.parquet, tags.parquet), or a
// manifest (winnow.yaml, see manifest.go) that maps tables under any
// names in place, including a separate output folder for winnow's own
// writes. GuessManifest proposes one from a folder's tables. A table is
// a file, a folder of parts read recursively, or a glob; Hive-style
// key=value folders become columns typed as DuckDB types them, and
// engines' marker and checksum files are skipped (source.go).
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
// Tables are read with column projection, so a job reads only the columns
// it needs, and handed to the packages above as plain Go values: numeric
// columns as float64s with a validity bitmap (NumericColumn), categorical
// ones as codes into their values (CategoricalColumn), the annotations as
// such columns aligned to sample rows and read by role (Annotations),
// small tables that winnow writes itself as plain columns (WritePlain,
// ReadPlain). Embedding tables take a faster path: the vectors of one
// model (List or FixedSizeList of float16, float32 or float64, in a table
// of their own or a column of the samples table) are decoded straight
// from the Parquet pages, row groups in parallel, into one contiguous
// row-major matrix aligned to the samples' order (or, for an object-level
// model, to the annotations), with no second copy of the matrix and every
// value checked finite once. float16 vectors stay 16-bit (Matrix.F16).
// zstd pages are decompressed by a codec of columnar's that it registers
// with arrow-go once per process (zstd.go). For the match language
// (package query) a Dataset is a query.Streamer: it serves Arrow tables
// and streams samples columns row group by row group on all cores.
//
// The package writes a tags table's bytes (WriteTags) but not its commit:
// locking, replacing files and keeping selection records consistent is
// package tags'. It evaluates no predicates and selects nothing.
package columnar
