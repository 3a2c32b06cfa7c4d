package tags_test

// Resource faults during a tag write: a full disk, a folder that cannot
// be written, a rename that fails, a lock held too long, a foreign writer,
// a cancelled context. Each must leave the old tags.parquet byte for byte,
// leave no temporary file, and say what failed and where.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"winnow/columnar"
	"winnow/tags"
)

// ftDataset copies testdata/mnist, gives it tags.parquet with tag "old",
// and returns the opened dataset with the file's bytes.
func ftDataset(t *testing.T) (*columnar.Dataset, []byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnist")
	if err := os.CopyFS(dir, os.DirFS("../testdata/mnist")); err != nil {
		t.Fatal(err)
	}
	ds := ftOpen(t, dir)
	if err := tags.Add(context.Background(), ds, "old", ftRows(ds.Len(), 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	ds = ftOpen(t, dir)
	return ds, ftRead(t, filepath.Join(dir, tags.FileName))
}

func ftOpen(t *testing.T, dir string) *columnar.Dataset {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func ftRows(n int, set ...int) *columnar.Bitmap {
	b := columnar.NewBitmap(n)
	for _, i := range set {
		b.Set(i)
	}
	return b
}

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
	if got := ftRead(t, filepath.Join(dir, tags.FileName)); !bytes.Equal(got, old) {
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
			err := tags.WriteFile(path, func(f *os.File) error { return write(&ftFullDisk{f, limit}) }, nil, nil)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("error %v, want ENOSPC", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "write "+dir+"/.table.parquet.tmp-") || !strings.Contains(msg, "no space left on device") {
				t.Errorf("error %q does not name the file written and the cause", msg)
			}
			if got := ftRead(t, path); !bytes.Equal(got, old) {
				t.Errorf("old file changed to %q", got)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("folder holds %d entries after the failure, want only the old file", len(ents))
			}
		})
	}
}

// TestAddTagsFileIsFolder makes the rename fail: tags.parquet replaced by
// a folder (as a data-lake tool writing tables as folders might do).
func TestAddTagsFileIsFolder(t *testing.T) {
	ds, _ := ftDataset(t)
	path := filepath.Join(ds.Dir(), tags.FileName)
	// A folder table: tags/ with the old file as a part. Open accepts it;
	// Add must not replace a folder with a file.
	if err := os.Mkdir(filepath.Join(ds.Dir(), "tags"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, filepath.Join(ds.Dir(), "tags", "part-0.parquet")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil { // tags.parquet/ is an empty folder
		t.Fatal(err)
	}
	err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5))
	if err == nil {
		t.Fatal("Add replaced a folder named tags.parquet")
	}
	if !strings.Contains(err.Error(), `add tag "new"`) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the tag and the path", err)
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Errorf("tags.parquet folder was touched: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(ds.Dir(), ".tags.parquet.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
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
	err := tags.WriteFile(filepath.Join(file, "tags.parquet"), func(*os.File) error { return nil }, nil, nil)
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("error %v, want ENOTDIR", err)
	}
	if !strings.Contains(err.Error(), "create temporary file in "+file) {
		t.Errorf("error %q does not name the folder", err)
	}
	if got := ftRead(t, file); string(got) != "x" {
		t.Errorf("file changed to %q", got)
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
	err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5))
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
	path := filepath.Join(ds.Dir(), tags.FileName)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5)); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("tags.parquet mode after Add: %v (%v), want 0640", st.Mode().Perm(), err)
	}
	// A first tags.parquet is readable by everyone, like the tables
	// other engines write (CreateTemp alone would make it 0600).
	dir := filepath.Join(t.TempDir(), "mnist")
	if err := os.CopyFS(dir, os.DirFS("../testdata/mnist")); err != nil {
		t.Fatal(err)
	}
	if err := tags.Add(context.Background(), ftOpen(t, dir), "first", ftRows(2000, 1)); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, tags.FileName)); err != nil || st.Mode().Perm() != 0o644 {
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
	err = tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), tags.WithLockTimeout(200*time.Millisecond))
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
	err = tags.Add(ctx, ds, "new", ftRows(ds.Len(), 5))
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
	for _, point := range []string{"temp-written", "temp-synced"} {
		t.Run(point, func(t *testing.T) {
			ds, old := ftDataset(t)
			path := filepath.Join(ds.Dir(), tags.FileName)
			foreign := append([]byte(nil), old...)
			hook := func(p string) {
				if p == point {
					// Same bytes, new inode: only the identity changed.
					tmp := path + ".foreign"
					os.WriteFile(tmp, foreign, 0o644)
					os.Rename(tmp, path)
				}
			}
			err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), tags.WithHook(hook))
			if err == nil || !strings.Contains(err.Error(), "was changed by another program while winnow wrote it; nothing was written") {
				t.Fatalf("Add after a foreign write at %s: %v", point, err)
			}
			ftIntact(t, ds.Dir(), foreign)
		})
	}
}

// TestAddSidecar checks the companion-file protocol the selection record
// uses: prepared under the lock, undone when the tag is not stored, kept
// when it is.
func TestAddSidecar(t *testing.T) {
	t.Run("prepare fails", func(t *testing.T) {
		ds, old := ftDataset(t)
		undone := false
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5),
			tags.WithSidecar(func() error { return errors.New("record: disk full") }, func() { undone = true }))
		if err == nil || !strings.Contains(err.Error(), "record: disk full") {
			t.Fatalf("Add with a failing sidecar: %v", err)
		}
		if undone {
			t.Error("undo ran although prepare had failed")
		}
		ftIntact(t, ds.Dir(), old)
	})
	t.Run("tag write fails", func(t *testing.T) {
		ds, old := ftDataset(t)
		prepared, undone := false, false
		hook := func(p string) {
			if p == "temp-synced" { // a foreign writer makes the check fail
				os.WriteFile(filepath.Join(ds.Dir(), tags.FileName+".x"), old, 0o644)
				os.Rename(filepath.Join(ds.Dir(), tags.FileName+".x"), filepath.Join(ds.Dir(), tags.FileName))
			}
		}
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5), tags.WithHook(hook),
			tags.WithSidecar(func() error { prepared = true; return nil }, func() { undone = true }))
		if err == nil {
			t.Fatal("Add succeeded despite the foreign write")
		}
		if !prepared || !undone {
			t.Errorf("prepared %t, undone %t; want both", prepared, undone)
		}
		ftIntact(t, ds.Dir(), old)
	})
	t.Run("tag exists", func(t *testing.T) {
		ds, old := ftDataset(t)
		// Another process added "new" after ds was opened: Add sees it
		// under the lock and must not touch the sidecar at all.
		if err := tags.Add(context.Background(), ftOpen(t, ds.Dir()), "new", ftRows(ds.Len(), 9)); err != nil {
			t.Fatal(err)
		}
		withNew := ftRead(t, filepath.Join(ds.Dir(), tags.FileName))
		called := false
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5),
			tags.WithSidecar(func() error { called = true; return nil }, func() { called = true }))
		if !errors.Is(err, tags.ErrExists) {
			t.Fatalf("Add of a tag another process added: %v", err)
		}
		if called {
			t.Error("the sidecar was written or undone for a tag that already exists")
		}
		if got := ftRead(t, filepath.Join(ds.Dir(), tags.FileName)); !bytes.Equal(got, withNew) {
			t.Error("tags.parquet changed")
		}
		_ = old
	})
	t.Run("success", func(t *testing.T) {
		ds, _ := ftDataset(t)
		prepared, undone := false, false
		err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5),
			tags.WithSidecar(func() error { prepared = true; return nil }, func() { undone = true }))
		if err != nil || !prepared || undone {
			t.Fatalf("Add: %v, prepared %t, undone %t", err, prepared, undone)
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
	if err := tags.Add(context.Background(), ds, "new", ftRows(ds.Len(), 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another table's file was removed: %v", err)
	}
}
