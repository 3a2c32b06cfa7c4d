package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/internal/fixture"
)

// copyMNIST copies the fixture's tables (not what a run may have left in
// testdata/mnist) into a temporary folder, so a test can write tags
// without touching the committed files.
func copyMNIST(t testing.TB) string {
	t.Helper()
	dst, err := fixture.CopyMNIST(filepath.Join(t.TempDir(), "data"))
	require.NoError(t, err)
	return dst
}

// copyDataset copies the dataset folder src into a temporary folder.
func copyDataset(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func TestDiverseOnFixture(t *testing.T) {
	dir := copyMNIST(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	res, err := sel.MultiStrategies(context.Background(), 100, "picks", []Strategy{EmbeddingDiversity{}, AnnotationBalancing{Target: Uniform}})
	require.NoError(t, err)
	require.Equal(t, 100, res.Selected)
	t.Logf("%+v", res.Strategies[0].Coverage)
	t.Logf("%+v", res.Strategies[1].Balance)
	ds2, err := Open(dir)
	require.NoError(t, err)
	bm, err := ds2.Columnar().Tag("picks")
	require.NoError(t, err)
	require.Equal(t, 100, bm.Count())
	rec, err := ds2.ReadRecord(context.Background(), "picks")
	require.NoError(t, err)
	require.Len(t, rec.Picks, 100)
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }
