package columnar

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Column names every winnow table agrees on.
const (
	SampleIDColumn  = "sample_id"
	EmbeddingColumn = "embedding"
	LabelColumn     = "label"
)

// UUIDType is the Arrow type of sample_id as winnow writes it: the UUID
// extension type, stored in Parquet as FIXED_LEN_BYTE_ARRAY(16) with the
// UUID logical type.
func UUIDType() arrow.DataType { return extensions.NewUUIDType() }

// EmbeddingType is the Arrow type of an embedding column of dimension dim
// as winnow writes it.
func EmbeddingType(dim int) arrow.DataType {
	return arrow.FixedSizeListOfNonNullable(int32(dim), arrow.PrimitiveTypes.Float32)
}

// EmbeddingSchema is the schema of an embeddings/MODEL table.
func EmbeddingSchema(dim int) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: SampleIDColumn, Type: UUIDType()},
		{Name: EmbeddingColumn, Type: EmbeddingType(dim)},
	}, nil)
}

// WriterOptions tune how a table is written. The zero value writes zstd,
// 64 Ki rows per row group, with statistics.
type WriterOptions struct {
	Compression  compress.Compression // default zstd
	RowGroupRows int64                // default 65536
	Uncompressed bool                 // write without compression
	// Metadata is stored in the file's key-value metadata.
	Metadata map[string]string
}

// Writer writes one Parquet table in winnow's conventions. Unlike
// pqarrow.FileWriter, Close does not close the underlying io.Writer, so
// callers can fsync a file before closing it.
type Writer struct {
	fw        *pqarrow.FileWriter
	groupRows int64 // rows per row group
	inGroup   int64 // rows in the current row group
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// NewWriter starts a Parquet table with the given schema on w.
func NewWriter(w io.Writer, schema *arrow.Schema, opts WriterOptions) (*Writer, error) {
	codec := compress.Codecs.Zstd
	if opts.Compression != 0 {
		codec = opts.Compression
	}
	if opts.Uncompressed {
		codec = compress.Codecs.Uncompressed
	}
	rows := opts.RowGroupRows
	if rows <= 0 {
		rows = 64 * 1024
	}
	popts := []parquet.WriterProperty{
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(rows),
		parquet.WithStats(true),
		parquet.WithCreatedBy("winnow"),
		// Dictionaries pay only for repetitive strings. Elsewhere (ids,
		// vectors) they cost time and, once a dictionary outgrows its page
		// and falls back to plain, arrow-go lists the two encodings in map
		// order, so identical data would not give identical bytes.
		parquet.WithDictionaryDefault(false),
	}
	for _, f := range schema.Fields() {
		// String sample ids are unique: a dictionary would hold each of
		// them once and only cost the reader time.
		if (f.Type.ID() == arrow.STRING || f.Type.ID() == arrow.LARGE_STRING) && f.Name != SampleIDColumn {
			popts = append(popts, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	props := parquet.NewWriterProperties(popts...)
	if len(opts.Metadata) > 0 {
		keys := slices.Sorted(maps.Keys(opts.Metadata)) // sorted: identical inputs give identical bytes
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = opts.Metadata[k]
		}
		md := arrow.NewMetadata(keys, vals)
		schema = arrow.NewSchema(schema.Fields(), &md)
	}
	fw, err := pqarrow.NewFileWriter(schema, nopCloser{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("start parquet writer: %w", err)
	}
	return &Writer{fw: fw, groupRows: rows}, nil
}

// Write appends a record batch, starting new row groups as needed.
//
// Writer splits records at row-group boundaries itself, and hands pqarrow
// only pieces that start at offset 0: arrow-go v18.8.0 ignores the offset
// of a sliced FixedSizeList when writing it, so letting pqarrow slice a
// record would repeat the first rows' vectors in later row groups.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	for off := int64(0); off < n || n == 0; {
		if w.inGroup == w.groupRows {
			if err := w.NewRowGroup(); err != nil {
				return err
			}
		}
		k := min(n-off, w.groupRows-w.inGroup)
		piece, owned := rec, false
		if off != 0 || k != n {
			piece, owned = rec.NewSlice(off, off+k), true
		}
		c, err := compact(piece)
		if err != nil {
			return err
		}
		if c != piece {
			if owned {
				piece.Release()
			}
			piece, owned = c, true
		}
		err = w.fw.WriteBuffered(piece)
		if owned {
			piece.Release()
		}
		if err != nil {
			return fmt.Errorf("write parquet rows: %w", err)
		}
		w.inGroup += k
		off += k
		if n == 0 {
			break
		}
	}
	return nil
}

// compact returns rec, or a new copy of it whose columns start at offset
// 0 when some do not (see Write).
func compact(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	sliced := false
	for _, c := range rec.Columns() {
		sliced = sliced || c.Data().Offset() != 0
	}
	if !sliced {
		return rec, nil
	}
	cols := make([]arrow.Array, rec.NumCols())
	for i, c := range rec.Columns() {
		cp, err := array.Concatenate([]arrow.Array{c}, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("copy column %q: %w", rec.ColumnName(i), err)
		}
		defer cp.Release()
		cols[i] = cp
	}
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows()), nil
}

// NewRowGroup ends the current row group; the next Write starts another.
func (w *Writer) NewRowGroup() error {
	w.inGroup = 0
	return w.fw.NewBufferedRowGroupChecked()
}

// appendMetadata adds an entry to the footer's key-value metadata only
// (not to the stored Arrow schema).
func (w *Writer) appendMetadata(key, value string) error {
	return w.fw.AppendKeyValueMetadata(key, value)
}

// Close writes the footer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("finish parquet file: %w", err)
	}
	return nil
}
