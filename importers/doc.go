// Package importers turns datasets in the formats other tools write into
// winnow datasets: COCO instances files, YOLO folders, and embedding
// matrices (.npy, .npz, or a Parquet or CSV table of vectors) for a
// dataset that already exists.
//
// COCO and YOLO each write a conventional dataset folder (samples.parquet
// and annotations.parquet, see docs/importers.md for the column mapping).
// Sample ids are deterministic, UUIDv5 of Namespace and the sample's file
// name (SampleID), so importing the same data twice gives the same ids and,
// byte for byte, the same tables. Boxes come out in pixels as COCO's
// [x, y, width, height]: YOLO's normalised centres are scaled by the image
// sizes read from the image files' headers. Embeddings adds one model to a
// dataset: embeddings/MODEL.parquet, vectors matched to samples by id or
// by a column such as file_name, rows in dataset order.
//
// Nothing half-written is ever left where a dataset is read. A new dataset
// is built in a hidden temporary folder beside its destination and renamed
// into place when complete (on Linux an existing one that Force replaces is
// swapped with it in one atomic exchange); an embedding table is written
// through an atomic file replacement under the dataset's writer lock.
// Malformed input is an *InputError naming the file and the line, index
// or element, and then nothing is written at all: every input is parsed
// and checked before the first byte of output.
//
// Input is read streaming where the format allows it (the COCO JSON is
// decoded element by element, never held whole; .npy data is converted as
// it is read), so memory grows with the rows imported, not with the size
// of the input: a COCO file's polygons, which are most of its bytes, are
// never kept.
//
// The package does not merge annotations into an existing dataset, copy or
// check image files, read segmentation masks or keypoints, or write float16
// vectors (float16 input is widened to float32, which is exact).
package importers
