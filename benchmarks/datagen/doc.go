// Package datagen builds the datasets winnow is tested and benchmarked on:
// a small real fixture made of MNIST test digits (see [BuildMNIST]) and
// synthetic datasets of any size with clustered embeddings and skewed
// metadata (see [Generate]).
//
// Both write winnow's dataset layout (samples.parquet, embeddings/MODEL,
// annotations, tags) through columnar.Writer, and both are deterministic:
// the same inputs give the same rows, and the same bytes as long as no
// Parquet column chunk outgrows its dictionary. (arrow-go v18.8.0 lists
// the page encodings of a chunk that fell back from dictionary to plain
// encoding in Go map order, so such files differ between runs in a few
// footer bytes.) The MNIST fixture stays far below that limit, so it is
// committed and checked byte for byte by rebuilding it.
package datagen
