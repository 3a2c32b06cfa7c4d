package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyDataset copies a fixture dataset into a temporary folder so a test
// can write tags without touching the committed files.
func copyDataset(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	require.NoError(t, err)
	return dst
}

const mnist = "../testdata/mnist"

func TestDiverseOnFixture(t *testing.T) {
	dir := copyDataset(t, mnist)
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
