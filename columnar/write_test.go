package columnar

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestWriterSplitsRecordsIntoRowGroups writes one record larger than a row
// group, and a sliced record, and reads every vector back: arrow-go alone
// would repeat the first row group's vectors (a sliced FixedSizeList loses
// its offset).
func TestWriterSplitsRecordsIntoRowGroups(t *testing.T) {
	const n, dim = 23, 3
	dir := t.TempDir()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(i)})
	}
	writeWinnow(t, filepath.Join(dir, "samples.parquet"), []arrow.RecordBatch{samplesRecord(ids, idUUID)})

	schema := EmbeddingSchema(dim)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, id := range ids {
		b.Field(0).(*extensions.UUIDBuilder).Append(id)
		lb := b.Field(1).(*array.FixedSizeListBuilder)
		lb.Append(true)
		for k := 0; k < dim; k++ {
			lb.ValueBuilder().(*array.Float32Builder).Append(float32(i*dim + k))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755))
	f, err := os.Create(filepath.Join(dir, "embeddings", "m.parquet"))
	require.NoError(t, err)
	w, err := NewWriter(f, schema, WriterOptions{RowGroupRows: 5})
	require.NoError(t, err)
	require.NoError(t, w.Write(rec.NewSlice(0, 2)))  // offset 0
	require.NoError(t, w.Write(rec.NewSlice(2, 20))) // sliced, spans row groups
	require.NoError(t, w.Write(rec.NewSlice(20, n)))
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())

	ds, err := Open(context.Background(), dir)
	require.NoError(t, err)
	m, err := ds.ReadEmbeddings(context.Background(), "m")
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		require.Equal(t, []float32{float32(i * dim), float32(i*dim + 1), float32(i*dim + 2)}, m.Row(i), "row %d", i)
	}
	st, err := Stat(filepath.Join(dir, "embeddings", "m.parquet"))
	require.NoError(t, err)
	require.EqualValues(t, n, st.Rows)
}
