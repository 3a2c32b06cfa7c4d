package tags

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"winnow/columnar"
)

func fixture(t *testing.T) *columnar.Dataset {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnist")
	require.NoError(t, os.CopyFS(dir, os.DirFS("../testdata/mnist")))
	return open(t, dir)
}

func open(t *testing.T, dir string) *columnar.Dataset {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	require.NoError(t, err)
	return ds
}

func rows(n int, set ...int) *columnar.Bitmap {
	b := columnar.NewBitmap(n)
	for _, i := range set {
		b.Set(i)
	}
	return b
}

func TestCheckName(t *testing.T) {
	ds := fixture(t)
	require.NoError(t, Add(context.Background(), ds, "seen", rows(ds.Len(), 1)))
	ds = open(t, ds.Dir())
	cases := []struct{ name, err string }{
		{"good-name", ""},
		{"with space inside", ""},
		{"日本", ""},
		{"", "tag name is empty"},
		{strings.Repeat("x", MaxNameLen+1), "bytes long; the limit is 200"},
		{"bad\x00name", "control character at byte 3"},
		{"tab\tname", "control character at byte 3"},
		{" padded", "starts or ends with white space"},
		{"sample_id", "reserved for the sample id column"},
		{"\xff", "not valid UTF-8"},
		{"seen", `tag "seen": tag already exists`},
	}
	for _, c := range cases {
		err := CheckName(ds, c.name)
		if c.err == "" {
			assert.NoError(t, err, c.name)
			continue
		}
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.err)
	}
}

func TestAddKeepsEveryTag(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 0, 5)))
	// ds is stale: it has not seen "a". Add must still keep it.
	require.NoError(t, Add(ctx, ds, "b", rows(ds.Len(), 7)))
	ds = open(t, ds.Dir())
	assert.Equal(t, []string{"a", "b"}, ds.TagNames())
	a, _ := ds.Tag("a")
	b, _ := ds.Tag("b")
	assert.Equal(t, []int{0, 5}, a.Indexes())
	assert.Equal(t, []int{7}, b.Indexes())

	// The same name from a stale handle is refused, under the lock.
	stale := open(t, ds.Dir())
	require.NoError(t, Add(ctx, ds, "c", rows(ds.Len())))
	err := Add(ctx, stale, "c", rows(ds.Len()))
	require.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), "added by another process")
}

func TestAddDetectsForeignWriter(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 1)))
	path := filepath.Join(ds.Dir(), FileName)
	foreign := []byte("written by a program that ignores winnow's lock")
	hook := func(point string) {
		if point == "temp-synced" {
			require.NoError(t, os.WriteFile(path+".x", foreign, 0o644))
			require.NoError(t, os.Rename(path+".x", path))
		}
	}
	err := Add(ctx, ds, "b", rows(ds.Len(), 2), WithHook(hook))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was changed by another program while winnow wrote it; nothing was written")
	got, _ := os.ReadFile(path)
	assert.Equal(t, foreign, got, "the other program's file is not overwritten")
	leftovers, _ := filepath.Glob(filepath.Join(ds.Dir(), ".tags.parquet.tmp-*"))
	assert.Empty(t, leftovers, "the temporary file is removed")
}

func TestAddConcurrent(t *testing.T) {
	ds := fixture(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Add(context.Background(), ds, fmt.Sprintf("t%d", i), rows(ds.Len(), i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	ds = open(t, ds.Dir())
	assert.Len(t, ds.TagNames(), 8)
	for i := range errs {
		bm, err := ds.Tag(fmt.Sprintf("t%d", i))
		require.NoError(t, err)
		assert.Equal(t, []int{i}, bm.Indexes())
	}
}

func TestAddRejectsWrongLength(t *testing.T) {
	ds := fixture(t)
	err := Add(context.Background(), ds, "x", rows(3))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "covers 3 rows, the dataset has 2000 samples")
}

func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	err := WriteFile(path, func(f *os.File) error {
		f.Write([]byte("half"))
		return fmt.Errorf("disk full")
	}, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	got, _ := os.ReadFile(path)
	assert.Equal(t, "old", string(got))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left")
}

func TestReadIDs(t *testing.T) {
	ds := fixture(t)
	ids, err := ds.IDs(context.Background())
	require.NoError(t, err)
	in := fmt.Sprintf("%s\n\n  %s  \n%s\n", ids[3], ids[9], ids[3])
	bm, err := ReadIDs(context.Background(), ds, strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []int{3, 9}, bm.Indexes())
	_, err = ReadIDs(context.Background(), ds, strings.NewReader(ids[0].String()+"\n00000000-0000-0000-0000-000000000000\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: sample id 00000000-0000-0000-0000-000000000000 is not in the dataset")
}

func TestExportFormats(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "two", rows(ds.Len(), 4, 2)))
	ds = open(t, ds.Dir())
	ids, err := ds.IDs(ctx)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, Export(ctx, ds, "two", "ids", &b))
	assert.Equal(t, ids[2].String()+"\n"+ids[4].String()+"\n", b.String(), "dataset order")
	b.Reset()
	require.NoError(t, Export(ctx, ds, "two", "csv", &b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[1], ids[2].String()+","))
	err = Export(ctx, ds, "two", "xml", &b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown export format "xml"`)
	err = Export(ctx, ds, "nope", "ids", &b)
	require.Error(t, err)
}
