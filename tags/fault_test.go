package tags_test

// Resource faults during a tag write: a full disk, a folder that cannot
// be written, a rename that fails, a lock held too long, a foreign writer,
// a cancelled context. Each must leave the old tags.parquet byte for byte,
// leave no temporary file, and say what failed and where.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
	"github.com/winnow-data/winnow/internal/fixture"
	"github.com/winnow-data/winnow/internal/testseam"
	"github.com/winnow-data/winnow/tags"
)

// ftDataset copies testdata/mnist, gives it tags.parquet with tag "old",
// and returns the opened dataset with the file's bytes.
func ftDataset(t *testing.T) (*columnar.Dataset, []byte) {
	t.Helper()
	dir, err := fixture.CopyMNIST(filepath.Join(t.TempDir(), "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	ds := ftOpen(t, dir)
	if err := tags.Add(context.Background(), ds, "old", ftRows(ds.Len(), 1, 2, 3), nil); err != nil {
		t.Fatal(err)
	}
	ds = ftOpen(t, dir)
	return ds, ftRead(t, filepath.Join(dir, "tags.parquet"))
}

func ftOpen(t *testing.T, dir string) *columnar.Dataset {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func ftRows(n int, set ...int) *bitmap.Bitmap { return bitmap.FromIndexes(n, set) }

func ftRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ftIntact checks that dir's tags.parquet is still old, that the dataset
// opens with tag "old" and without tag "new", and that no temporary file
// is left.
func ftIntact(t *testing.T, dir string, old []byte) {
	t.Helper()
	if got := ftRead(t, filepath.Join(dir, "tags.parquet")); !bytes.Equal(got, old) {
		t.Errorf("tags.parquet changed (%d bytes, was %d)", len(got), len(old))
	}
	ds := ftOpen(t, dir)
	if names := ds.TagNames(); len(names) != 1 || names[0] != "old" {
		t.Errorf("tags after the failure: %v, want [old]", names)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tags.parquet.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// ftReadOnly makes dir refuse new files and returns how it undoes that.
// Root ignores permission bits, so as root it sets the immutable
// attribute (chattr +i, which binds root too) instead; where neither
// works the test is skipped with the reason.
func ftReadOnly(t *testing.T, dir string) func() {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		return func() { os.Chmod(dir, 0o755) }
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("running as root, which ignores permission bits, without chattr to make a folder immutable; TestWriteFileParentNotFolder and TestWriteFileDiskFull cover failed writes")
	}
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, which ignores permission bits, and chattr +i failed (%v: %s); TestWriteFileParentNotFolder and TestWriteFileDiskFull cover failed writes", err, out)
	}
	undo := func() { exec.Command(chattr, "-i", dir).Run() }
	t.Cleanup(undo) // before TempDir's removal, which was registered first
	return undo
}

// TestAddReadOnlyFolder makes the dataset folder refuse new files: Add
// fails saying where, and the old tags.parquet stays.
func TestAddReadOnlyFolder(t *testing.T) {
	ds, old := ftDataset(t)
	// The lock file exists already (ftDataset added a tag), as it does in
	// any dataset winnow has tagged before.
	undo := ftReadOnly(t, ds.Dir())
	err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), nil)
	undo()
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("error %v, want a permission error", err)
	}
	if want := `add tag "new": create temporary file in ` + ds.Dir(); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	ftIntact(t, ds.Dir(), old)
}

// TestAddReadOnlyTagsFile: a read-only tags.parquet does not stop a
// replacement (rename needs only the folder), and its mode is kept.
func TestAddKeepsFileMode(t *testing.T) {
	ds, _ := ftDataset(t)
	path := filepath.Join(ds.Dir(), "tags.parquet")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("tags.parquet mode after Add: %v (%v), want 0640", st.Mode().Perm(), err)
	}
	// A first tags.parquet is readable by everyone, like the tables
	// other engines write (CreateTemp alone would make it 0600).
	dir, err := fixture.CopyMNIST(filepath.Join(t.TempDir(), "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tags.Add(context.Background(), ftOpen(t, dir), "first", ftRows(2000, 1), nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "tags.parquet")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("new tags.parquet mode: %v (%v), want 0644", st.Mode().Perm(), err)
	}
}

// TestAddLockHeld holds the dataset's tag lock the way another winnow
// process would: Add waits, then fails saying who holds what.
func TestAddLockHeld(t *testing.T) {
	ds, old := ftDataset(t)
	lock, err := os.OpenFile(filepath.Join(ds.Dir(), ".tags.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), nil, tags.WithLockTimeout(200*time.Millisecond))
	if err == nil {
		t.Fatal("Add wrote while another process held the lock")
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("Add gave up after %s, before its timeout", waited)
	}
	if want := "another winnow process has held " + filepath.Join(ds.Dir(), ".tags.lock"); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	ftIntact(t, ds.Dir(), old)

	// Cancelling while waiting for the lock stops at once, writing nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = tags.Add(ctx, ds, "new", ftRows(ds.Len(), 5), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Add with an expiring context while the lock is held: %v", err)
	}
	ftIntact(t, ds.Dir(), old)
}

// TestAddForeignWriterAtEachPoint lets a program that ignores the lock
// replace tags.parquet at each point of the write: before the rename Add
// must notice and fail, keeping the foreign file; a change after the
// rename is the foreign program's own and is simply kept.
func TestAddForeignWriterAtEachPoint(t *testing.T) {
	ftNeedSeams(t)
	for _, point := range []string{tags.SeamTable + ":" + atomicfile.PointTempWritten, tags.SeamTable + ":" + atomicfile.PointTempSynced} {
		t.Run(point, func(t *testing.T) {
			ds, old := ftDataset(t)
			path := filepath.Join(ds.Dir(), "tags.parquet")
			foreign := append([]byte(nil), old...)
			defer testseam.Set(func(p string) {
				if p == point {
					// Same bytes, new inode: only the identity changed.
					tmp := path + ".foreign"
					os.WriteFile(tmp, foreign, 0o644)
					os.Rename(tmp, path)
				}
			})()
			err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), ftRecord(ds))
			if err == nil || !strings.Contains(err.Error(), "was changed by another program while winnow wrote it; nothing was written") {
				t.Fatalf("Add after a foreign write at %s: %v", point, err)
			}
			ftIntact(t, ds.Dir(), foreign)
			ftNoRecords(t, ds.Dir())
		})
	}
}

// ftNeedSeams skips a test that stops a commit at its points when the
// build has no seams (run the tests with -race, as CI does).
func ftNeedSeams(t *testing.T) {
	t.Helper()
	if !testseam.Enabled {
		t.Skip("needs test seams: run with -race or -tags winnowtest")
	}
}

// ftRecord is a small selection record for tag "new".
func ftRecord(ds *columnar.Dataset) *tags.Record {
	return &tags.Record{Header: []byte(`{"tag":"new"}`), Objectives: []string{"objective_0_weights"},
		Rows: []tags.RecordRow{{Row: 5, Rank: 0, Score: 1.5, Objectives: []float64{4.5}}}}
}

// ftNoRecords checks that no selection record, staged or final, is left.
func ftNoRecords(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "selections", "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, "selections", ".*"))
	if len(left)+len(hidden) > 0 {
		t.Errorf("records left behind: %v %v", left, hidden)
	}
}

// TestAddRecord checks that a tag and its record land together: a record
// that cannot be written fails the commit with nothing written, a tag
// write that fails leaves no record, and a commit that succeeds has both.
func TestAddRecord(t *testing.T) {
	t.Run("record cannot be written", func(t *testing.T) {
		ds, old := ftDataset(t)
		// selections is a file, so no record can go into it.
		if err := os.WriteFile(filepath.Join(ds.Dir(), "selections"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), ftRecord(ds))
		if err == nil || !strings.Contains(err.Error(), "selection record") {
			t.Fatalf("Add without room for the record: %v", err)
		}
		ftIntact(t, ds.Dir(), old)
	})
	t.Run("tag write fails", func(t *testing.T) {
		ftNeedSeams(t)
		ds, old := ftDataset(t)
		defer testseam.Set(func(p string) {
			if p == tags.SeamTable+":"+atomicfile.PointTempSynced { // a foreign writer makes the check fail
				path := filepath.Join(ds.Dir(), "tags.parquet")
				os.WriteFile(path+".x", old, 0o644)
				os.Rename(path+".x", path)
			}
		})()
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), ftRecord(ds))
		if err == nil {
			t.Fatal("Add succeeded despite the foreign write")
		}
		ftIntact(t, ds.Dir(), old)
		ftNoRecords(t, ds.Dir())
	})
	t.Run("tag exists", func(t *testing.T) {
		ds, _ := ftDataset(t)
		// Another process added "new" after ds was opened: Add sees it
		// under the lock and writes no record.
		if err := tags.Add(context.Background(), ftOpen(t, ds.Dir()), "new", ftRows(ds.Len(), 9), nil); err != nil {
			t.Fatal(err)
		}
		withNew := ftRead(t, filepath.Join(ds.Dir(), "tags.parquet"))
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), ftRecord(ds))
		if !errors.Is(err, tags.ErrExists) {
			t.Fatalf("Add of a tag another process added: %v", err)
		}
		if got := ftRead(t, filepath.Join(ds.Dir(), "tags.parquet")); !bytes.Equal(got, withNew) {
			t.Error("tags.parquet changed")
		}
		ftNoRecords(t, ds.Dir())
	})
	t.Run("success", func(t *testing.T) {
		ds, _ := ftDataset(t)
		if err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), ftRecord(ds)); err != nil {
			t.Fatal(err)
		}
		rec, err := tags.ReadRecord(context.Background(), ftOpen(t, ds.Dir()), "new")
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Rows) != 1 || rec.Rows[0].Row != 5 || rec.Rows[0].Objectives[0] != 4.5 || string(rec.Header) != `{"tag":"new"}` {
			t.Errorf("record read back: %+v", rec)
		}
	})
}

// TestAddRemovesStaleTemps: temporary files of a killed writer are
// removed by the next Add, which holds the lock.
func TestAddRemovesStaleTemps(t *testing.T) {
	ds, _ := ftDataset(t)
	stale := filepath.Join(ds.Dir(), ".tags.parquet.tmp-99999-123")
	other := filepath.Join(ds.Dir(), ".samples.parquet.tmp-1-1") // not ours
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("half a table"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another table's file was removed: %v", err)
	}
}
