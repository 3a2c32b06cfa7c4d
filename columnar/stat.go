package columnar

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
)

// TableStat describes a table from its Parquet footers alone, without
// reading any column data.
type TableStat struct {
	Path   string        // the file, or the folder of part files
	Parts  int           // number of Parquet files
	Rows   int64         // rows in all parts
	Bytes  int64         // size on disk
	Schema *arrow.Schema // Arrow schema shared by the parts
	// Metadata is the first part's key-value metadata (without the
	// stored Arrow schema, which is never decoded).
	Metadata map[string]string
}

// Stat reads the footers of the table at path (a .parquet file or a folder
// of part files) with the same checks as every other read: a corrupt
// footer is an error naming the file.
func Stat(path string) (*TableStat, error) {
	parts, err := openParts(path)
	if err != nil {
		return nil, err
	}
	defer closeParts(parts)
	st := &TableStat{Path: path, Parts: len(parts), Metadata: map[string]string{}}
	for _, kv := range parts[0].r.MetaData().KeyValueMetadata() {
		if kv.Value != nil {
			st.Metadata[kv.Key] = *kv.Value
		}
	}
	for _, p := range parts {
		st.Rows += p.r.NumRows()
		if fi, err := os.Stat(p.path); err == nil {
			st.Bytes += fi.Size()
		}
	}
	if st.Schema, err = tableSchema(parts); err != nil {
		return nil, err
	}
	return st, nil
}

// EmbeddingDim returns the dimension of model's vectors from the first
// stored vector, without reading the others. It is 0 for a table without
// vectors.
func (d *Dataset) EmbeddingDim(ctx context.Context, model string) (int, error) {
	path, ok := d.models[model]
	if !ok {
		return 0, fmt.Errorf("unknown model %q (models: %s)", model, knownList(d.modelNames))
	}
	t, err := openEmbeddings(path, d.Len())
	if err != nil {
		return 0, err
	}
	defer t.Close()
	return d.embeddingDim(ctx, t)
}
