// Package atomicfile replaces files so that a crash at any moment leaves
// either the old file or the complete new one, never a torn one, and
// serialises the winnow processes that replace files of one dataset.
//
// A replacement writes a temporary file beside the target, syncs and
// closes it, renames it over the target and syncs the folder, as restic's
// local backend and most databases do. Lock takes an advisory lock on a
// lock file, so that two processes never read-modify-write the same table
// at once; Stamp identifies one version of a file cheaply, so a writer can
// tell that a program ignoring the lock changed the file under it.
//
// Unix systems get every guarantee. On Windows the lock is LockFileEx, the
// rename is MoveFileEx with replacement (atomic on NTFS, but refused while
// another process holds the target open), folders cannot be synced (the
// rename's durability rests on NTFS's metadata journal), and a Stamp has
// no inode, so a replacement that keeps size and modification time goes
// unnoticed.
//
// The package knows nothing of Parquet or datasets.
package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/winnow-data/winnow/internal/testseam"
)

// Options adjust WriteFile.
type Options struct {
	// Check, when set, runs after the temporary file is complete and just
	// before the rename; an error from it aborts the replacement and
	// leaves the target as it was. Writers use it to detect a concurrent
	// change of the target.
	Check func() error
	// Renamed, when set, is called right after the rename, before the
	// folder is synced: from then on the new file is in place even if
	// WriteFile still returns an error (a failed folder sync).
	Renamed func()
	// Seam names the replacement at its test seams: points are reported
	// as Seam + ":" + point (see the Point constants), so a test can stop
	// one of several replacements of a run.
	Seam string
}

// Points of a replacement that testseam.At reports, in order, as
// "SEAM:POINT" with Options.Seam.
const (
	PointTempWritten = "temp-written"
	PointTempSynced  = "temp-synced"
	PointRenamed     = "renamed"
)

// WriteFile replaces path atomically with what write produces. write gets
// the temporary file open for reading and writing at its start (so it can
// patch what it wrote, as a seal does). The new file keeps the mode of the
// file it replaces (0644 for a new one). If write or any step fails, path
// is left exactly as it was and the temporary file is removed.
func WriteFile(path string, write func(f *os.File) error, opts Options) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-"+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file private (0600); a table in a shared data
	// lake must stay readable by the engines and users that read it.
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("set mode of %s: %w", tmp.Name(), err)
	}
	if err := write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	testseam.At(opts.Seam + ":" + PointTempWritten)
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	testseam.At(opts.Seam + ":" + PointTempSynced)
	if opts.Check != nil {
		if err := opts.Check(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if opts.Renamed != nil {
		opts.Renamed()
	}
	testseam.At(opts.Seam + ":" + PointRenamed)
	if err := SyncDir(dir); err != nil {
		// The new file is in place; only its durability across a power
		// loss is unknown. Report it so batch jobs can retry.
		return fmt.Errorf("sync folder %s after replacing %s: %w", dir, filepath.Base(path), err)
	}
	return nil
}

// TempPattern is the glob of the temporary files WriteFile makes for path.
func TempPattern(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
}

// RemoveTemps deletes the temporary files that earlier replacements of
// path left when their process was killed between creating and renaming
// them. Only a caller holding the lock that serialises writers of path may
// call it: then no other writer of path runs, so every such file is stale.
func RemoveTemps(path string) {
	old, _ := filepath.Glob(TempPattern(path))
	for _, f := range old {
		os.Remove(f)
	}
}

// Remove deletes path and syncs its folder, so that the removal is as
// durable as a replacement. A path that does not exist is not an error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// Rename moves oldpath to newpath (replacing it) and syncs the folders.
func Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	if err := SyncDir(filepath.Dir(newpath)); err != nil {
		return err
	}
	if d := filepath.Dir(oldpath); d != filepath.Dir(newpath) {
		return SyncDir(d)
	}
	return nil
}

// Stamp identifies one version of a file cheaply: a rename over the path
// changes the inode (where the system has one), an edit in place changes
// size or modification time. The zero Stamp means "no file".
type Stamp struct {
	exists bool
	ino    uint64
	size   int64
	mtime  time.Time
}

// StampOf returns path's current stamp; a missing file has the zero Stamp.
func StampOf(path string) (Stamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return Stamp{}, nil
	}
	if err != nil {
		return Stamp{}, err
	}
	return Stamp{exists: true, ino: inode(fi), size: fi.Size(), mtime: fi.ModTime()}, nil
}

// Lock takes the advisory lock of the lock file path (created if needed),
// waiting up to timeout for other processes that hold it, and returns the
// function that releases it. Locks are per open file, so two Locks in one
// process exclude each other too.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := lockFile(f)
		if err == nil {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another winnow process has held %s for over %s: %w", path, timeout, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
