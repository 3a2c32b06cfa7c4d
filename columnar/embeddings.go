package columnar

// Reading embedding tables: the hot path of every diversity selection.
//
// ReadEmbeddings decodes the vectors of one model straight from the
// Parquet column chunks with the low-level typed column readers
// (file.Float32ColumnChunkReader / Float64ColumnChunkReader.ReadBatch),
// skipping Arrow arrays entirely. Each row group is one task; tasks run on
// GOMAXPROCS workers, each with its own reused value and level buffers, and
// write their vectors directly into the rows of the single N×D matrix that
// their sample ids map to. Row groups of one table never share a sample
// (a shared one is the duplicate-vector error), so workers write disjoint
// memory and the result does not depend on scheduling. Presence bits are
// claimed with an atomic OR on the bitmap word, which also detects a
// second vector for the same sample across row groups.
//
// Levels are interpreted from the Parquet schema rather than the Arrow
// type, so one loop reads every list layout other engines write: 3-level
// LIST (pqarrow, pyarrow, Spark, DuckDB) or legacy 2-level repeated
// fields, required or nullable lists, required or nullable elements,
// FixedSizeList or List, float32 or float64 leaves (float64 is converted
// to float32; a value outside float32 range is rejected like ±Inf). A
// vector lying wholly inside one decoded batch is checked with a few
// slice scans and copied with copy(); only vectors spanning batches, or
// unusual ones, go element by element.
//
// The dimension D is the FixedSizeList size when the schema declares one,
// and is confirmed (or, for List columns, found) by decoding the first
// vector in table order before the matrix is allocated, so a footer or
// schema claiming an absurd dimension is an error, not a huge allocation.
// D is capped at maxDim.

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"

	"winnow/bitmap"
	"winnow/internal/workpool"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// maxDim bounds the dimension of an embedding.
const maxDim = 1 << 20

// listLayout describes how the definition levels of an embedding leaf
// encode nulls: below emptyDef the list itself is null, at emptyDef it is
// empty, above it an element exists, which is null below maxDef.
type listLayout struct {
	idCol, embCol int
	idType        arrow.DataType // the id column's Arrow type
	emptyDef      int16
	maxDef        int16
	double        bool // leaf is DOUBLE, not FLOAT
	fixedDim      int  // FixedSizeList size, 0 for List
}

// embeddingLayout validates the schema of one embeddings part.
func (p *part) embeddingLayout() (listLayout, error) {
	var l listLayout
	as, err := p.arrowSchema()
	if err != nil {
		return l, err
	}
	if len(as.FieldIndices(SampleIDColumn)) == 0 {
		return l, fmt.Errorf("%s: missing required column %q (columns: %s)", p.path, SampleIDColumn, fieldNames(as))
	}
	ei := as.FieldIndices(EmbeddingColumn)
	if len(ei) == 0 {
		return l, fmt.Errorf("%s: missing required column %q (columns: %s)", p.path, EmbeddingColumn, fieldNames(as))
	}
	typ := as.Field(ei[0]).Type
	var elem arrow.DataType
	switch t := typ.(type) {
	case *arrow.FixedSizeListType:
		elem, l.fixedDim = t.Elem(), int(t.Len())
	case *arrow.ListType:
		elem = t.Elem()
	case *arrow.LargeListType:
		elem = t.Elem()
	}
	if elem == nil || (elem.ID() != arrow.FLOAT32 && elem.ID() != arrow.FLOAT64) {
		return l, fmt.Errorf("%s: column %q has type %s, want fixed_size_list<float32, D> or list<float32|float64>", p.path, EmbeddingColumn, typ)
	}
	if l.fixedDim > maxDim {
		return l, fmt.Errorf("%s: column %q: dimension %d exceeds the limit %d", p.path, EmbeddingColumn, l.fixedDim, maxDim)
	}
	if l.idCol, err = p.idColumn(SampleIDColumn); err != nil {
		return l, err
	}
	l.idType = as.Field(as.FieldIndices(SampleIDColumn)[0]).Type
	if _, ok := idKindOf(l.idType); !ok {
		return l, fmt.Errorf("%s: column %q has type %s, %s", p.path, SampleIDColumn, TypeName(l.idType), idTypeWant)
	}
	if l.embCol, err = p.leafColumn(EmbeddingColumn); err != nil {
		return l, err
	}
	d := p.r.MetaData().Schema.Column(l.embCol)
	switch d.PhysicalType() {
	case parquet.Types.Float:
	case parquet.Types.Double:
		l.double = true
	default:
		return l, fmt.Errorf("%s: column %q has Parquet leaf type %s, want FLOAT or DOUBLE", p.path, EmbeddingColumn, d.PhysicalType())
	}
	if d.MaxRepetitionLevel() != 1 {
		return l, fmt.Errorf("%s: column %q must be a list of numbers (repetition depth %d)", p.path, EmbeddingColumn, d.MaxRepetitionLevel())
	}
	// Walk up from the leaf to the top-level field: optional nodes above
	// the repeated one give the levels at which the list is null.
	var path []schema.Node
	for n := d.SchemaNode(); n != nil && n.Parent() != nil; n = n.Parent() {
		path = append(path, n)
	}
	seenRepeated := false
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i].RepetitionType() {
		case parquet.Repetitions.Repeated:
			seenRepeated = true
		case parquet.Repetitions.Optional:
			if !seenRepeated {
				l.emptyDef++
			}
		}
	}
	l.maxDef = d.MaxDefinitionLevel()
	return l, nil
}

// embTable is an embeddings table opened for reading.
type embTable struct {
	path     string
	parts    []*part
	layout   []listLayout
	fixedDim int // declared FixedSizeList size, 0 if none
}

func openEmbeddings(path string, maxRows int) (*embTable, error) {
	parts, err := openParts(path)
	if err != nil {
		return nil, err
	}
	t := &embTable{path: path, parts: parts}
	var rows int64
	for _, p := range parts {
		l, err := p.embeddingLayout()
		if err != nil {
			closeParts(parts)
			return nil, err
		}
		// Parts may mix List and FixedSizeList; declared sizes must agree.
		if l.fixedDim > 0 && t.fixedDim > 0 && l.fixedDim != t.fixedDim {
			closeParts(parts)
			return nil, fmt.Errorf("%s: column %q has dimension %d, but an earlier part has %d", p.path, EmbeddingColumn, l.fixedDim, t.fixedDim)
		}
		if t.fixedDim == 0 {
			t.fixedDim = l.fixedDim
		}
		t.layout = append(t.layout, l)
		rows += p.r.NumRows()
	}
	// Every vector belongs to a distinct sample: more rows than samples
	// cannot be valid, and must not size anything.
	if rows > int64(maxRows) {
		closeParts(parts)
		return nil, fmt.Errorf("%s: table claims %d rows but the dataset has %d samples", path, rows, maxRows)
	}
	return t, nil
}

func (t *embTable) Close() { closeParts(t.parts) }

// ReadEmbeddings reads the vectors of embedding model into one contiguous
// row-major matrix aligned to dataset order, with the set of samples that
// have a vector. An unknown model is an error listing the known models.
// Vectors of another dimension, NaN or ±Inf elements, null elements, ids
// not in samples and a second vector for one sample are errors naming the
// file and the sample.
func (d *Dataset) ReadEmbeddings(ctx context.Context, model string) (*Matrix, error) {
	path, ok := d.models[model]
	if !ok {
		return nil, nameError(ErrUnknownModel, model, d.Models(), "read embeddings: unknown model %q (models: %s)", model, knownList(d.modelNames))
	}
	m, err := d.readEmbeddings(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read embeddings %q: %w", model, err)
	}
	return m, nil
}

func (d *Dataset) readEmbeddings(ctx context.Context, path string) (*Matrix, error) {
	// Vectors are matched to samples by id.
	if _, err := d.IDs(ctx); err != nil {
		return nil, err
	}
	t, err := openEmbeddings(path, d.Len())
	if err != nil {
		return nil, err
	}
	defer t.Close()
	dim, err := d.embeddingDim(ctx, t)
	if err != nil {
		return nil, err
	}
	n := d.Len()
	if dim > 0 && n > math.MaxInt/4/dim {
		return nil, fmt.Errorf("%s: %d samples × %d dimensions overflow", path, n, dim)
	}
	m := &Matrix{Dim: dim, Data: make([]float32, n*dim), Present: bitmap.New(n)}

	type task struct{ part, rg int }
	var tasks []task
	for pi, p := range t.parts {
		for g := 0; g < p.r.NumRowGroups(); g++ {
			tasks = append(tasks, task{pi, g})
		}
	}
	err = workpool.Run(0, len(tasks), func() func(i int) error {
		w := &embWorker{d: d, m: m}
		return func(i int) error {
			tk := tasks[i]
			return w.rowGroup(ctx, t.parts[tk.part], t.layout[tk.part], tk.rg)
		}
	})
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	// runTasks reports the first failing row group in table order.
	if err != nil {
		return nil, err
	}
	return m, nil
}

// embeddingDim returns the dimension of table t: its declared
// FixedSizeList size, checked against the first vector actually stored,
// or for a List column the length of that first vector.
func (d *Dataset) embeddingDim(ctx context.Context, t *embTable) (int, error) {
	fixed := t.fixedDim
	w := &embWorker{d: d}
	for pi, p := range t.parts {
		for g := 0; g < p.r.NumRowGroups(); g++ {
			k, id, found, err := w.firstVector(ctx, p, t.layout[pi], g)
			if err != nil {
				return 0, err
			}
			if !found {
				continue
			}
			if fixed > 0 && k != fixed {
				return 0, fmt.Errorf("%s: column %q: sample %s has a vector of dimension %d, want %d", p.path, EmbeddingColumn, id, k, fixed)
			}
			if k == 0 {
				// Dimension 0 would size an empty matrix that the next,
				// non-empty vector overruns (a decoder panic, reported as
				// a corrupt file).
				return 0, fmt.Errorf("%s: column %q: sample %s has a vector of dimension 0; an embedding needs at least one element", p.path, EmbeddingColumn, id)
			}
			return k, nil
		}
	}
	return fixed, nil
}

// embWorker decodes row groups; its buffers are reused across them.
type embWorker struct {
	d     *Dataset
	m     *Matrix
	ids   idReader
	rows  []int32
	defs  []int16
	reps  []int16
	f32   []float32
	f64   []float64
	chunk IDs // the row group's ids
}

// matchRows decodes the ids of row group rg of part p and sets rows[i]
// to the dataset row of the row group's row i.
func (w *embWorker) matchRows(ctx context.Context, p *part, l listLayout, rg *file.RowGroupReader, rows []int32) error {
	d := w.d
	w.chunk.reset(l.idType)
	if err := w.ids.read(p, rg, l.idCol, SampleIDColumn, &w.chunk); err != nil {
		return err
	}
	ids, err := d.ids.convert(&w.chunk)
	if err != nil {
		return fmt.Errorf("%s: column %q: %w", p.path, SampleIDColumn, err)
	}
	if ids.Len() != len(rows) {
		return fmt.Errorf("%s: corrupt parquet file: %d ids for %d rows", p.path, ids.Len(), len(rows))
	}
	guess := int32(-1)
	for i := range rows {
		// Tables usually follow dataset order: try the next row first.
		if g := guess + 1; int(g) < d.ids.Len() && d.ids.same(int(g), ids, i) {
			rows[i], guess = g, g
			continue
		}
		ix, err := d.index(ctx)
		if err != nil {
			return err
		}
		r, ok := ix.find(ids, i)
		if !ok {
			return fmt.Errorf("%s: sample id %s is not in samples", p.path, w.chunk.quoted(i))
		}
		rows[i], guess = r, r
	}
	return nil
}

// batchLevels is the number of levels to decode per ReadBatch: a multiple
// of the dimension, so that a table without nulls never has a vector
// straddling two batches.
func batchLevels(dim int) int {
	if dim <= 0 || dim >= readBatchRows {
		return max(dim, readBatchRows)
	}
	return readBatchRows / dim * dim
}

func (w *embWorker) buffers(n int, double bool) {
	if len(w.defs) < n {
		w.defs = make([]int16, n)
		w.reps = make([]int16, n)
	}
	if double && len(w.f64) < n {
		w.f64 = make([]float64, n)
	}
	if !double && len(w.f32) < n {
		w.f32 = make([]float32, n)
	}
}

// readLevels decodes the next batch of the embedding column.
func (w *embWorker) readLevels(cr file.ColumnChunkReader, n int) (lv int64, vals int, err error) {
	switch r := cr.(type) {
	case *file.Float32ColumnChunkReader:
		return r.ReadBatch(int64(n), w.f32[:n], w.defs[:n], w.reps[:n])
	case *file.Float64ColumnChunkReader:
		return r.ReadBatch(int64(n), w.f64[:n], w.defs[:n], w.reps[:n])
	}
	return 0, 0, fmt.Errorf("unexpected column reader %T", cr)
}

// firstVector returns the length and sample id of the first non-null
// vector in row group g, if any.
func (w *embWorker) firstVector(ctx context.Context, p *part, l listLayout, g int) (k int, id string, found bool, err error) {
	defer recoverTo(p.path, &err)
	rg := p.r.RowGroup(g)
	cr, err := rg.Column(l.embCol)
	if err != nil {
		return 0, id, false, fmt.Errorf("%s: column %q: %w", p.path, EmbeddingColumn, err)
	}
	n := batchLevels(l.fixedDim)
	w.buffers(n, l.double)
	row, in := -1, false // in: the current row holds a non-null list
	for !found {
		if err := ctx.Err(); err != nil {
			return 0, id, false, err
		}
		lv, _, err := w.readLevels(cr, n)
		if err != nil {
			return 0, id, false, fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, EmbeddingColumn, err)
		}
		if lv == 0 {
			if err := cr.Err(); err != nil {
				return 0, id, false, fmt.Errorf("%s: column %q: corrupt parquet file: %w", p.path, EmbeddingColumn, err)
			}
			break
		}
		for j := range int(lv) {
			if w.reps[j] == 0 {
				if in {
					found = true
					break
				}
				if row++; row >= int(rg.NumRows()) {
					return 0, id, false, fmt.Errorf("%s: corrupt parquet file: row group %d holds more than the %d rows it claims", p.path, g, rg.NumRows())
				}
				in, k = w.defs[j] >= l.emptyDef, 0
				if w.defs[j] > l.emptyDef {
					k = 1
				}
				continue
			}
			if k++; k > maxDim {
				return 0, id, false, fmt.Errorf("%s: column %q: vector at row %d of row group %d is longer than %d", p.path, EmbeddingColumn, row, g, maxDim)
			}
		}
	}
	if !in {
		return 0, id, false, nil
	}
	w.chunk.reset(l.idType)
	if err := w.ids.read(p, rg, l.idCol, SampleIDColumn, &w.chunk); err != nil {
		return 0, id, false, err
	}
	return k, w.chunk.quoted(row), true, nil
}

// rowState is the decoding position inside one row group.
type rowState struct {
	p    *part
	l    listLayout
	g    int
	rows []int32 // dataset row of each row of the row group
	row  int     // current row; -1 before the first
	k    int     // elements of the current vector so far; -1: null list
	dst  []float32
}

// rowGroup decodes row group g of part p into the matrix.
//
// Batches normally decode straight into the matrix (direct): when the
// next rows of the row group map to consecutive dataset rows, the values
// of exactly those rows are decoded into their matrix rows, and the levels
// are then checked to describe exactly one full vector per row. Anything
// else (shuffled ids, null lists, odd vectors) decodes into a scratch
// buffer and goes through consume, which handles every case; a direct
// batch whose levels turn out irregular is moved to scratch and consumed
// the same way, so both paths give the same matrix and errors.
func (w *embWorker) rowGroup(ctx context.Context, p *part, l listLayout, g int) (err error) {
	defer recoverTo(p.path, &err)
	d := w.d
	rg := p.r.RowGroup(g)
	nrows := int(rg.NumRows())
	if cap(w.rows) < nrows {
		w.rows = make([]int32, nrows)
	}
	rows := w.rows[:nrows]
	if err := w.matchRows(ctx, p, l, rg, rows); err != nil {
		return err
	}
	cr, err := rg.Column(l.embCol)
	if err != nil {
		return fmt.Errorf("%s: column %q: %w", p.path, EmbeddingColumn, err)
	}
	dim := w.m.Dim
	n := batchLevels(dim)
	w.buffers(n, l.double)
	st := &rowState{p: p, l: l, g: g, rows: rows, row: -1, k: -1}
	f32, _ := cr.(*file.Float32ColumnChunkReader)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Rows ahead that map to consecutive dataset rows.
		run := 0
		if f32 != nil && dim > 0 && (st.k == -1 || st.k == dim) {
			next := st.row + 1
			for run < n/dim && next+run < nrows && rows[next+run] == rows[next]+int32(run) {
				run++
			}
		}
		if run > 0 && (run*dim >= n/4 || st.row+1+run == nrows) {
			t := int(rows[st.row+1])
			// Claim the rows before writing them, so that a duplicate in
			// another row group never has two workers writing one row.
			if r := w.claim(t, run); r >= 0 {
				return fmt.Errorf("%s: column %q: sample %s has more than one vector", p.path, EmbeddingColumn, d.ids.quoted(r))
			}
			dst := w.m.Data[t*dim : (t+run)*dim]
			lv, vals, err := f32.ReadBatch(int64(len(dst)), dst, w.defs[:len(dst)], w.reps[:len(dst)])
			if err != nil {
				return fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, EmbeddingColumn, err)
			}
			if lv == 0 {
				break
			}
			ok, err := w.direct(st, dst, int(lv), vals)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			// Irregular batch: redo it from scratch.
			copy(w.f32, dst[:vals])
			clear(dst)
			w.unclaim(t, run)
			if err := w.consume(st, w.defs[:lv], w.reps[:lv]); err != nil {
				return err
			}
			continue
		}
		lv, _, err := w.readLevels(cr, n)
		if err != nil {
			return fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, EmbeddingColumn, err)
		}
		if lv == 0 {
			if err := cr.Err(); err != nil {
				return fmt.Errorf("%s: column %q: corrupt parquet file: %w", p.path, EmbeddingColumn, err)
			}
			break
		}
		if err := w.consume(st, w.defs[:lv], w.reps[:lv]); err != nil {
			return err
		}
	}
	if err := w.finish(st); err != nil {
		return err
	}
	if st.row+1 != nrows {
		return fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows but holds %d", p.path, g, nrows, st.row+1)
	}
	return nil
}

// direct completes a batch decoded straight into dst, the matrix rows of
// the next len(dst)/Dim rows, which the caller has claimed. It reports
// false, having changed nothing, when the levels are not exactly one
// full, non-null vector per row.
func (w *embWorker) direct(st *rowState, dst []float32, lv, vals int) (bool, error) {
	dim := w.m.Dim
	if lv != len(dst) || vals != len(dst) || !allEqual(w.defs[:lv], st.l.maxDef) {
		return false, nil
	}
	reps := w.reps[:lv]
	for j := 0; j < lv; j += dim {
		if reps[j] != 0 || !allEqual(reps[j+1:j+dim], 1) {
			return false, nil
		}
	}
	nrows := lv / dim
	for r := range nrows {
		t := int(st.rows[st.row+1+r])
		if bad := firstNonFinite(dst[r*dim : (r+1)*dim]); bad >= 0 {
			return false, nonFinite(st.p.path, w.d.ids.quoted(t), bad, dst[r*dim+bad])
		}
	}
	st.row += nrows
	st.k, st.dst = dim, dst[(nrows-1)*dim:]
	return true, nil
}

// claim marks dataset rows [t, t+n) present and returns -1, or returns
// the first row some other row group already claimed (having claimed
// nothing).
func (w *embWorker) claim(t, n int) int {
	words := w.m.Present.Words()
	for r := t; r < t+n; r++ {
		bit := uint64(1) << (uint(r) & 63)
		if atomic.OrUint64(&words[r>>6], bit)&bit != 0 {
			w.unclaim(t, r-t)
			return r
		}
	}
	return -1
}

// unclaim clears rows [t, t+n), which this worker claimed.
func (w *embWorker) unclaim(t, n int) {
	words := w.m.Present.Words()
	for r := t; r < t+n; r++ {
		atomic.AndUint64(&words[r>>6], ^(uint64(1) << (uint(r) & 63)))
	}
}

// finish checks the vector just completed.
func (w *embWorker) finish(st *rowState) error {
	if st.row >= 0 && st.k >= 0 && st.k != w.m.Dim {
		return fmt.Errorf("%s: column %q: sample %s has a vector of dimension %d, want %d",
			st.p.path, EmbeddingColumn, w.d.ids.quoted(int(st.rows[st.row])), st.k, w.m.Dim)
	}
	return nil
}

// consume decodes one batch of levels whose non-null values are in the
// scratch buffer (w.f32 or w.f64).
func (w *embWorker) consume(st *rowState, defs, reps []int16) error {
	d, m, l, p := w.d, w.m, st.l, st.p
	dim := m.Dim
	words := m.Present.Words()
	sampleOf := func(r int) string { return d.ids.quoted(int(st.rows[r])) }
	lv := len(defs)
	vi := 0 // next decoded (non-null) value
	for j := 0; j < lv; {
		def := defs[j]
		if reps[j] == 0 {
			if err := w.finish(st); err != nil {
				return err
			}
			if st.row++; st.row >= len(st.rows) {
				return fmt.Errorf("%s: corrupt parquet file: row group %d holds more than the %d rows it claims", p.path, st.g, len(st.rows))
			}
			if def < l.emptyDef {
				st.k = -1 // null list: no vector
				j++
				continue
			}
			t := int(st.rows[st.row])
			bit := uint64(1) << (uint(t) & 63)
			if atomic.OrUint64(&words[t>>6], bit)&bit != 0 {
				return fmt.Errorf("%s: column %q: sample %s has more than one vector", p.path, EmbeddingColumn, sampleOf(st.row))
			}
			st.dst, st.k = m.Data[t*dim:(t+1)*dim], 0
			if def == l.emptyDef {
				j++ // empty list
				continue
			}
			// The whole vector is in this batch, present and non-null.
			if e := j + dim; e <= lv && (e == lv || reps[e] == 0) &&
				allEqual(defs[j:e], l.maxDef) && allEqual(reps[j+1:e], 1) {
				if bad := w.put(st.dst, vi, l.double); bad >= 0 {
					return nonFinite(p.path, sampleOf(st.row), bad, st.dst[bad])
				}
				vi += dim
				st.k = dim
				j = e
				continue
			}
		} else if st.k < 0 || def <= l.emptyDef {
			return fmt.Errorf("%s: corrupt parquet file: column %q: element outside a list in row group %d", p.path, EmbeddingColumn, st.g)
		}
		// One element.
		if def < l.maxDef {
			return fmt.Errorf("%s: column %q: sample %s: vector element %d is null", p.path, EmbeddingColumn, sampleOf(st.row), st.k)
		}
		if st.k >= dim {
			return fmt.Errorf("%s: column %q: sample %s has a vector of dimension more than %d", p.path, EmbeddingColumn, sampleOf(st.row), dim)
		}
		var v float32
		if l.double {
			v = float32(w.f64[vi])
		} else {
			v = w.f32[vi]
		}
		if !finite(v) {
			return nonFinite(p.path, sampleOf(st.row), st.k, v)
		}
		st.dst[st.k] = v
		vi++
		st.k++
		j++
	}
	return nil
}

// put copies the decoded values from vi into dst and returns the index of
// the first non-finite element, or -1.
func (w *embWorker) put(dst []float32, vi int, double bool) int {
	if double {
		for i, v := range w.f64[vi : vi+len(dst)] {
			dst[i] = float32(v)
		}
	} else {
		copy(dst, w.f32[vi:vi+len(dst)])
	}
	return firstNonFinite(dst)
}

// firstNonFinite returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float32) int {
	u := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
	// An exponent of all ones marks NaN and ±Inf; check four at a time,
	// then find the culprit one by one.
	i := 0
	for ; i+4 <= len(u); i += 4 {
		a, b, c, d := u[i]&expMask, u[i+1]&expMask, u[i+2]&expMask, u[i+3]&expMask
		if a == expMask || b == expMask || c == expMask || d == expMask {
			break
		}
	}
	for ; i < len(u); i++ {
		if u[i]&expMask == expMask {
			return i
		}
	}
	return -1
}

const expMask = 0x7f800000

func finite(v float32) bool { return math.Float32bits(v)&0x7f800000 != 0x7f800000 }

func nonFinite(path string, id string, i int, v float32) error {
	what := "NaN"
	if math.IsInf(float64(v), 0) {
		what = fmt.Sprint(v)
	}
	return fmt.Errorf("%s: column %q: sample %s: vector element %d is %s (or outside float32 range)", path, EmbeddingColumn, id, i, what)
}

// allEqual reports whether every level in s is v, comparing four levels
// per 64-bit word.
func allEqual(s []int16, v int16) bool {
	pat := uint64(uint16(v)) * 0x0001000100010001
	w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(s))), len(s)/4)
	for _, x := range w {
		if x != pat {
			return false
		}
	}
	for _, x := range s[len(w)*4:] {
		if x != v {
			return false
		}
	}
	return true
}
