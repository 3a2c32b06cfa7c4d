package query

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/winnow-data/winnow/bitmap"
)

// Source is what a predicate is checked against and evaluated over: the
// samples and annotations tables of a dataset, and its tags. Package
// columnar's Dataset implements it (and Streamer); tests use in-memory
// tables.
type Source interface {
	// Len is the number of samples.
	Len() int
	// SampleSchema is the schema of the samples table.
	SampleSchema() *arrow.Schema
	// AnnotationSchema is the schema of the annotations table, nil when
	// the dataset has none.
	AnnotationSchema() *arrow.Schema
	// TagNames lists the dataset's tags.
	TagNames() []string
	// Tag returns the samples carrying the tag.
	Tag(name string) (*bitmap.Bitmap, error)
	// SampleTable reads the named samples columns whole, in dataset
	// order. Eval releases the table when done.
	SampleTable(ctx context.Context, names []string) (arrow.Table, error)
	// AnnotationTable reads the named annotations columns, with the
	// sample row of every annotation. Eval passes an empty, non-nil list
	// when it needs the sample rows only, and releases the table.
	AnnotationTable(ctx context.Context, names []string) (sample []int32, tbl arrow.Table, err error)
}

// Streamer is a Source that can also stream samples columns batch by
// batch. Eval then evaluates the samples conditions on each batch as it
// is decoded, so that memory stays at a few batches a core instead of
// whole columns.
type Streamer interface {
	Source
	// CanStream reports whether StreamSamples can stream the named
	// columns; Eval reads them with SampleTable otherwise.
	CanStream(names []string) bool
	// StreamSamples calls fn with every batch of the named columns and
	// the dataset row of the batch's first row, concurrently for
	// different batches; the arrays are valid until fn returns.
	StreamSamples(ctx context.Context, names []string, fn func(base int, cols []arrow.Array) error) error
}
