package tags

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
)

// The test seams of a commit (internal/testseam): the replacement of the
// tags table and of a selection record report their points as
// "table:renamed", "record:temp-written" and so on.
const (
	SeamTable  = "table"
	SeamRecord = "record"
)

// MaxNameLen is the longest tag name accepted, in bytes.
const MaxNameLen = 200

// ErrExists reports a tag name that the dataset already uses.
var ErrExists = errors.New("tag already exists")

// Info is a tag's name and the number of samples that carry it.
type Info struct {
	Name    string `json:"name"`
	Samples int    `json:"samples"`
}

// List returns the dataset's tags in table order with their sizes.
func List(ds *columnar.Dataset) ([]Info, error) {
	var out []Info
	for _, name := range ds.TagNames() {
		bm, err := ds.Tag(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Info{name, bm.Count()})
	}
	return out, nil
}

// CheckName reports whether name can be a new tag of ds: non-empty, at
// most MaxNameLen bytes of printable UTF-8 without surrounding spaces, not
// the sample_id column, and not used by an existing tag. Callers run it
// before any expensive work so a bad name fails fast.
func CheckName(ds *columnar.Dataset, name string) error {
	if err := validName(ds, name); err != nil {
		return err
	}
	for _, t := range ds.TagNames() {
		if t == name {
			return existsError(name, tablePath(ds))
		}
	}
	return caseClash(ds.TagNames(), name)
}

// caseClash refuses name when an existing tag differs from it only in
// case: DuckDB reads such columns as one (renaming the second), and on a
// case-insensitive file system their records would be one file.
func caseClash(names []string, name string) error {
	for _, n := range names {
		if n != name && strings.EqualFold(n, name) {
			return fmt.Errorf("tag %q differs from the existing tag %q only in case; choose a new name", name, n)
		}
	}
	return nil
}

// CheckReplace reports whether name can be given to a tag that Replace
// stores, existing or not: a valid name that differs from no other tag
// only in case.
func CheckReplace(ds *columnar.Dataset, name string) error {
	if err := validName(ds, name); err != nil {
		return err
	}
	return caseClash(ds.TagNames(), name)
}

func existsError(name, path string) error {
	return fmt.Errorf("tag %q: %w in %s; choose a new name", name, ErrExists, path)
}

// tablePath names the tags table in messages.
func tablePath(ds *columnar.Dataset) string {
	if p := ds.TablePath("tags"); p != "" {
		return p
	}
	return filepath.Join(ds.OutputDir(), "tags.parquet")
}

func validName(ds *columnar.Dataset, name string) error {
	switch {
	case name == "":
		return errors.New("tag name is empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("tag name %.20q… is %d bytes long; the limit is %d", name, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("tag name %q is not valid UTF-8", name)
	case name == columnar.SampleIDColumn || name == ds.IDColumnName():
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
	lockTimeout time.Duration
}

// WithLockTimeout bounds how long a commit waits for another winnow
// process that is writing the same dataset's tags (default 60 s).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// Add stores rows (a bitmap over ds's samples) as the new tag name, with
// its selection record rec when rec is not nil, in one commit.
//
// It takes the dataset's tag lock, re-reads the tags table as it is now
// (so a tag another process added since ds was opened is kept), writes the
// record beside it, then a complete new tags table with every existing tag
// column plus the new one, and renames it over the old one (see
// internal/atomicfile). If the tags table changes between that read and
// the rename, for example by a program that ignores the lock, Add fails
// rather than drop the other change. On any error the tags table is left
// untouched and no record of the tag remains.
func Add(ctx context.Context, ds *columnar.Dataset, name string, rows *bitmap.Bitmap, rec *Record, opts ...Option) error {
	if err := CheckName(ds, name); err != nil {
		return err
	}
	if rows.Len() != ds.Len() {
		return fmt.Errorf("tag %q covers %d rows, the dataset has %d samples", name, rows.Len(), ds.Len())
	}
	err := commit(ctx, ds, opts, func(t *table) error {
		if t.has(name) {
			return fmt.Errorf("%w (added by another process)", existsError(name, t.path))
		}
		if err := t.caseClash(name); err != nil {
			return err
		}
		t.put(name, rows, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add tag %q: %w", name, err)
	}
	return nil
}

// Replace stores rows as tag name whether or not it exists, with its
// record rec (the old record, if any, goes), in one commit.
func Replace(ctx context.Context, ds *columnar.Dataset, name string, rows *bitmap.Bitmap, rec *Record, opts ...Option) error {
	if err := validName(ds, name); err != nil {
		return err
	}
	if rows.Len() != ds.Len() {
		return fmt.Errorf("tag %q covers %d rows, the dataset has %d samples", name, rows.Len(), ds.Len())
	}
	err := commit(ctx, ds, opts, func(t *table) error {
		if err := t.caseClash(name); err != nil {
			return err
		}
		t.put(name, rows, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace tag %q: %w", name, err)
	}
	return nil
}

// Delete removes tag name and its selection record, in one commit.
func Delete(ctx context.Context, ds *columnar.Dataset, name string, opts ...Option) error {
	if _, err := ds.Tag(name); err != nil {
		return err
	}
	err := commit(ctx, ds, opts, func(t *table) error {
		i := slices.Index(t.names, name)
		if i < 0 {
			return fmt.Errorf("tag %q is no longer in %s (deleted by another process)", name, t.path)
		}
		t.names, t.bits = slices.Delete(t.names, i, i+1), slices.Delete(t.bits, i, i+1)
		delete(t.records, name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete tag %q: %w", name, err)
	}
	return nil
}

// Rename renames tag from to to, with its selection record, in one commit.
func Rename(ctx context.Context, ds *columnar.Dataset, from, to string, opts ...Option) error {
	if _, err := ds.Tag(from); err != nil {
		return err
	}
	if err := CheckName(ds, to); err != nil && to != from {
		return err
	}
	err := commit(ctx, ds, opts, func(t *table) error {
		i := slices.Index(t.names, from)
		if i < 0 {
			return fmt.Errorf("tag %q is no longer in %s (deleted by another process)", from, t.path)
		}
		if t.has(to) {
			return fmt.Errorf("%w (added by another process)", existsError(to, t.path))
		}
		if err := caseClash(slices.Delete(slices.Clone(t.names), i, i+1), to); err != nil {
			return err
		}
		t.names[i] = to
		if _, ok := t.records[from]; ok {
			t.moves[to] = from
			delete(t.records, from)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rename tag %q to %q: %w", from, to, err)
	}
	return nil
}

// caseClash refuses name when another tag differs from it only in case.
func (t *table) caseClash(name string) error { return caseClash(t.names, name) }

// adoptRecords lists the records of a tags table that predates record
// ids: each existing tag whose record file exists keeps it.
func adoptRecords(ds *columnar.Dataset, names []string) map[string]string {
	records := map[string]string{}
	for _, n := range names {
		if id, err := recordID(RecordPath(ds, n)); err == nil {
			records[n] = id
		}
	}
	return records
}

// table is the tags table being changed by a commit: its columns as they
// are on disk under the lock, then as the commit leaves them, with the
// selection records to write, keep, move or remove.
type table struct {
	path    string   // the file that the new table replaces
	names   []string // tag columns in order
	bits    []*bitmap.Bitmap
	records map[string]string // tag -> record id, as the table will say
	writes  map[string]*Record
	moves   map[string]string // new tag name -> tag whose record it takes
}

func (t *table) has(name string) bool { return slices.Contains(t.names, name) }

// put adds or replaces tag name, with its record (none when rec is nil).
func (t *table) put(name string, rows *bitmap.Bitmap, rec *Record) {
	if i := slices.Index(t.names, name); i >= 0 {
		t.bits[i] = rows
	} else {
		t.names, t.bits = append(t.names, name), append(t.bits, rows)
	}
	delete(t.records, name)
	delete(t.moves, name)
	if rec != nil {
		t.writes[name] = rec
	}
}

// commit applies change to the tags table under the dataset's lock and
// writes the result: records first, as staging files; then the table,
// which is the commit point, naming the record that belongs to each tag;
// then the staging files move into place and records of tags that are gone
// are removed. A crash after the table's rename leaves staging files that
// the table vouches for: ReadRecord reads them, and the next commit moves
// them into place (see settle).
func commit(ctx context.Context, ds *columnar.Dataset, opts []Option, change func(t *table) error) error {
	o := options{lockTimeout: 60 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	unlock, err := atomicfile.Lock(ctx, ds.LockPath(), o.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	path, supersedes, err := ds.TagsTarget()
	if err != nil {
		return err
	}
	// A writer killed mid-write leaves temporary files; under the lock no
	// other writer runs, so they are stale.
	atomicfile.RemoveTemps(path)
	before, err := atomicfile.StampOf(path)
	if err != nil {
		return err
	}
	names, bits, meta, err := ds.ReadTagColumns(ctx)
	if err != nil {
		return err
	}
	t := &table{path: path, names: names, bits: bits, records: meta.Records,
		writes: map[string]*Record{}, moves: map[string]string{}}
	if t.records == nil {
		t.records = adoptRecords(ds, names)
	}
	if err := settle(ds, t.records); err != nil {
		return fmt.Errorf("selection records: %w", err)
	}
	if err := change(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	staged, err := stageRecords(ctx, ds, t)
	if err != nil {
		return err
	}
	check := func() error {
		now, err := atomicfile.StampOf(path)
		if err != nil {
			return err
		}
		if now != before {
			return fmt.Errorf("%s was changed by another program while winnow wrote it; nothing was written, run again", path)
		}
		return nil
	}
	renamed := false
	write := func(f *os.File) error {
		return ds.WriteTags(ctx, f, t.names, t.bits, columnar.TagsMeta{Records: t.records, Supersedes: supersedes})
	}
	err = atomicfile.WriteFile(path, write, atomicfile.Options{Check: check, Renamed: func() { renamed = true }, Seam: SeamTable})
	if !renamed {
		for _, p := range staged {
			os.Remove(p)
		}
		return err
	}
	// The new table is in place: what follows tidies up after it, and a
	// failure here loses nothing (settle finishes it next time).
	for _, s := range supersedes {
		if rerr := atomicfile.Remove(filepath.Join(filepath.Dir(path), s)); rerr != nil && err == nil {
			err = rerr
		}
	}
	if serr := settle(ds, t.records); serr != nil && err == nil {
		err = fmt.Errorf("selection records: %w", serr)
	}
	return err
}
