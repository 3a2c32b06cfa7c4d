package atomicfile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/internal/atomicfile"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ftFullDisk is a writer that fails like a full disk after limit bytes.
type ftFullDisk struct {
	w     io.Writer
	limit int
}

func (f *ftFullDisk) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.w.Write(p[:f.limit])
		f.limit = 0
		return n, &os.PathError{Op: "write", Path: "tags.parquet", Err: syscall.ENOSPC}
	}
	f.limit -= len(p)
	return f.w.Write(p)
}

// TestWriteFileDiskFull fails the write after 0, 1, 100 and 4096 bytes:
// the error names the temporary file and the cause, and the old file and
// the folder stay as they were.
func TestWriteFileDiskFull(t *testing.T) {
	for _, limit := range []int{0, 1, 100, 4096} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "table.parquet")
			old := []byte("the old table")
			if err := os.WriteFile(path, old, 0o644); err != nil {
				t.Fatal(err)
			}
			write := func(w io.Writer) error {
				_, err := w.Write(bytes.Repeat([]byte("x"), 10000))
				return err
			}
			err := atomicfile.WriteFile(path, func(f *os.File) error { return write(&ftFullDisk{f, limit}) }, atomicfile.Options{})
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("error %v, want ENOSPC", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "write "+dir+"/.table.parquet.tmp-") || !strings.Contains(msg, "no space left on device") {
				t.Errorf("error %q does not name the file written and the cause", msg)
			}
			if got := mustRead(t, path); !bytes.Equal(got, old) {
				t.Errorf("old file changed to %q", got)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("folder holds %d entries after the failure, want only the old file", len(ents))
			}
		})
	}
}

// TestWriteFileParentNotFolder writes below a regular file: creating the
// temporary file fails, and the error names the folder.
func TestWriteFileParentNotFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.WriteFile(filepath.Join(file, "tags.parquet"), func(*os.File) error { return nil }, atomicfile.Options{})
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("error %v, want ENOTDIR", err)
	}
	if !strings.Contains(err.Error(), "create temporary file in "+file) {
		t.Errorf("error %q does not name the folder", err)
	}
	if got := mustRead(t, file); string(got) != "x" {
		t.Errorf("file changed to %q", got)
	}
}

func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	err := atomicfile.WriteFile(path, func(f *os.File) error {
		f.Write([]byte("half"))
		return fmt.Errorf("disk full")
	}, atomicfile.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	got, _ := os.ReadFile(path)
	assert.Equal(t, "old", string(got))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left")
}

func TestWriteFileKeepsModeAndChecks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o640))
	require.NoError(t, atomicfile.WriteFile(path, func(f *os.File) error {
		_, err := f.WriteString("new")
		return err
	}, atomicfile.Options{}))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.Equal(t, "new", string(mustRead(t, path)))

	renamed := false
	err = atomicfile.WriteFile(path, func(f *os.File) error { return nil }, atomicfile.Options{
		Check:   func() error { return errors.New("changed under us") },
		Renamed: func() { renamed = true },
	})
	require.ErrorContains(t, err, "changed under us")
	assert.False(t, renamed)
	assert.Equal(t, "new", string(mustRead(t, path)))
	left, _ := filepath.Glob(atomicfile.TempPattern(path))
	assert.Empty(t, left)
}

func TestStamp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	none, err := atomicfile.StampOf(path)
	require.NoError(t, err)
	assert.Equal(t, atomicfile.Stamp{}, none)
	require.NoError(t, os.WriteFile(path, []byte("a"), 0o644))
	s1, _ := atomicfile.StampOf(path)
	assert.NotEqual(t, none, s1)
	// Same size and content, replaced by a rename: a new inode.
	require.NoError(t, os.WriteFile(path+".x", []byte("a"), 0o644))
	require.NoError(t, os.Rename(path+".x", path))
	s2, _ := atomicfile.StampOf(path)
	assert.NotEqual(t, s1, s2)
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	unlock, err := atomicfile.Lock(context.Background(), path, time.Second)
	require.NoError(t, err)
	start := time.Now()
	_, err = atomicfile.Lock(context.Background(), path, 100*time.Millisecond)
	require.ErrorContains(t, err, "another winnow process has held "+path)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = atomicfile.Lock(ctx, path, time.Minute)
	assert.ErrorIs(t, err, context.Canceled)
	unlock()
	again, err := atomicfile.Lock(context.Background(), path, time.Second)
	require.NoError(t, err)
	again()
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tags.parquet")
	stale := filepath.Join(dir, ".tags.parquet.tmp-99-1")
	other := filepath.Join(dir, ".samples.parquet.tmp-1-1")
	for _, p := range []string{stale, other} {
		require.NoError(t, os.WriteFile(p, nil, 0o600))
	}
	atomicfile.RemoveTemps(path)
	_, err := os.Stat(stale)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(other)
	assert.NoError(t, err)
}
