// Package datagen builds the datasets winnow is tested and benchmarked on:
// a small real fixture made of MNIST test digits (see [BuildMNIST]) and
// synthetic datasets of any size with clustered embeddings and skewed
// metadata (see [Generate]).
//
// Both write winnow's dataset layout (samples.parquet, embeddings/MODEL,
// annotations, tags) through columnar.Writer, and both are deterministic:
// the same inputs give the same bytes, so a fixture can be committed and
// checked by rebuilding it.
package datagen
