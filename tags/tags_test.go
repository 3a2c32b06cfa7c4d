package tags

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
	mnist "github.com/winnow-data/winnow/internal/fixture"
	"github.com/winnow-data/winnow/internal/testseam"
)

func fixture(t *testing.T) *columnar.Dataset {
	t.Helper()
	dir, err := mnist.CopyMNIST(filepath.Join(t.TempDir(), "mnist"))
	require.NoError(t, err)
	return open(t, dir)
}

func open(t *testing.T, dir string) *columnar.Dataset {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	require.NoError(t, err)
	return ds
}

func rows(n int, set ...int) *bitmap.Bitmap { return bitmap.FromIndexes(n, set) }

func TestCheckName(t *testing.T) {
	ds := fixture(t)
	require.NoError(t, Add(context.Background(), ds, "seen", rows(ds.Len(), 1), nil))
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
	require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 0, 5), nil))
	// ds is stale: it has not seen "a". Add must still keep it.
	require.NoError(t, Add(ctx, ds, "b", rows(ds.Len(), 7), nil))
	ds = open(t, ds.Dir())
	assert.Equal(t, []string{"a", "b"}, ds.TagNames())
	a, _ := ds.Tag("a")
	b, _ := ds.Tag("b")
	assert.Equal(t, []int{0, 5}, a.Indexes())
	assert.Equal(t, []int{7}, b.Indexes())

	// The same name from a stale handle is refused, under the lock.
	stale := open(t, ds.Dir())
	require.NoError(t, Add(ctx, ds, "c", rows(ds.Len()), nil))
	err := Add(ctx, stale, "c", rows(ds.Len()), nil)
	require.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), "added by another process")
}

func TestAddDetectsForeignWriter(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 1), nil))
	path := filepath.Join(ds.Dir(), "tags.parquet")
	foreign := []byte("written by a program that ignores winnow's lock")
	if !testseam.Enabled {
		t.Skip("needs test seams: run with -race or -tags winnowtest")
	}
	defer testseam.Set(func(point string) {
		if point == SeamTable+":"+atomicfile.PointTempSynced {
			require.NoError(t, os.WriteFile(path+".x", foreign, 0o644))
			require.NoError(t, os.Rename(path+".x", path))
		}
	})()
	err := Add(ctx, ds, "b", rows(ds.Len(), 2), nil)
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
			errs[i] = Add(context.Background(), ds, fmt.Sprintf("t%d", i), rows(ds.Len(), i), nil)
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
	err := Add(context.Background(), ds, "x", rows(3), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "covers 3 rows, the dataset has 2000 samples")
}

func TestReadIDs(t *testing.T) {
	ds := fixture(t)
	ids, err := ds.IDs(context.Background())
	require.NoError(t, err)
	in := fmt.Sprintf("%s\n\n  %s  \n%s\n", ids.String(3), ids.String(9), ids.String(3))
	bm, err := ReadIDs(context.Background(), ds, strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []int{3, 9}, bm.Indexes())
	_, err = ReadIDs(context.Background(), ds, strings.NewReader(ids.String(0)+"\n00000000-0000-0000-0000-000000000000\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: sample id 00000000-0000-0000-0000-000000000000 is not in the dataset")
}

// TestTagsFolderTable is the bug where a dataset whose tags table is a
// folder of part files (as engines write tables) got a tags.parquet
// written beside it, after which the dataset no longer opened. A commit
// must replace the folder's table in place: its first part, superseding
// the others.
func TestTagsFolderTable(t *testing.T) {
	for _, parts := range []int{1, 3} {
		t.Run(fmt.Sprint(parts), func(t *testing.T) {
			ds := fixture(t)
			ctx := context.Background()
			require.NoError(t, Add(ctx, ds, "old", rows(ds.Len(), 1, 2), nil))
			dir := ds.Dir()
			// Split tags.parquet into a folder of parts, as another engine
			// would write it: part i holds every parts-th row group... here,
			// simply row ranges, written with winnow's writer.
			splitTags(t, dir, parts)
			ds = open(t, dir)
			require.Equal(t, []string{"old"}, ds.TagNames())

			require.NoError(t, Add(ctx, ds, "new", rows(ds.Len(), 7), nil))
			_, err := os.Stat(filepath.Join(dir, "tags.parquet"))
			require.ErrorIs(t, err, os.ErrNotExist, "no tags.parquet beside the tags/ folder")
			ds = open(t, dir) // failed before the fix: "table tags is both a file and a folder"
			assert.Equal(t, []string{"old", "new"}, ds.TagNames())
			old, _ := ds.Tag("old")
			assert.Equal(t, []int{1, 2}, old.Indexes())
			left, _ := filepath.Glob(filepath.Join(dir, "tags", "*.parquet"))
			assert.Len(t, left, 1, "the superseded parts are removed")
			assert.True(t, ds.Sealed(), "a one-part folder is sealed like a file")
		})
	}
}

// TestTagsFolderCrashBeforeCleanup leaves a superseded part behind, as a
// crash between the rename and the removal would: readers skip it and the
// next commit removes it.
func TestTagsFolderCrashBeforeCleanup(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "old", rows(ds.Len(), 1), nil))
	splitTags(t, ds.Dir(), 2)
	stale := filepath.Join(ds.Dir(), "tags", "part-1.parquet")
	saved, err := os.ReadFile(stale)
	require.NoError(t, err)
	require.NoError(t, Add(ctx, open(t, ds.Dir()), "new", rows(ds.Len(), 3), nil))
	require.NoError(t, os.WriteFile(stale, saved, 0o644)) // the crash: part-1 came back
	ds = open(t, ds.Dir())
	assert.Equal(t, []string{"old", "new"}, ds.TagNames(), "the superseded part is skipped")
	require.NoError(t, Add(ctx, ds, "third", rows(ds.Len(), 4), nil))
	_, err = os.Stat(stale)
	assert.ErrorIs(t, err, os.ErrNotExist, "the next commit removes it")
	assert.Equal(t, []string{"old", "new", "third"}, open(t, ds.Dir()).TagNames())
}

// splitTags turns DIR/tags.parquet into DIR/tags/part-K.parquet files of
// consecutive rows.
func splitTags(t *testing.T, dir string, parts int) {
	t.Helper()
	ds := open(t, dir)
	names, bits, meta, err := ds.ReadTagColumns(context.Background())
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tags"), 0o755))
	n := ds.Len()
	for k := range parts {
		lo, hi := k*n/parts, (k+1)*n/parts
		idx := make([]int, 0, hi-lo)
		for r := lo; r < hi; r++ {
			idx = append(idx, r)
		}
		cols := []columnar.PlainColumn{ds.IDColumn(columnar.SampleIDColumn, idx)}
		for i, name := range names {
			v := make([]bool, hi-lo)
			for r := lo; r < hi; r++ {
				v[r-lo] = bits[i].Get(r)
			}
			cols = append(cols, columnar.PlainColumn{Name: name, Values: v})
		}
		f, err := os.Create(filepath.Join(dir, "tags", fmt.Sprintf("part-%d.parquet", k)))
		require.NoError(t, err)
		require.NoError(t, columnar.WritePlain(context.Background(), f, cols, nil))
		require.NoError(t, f.Close())
	}
	_ = meta
	require.NoError(t, os.Remove(filepath.Join(dir, "tags.parquet")))
}

func testRecord(tag string, row int) *Record {
	return &Record{Header: []byte(fmt.Sprintf(`{"tag":%q}`, tag)), Objectives: []string{"objective_0_diversity"},
		Rows: []RecordRow{{Row: row, Rank: 0, Score: 0.5, Objectives: []float64{2}}}}
}

func TestReplaceDeleteRename(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 1), testRecord("a", 1)))
	require.NoError(t, Add(ctx, ds, "plain", rows(ds.Len(), 2), nil))
	ds = open(t, ds.Dir())

	// Replace swaps rows and record together.
	require.NoError(t, Replace(ctx, ds, "a", rows(ds.Len(), 9), testRecord("a", 9)))
	ds = open(t, ds.Dir())
	a, _ := ds.Tag("a")
	assert.Equal(t, []int{9}, a.Indexes())
	rec, err := ReadRecord(ctx, ds, "a")
	require.NoError(t, err)
	assert.Equal(t, 9, rec.Rows[0].Row)

	// Replacing a selection tag with a plain one drops its record.
	require.NoError(t, Replace(ctx, ds, "a", rows(ds.Len(), 8), nil))
	ds = open(t, ds.Dir())
	_, err = ReadRecord(ctx, ds, "a")
	assert.ErrorIs(t, err, ErrNoRecord)
	_, err = os.Stat(RecordPath(ds, "a"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the old record is removed")

	// Rename carries the record along, with the header's tag name.
	require.NoError(t, Replace(ctx, ds, "a", rows(ds.Len(), 7), testRecord("a", 7)))
	require.NoError(t, Rename(ctx, open(t, ds.Dir()), "a", "b"))
	ds = open(t, ds.Dir())
	assert.Equal(t, []string{"b", "plain"}, ds.TagNames(), "a renamed tag keeps its place")
	rec, err = ReadRecord(ctx, ds, "b")
	require.NoError(t, err)
	assert.Equal(t, 7, rec.Rows[0].Row)
	assert.JSONEq(t, `{"tag":"b"}`, string(rec.Header))
	_, err = os.Stat(RecordPath(ds, "a"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// Rename onto an existing tag, or of an unknown one, changes nothing.
	assert.ErrorIs(t, Rename(ctx, ds, "b", "plain"), ErrExists)
	assert.ErrorIs(t, Rename(ctx, ds, "nope", "x"), columnar.ErrUnknownTag)

	// Delete removes tag and record.
	require.NoError(t, Delete(ctx, ds, "b"))
	ds = open(t, ds.Dir())
	assert.Equal(t, []string{"plain"}, ds.TagNames())
	_, err = os.Stat(RecordPath(ds, "b"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorIs(t, Delete(ctx, ds, "b"), columnar.ErrUnknownTag)
}

func TestCaseClash(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	require.NoError(t, Add(ctx, ds, "Reviewed", rows(ds.Len(), 1), nil))
	ds = open(t, ds.Dir())
	err := CheckName(ds, "reviewed")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tag "reviewed" differs from the existing tag "Reviewed" only in case`)
	err = Replace(ctx, ds, "REVIEWED", rows(ds.Len(), 2), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only in case")
}

// TestRecordCrashStates builds the states a crash leaves between the
// steps of a commit and checks that the tags table decides which record
// is the tag's, and that the next commit tidies up.
func TestRecordCrashStates(t *testing.T) {
	ctx := context.Background()
	t.Run("staged record the table names", func(t *testing.T) {
		ds := fixture(t)
		require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 1), testRecord("a", 1)))
		require.NoError(t, Replace(ctx, open(t, ds.Dir()), "a", rows(ds.Len(), 2), testRecord("a", 2)))
		// Undo the last step (staging -> final): the final file is the
		// old run's record again, the new one is staged.
		final := RecordPath(ds, "a")
		require.NoError(t, os.Rename(final, stagingPath(ds, "a")))
		require.NoError(t, writeRecordFile(ctx, ds, final, "an-older-run", testRecord("a", 1)))
		ds = open(t, ds.Dir())
		rec, err := ReadRecord(ctx, ds, "a")
		require.NoError(t, err)
		assert.Equal(t, 2, rec.Rows[0].Row, "the staged record the table names wins")
		require.NoError(t, Add(ctx, ds, "other", rows(ds.Len(), 3), nil))
		_, err = os.Stat(stagingPath(ds, "a"))
		assert.ErrorIs(t, err, os.ErrNotExist, "the next commit moved it into place")
		rec, err = ReadRecord(ctx, open(t, ds.Dir()), "a")
		require.NoError(t, err)
		assert.Equal(t, 2, rec.Rows[0].Row)
	})
	t.Run("record of a tag that never landed", func(t *testing.T) {
		ds := fixture(t)
		require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 1), testRecord("a", 1)))
		// A crash after writing the record of "ghost" but before the
		// table: the record exists, the tag does not.
		require.NoError(t, os.MkdirAll(ds.RecordsDir(), 0o755))
		require.NoError(t, writeRecordFile(ctx, ds, RecordPath(ds, "ghost"), "x", testRecord("ghost", 4)))
		require.NoError(t, writeRecordFile(ctx, ds, stagingPath(ds, "ghost2"), "y", testRecord("ghost2", 4)))
		ds = open(t, ds.Dir())
		require.NoError(t, Add(ctx, ds, "ghost", rows(ds.Len(), 5), nil)) // made by tags add: no record
		ds = open(t, ds.Dir())
		_, err := ReadRecord(ctx, ds, "ghost")
		assert.ErrorIs(t, err, ErrNoRecord, "the orphan record is not taken for the new tag's")
		_, err = os.Stat(RecordPath(ds, "ghost"))
		assert.ErrorIs(t, err, os.ErrNotExist, "and was removed by the commit")
		_, err = os.Stat(stagingPath(ds, "ghost2"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("record that belongs to another run", func(t *testing.T) {
		ds := fixture(t)
		require.NoError(t, Add(ctx, ds, "a", rows(ds.Len(), 1), testRecord("a", 1)))
		require.NoError(t, writeRecordFile(ctx, ds, RecordPath(ds, "a"), "someone-else", testRecord("a", 3)))
		_, err := ReadRecord(ctx, open(t, ds.Dir()), "a")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is missing or belongs to another run")
	})
}

// TestReadList: the list formats of tags add.
func TestReadList(t *testing.T) {
	ds := fixture(t)
	ctx := context.Background()
	ids, err := ds.IDStrings(ctx, []int{3, 7})
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		in   string
		f    ListFormat
	}{
		{"ids", ids[0] + "\n\n " + ids[1] + " \n", ListFormat{}},
		{"ids by sample_id", ids[0] + "\n" + ids[1] + "\n", ListFormat{By: "sample_id"}},
		{"csv of ids", "x,id\n1," + ids[0] + "\n2," + ids[1] + "\n", ListFormat{Column: "id"}},
		{"file names", "t10k-00003.png\nt10k-00007.png\nt10k-00003.png\n", ListFormat{By: "file_name"}},
		{"csv of file names", "\ufeff name ,n\nt10k-00003.png,1\n\"t10k-00007.png\",2\n", ListFormat{Column: "name", By: "file_name"}},
		{"integers by index", "3\n7\n", ListFormat{By: "index"}},
	} {
		bm, err := ReadList(ctx, ds, strings.NewReader(c.in), c.f)
		require.NoError(t, err, c.name)
		assert.Equal(t, []int{3, 7}, bm.Indexes(), c.name)
	}
}
