package columnar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
)

func TestExportFormats(t *testing.T) {
	ctx := context.Background()
	ds, err := columnar.Open(ctx, "../testdata/mnist") // read only
	require.NoError(t, err)
	rows := bitmap.FromIndexes(ds.Len(), []int{4, 2})
	ids, err := ds.IDStrings(ctx, []int{2, 4})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, ds.Export(ctx, rows, "ids", &b))
	assert.Equal(t, ids[0]+"\n"+ids[1]+"\n", b.String(), "dataset order")

	b.Reset()
	require.NoError(t, ds.Export(ctx, rows, "csv", &b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "sample_id,file_name,"), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], ids[0]+","))

	b.Reset()
	require.NoError(t, ds.Export(ctx, rows, "json", &b))
	var objs []map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &objs))
	require.Len(t, objs, 2)
	assert.Equal(t, ids[1], objs[1]["sample_id"])

	b.Reset()
	require.NoError(t, ds.Export(ctx, rows, "parquet", &b))
	assert.Equal(t, "PAR1", b.String()[:4])

	err = ds.Export(ctx, rows, "xml", &b)
	require.ErrorContains(t, err, `unknown export format "xml"`)
	err = ds.Export(ctx, bitmap.New(3), "ids", &b)
	require.ErrorContains(t, err, "3 rows for a dataset of 2000 samples")
}
