// Package report turns a selection record into a page people would rather
// look at than a summary printed in a terminal: one self-contained HTML
// file (or a folder of PNG files) that answers "did I get what I wanted?".
//
// The package has three layers, each a plain function of the one before:
//
//   - Input is what a report reads, in plain Go values: the record's header
//     and picks, the candidates, and the dataset's vectors, classes and
//     weights. Load (load.go, the package's only file that imports
//     pipeline) fills it from a dataset folder and a tag.
//   - Build computes Data from an Input: the coverage curve (the diversity
//     objective of each pick, read from the record, beside the same curve
//     for a random order of the candidates), class distributions, a 2-D
//     PCA map of the embeddings, nearest-neighbour distance histograms,
//     weight distributions and the first picks with thumbnails. Data holds
//     numbers and text only; it is what the tests check.
//   - Plots draws Data with gonum.org/v1/plot into PNG images; WriteHTML
//     embeds them, base64-encoded, in one page with inline CSS and no
//     script, font or request to anything outside the file; WritePNGs
//     writes them into a folder.
//
// Everything a report computes is bounded, whatever the dataset's size:
// the map draws a deterministic sample of the candidates (and every
// selected sample), the distance histograms and the random-order curve
// measure over deterministic samples sized by a budget of multiply-adds,
// and the page says which numbers were sampled and how. The same Input and
// Options always give the same Data.
//
// The package does not select, and it never writes into a dataset. It
// does not recompute what a record already holds: the curve of a diversity
// strategy is its recorded objectives, the class shares are the record's.
// Weights the selection computed (similarity, typicality) are shown for
// the selection from the record; their distribution over all candidates
// is not in today's records, and the page says so.
package report
