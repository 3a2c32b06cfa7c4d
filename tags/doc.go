// Package tags owns a dataset's tags table and every change to it: adding,
// replacing, deleting and renaming tags, each with the selection record
// that explains how the tag was made, in one crash-safe commit.
//
// A tag is a non-null boolean column of the tags table, one row per sample
// in dataset order. The table is never edited in place: a commit takes the
// dataset's lock, re-reads the table as it is on disk (keeping tags other
// processes added), writes a complete new table and renames it over the
// old one (package internal/atomicfile), so a crash leaves the old table
// or the new one. A table folder of part files is replaced through its
// first part, which names the others as superseded until they are gone.
//
// Records live in the dataset's selections/ folder. The tags table names
// the record that belongs to each tag by an id that the record carries
// too; a commit writes new records as staging files before the table and
// moves them into place after it, so whatever a crash interrupts, the
// table decides which record is the tag's, and the next commit tidies up.
//
// The package stores a record's header (the selection's configuration and
// outcome) without reading it: what a selection means is package
// pipeline's. Parquet and Arrow stay in package columnar.
package tags
