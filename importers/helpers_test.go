package importers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// table reads a table the importers wrote as plain columns by name.
func table(t *testing.T, path string) map[string]columnar.PlainColumn {
	t.Helper()
	cols, _, err := columnar.ReadPlain(context.Background(), path)
	require.NoError(t, err)
	out := map[string]columnar.PlainColumn{}
	for _, c := range cols {
		out[c.Name] = c
	}
	return out
}

// columnNames lists a table's columns in order.
func columnNames(t *testing.T, path string) []string {
	t.Helper()
	st, err := columnar.Stat(path)
	require.NoError(t, err)
	var names []string
	for _, c := range st.Columns {
		names = append(names, c.Name)
	}
	return names
}

// requireNothingWritten checks that a failed import into out left neither
// out nor a temporary folder beside it.
func requireNothingWritten(t *testing.T, out string) {
	t.Helper()
	_, err := os.Lstat(out)
	require.True(t, os.IsNotExist(err), "%s exists after a failed import", out)
	left, err := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".import-*"))
	require.NoError(t, err)
	require.Empty(t, left, "temporary folders left behind")
}

// treeBytes is every file under dir with its content, for comparing two
// imports byte for byte.
func treeBytes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	require.NoError(t, err)
	return out
}

// masked is a column's values with nil at its null rows (whose stored
// values are unspecified).
func masked(c columnar.PlainColumn) []any {
	var out []any
	switch v := c.Values.(type) {
	case []float64:
		for _, x := range v {
			out = append(out, x)
		}
	case []string:
		for _, x := range v {
			out = append(out, x)
		}
	case []int64:
		for _, x := range v {
			out = append(out, x)
		}
	}
	for i := range out {
		if c.Null != nil && c.Null[i] {
			out[i] = nil
		}
	}
	return out
}
