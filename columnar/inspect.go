package columnar

// Inspection: what `winnow inspect` needs beyond footers.
//
// VectorCount counts the samples that have a vector for a model without
// building the matrix. A table's footer counts rows, and a row may hold a
// null vector (pyarrow, Spark and DuckDB write a missing embedding that
// way), so the row count overstates coverage. The count comes from the
// column chunk statistics where they prove the column free of nulls (a
// writer counts every level without a value as a null, so a null count of
// 0 means every row holds a list), and otherwise from the chunk's
// repetition and definition levels: the values are decoded into a scratch
// buffer and dropped, never kept.
//
// OpenTolerant opens a dataset whose optional tables are damaged, leaving
// those out, so an inspection can show everything else.

import (
	"context"
	"errors"
	"fmt"

	"github.com/winnow-data/winnow/internal/workpool"
)

// VectorCount returns how many samples have a non-empty vector in the
// table of embedding model: its rows minus those whose list is null (or
// empty). It reads the footers, and the definition levels of the row
// groups whose statistics do not rule nulls out.
func (d *Dataset) VectorCount(ctx context.Context, model string) (int64, error) {
	vt, ok := d.models[model]
	if !ok {
		return 0, nameError(ErrUnknownModel, model, d.Models(), "unknown model %q (models: %s)", model, knownList(d.modelNames))
	}
	t, err := openEmbeddings(vt, d.tablePath(vt), d.Len())
	if err != nil {
		return 0, err
	}
	defer t.Close()
	tasks := rowGroupsOf(t.parts)
	counts := make([]int64, len(tasks))
	err = workpool.Run(0, len(tasks), func() func(i int) error {
		w := &embWorker{t: t}
		return func(i int) error {
			tk := tasks[i]
			n, err := w.countVectors(ctx, tk.p, t.lay[tk.p], tk.g)
			counts[i] = n
			return err
		}
	})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	return n, nil
}

// countVectors counts the rows of row group g that hold a non-empty list.
func (w *embWorker) countVectors(ctx context.Context, p *part, l listLayout, g int) (n int64, err error) {
	defer recoverTo(p.path, &err)
	rg := p.r.RowGroup(g)
	rows := rg.NumRows()
	if cc, cerr := rg.MetaData().ColumnChunk(l.embCol); cerr == nil {
		if ok, _ := cc.StatsSet(); ok {
			if st, serr := cc.Statistics(); serr == nil && st != nil && st.HasNullCount() && st.NullCount() == 0 {
				return rows, nil // every level has a value: no null or empty list
			}
		}
	}
	cr, err := rg.Column(l.embCol)
	if err != nil {
		return 0, fmt.Errorf("%s: column %q: %w", p.path, w.t.vt.vector, err)
	}
	size := batchLevels(l.fixedDim)
	w.buffers(size, l.elem)
	var seen int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		lv, _, err := w.readLevels(cr, size)
		if err != nil {
			return 0, fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, w.t.vt.vector, err)
		}
		if lv == 0 {
			if err := cr.Err(); err != nil {
				return 0, fmt.Errorf("%s: column %q: corrupt parquet file: %w", p.path, w.t.vt.vector, err)
			}
			break
		}
		for j := range int(lv) {
			if w.reps[j] != 0 {
				continue
			}
			// A row starts: its first level says whether the list is
			// null (below emptyDef), empty (at it) or has an element.
			seen++
			if w.defs[j] > l.emptyDef {
				n++
			}
		}
	}
	if seen != rows {
		return 0, fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows but column %q holds %d", p.path, g, rows, w.t.vt.vector, seen)
	}
	return n, nil
}

// OpenTolerant opens the dataset in dir like Open, except that an optional
// table that cannot be opened (the annotations table or the tags table:
// unreadable, of the wrong types, or naming samples that do not exist) is
// left out instead of failing the open. Its error is returned in errs,
// keyed by the table's name ("annotations", "tags"). A problem with the
// samples table still fails.
//
// It serves inspection, which shows what it can of a damaged dataset. A
// dataset that was opened without its tags table refuses to be written
// (TagsTarget fails), so no commit can replace the table it could not read.
func OpenTolerant(ctx context.Context, dir string) (d *Dataset, errs map[string]error, err error) {
	d, err0 := openSkipping(ctx, dir, nil)
	if err0 == nil {
		return d, nil, nil
	}
	err = err0
	first := inner(err)
	// Leave out each optional table in turn, then both: the first open
	// that succeeds says which tables were at fault. Only the error path
	// pays for the extra opens.
	try := func(skip ...string) (*Dataset, error) {
		set := map[string]bool{}
		for _, s := range skip {
			set[s] = true
		}
		return openSkipping(ctx, dir, set)
	}
	if d, err := try(tagsTable); err == nil {
		return d, map[string]error{tagsTable: first}, nil
	}
	if d, err := try(annotationsTable); err == nil {
		return d, map[string]error{annotationsTable: first}, nil
	}
	d, err = try(tagsTable, annotationsTable)
	if err != nil {
		return nil, nil, err0
	}
	errs = map[string]error{}
	if _, err := try(annotationsTable); err != nil {
		errs[tagsTable] = inner(err)
	}
	if _, err := try(tagsTable); err != nil {
		errs[annotationsTable] = inner(err)
	}
	return d, errs, nil
}

// inner strips Open's "open dataset DIR:" from err: a table's error
// names its file already.
func inner(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
