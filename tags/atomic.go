package tags

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Hook is called at named points of a file replacement ("temp-written",
// "temp-synced", "renamed"). Tests use it to pause or kill a writer at a
// precise moment; it is nil in normal use.
type Hook func(point string)

func (h Hook) at(point string) {
	if h != nil {
		h(point)
	}
}

// WriteFile replaces path atomically with what write produces: the bytes go
// to a temporary file in the same folder (write gets it open for reading
// and writing, positioned at its start), which is synced, closed and
// renamed over path; then the folder is synced so the rename itself is
// durable. If write or any step fails, path is left exactly as it was and
// the temporary file is removed.
//
// check, when not nil, runs just before the rename; an error from it
// aborts the replacement (Add uses it to detect a concurrent writer).
func WriteFile(path string, write func(f *os.File) error, check func() error, hook Hook) (err error) {
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
	// lake must stay readable by the engines and users that read it, so
	// keep the mode of the file being replaced (0644 for a new one).
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
	hook.at("temp-written")
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	hook.at("temp-synced")
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	hook.at("renamed")
	if err := syncDir(dir); err != nil {
		// The new file is in place; only its durability across a power
		// loss is unknown. Report it so batch jobs can retry.
		return fmt.Errorf("sync folder %s after replacing %s: %w", dir, filepath.Base(path), err)
	}
	return nil
}

// tempPattern is the glob of the temporary files WriteFile makes for path.
func tempPattern(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
}

// removeTemps deletes temporary files that an earlier WriteFile of path
// left behind when its process was killed between creating and renaming
// them. Only a caller that holds the lock serialising writers of path may
// call it: then no other writer of path can be running, so every such file
// is stale.
func removeTemps(path string) {
	old, _ := filepath.Glob(tempPattern(path))
	for _, f := range old {
		os.Remove(f)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// fileStamp identifies one version of a file cheaply: a rename over the
// path changes the inode, an in-place edit changes size or time.
type fileStamp struct {
	exists bool
	ino    uint64
	size   int64
	mtime  time.Time
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{exists: true, ino: inode(fi), size: fi.Size(), mtime: fi.ModTime()}, nil
}
