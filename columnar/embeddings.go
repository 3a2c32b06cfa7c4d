package columnar

// Reading embedding tables: the hot path of every diversity selection.
//
// ReadEmbeddings decodes the vectors of one model straight from the
// Parquet column chunks with the low-level typed column readers
// (file.Float32ColumnChunkReader and the others' ReadBatch), skipping Arrow
// arrays entirely. Each row group is one task; tasks run on GOMAXPROCS
// workers, each with its own reused value and level buffers, and write
// their vectors directly into the rows of the single N×D matrix that
// their ids map to. Row groups of one table never share a row (a shared
// one is the duplicate-vector error), so workers write disjoint memory and
// the result does not depend on scheduling. Presence bits are claimed
// with an atomic OR on the bitmap word, which also detects a second vector
// for the same row across row groups.
//
// A model's vectors are in a table of their own, matched to the samples
// by a reference column (or to the annotations by annotation id, for an
// object-level model), or in a column of the samples table itself (a wide
// table), whose row i is sample i and whose ids need no decoding.
//
// Levels are interpreted from the Parquet schema rather than the Arrow
// type, so one loop reads every list layout other engines write: 3-level
// LIST (pqarrow, pyarrow, Spark, DuckDB) or legacy 2-level repeated
// fields, required or nullable lists (a null list is a row without a
// vector), required or nullable elements, FixedSizeList or List, float16,
// float32 or float64 leaves. float16 vectors stay 16-bit: when every part
// of the table stores float16, the matrix holds their IEEE binary16 bits
// (Matrix.F16), exact for the stored values; otherwise float16 and float64
// are converted to float32 (a float64 outside float32 range is rejected
// like ±Inf). A read WithFloat16 (half.go) holds float16 bits whatever the
// stored type, rounding float32 and float64 values as they are decoded, so
// no float32 matrix is ever allocated. A vector lying wholly inside one decoded batch is checked
// with a few slice scans and copied with copy(); only vectors spanning
// batches, or unusual ones, go element by element. Every value is checked
// to be finite here, once, on all cores: the packages above need not
// check again.
//
// The dimension D is the FixedSizeList size when the schema declares one,
// and is confirmed (or, for List columns, found) by decoding the first
// vector in table order before the matrix is allocated, so a footer or
// schema claiming an absurd dimension is an error, not a huge allocation.
// D is capped at maxDim.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/internal/half"
	"github.com/winnow-data/winnow/internal/workpool"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// maxDim bounds the dimension of an embedding.
const maxDim = 1 << 20

// vectorTable says where one model's vectors are.
type vectorTable struct {
	name   string
	path   string // the table; "" for a column of the samples table
	id     string // its reference column (unused for the samples table)
	vector string // the vector column
	object bool   // vectors of annotations, referenced by annotation id
}

// elemKind is the type of a vector column's elements.
type elemKind uint8

const (
	elemF32 elemKind = iota
	elemF64
	elemF16
)

// listLayout describes how the definition levels of an embedding leaf
// encode nulls: below emptyDef the list itself is null, at emptyDef it is
// empty, above it an element exists, which is null below maxDef.
type listLayout struct {
	idCol, embCol int            // idCol -1: the samples table itself
	idType        arrow.DataType // the id column's Arrow type
	emptyDef      int16
	maxDef        int16
	elem          elemKind
	fixedDim      int // FixedSizeList size, 0 for List
}

// vectorTypeWant says in messages which types a vector column may have.
const vectorTypeWant = "want a list or fixed-size list of float16, float32 or float64"

// isVectorType reports whether t can hold vectors.
func isVectorType(t arrow.DataType) bool {
	_, _, ok := vectorElem(t)
	return ok
}

// vectorElem returns the element type and declared size (0 for a List) of
// a vector column type.
func vectorElem(t arrow.DataType) (arrow.DataType, int, bool) {
	var elem arrow.DataType
	fixed := 0
	switch t := t.(type) {
	case *arrow.FixedSizeListType:
		elem, fixed = t.Elem(), int(t.Len())
	case *arrow.ListType:
		elem = t.Elem()
	case *arrow.LargeListType:
		elem = t.Elem()
	}
	if elem == nil {
		return nil, 0, false
	}
	switch elem.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return elem, fixed, true
	}
	return nil, 0, false
}

// embeddingLayout validates the schema of one part of vt's table.
func (p *part) embeddingLayout(vt *vectorTable) (listLayout, error) {
	var l listLayout
	as, err := p.arrowSchema()
	if err != nil {
		return l, err
	}
	l.idCol = -1
	if vt.id != "" {
		ii := as.FieldIndices(vt.id)
		if len(ii) == 0 {
			return l, fmt.Errorf("%s: missing required column %q (columns: %s)", p.path, vt.id, fieldNames(as))
		}
		l.idType = as.Field(ii[0]).Type
	}
	ei := as.FieldIndices(vt.vector)
	if len(ei) == 0 {
		return l, fmt.Errorf("%s: missing required column %q (columns: %s)", p.path, vt.vector, fieldNames(as))
	}
	typ := as.Field(ei[0]).Type
	_, fixed, ok := vectorElem(typ)
	if !ok {
		return l, fmt.Errorf("%s: column %q has type %s, %s", p.path, vt.vector, typ, vectorTypeWant)
	}
	l.fixedDim = fixed
	if l.fixedDim > maxDim {
		return l, fmt.Errorf("%s: column %q: dimension %d exceeds the limit %d", p.path, vt.vector, l.fixedDim, maxDim)
	}
	if vt.id != "" {
		if l.idCol, err = p.idColumn(vt.id); err != nil {
			return l, err
		}
		if _, ok := idKindOf(l.idType); !ok {
			return l, fmt.Errorf("%s: column %q has type %s, %s", p.path, vt.id, TypeName(l.idType), idTypeWant)
		}
	}
	if l.embCol, err = p.leafColumn(vt.vector); err != nil {
		return l, err
	}
	d := p.r.MetaData().Schema.Column(l.embCol)
	switch d.PhysicalType() {
	case parquet.Types.Float:
	case parquet.Types.Double:
		l.elem = elemF64
	case parquet.Types.FixedLenByteArray:
		if _, ok := d.LogicalType().(schema.Float16LogicalType); !ok || d.TypeLength() != 2 {
			return l, fmt.Errorf("%s: column %q has Parquet leaf type %s, want FLOAT, DOUBLE or FLOAT16", p.path, vt.vector, d.PhysicalType())
		}
		l.elem = elemF16
	default:
		return l, fmt.Errorf("%s: column %q has Parquet leaf type %s, want FLOAT, DOUBLE or FLOAT16", p.path, vt.vector, d.PhysicalType())
	}
	if d.MaxRepetitionLevel() != 1 {
		return l, fmt.Errorf("%s: column %q must be a list of numbers (repetition depth %d)", p.path, vt.vector, d.MaxRepetitionLevel())
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
	vt       *vectorTable
	path     string
	parts    []*part
	layout   []listLayout
	lay      map[*part]listLayout
	fixedDim int  // declared FixedSizeList size, 0 if none
	half     bool // every part stores float16
	rows     int64
}

// openEmbeddings opens vt's table, at path, whose vectors belong to at
// most maxRows rows (the samples, or the annotations).
func openEmbeddings(vt *vectorTable, path string, maxRows int) (*embTable, error) {
	parts, err := openParts(path)
	if err != nil {
		return nil, err
	}
	t := &embTable{vt: vt, path: path, parts: parts, half: true, lay: map[*part]listLayout{}}
	for _, p := range parts {
		l, err := p.embeddingLayout(vt)
		if err != nil {
			closeParts(parts)
			return nil, err
		}
		// Parts may mix List and FixedSizeList; declared sizes must agree.
		if l.fixedDim > 0 && t.fixedDim > 0 && l.fixedDim != t.fixedDim {
			closeParts(parts)
			return nil, fmt.Errorf("%s: column %q has dimension %d, but an earlier part has %d", p.path, vt.vector, l.fixedDim, t.fixedDim)
		}
		if t.fixedDim == 0 {
			t.fixedDim = l.fixedDim
		}
		t.half = t.half && l.elem == elemF16
		t.layout = append(t.layout, l)
		t.lay[p] = l
		t.rows += p.r.NumRows()
	}
	// Every vector belongs to a distinct row: more rows than that cannot
	// be valid, and must not size anything.
	if t.rows > int64(maxRows) {
		closeParts(parts)
		return nil, fmt.Errorf("%s: table claims %d rows but the dataset has %d %ss", path, t.rows, maxRows, space(vt))
	}
	return t, nil
}

func (t *embTable) Close() { closeParts(t.parts) }

// space names what vt's vectors belong to, in messages.
func space(vt *vectorTable) string {
	if vt.object {
		return "annotation"
	}
	return "sample"
}

// ReadOption adjusts a long read.
type ReadOption func(*readOptions)

type readOptions struct {
	progress func(done, total int64)
	noPages  bool // decode with ReadBatch only (tests compare both paths)
	float16  bool // a float16 matrix whatever the stored type (WithFloat16)
}

// withoutPages has a read skip the page decoder (pages.go), for tests.
func withoutPages() ReadOption { return func(o *readOptions) { o.noPages = true } }

// WithProgress has a read report its progress: fn(done, total) with the
// rows of the table decoded so far and in all, after every row group.
// Calls come from the read's goroutines one at a time, with done never
// decreasing; fn must be quick.
func WithProgress(fn func(done, total int64)) ReadOption {
	return func(o *readOptions) { o.progress = fn }
}

// progress serialises a read's progress reports.
type progress struct {
	mu    sync.Mutex
	done  int64
	total int64
	fn    func(done, total int64)
}

func (p *progress) add(n int64) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.fn(p.done, p.total)
}

// ReadEmbeddings reads the vectors of embedding model into one contiguous
// row-major matrix aligned to dataset order, with the set of samples that
// have a vector. An unknown model is an error listing the known models.
// Vectors of another dimension, NaN or ±Inf elements, null elements, ids
// not in samples and a second vector for one sample are errors naming the
// file and the sample. The matrix holds float16 bits (Matrix.F16) when the
// table stores float16 or the read is WithFloat16, float32 otherwise.
func (d *Dataset) ReadEmbeddings(ctx context.Context, model string, opts ...ReadOption) (*Matrix, error) {
	vt, ok := d.models[model]
	if !ok {
		return nil, nameError(ErrUnknownModel, model, d.Models(), "read embeddings: unknown model %q (models: %s)", model, knownList(d.modelNames))
	}
	ids, err := d.IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("read embeddings %q: %w", model, err)
	}
	m, err := d.readVectors(ctx, vt, idSpace{ids: ids, index: d.index}, opts)
	if err != nil {
		return nil, fmt.Errorf("read embeddings %q: %w", model, err)
	}
	return m, nil
}

// idSpace is what a model's vectors are matched to: the samples, or the
// annotations of an object-level model.
type idSpace struct {
	ids   *IDs
	index func(context.Context) (*idIndex, error)
}

// tablePath is the table holding vt's vectors.
func (d *Dataset) tablePath(vt *vectorTable) string {
	if vt.path == "" {
		return d.samples
	}
	return vt.path
}

func (d *Dataset) readVectors(ctx context.Context, vt *vectorTable, sp idSpace, opts []ReadOption) (*Matrix, error) {
	var o readOptions
	for _, opt := range opts {
		opt(&o)
	}
	n := sp.ids.Len()
	t, err := openEmbeddings(vt, d.tablePath(vt), n)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if vt.path == "" && t.rows != int64(n) {
		return nil, fmt.Errorf("%s: %d rows, want %d (changed since the dataset was opened?)", t.path, t.rows, n)
	}
	dim, err := t.dim(ctx, sp)
	if err != nil {
		return nil, err
	}
	if dim > 0 && n > math.MaxInt/4/dim {
		return nil, fmt.Errorf("%s: %d %ss × %d dimensions overflow", t.path, n, space(vt), dim)
	}
	m := &Matrix{Dim: dim, Present: bitmap.New(n)}
	if t.half || o.float16 {
		m.F16 = make([]uint16, n*dim)
	} else {
		m.Data = make([]float32, n*dim)
	}
	pr := &progress{total: t.rows, fn: o.progress}
	tasks := rowGroupsOf(t.parts)
	var mu sync.Mutex
	var workers []*embWorker // for their float16 range notes
	err = workpool.Run(0, len(tasks), func() func(i int) error {
		w := &embWorker{d: d, t: t, m: m, sp: sp, noPages: o.noPages}
		mu.Lock()
		workers = append(workers, w)
		mu.Unlock()
		return func(i int) error {
			tk := tasks[i]
			if err := w.rowGroup(ctx, tk, t.lay[tk.p]); err != nil {
				return err
			}
			pr.add(tk.p.r.MetaData().RowGroup(tk.g).NumRows())
			return nil
		}
	})
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	// workpool.Run reports the first failing row group in table order.
	if err != nil {
		return nil, err
	}
	// Values float16 cannot hold are reported once the read is otherwise
	// good (a non-finite value is the error it always was), counting every
	// vector, with the first in matrix order: the same whatever the
	// scheduling.
	var over halfRange
	for _, w := range workers {
		if w.over.count > 0 && (over.count == 0 || w.over.row < over.row) {
			over.row, over.value = w.over.row, w.over.value
		}
		over.count += w.over.count
	}
	if over.count > 0 {
		return nil, &Float16RangeError{Path: t.path, Column: vt.vector, Space: space(vt), Count: over.count,
			Row: over.row, ID: sp.ids.quoted(over.row), Value: over.value}
	}
	return m, nil
}

// dim returns the dimension of table t: its declared FixedSizeList size,
// checked against the first vector actually stored, or for a List column
// the length of that first vector.
func (t *embTable) dim(ctx context.Context, sp idSpace) (int, error) {
	fixed := t.fixedDim
	w := &embWorker{t: t, sp: sp}
	for _, rg := range rowGroupsOf(t.parts) {
		k, id, found, err := w.firstVector(ctx, rg, t.lay[rg.p])
		if err != nil {
			return 0, err
		}
		if !found {
			continue
		}
		if fixed > 0 && k != fixed {
			return 0, fmt.Errorf("%s: column %q: %s %s has a vector of dimension %d, want %d", rg.p.path, t.vt.vector, space(t.vt), id, k, fixed)
		}
		if k == 0 {
			// Dimension 0 would size an empty matrix that the next,
			// non-empty vector overruns (a decoder panic, reported as
			// a corrupt file).
			return 0, fmt.Errorf("%s: column %q: %s %s has a vector of dimension 0; an embedding needs at least one element", rg.p.path, t.vt.vector, space(t.vt), id)
		}
		return k, nil
	}
	return fixed, nil
}

// embWorker decodes row groups; its buffers are reused across them.
type embWorker struct {
	d     *Dataset // for messages about ids no sample has
	t     *embTable
	m     *Matrix
	sp    idSpace
	ids   idReader
	rows  []int32
	defs  []int16
	reps  []int16
	f32   []float32
	f64   []float64
	flba  []parquet.FixedLenByteArray
	chunk IDs // the row group's ids

	// Page decoding (pages.go): the page's level runs, and its values
	// while consume reads them.
	repRuns, defRuns []levelRun
	raw              pageValues
	noPages          bool // always use ReadBatch (for tests)

	over halfRange // vectors float16 cannot hold (WithFloat16)
}

// name is row r of the space in messages: its id.
func (w *embWorker) name(r int) string { return w.sp.ids.quoted(r) }

// matchRows sets rows[i] to the row (of the samples or annotations) that
// row i of row group rg belongs to.
func (w *embWorker) matchRows(ctx context.Context, rg rowGroup, l listLayout, rows []int32) error {
	p := rg.p
	if l.idCol < 0 { // the samples table itself
		for i := range rows {
			rows[i] = int32(rg.base + i)
		}
		if rg.base+len(rows) > w.sp.ids.Len() {
			return fmt.Errorf("%s: corrupt parquet file: more rows than the %d samples", p.path, w.sp.ids.Len())
		}
		return nil
	}
	w.chunk.reset(l.idType)
	if err := w.ids.read(p, p.r.RowGroup(rg.g), l.idCol, w.t.vt.id, &w.chunk); err != nil {
		return err
	}
	space := w.sp.ids
	ids, err := space.convert(&w.chunk)
	if err != nil {
		return fmt.Errorf("%s: column %q: %w", p.path, w.t.vt.id, err)
	}
	if ids.Len() != len(rows) {
		return fmt.Errorf("%s: corrupt parquet file: %d ids for %d rows", p.path, ids.Len(), len(rows))
	}
	guess := int32(-1)
	for i := range rows {
		// Tables usually follow dataset order: try the next row first.
		if g := guess + 1; int(g) < space.Len() && space.same(int(g), ids, i) {
			rows[i], guess = g, g
			continue
		}
		ix, err := w.sp.index(ctx)
		if err != nil {
			return err
		}
		r, ok := ix.find(ids, i)
		if !ok {
			if w.t.vt.object {
				return fmt.Errorf("%s: annotation id %s is not in annotations", p.path, w.chunk.quoted(i))
			}
			return w.d.unknownSample(ctx, p.path, fmt.Sprintf("row %d of row group %d", i, rg.g), &w.chunk, i)
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

func (w *embWorker) buffers(n int, elem elemKind) {
	if len(w.defs) < n {
		w.defs = make([]int16, n)
		w.reps = make([]int16, n)
	}
	switch {
	case elem == elemF64 && len(w.f64) < n:
		w.f64 = make([]float64, n)
	case elem == elemF32 && len(w.f32) < n:
		w.f32 = make([]float32, n)
	case elem == elemF16 && len(w.flba) < n:
		w.flba = make([]parquet.FixedLenByteArray, n)
	}
}

// readLevels decodes the next batch of the embedding column.
func (w *embWorker) readLevels(cr file.ColumnChunkReader, n int) (lv int64, vals int, err error) {
	switch r := cr.(type) {
	case *file.Float32ColumnChunkReader:
		return r.ReadBatch(int64(n), w.f32[:n], w.defs[:n], w.reps[:n])
	case *file.Float64ColumnChunkReader:
		return r.ReadBatch(int64(n), w.f64[:n], w.defs[:n], w.reps[:n])
	case *file.FixedLenByteArrayColumnChunkReader:
		return r.ReadBatch(int64(n), w.flba[:n], w.defs[:n], w.reps[:n])
	}
	return 0, 0, fmt.Errorf("unexpected column reader %T", cr)
}

// firstVector returns the length and the id of the first non-null
// vector in row group rg, if any.
func (w *embWorker) firstVector(ctx context.Context, rg rowGroup, l listLayout) (k int, id string, found bool, err error) {
	p := rg.p
	defer recoverTo(p.path, &err)
	rgr := p.r.RowGroup(rg.g)
	cr, err := rgr.Column(l.embCol)
	if err != nil {
		return 0, id, false, fmt.Errorf("%s: column %q: %w", p.path, w.t.vt.vector, err)
	}
	n := batchLevels(l.fixedDim)
	w.buffers(n, l.elem)
	row, in := -1, false // in: the current row holds a non-null list
	for !found {
		if err := ctx.Err(); err != nil {
			return 0, id, false, err
		}
		lv, _, err := w.readLevels(cr, n)
		if err != nil {
			return 0, id, false, fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, w.t.vt.vector, err)
		}
		if lv == 0 {
			if err := cr.Err(); err != nil {
				return 0, id, false, fmt.Errorf("%s: column %q: corrupt parquet file: %w", p.path, w.t.vt.vector, err)
			}
			break
		}
		for j := range int(lv) {
			if w.reps[j] == 0 {
				if in {
					found = true
					break
				}
				if row++; row >= int(rgr.NumRows()) {
					return 0, id, false, fmt.Errorf("%s: corrupt parquet file: row group %d holds more than the %d rows it claims", p.path, rg.g, rgr.NumRows())
				}
				in, k = w.defs[j] >= l.emptyDef, 0
				if w.defs[j] > l.emptyDef {
					k = 1
				}
				continue
			}
			if k++; k > maxDim {
				return 0, id, false, fmt.Errorf("%s: column %q: vector at row %d of row group %d is longer than %d", p.path, w.t.vt.vector, row, rg.g, maxDim)
			}
		}
	}
	if !in {
		return 0, id, false, nil
	}
	if l.idCol < 0 {
		return k, w.name(rg.base + row), true, nil
	}
	w.chunk.reset(l.idType)
	if err := w.ids.read(p, rgr, l.idCol, w.t.vt.id, &w.chunk); err != nil {
		return 0, id, false, err
	}
	return k, w.chunk.quoted(row), true, nil
}

// rowState is the decoding position inside one row group.
type rowState struct {
	p     *part
	l     listLayout
	g     int
	rows  []int32 // the matrix row of each row of the row group
	row   int     // current row; -1 before the first
	k     int     // elements of the current vector so far; -1: null list
	dst   []float32
	dst16 []uint16
	over  bool // the current vector has a value float16 cannot hold (noted)
}

// rowGroup decodes row group rg into the matrix.
//
// Batches normally decode straight into the matrix (direct): when the
// next rows of the row group map to consecutive matrix rows, the values
// of exactly those rows are decoded into their matrix rows, and the levels
// are then checked to describe exactly one full vector per row. Anything
// else (shuffled ids, null lists, odd vectors, float16 and float64
// elements) decodes into a scratch buffer and goes through consume, which
// handles every case; a direct batch whose levels turn out irregular is
// moved to scratch and consumed the same way, so both paths give the same
// matrix and errors.
func (w *embWorker) rowGroup(ctx context.Context, rg rowGroup, l listLayout) (err error) {
	p := rg.p
	defer recoverTo(p.path, &err)
	rgr := p.r.RowGroup(rg.g)
	nrows := int(rgr.NumRows())
	if cap(w.rows) < nrows {
		w.rows = make([]int32, nrows)
	}
	rows := w.rows[:nrows]
	if err := w.matchRows(ctx, rg, l, rows); err != nil {
		return err
	}
	if done, err := w.pages(rg, l, rows); done {
		return err
	}
	cr, err := rgr.Column(l.embCol)
	if err != nil {
		return fmt.Errorf("%s: column %q: %w", p.path, w.t.vt.vector, err)
	}
	dim := w.m.Dim
	n := batchLevels(dim)
	w.buffers(n, l.elem)
	st := &rowState{p: p, l: l, g: rg.g, rows: rows, row: -1, k: -1}
	f32, _ := cr.(*file.Float32ColumnChunkReader)
	if w.m.Data == nil {
		// A float16 matrix (stored float16, or WithFloat16) cannot take
		// float32 values directly: float32 batches go through scratch and
		// consume, which rounds them.
		f32 = nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Rows ahead that map to consecutive matrix rows.
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
				return fmt.Errorf("%s: column %q: %s %s has more than one vector", p.path, w.t.vt.vector, space(w.t.vt), w.name(r))
			}
			dst := w.m.Data[t*dim : (t+run)*dim]
			lv, vals, err := f32.ReadBatch(int64(len(dst)), dst, w.defs[:len(dst)], w.reps[:len(dst)])
			if err != nil {
				return fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, w.t.vt.vector, err)
			}
			if lv == 0 {
				w.unclaim(t, run)
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
			return fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, w.t.vt.vector, err)
		}
		if lv == 0 {
			if err := cr.Err(); err != nil {
				return fmt.Errorf("%s: column %q: corrupt parquet file: %w", p.path, w.t.vt.vector, err)
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
		return fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows but holds %d", p.path, rg.g, nrows, st.row+1)
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
			return false, w.nonFinite(st.p.path, t, bad, float64(dst[r*dim+bad]))
		}
	}
	st.row += nrows
	st.k, st.dst = dim, dst[(nrows-1)*dim:]
	return true, nil
}

// claim marks matrix rows [t, t+n) present and returns -1, or returns
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
		return fmt.Errorf("%s: column %q: %s %s has a vector of dimension %d, want %d",
			st.p.path, w.t.vt.vector, space(w.t.vt), w.name(int(st.rows[st.row])), st.k, w.m.Dim)
	}
	return nil
}

// consume decodes one batch of levels whose non-null values are in the
// scratch buffer (w.f32, w.f64 or w.flba).
func (w *embWorker) consume(st *rowState, defs, reps []int16) error {
	m, l, p := w.m, st.l, st.p
	dim := m.Dim
	col := w.t.vt.vector
	words := m.Present.Words()
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
			st.over = false
			if def < l.emptyDef {
				st.k = -1 // null list: no vector
				j++
				continue
			}
			t := int(st.rows[st.row])
			bit := uint64(1) << (uint(t) & 63)
			if atomic.OrUint64(&words[t>>6], bit)&bit != 0 {
				return fmt.Errorf("%s: column %q: %s %s has more than one vector", p.path, col, space(w.t.vt), w.name(t))
			}
			if m.F16 != nil {
				st.dst16 = m.F16[t*dim : (t+1)*dim]
			} else {
				st.dst = m.Data[t*dim : (t+1)*dim]
			}
			st.k = 0
			if def == l.emptyDef {
				j++ // empty list
				continue
			}
			// The whole vector is in this batch, present and non-null.
			if e := j + dim; e <= lv && (e == lv || reps[e] == 0) &&
				allEqual(defs[j:e], l.maxDef) && allEqual(reps[j+1:e], 1) {
				if err := w.put(st, t, vi, l.elem); err != nil {
					return err
				}
				vi += dim
				st.k = dim
				j = e
				continue
			}
		} else if st.k < 0 && def < l.emptyDef {
			// DuckDB writes a NULL fixed-size array (FLOAT[8]) as a null
			// list followed by Dim-1 more null levels: padding of a row
			// without a vector.
			j++
			continue
		} else if st.k < 0 || def <= l.emptyDef {
			return fmt.Errorf("%s: corrupt parquet file: column %q: element outside a list in row group %d", p.path, col, st.g)
		}
		// One element.
		t := int(st.rows[st.row])
		if def < l.maxDef {
			return fmt.Errorf("%s: column %q: %s %s: vector element %d is null", p.path, col, space(w.t.vt), w.name(t), st.k)
		}
		if st.k >= dim {
			return fmt.Errorf("%s: column %q: %s %s has a vector of dimension more than %d", p.path, col, space(w.t.vt), w.name(t), dim)
		}
		if m.F16 != nil {
			var h uint16
			if l.elem == elemF16 {
				h = w.f16At(vi)
			} else {
				h = toHalf(w.f32At(vi, l.elem))
			}
			if h&f16Exp == f16Exp {
				v := w.f32At(vi, l.elem)
				if !finite(v) {
					return w.nonFinite(p.path, t, st.k, float64(v))
				}
				if !st.over { // rounded to ±Inf: noted once a vector
					w.overflow(t, v)
					st.over = true
				}
			}
			st.dst16[st.k] = h
		} else {
			v := w.f32At(vi, l.elem)
			if !finite(v) {
				return w.nonFinite(p.path, t, st.k, float64(v))
			}
			st.dst[st.k] = v
		}
		vi++
		st.k++
		j++
	}
	return nil
}

// put copies the decoded values from vi into the current row's vector,
// that of matrix row t, and checks them: a non-finite value is an error.
// Into a float16 matrix, values of other types are rounded (see checkHalf
// for those float16 cannot hold).
func (w *embWorker) put(st *rowState, t, vi int, elem elemKind) error {
	path := st.p.path
	if w.m.F16 != nil {
		dst := st.dst16
		switch {
		case w.raw.raw != nil: // values from a page
			wd := w.raw.width
			fillHalf(dst, w.raw.raw[vi*wd:(vi+len(dst))*wd], wd)
		case elem == elemF16:
			for i, b := range w.flba[vi : vi+len(dst)] {
				dst[i] = f16bits(b)
			}
		case elem == elemF64:
			for i, v := range w.f64[vi : vi+len(dst)] {
				dst[i] = toHalf(float32(v))
			}
		default:
			encodeHalf(dst, w.f32[vi:vi+len(dst)])
		}
		return w.checkHalf(path, t, dst, func(i int) float32 { return w.f32At(vi+i, elem) })
	}
	var bad int
	var v float64
	if w.raw.raw != nil { // values from a page
		wd := w.raw.width
		bad, v = fillValues(st.dst, w.raw.raw[vi*wd:(vi+len(st.dst))*wd], wd)
	} else {
		dst := st.dst
		switch elem {
		case elemF64:
			for i, v := range w.f64[vi : vi+len(dst)] {
				dst[i] = float32(v)
			}
		case elemF16:
			for i, b := range w.flba[vi : vi+len(dst)] {
				dst[i] = f16float(f16bits(b))
			}
		default:
			copy(dst, w.f32[vi:vi+len(dst)])
		}
		if bad = firstNonFinite(dst); bad >= 0 {
			v = float64(dst[bad])
		}
	}
	if bad >= 0 {
		return w.nonFinite(path, t, bad, v)
	}
	return nil
}

// f16At returns value vi of the batch as float16 bits.
func (w *embWorker) f16At(vi int) uint16 {
	if w.raw.raw != nil {
		return binary.LittleEndian.Uint16(w.raw.raw[2*vi:])
	}
	return f16bits(w.flba[vi])
}

// f32At returns value vi of the batch, of element type elem, as float32.
func (w *embWorker) f32At(vi int, elem elemKind) float32 {
	if w.raw.raw != nil {
		return valueAt(w.raw.raw, w.raw.width, vi)
	}
	switch elem {
	case elemF64:
		return float32(w.f64[vi])
	case elemF16:
		return f16float(f16bits(w.flba[vi]))
	}
	return w.f32[vi]
}

// f16float widens float16 bits to float32, exactly.
func f16float(h uint16) float32 { return half.ToFloat32(h) }

// f16bits reads a Parquet FLOAT16 value: two bytes, little-endian.
func f16bits(b parquet.FixedLenByteArray) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// f16Exp is the exponent of a float16: all ones for NaN and ±Inf.
const f16Exp = 0x7c00

// firstNonFinite16 returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite16(v []uint16) int {
	for i, h := range v {
		if h&f16Exp == f16Exp {
			return i
		}
	}
	return -1
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

// nonFinite reports element i of row t's vector, of value v.
func (w *embWorker) nonFinite(path string, t, i int, v float64) error {
	what := "NaN"
	if math.IsInf(v, 0) {
		what = fmt.Sprint(float32(v))
	}
	return fmt.Errorf("%s: column %q: %s %s: vector element %d is %s (or outside float32 range)", path, w.t.vt.vector, space(w.t.vt), w.name(t), i, what)
}

// allEqual reports whether every level in s is v, comparing four levels
// per 64-bit word.
func allEqual(s []int16, v int16) bool {
	var w []uint64
	// An empty s may point just past its buffer; converting that pointer
	// trips the race detector's pointer checks (checkptr).
	if len(s) >= 4 {
		pat := uint64(uint16(v)) * 0x0001000100010001
		w = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(s))), len(s)/4)
		for _, x := range w {
			if x != pat {
				return false
			}
		}
	}
	for _, x := range s[len(w)*4:] {
		if x != v {
			return false
		}
	}
	return true
}
