package tags

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"winnow/columnar"
)

// FileName is the tag table's file inside a dataset folder.
const FileName = "tags.parquet"

// lockName is the advisory lock file that serialises winnow processes
// writing the same dataset's tags.
const lockName = ".tags.lock"

// MaxNameLen is the longest tag name accepted, in bytes.
const MaxNameLen = 200

// ErrExists reports a tag name that the dataset already uses.
var ErrExists = errors.New("tag already exists")

// CheckName reports whether name can be a new tag of ds: non-empty, at
// most MaxNameLen bytes of printable UTF-8 without surrounding spaces, not
// the sample_id column, and not used by an existing tag. Callers run it
// before any expensive work so a bad name fails fast.
func CheckName(ds *columnar.Dataset, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	for _, t := range ds.TagNames() {
		if t == name {
			return fmt.Errorf("tag %q: %w in %s; choose a new name", name, ErrExists, filepath.Join(ds.Dir(), FileName))
		}
	}
	return nil
}

func validName(name string) error {
	switch {
	case name == "":
		return errors.New("tag name is empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("tag name %.20q… is %d bytes long; the limit is %d", name, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("tag name %q is not valid UTF-8", name)
	case name == columnar.SampleIDColumn:
		return fmt.Errorf("tag name %q is reserved for the sample id column", name)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("tag name %q starts or ends with white space", name)
	}
	for i, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("tag name %q has a control character at byte %d", name, i)
		}
	}
	return nil
}

// Option adjusts Add.
type Option func(*options)

type options struct {
	hook        Hook
	lockTimeout time.Duration
	prepare     func() error
	undo        func()
}

// WithHook calls h at the named points of the file replacement (see Hook).
func WithHook(h Hook) Option { return func(o *options) { o.hook = h } }

// WithSidecar writes a companion file of the tag (the selection record)
// under the tag lock: Add calls prepare after it has checked, under the
// lock, that the name is still free, and before it replaces tags.parquet;
// an error from prepare fails Add with nothing written. If the tag is then
// not stored, Add calls undo, still under the lock. Doing both under the
// lock means a run that loses a race for the tag name can neither
// overwrite nor delete the winner's companion file.
func WithSidecar(prepare func() error, undo func()) Option {
	return func(o *options) { o.prepare, o.undo = prepare, undo }
}

// WithLockTimeout bounds how long Add waits for another winnow process
// that is writing the same dataset's tags (default 60 s).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// Add stores rows (a bitmap over ds's samples) as the new tag name.
//
// It takes the dataset's tag lock, re-reads tags.parquet as it is now (so a
// tag another process added since ds was opened is kept), writes a complete
// new file with every existing tag column plus the new one, and renames it
// over the old file (see WriteFile). If tags.parquet changes between that
// read and the rename, for example by a program that ignores the lock, Add
// fails rather than drop the other change. On any error the old file is
// left untouched.
func Add(ctx context.Context, ds *columnar.Dataset, name string, rows *columnar.Bitmap, opts ...Option) error {
	o := options{lockTimeout: 60 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if err := CheckName(ds, name); err != nil {
		return err
	}
	if rows.Len() != ds.Len() {
		return fmt.Errorf("tag %q covers %d rows, the dataset has %d samples", name, rows.Len(), ds.Len())
	}
	unlock, err := lock(ctx, ds.Dir(), o.lockTimeout)
	if err != nil {
		return fmt.Errorf("add tag %q: %w", name, err)
	}
	defer unlock()

	path := filepath.Join(ds.Dir(), FileName)
	// A writer killed mid-write leaves its temporary file; under the lock
	// no other writer runs, so clear them rather than let crashes pile up
	// copies of tags.parquet.
	removeTemps(path)
	before, err := stampOf(path)
	if err != nil {
		return fmt.Errorf("add tag %q: %w", name, err)
	}
	cols, err := current(ctx, ds)
	if err != nil {
		return fmt.Errorf("add tag %q: %w", name, err)
	}
	for _, c := range cols {
		if c.name == name {
			return fmt.Errorf("tag %q: %w in %s (added by another process); choose a new name", name, ErrExists, path)
		}
	}
	cols = append(cols, column{name, rows})
	if err := ctx.Err(); err != nil {
		return err
	}
	check := func() error {
		now, err := stampOf(path)
		if err != nil {
			return err
		}
		if now != before {
			return fmt.Errorf("add tag %q: %s was changed by another program while winnow wrote it; nothing was written, run again", name, path)
		}
		return nil
	}
	write := func(f *os.File) error {
		names := make([]string, len(cols))
		bits := make([]*columnar.Bitmap, len(cols))
		for i, c := range cols {
			names[i], bits[i] = c.name, c.rows
		}
		return ds.WriteTags(ctx, f, names, bits)
	}
	if o.prepare != nil {
		if err := o.prepare(); err != nil {
			return err
		}
	}
	renamed := false
	hook := func(p string) {
		if p == "renamed" {
			renamed = true
		}
		o.hook.at(p)
	}
	if err := WriteFile(path, write, check, hook); err != nil {
		// Only a failure before the rename leaves the tag unstored; after
		// it (a failed folder sync) the tag is in place and keeps its
		// companion.
		if o.undo != nil && !renamed {
			o.undo()
		}
		return fmt.Errorf("add tag %q: %w", name, err)
	}
	return nil
}

type column struct {
	name string
	rows *columnar.Bitmap
}

// current reads every tag column of tags.parquet as it is now, mapped to
// ds's sample order. It reads the file, not ds's snapshot, to keep tags
// that were added after ds was opened.
func current(ctx context.Context, ds *columnar.Dataset) ([]column, error) {
	names, bits, err := ds.ReadTagColumns(ctx)
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(names))
	for i := range names {
		cols[i] = column{names[i], bits[i]}
	}
	return cols, nil
}

// lock takes the dataset's tag lock, waiting up to timeout.
func lock(ctx context.Context, dir string, timeout time.Duration) (func(), error) {
	path := filepath.Join(dir, lockName)
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
