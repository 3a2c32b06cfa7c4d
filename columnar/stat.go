package columnar

import (
	"context"
	"os"
)

// TableStat describes a table from its Parquet footers alone, without
// reading any column data.
type TableStat struct {
	Path  string // the file, or the folder of part files
	Parts int    // number of Parquet files
	Rows  int64  // rows in all parts
	Bytes int64  // size on disk
	// Columns are the top-level columns with their types (TypeName).
	Columns []ColumnInfo
	// Metadata is the first part's key-value metadata (without the
	// stored Arrow schema, which is never decoded).
	Metadata map[string]string
}

// ColumnInfo is a column's name and type, as winnow shows it.
type ColumnInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`

	vector bool // a list of floats: a vector column
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
	sc, err := tableSchema(parts)
	if err != nil {
		return nil, err
	}
	for _, f := range sc.Fields() {
		st.Columns = append(st.Columns, ColumnInfo{Name: f.Name, Type: TypeName(f.Type), vector: isVectorType(f.Type)})
	}
	return st, nil
}

// EmbeddingDim returns the dimension of model's vectors from the first
// stored vector, without reading the others. It is 0 for a table without
// vectors.
func (d *Dataset) EmbeddingDim(ctx context.Context, model string) (int, error) {
	vt, ok := d.models[model]
	if !ok {
		vt, ok = d.objects[model]
	}
	if !ok {
		return 0, nameError(ErrUnknownModel, model, d.Models(), "unknown model %q (models: %s)", model, knownList(d.modelNames))
	}
	sp, err := d.space(ctx, vt)
	if err != nil {
		return 0, err
	}
	t, err := openEmbeddings(vt, d.tablePath(vt), sp.ids.Len())
	if err != nil {
		return 0, err
	}
	defer t.Close()
	return t.dim(ctx, sp)
}
