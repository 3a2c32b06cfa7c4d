package importers

// Writing a new dataset folder so that no reader ever sees half of it.
//
// Tables are written into a hidden temporary folder beside the
// destination (same file system, so a rename moves it), each file synced,
// then the folder synced and renamed into place. A destination that does
// not exist or is an empty folder is simply replaced. One that holds a
// dataset is replaced only with Force: on Linux the two folders are
// swapped with renameat2(RENAME_EXCHANGE), so at every moment the path
// holds either the old dataset or the new one; elsewhere the old folder is
// first renamed aside, leaving a moment in which the path is missing. The
// old dataset is then deleted. A process killed before the rename leaves
// only its hidden temporary folder (".NAME.import-*"), never a partial
// dataset under NAME.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
)

// newDataset is a dataset folder being built.
type newDataset struct {
	out   string // destination
	tmp   string // the hidden folder holding the tables until commit
	force bool
}

// startDataset checks that out may be written and creates the temporary
// folder beside it (creating out's parent folders if needed).
func startDataset(out string, force bool) (*newDataset, error) {
	out = filepath.Clean(out)
	if _, err := outState(out, force); err != nil {
		return nil, err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".import-*")
	if err != nil {
		return nil, err
	}
	// MkdirTemp makes the folder private; a dataset in a shared data lake
	// must stay readable by the engines and users that read it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &newDataset{out: out, tmp: tmp, force: force}, nil
}

// destination states of outState.
const (
	outMissing = iota // nothing there
	outEmpty          // an empty folder
	outDataset        // a dataset folder that Force may replace
)

// outState says what out holds, or why it may not be written.
func outState(out string, force bool) (int, error) {
	fi, err := os.Lstat(out)
	if errors.Is(err, os.ErrNotExist) {
		return outMissing, nil
	}
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("%s exists and is not a folder", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return 0, err
	}
	if len(ents) == 0 {
		return outEmpty, nil
	}
	if !force {
		return 0, &ExistsError{Path: out, What: "is not empty"}
	}
	// Force replaces a dataset, never an arbitrary folder (a mistyped
	// --out of a home folder must not delete it).
	for _, e := range ents {
		if e.Name() == "samples.parquet" || e.Name() == "samples" {
			return outDataset, nil
		}
	}
	return 0, fmt.Errorf("%s holds files but no dataset (no samples table); not replacing it", out)
}

// create opens a new file name in the temporary folder.
func (d *newDataset) create(name string) (*os.File, error) {
	p := filepath.Join(d.tmp, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// writeTable writes table name (e.g. "samples.parquet") with write and
// syncs it.
func (d *newDataset) writeTable(name string, write func(w io.Writer) error) error {
	f, err := d.create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// commit moves the finished folder to its destination, which is checked
// again: another process may have written it meanwhile.
func (d *newDataset) commit() error {
	if err := atomicfile.SyncDir(d.tmp); err != nil {
		return err
	}
	st, err := outState(d.out, d.force)
	if err != nil {
		return err
	}
	switch st {
	case outEmpty:
		if err := os.Remove(d.out); err != nil {
			return err
		}
		fallthrough
	case outMissing:
		if err := os.Rename(d.tmp, d.out); err != nil {
			return err
		}
	case outDataset:
		if err := exchange(d.tmp, d.out); err != nil {
			return err
		}
		// d.tmp now holds the old dataset; abort deletes it.
	}
	return atomicfile.SyncDir(filepath.Dir(d.out))
}

// abort deletes the temporary folder (after a commit: the old dataset).
func (d *newDataset) abort() { os.RemoveAll(d.tmp) }

// exchangeByRenames swaps folders a and b with two renames: the fallback
// where no atomic exchange exists. b is missing between them.
func exchangeByRenames(a, b string) error {
	aside := a + ".old"
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		os.Rename(aside, b)
		return err
	}
	return os.Rename(aside, a)
}

// writeRows writes the table t in batches of chunkRows rows. A table of
// no rows is one empty batch, so it still has its schema.
func writeRows(ctx context.Context, w io.Writer, t rowSource) error {
	pw := columnar.NewPlainWriter(w, columnar.WriterOptions{RowGroupRows: chunkRows})
	n := t.rows()
	for lo := 0; lo < n || lo == 0; lo += chunkRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := pw.Write(ctx, t.columns(lo, min(n, lo+chunkRows))); err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	return pw.Close()
}

// chunkRows is the batch size of writeRows: one row group, so a batch's
// Arrow copy stays small beside the plain values.
const chunkRows = 64 * 1024

// plainLen is the rows of a column of the types the importers write.
func plainLen(c columnar.PlainColumn) int {
	switch v := c.Values.(type) {
	case []bool:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []string:
		return len(v)
	case []uuid.UUID:
		return len(v)
	}
	panic(fmt.Sprintf("importers: column %q of %T", c.Name, c.Values))
}

// slicePlain is rows [lo, hi) of c.
func slicePlain(c columnar.PlainColumn, lo, hi int) columnar.PlainColumn {
	out := columnar.PlainColumn{Name: c.Name}
	if c.Null != nil {
		out.Null = c.Null[lo:hi]
	}
	switch v := c.Values.(type) {
	case []bool:
		out.Values = v[lo:hi]
	case []int64:
		out.Values = v[lo:hi]
	case []float64:
		out.Values = v[lo:hi]
	case []string:
		out.Values = v[lo:hi]
	case []uuid.UUID:
		out.Values = v[lo:hi]
	default:
		panic(fmt.Sprintf("importers: column %q of %T", c.Name, c.Values))
	}
	return out
}
