// Package tags reads, adds and exports tag columns of a winnow dataset.
//
// A tag is a non-null boolean column of tags.parquet, one row per sample in
// dataset order. tags.parquet is never edited in place: Add writes a complete
// new file beside it, fsyncs it, renames it over the old one and fsyncs the
// folder, so a crash leaves either the old file or the new one.
package tags
