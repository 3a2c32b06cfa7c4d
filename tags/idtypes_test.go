package tags

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// TestIntegerIDsThroughManifest commits tags and records on a dataset of
// int32 ids named image_id, mapped by a manifest that sends winnow's
// writes to another folder: the tags table and the record hold the ids
// as int32 under the dataset's id column name, the data folder is not
// written to, and the record reads back.
func TestIntegerIDsThroughManifest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ids := []int32{40, 7, -3, 1000, 12}
	var buf bytes.Buffer
	require.NoError(t, columnar.WritePlain(ctx, &buf, []columnar.PlainColumn{
		{Name: "image_id", Values: ids},
		{Name: "w", Values: []float64{1, 2, 3, 4, 5}},
	}, nil))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "images.parquet"), buf.Bytes(), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "winnow.yaml"), []byte("samples:\n  path: data/images.parquet\n  id: image_id\noutput: out\n"), 0o644))

	ds := open(t, dir)
	assert.ErrorContains(t, CheckName(ds, "image_id"), "reserved for the sample id column")
	rows, err := ReadIDs(ctx, ds, strings.NewReader("1000\n-3\n"))
	require.NoError(t, err)
	require.NoError(t, Add(ctx, ds, "picked", rows, testRecord("picked", 3)))

	ds = open(t, dir)
	bm, err := ds.Tag("picked")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, bm.Indexes())
	assert.True(t, ds.Sealed())
	st, err := columnar.Stat(filepath.Join(dir, "out", "tags.parquet"))
	require.NoError(t, err)
	assert.Equal(t, columnar.ColumnInfo{Name: "image_id", Type: "int32"}, st.Columns[0])
	rec, err := ReadRecord(ctx, ds, "picked")
	require.NoError(t, err)
	require.Len(t, rec.Rows, 1)
	assert.Equal(t, 3, rec.Rows[0].Row)
	rst, err := columnar.Stat(RecordPath(ds, "picked"))
	require.NoError(t, err)
	assert.Equal(t, "int32", rst.Columns[0].Type)
	assert.True(t, strings.HasPrefix(RecordPath(ds, "picked"), filepath.Join(dir, "out", "selections")))
	ents, err := os.ReadDir(filepath.Join(dir, "data"))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "nothing written beside the data")
}
