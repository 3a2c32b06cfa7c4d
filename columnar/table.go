package columnar

// Table discovery and the shared Parquet plumbing of the reader.
//
// A table is one NAME.parquet file or a folder NAME/ of *.parquet parts
// read in lexical order of their names. Every part is opened through
// openPart, which turns panics from the Parquet decoder into errors naming
// the file (arrow-go can panic on some corrupt inputs) and checks the
// footer's row counts for consistency before anything is sized from them.
// Nothing in this package preallocates from a count that only the footer
// claims: buffers grow with decoded data, so a file that claims absurd row
// counts fails with an error instead of exhausting memory.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/winnow-data/winnow/internal/workpool"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// readBatchRows is the number of rows (or levels) decoded per low-level
// ReadBatch call: big enough to amortise call overhead, small enough for
// the reused buffers to stay in cache.
const readBatchRows = 32 * 1024

// readerProps returns the Parquet reader properties used everywhere:
// buffered streams read a column chunk page by page instead of loading
// whole column chunks (an embeddings chunk is 128 MiB at 64 Ki rows ×
// 512 dimensions), which keeps memory at a few pages per reader. The
// buffer is one default-sized page (1 MiB) rather than arrow-go's 16 KiB
// so a page arrives in one read system call instead of sixty-four.
func readerProps() *parquet.ReaderProperties {
	p := parquet.NewReaderProperties(memory.DefaultAllocator)
	p.BufferedStreamEnabled = true
	p.BufferSize = 1 << 20
	return p
}

// locateTable returns the path of table name inside dir (NAME.parquet or
// the folder NAME/), or "" when the table is absent.
func locateTable(dir, name string) (string, error) {
	fpath := filepath.Join(dir, name+".parquet")
	dpath := filepath.Join(dir, name)
	fst, ferr := os.Stat(fpath)
	dst, derr := os.Stat(dpath)
	hasFile := ferr == nil && !fst.IsDir()
	hasDir := derr == nil && dst.IsDir()
	switch {
	case hasFile && hasDir:
		return "", fmt.Errorf("table %s is both a file %s and a folder %s", name, fpath, dpath)
	case hasFile:
		return fpath, nil
	case hasDir:
		return dpath, nil
	}
	for _, err := range []error{ferr, derr} {
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("table %s: %w", name, err)
		}
	}
	return "", nil
}

// tableParts lists the Parquet files of the table at path (see
// resolveSource) in lexical order.
func tableParts(path string) ([]string, error) {
	src, err := resolveSource(path)
	if err != nil {
		return nil, err
	}
	return src.files, nil
}

// part is one open Parquet file of a table.
type part struct {
	path string
	f    *os.File
	r    *file.Reader
	src  *source // the table's source; nil for a file opened alone
	idx  int     // the part's index in src.files
}

// keys is the number of partition keys of p's table.
func (p *part) keys() int {
	if p.src == nil {
		return 0
	}
	return len(p.src.keys)
}

// isKey reports whether name is a partition key of p's table: a column
// whose value is the part's folder's, not read from the file.
func (p *part) isKey(name string) bool { return p.src != nil && p.src.keyIndex(name) >= 0 }

// keyArray returns a column of n copies of p's value of key name.
func (p *part) keyArray(name string, n int, mem memory.Allocator) (arrow.Array, error) {
	return scalar.MakeArrayFromScalar(p.src.keyScalar(p.idx, p.src.keyIndex(name)), n, mem)
}

func (p *part) Close() error { return p.f.Close() }

// recoverTo converts a panic raised while decoding file path into *err.
// It must be called directly by defer.
func recoverTo(path string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: corrupt parquet file: decoder failed: %v", path, r)
	}
}

// openPart opens one Parquet file and validates its footer.
func openPart(path string) (p *part, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	p, err = partOf(f)
	if err != nil {
		f.Close()
	}
	return p, err
}

// partOf reads and validates the footer of the open Parquet file f.
func partOf(f *os.File) (p *part, err error) {
	useZstdReader()
	path := f.Name()
	defer recoverTo(path, &err)
	r, err := file.NewParquetReader(f, file.WithReadProps(readerProps()))
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt or truncated parquet file: %w", path, err)
	}
	if err := checkFooter(path, r); err != nil {
		return nil, err
	}
	dropStoredSchema(r)
	return &part{path: path, f: f, r: r}, nil
}

// checkFooter verifies that the row counts of the footer agree with each
// other: the file's row count is the sum of its row groups', and every
// column chunk holds as many values as its row group has rows (at least as
// many for repeated columns). A footer edited to claim more rows than the
// data holds is caught here or, if consistent, by the readers, which check
// the rows they decode against the claims.
func checkFooter(path string, r *file.Reader) error {
	md := r.MetaData()
	var sum int64
	for i := 0; i < r.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		n := rg.NumRows()
		if n < 0 {
			return fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows", path, i, n)
		}
		sum += n
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("%s: corrupt parquet file: row group %d: %w", path, i, err)
			}
			nv := cc.NumValues()
			repeated := md.Schema.Column(c).MaxRepetitionLevel() > 0
			if nv < n || (!repeated && nv != n) {
				return fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows but column %q holds %d values",
					path, i, n, md.Schema.Column(c).Path(), nv)
			}
		}
	}
	if sum != md.NumRows {
		return fmt.Errorf("%s: corrupt parquet file: footer claims %d rows but its row groups hold %d", path, md.NumRows, sum)
	}
	return nil
}

// arrowSchemaKey is the footer key under which Arrow writers store the
// Arrow schema.
const arrowSchemaKey = "ARROW:schema"

// dropStoredSchema removes the stored Arrow schema from r's footer
// metadata, so that column types come from the Parquet schema alone.
//
// arrow-go decodes that flatbuffer without bounds checks: a corrupt one
// can make it allocate a slice of billions of fields, a fatal out-of-
// memory crash that recover cannot catch (found by fuzzing).
// The Parquet schema carries what winnow needs: the UUID logical type
// still reads as the UUID extension type, a FixedSizeList reads as a List
// (the reader checks dimensions on the vectors themselves), and other
// columns get the Arrow types of their Parquet logical types.
func dropStoredSchema(r *file.Reader) {
	md := r.MetaData().FileMetaData
	kv := md.KeyValueMetadata
	n := 0
	for _, e := range kv {
		if e.Key != arrowSchemaKey {
			kv[n] = e
			n++
		}
	}
	md.KeyValueMetadata = kv[:n]
}

// openParts opens every part of the table at path. On error nothing stays
// open.
func openParts(path string) ([]*part, error) {
	src, err := resolveSource(path)
	if err != nil {
		return nil, err
	}
	parts := make([]*part, 0, len(src.files))
	for i, n := range src.files {
		p, err := openPart(n)
		if err != nil {
			closeParts(parts)
			return nil, err
		}
		p.src, p.idx = src, i
		parts = append(parts, p)
	}
	return dropSuperseded(parts), nil
}

// supersedesKey is the footer key with which a part that winnow wrote in
// place of a whole table folder names the other parts it replaces (as a
// JSON list of file names). winnow removes those parts right after; a
// crash in between leaves them, and readers skip them.
const supersedesKey = "winnow.supersedes"

// dropSuperseded closes and removes from parts those that another part
// declares superseded.
func dropSuperseded(parts []*part) []*part {
	gone := map[string]bool{}
	for _, p := range parts {
		v := p.r.MetaData().KeyValueMetadata().FindValue(supersedesKey)
		if v == nil {
			continue
		}
		var names []string
		if json.Unmarshal([]byte(*v), &names) != nil {
			continue // not ours to interpret: read every part
		}
		for _, n := range names {
			gone[filepath.Join(filepath.Dir(p.path), filepath.Base(n))] = true
		}
	}
	if len(gone) == 0 {
		return parts
	}
	kept := parts[:0]
	for _, p := range parts {
		if gone[p.path] {
			p.Close()
			continue
		}
		kept = append(kept, p)
	}
	return kept
}

func closeParts(parts []*part) {
	for _, p := range parts {
		p.Close()
	}
}

// arrowSchema is the Arrow schema of one part, as pqarrow derives it
// from the Parquet schema (see dropStoredSchema).
func (p *part) arrowSchema() (s *arrow.Schema, err error) {
	defer recoverTo(p.path, &err)
	s, err = pqarrow.FromParquet(p.r.MetaData().Schema, nil, p.r.MetaData().KeyValueMetadata())
	if err != nil {
		return nil, fmt.Errorf("%s: unsupported schema: %w", p.path, err)
	}
	if p.keys() == 0 {
		return s, nil
	}
	// Partition keys follow the file's columns, as DuckDB lists them; a
	// file column of a key's name gives way to the key.
	var fields []arrow.Field
	for _, f := range s.Fields() {
		if !p.isKey(f.Name) {
			fields = append(fields, f)
		}
	}
	for _, k := range p.src.keys {
		fields = append(fields, arrow.Field{Name: k.name, Type: k.typ, Nullable: true})
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

// tableSchema returns the Arrow schema shared by every part of a table.
// Parts whose schemas differ are an error naming the part.
func tableSchema(parts []*part) (*arrow.Schema, error) {
	var first *arrow.Schema
	for _, p := range parts {
		s, err := p.arrowSchema()
		if err != nil {
			return nil, err
		}
		s = arrow.NewSchema(s.Fields(), nil) // compare fields only: metadata may differ per part
		if first == nil {
			first = s
			continue
		}
		if !sameColumns(first, s) {
			return nil, schemaDiff(p.path, s, parts[0].path, first)
		}
		// Engines write a column required in one part and nullable in
		// another (pyarrow from a batch without nulls): the table's
		// column is nullable if any part's is.
		fields := first.Fields()
		for i, f := range s.Fields() {
			fields[i].Nullable = fields[i].Nullable || f.Nullable
		}
		first = arrow.NewSchema(fields, nil)
	}
	return first, nil
}

// sameColumns reports whether a and b have the same column names and
// types (nullability aside).
func sameColumns(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i, f := range a.Fields() {
		g := b.Field(i)
		if f.Name != g.Name || !arrow.TypeEqual(f.Type, g.Type) {
			return false
		}
	}
	return true
}

// schemaDiff says how the schema s of part path differs from the first
// part's, in a table's terms: the column lists, or the first column whose
// type or nullability differs. (Printing both schemas whole buries the
// difference.)
func schemaDiff(path string, s *arrow.Schema, firstPath string, first *arrow.Schema) error {
	if fieldNames(s) != fieldNames(first) {
		return fmt.Errorf("%s: schema differs from the first part %s: columns (%s) instead of (%s)", path, firstPath, fieldNames(s), fieldNames(first))
	}
	for i, f := range s.Fields() {
		g := first.Field(i)
		if !arrow.TypeEqual(f.Type, g.Type) {
			return fmt.Errorf("%s: schema differs from the first part %s: column %q is %s instead of %s", path, firstPath, f.Name, f.Type, g.Type)
		}
	}
	return fmt.Errorf("%s: schema differs from the first part %s in its column metadata", path, firstPath)
}

// schemaNames lists the top-level column names of s.
func schemaNames(s *arrow.Schema) []string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return names
}

// fieldNames lists the top-level column names of s, for error messages.
func fieldNames(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// leafColumn returns the index of the single Parquet leaf column under
// the top-level field name of part p, or -1 if there is no such field. A
// field with several leaves (a struct) is an error.
func (p *part) leafColumn(name string) (int, error) {
	sc := p.r.MetaData().Schema
	idx := -1
	for i := 0; i < sc.NumColumns(); i++ {
		if sc.ColumnRoot(i).Name() != name {
			continue
		}
		if idx >= 0 {
			return -1, fmt.Errorf("%s: column %q is a nested group with several leaves", p.path, name)
		}
		idx = i
	}
	return idx, nil
}

// ReadTable reads the table at path (one Parquet file, or a folder of
// *.parquet parts in lexical order) with the given columns, in that order;
// nil columns reads all of them. An unknown column is an error listing the
// known ones. All parts must share one schema. The caller should Release
// the table when done.
func ReadTable(ctx context.Context, path string, columns []string) (arrow.Table, error) {
	return readTable(ctx, path, columns, nil)
}

// dictSet says which string columns a read returns dictionary-encoded;
// nil means none.
type dictSet func(column string) bool

// readTable is ReadTable; string columns in dict come back
// dictionary-encoded as Parquet stores them (decoding indices instead of
// materialising every string), for the predicate kernels.
func readTable(ctx context.Context, path string, columns []string, dict dictSet) (arrow.Table, error) {
	parts, err := openParts(path)
	if err != nil {
		return nil, err
	}
	defer closeParts(parts)
	return readParts(ctx, path, parts, columns, dict)
}

// readParts is readTable over the open parts of the table at path.
func readParts(ctx context.Context, path string, parts []*part, columns []string, dict dictSet) (arrow.Table, error) {
	schema, err := tableSchema(parts)
	if err != nil {
		return nil, err
	}
	if columns == nil {
		columns = make([]string, schema.NumFields())
		for i, f := range schema.Fields() {
			columns[i] = f.Name
		}
	}
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		j := schema.FieldIndices(c)
		if len(j) == 0 {
			return nil, nameError(ErrUnknownColumn, c, schemaNames(schema), "%s: unknown column %q (columns: %s)", path, c, fieldNames(schema))
		}
		fields[i] = schema.Field(j[0])
	}
	chunks := make([][]arrow.Array, len(columns))
	defer func() {
		for _, cs := range chunks {
			for _, a := range cs {
				a.Release()
			}
		}
	}()
	var rows int64
	for _, p := range parts {
		tbl, err := readPart(ctx, p, columns, dict)
		if err != nil {
			return nil, err
		}
		for i := range columns {
			if dict != nil {
				fields[i].Type = tbl.Column(i).DataType()
			}
			for _, a := range tbl.Column(i).Data().Chunks() {
				a.Retain()
				chunks[i] = append(chunks[i], a)
			}
		}
		rows += tbl.NumRows()
		tbl.Release()
	}
	out := make([]arrow.Column, len(columns))
	for i := range columns {
		ch := arrow.NewChunked(fields[i].Type, chunks[i])
		out[i] = *arrow.NewColumn(fields[i], ch)
		ch.Release()
	}
	tbl := array.NewTable(arrow.NewSchema(fields, nil), out, rows)
	for i := range out {
		out[i].Release()
	}
	return tbl, nil
}

// readPlan says how to read some columns of a part: the file's leaves
// with their pqarrow properties, and the partition keys.
type readPlan struct {
	props  pqarrow.ArrowReadProperties
	leaves []int
	keys   []string // requested columns that are partition keys
}

// readRowGroups decodes row groups rgs of p as planned into record
// batches (the caller releases them, also on error) and returns them with
// their schema: the file's columns, then the partition keys as columns of
// constants.
func readRowGroups(ctx context.Context, p *part, plan readPlan, mem memory.Allocator, rgs []int) (recs []arrow.RecordBatch, sc *arrow.Schema, err error) {
	defer func() {
		if err == nil && len(plan.keys) > 0 {
			recs, sc, err = p.withKeys(recs, sc, plan.keys, mem)
		}
	}()
	if len(plan.leaves) == 0 {
		// Only partition keys: no column to decode, the footers' row
		// counts (checked against the data by the id readers) size the
		// batches.
		sc = arrow.NewSchema(nil, nil)
		for _, g := range rgs {
			n := p.r.MetaData().RowGroup(g).NumRows()
			for lo := int64(0); lo < n; lo += readBatchRows {
				recs = append(recs, array.NewRecordBatch(sc, nil, min(readBatchRows, n-lo)))
			}
		}
		return recs, sc, nil
	}
	fr, err := pqarrow.NewFileReader(p.r, plan.props, mem)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p.path, err)
	}
	rr, err := fr.GetRecordReader(ctx, plan.leaves, rgs)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: corrupt or truncated parquet file: %w", p.path, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return recs, nil, err
		}
		r := rr.RecordBatch()
		r.Retain()
		recs = append(recs, r)
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return recs, nil, fmt.Errorf("%s: corrupt or truncated parquet file: %w", p.path, err)
	}
	return recs, rr.Schema(), nil
}

// withKeys appends columns of p's values of partition keys to recs, which
// it releases, and returns the new batches and their schema.
func (p *part) withKeys(recs []arrow.RecordBatch, sc *arrow.Schema, keys []string, mem memory.Allocator) ([]arrow.RecordBatch, *arrow.Schema, error) {
	fields := sc.Fields()
	for _, k := range keys {
		fields = append(fields, arrow.Field{Name: k, Type: p.src.keys[p.src.keyIndex(k)].typ, Nullable: true})
	}
	out := arrow.NewSchema(fields, nil)
	for i, r := range recs {
		cols := slices.Clone(r.Columns())
		for _, k := range keys {
			a, err := p.keyArray(k, int(r.NumRows()), mem)
			if err != nil {
				return recs, sc, fmt.Errorf("%s: partition key %q: %w", p.path, k, err)
			}
			defer a.Release()
			cols = append(cols, a)
		}
		recs[i] = array.NewRecordBatch(out, cols, r.NumRows())
		r.Release()
	}
	return recs, out, nil
}

// readProps plans reading columns (top-level names) of p; string columns
// in dict come back dictionary-encoded.
func (p *part) readProps(columns []string, dict dictSet) readPlan {
	plan := readPlan{props: pqarrow.ArrowReadProperties{BatchSize: readBatchRows}}
	sc := p.r.MetaData().Schema
	for _, c := range columns {
		if p.isKey(c) {
			if !slices.Contains(plan.keys, c) {
				plan.keys = append(plan.keys, c)
			}
			continue
		}
		for i := 0; i < sc.NumColumns(); i++ {
			if sc.ColumnRoot(i).Name() == c {
				plan.leaves = append(plan.leaves, i)
				col := sc.Column(i)
				if dict != nil && dict(c) && col.MaxRepetitionLevel() == 0 && col.LogicalType().Equals(schema.StringLogicalType{}) {
					plan.props.SetReadDict(i, true)
				}
			}
		}
	}
	return plan
}

// rowGroup is row group g of part p; base is the row of the whole table
// that it starts at, by the footers' row counts (the readers check them).
type rowGroup struct {
	p       *part
	g, base int
}

// uncompressed is the uncompressed size of column name's chunk in the
// row group as its footer claims it, or 0.
func (rg rowGroup) uncompressed(name string) int64 {
	c, err := rg.p.leafColumn(name)
	if err != nil || c < 0 {
		return 0
	}
	cc, err := rg.p.r.MetaData().RowGroup(rg.g).ColumnChunk(c)
	if err != nil {
		return 0
	}
	return max(0, cc.TotalUncompressedSize())
}

// rowGroupsOf lists the row groups of parts in table order.
func rowGroupsOf(parts []*part) []rowGroup {
	var rgs []rowGroup
	base := 0
	for _, p := range parts {
		for g := 0; g < p.r.NumRowGroups(); g++ {
			rgs = append(rgs, rowGroup{p, g, base})
			base += int(p.r.MetaData().RowGroup(g).NumRows())
		}
	}
	return rgs
}

// scanParts decodes columns (top-level names, all present) of parts, the
// table at path, row group by row group on all cores, and calls fn with
// each record batch's first row in the whole table and its columns in the
// order of columns. Calls for different row groups run concurrently; the
// arrays are released when fn returns, so memory stays at a few batches
// a core however long the table. It checks that every row group holds the
// rows its footer claims.
func scanParts(ctx context.Context, parts []*part, columns []string, dict dictSet, fn func(base int, cols []arrow.Array) error) error {
	plans := make(map[*part]readPlan, len(parts))
	for _, p := range parts {
		plans[p] = p.readProps(columns, dict)
	}
	tasks := rowGroupsOf(parts)
	mem := newPoolAllocator() // batches are released before the next: reuse their buffers
	return workpool.Run(0, len(tasks), func() func(i int) error {
		cols := make([]arrow.Array, len(columns))
		return func(i int) (err error) {
			tk := tasks[i]
			defer recoverTo(tk.p.path, &err)
			if err := ctx.Err(); err != nil {
				return err
			}
			recs, sc, err := readRowGroups(ctx, tk.p, plans[tk.p], mem, []int{tk.g})
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			if err != nil {
				return err
			}
			row := tk.base
			for _, r := range recs {
				for j, c := range columns {
					k := sc.FieldIndices(c)
					if len(k) == 0 {
						return fmt.Errorf("%s: column %q missing from part", tk.p.path, c)
					}
					cols[j] = r.Column(k[0])
				}
				if err := fn(row, cols); err != nil {
					return err
				}
				row += int(r.NumRows())
			}
			if want := tk.p.r.MetaData().RowGroup(tk.g).NumRows(); int64(row-tk.base) != want {
				return fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows but %d were read", tk.p.path, tk.g, want, row-tk.base)
			}
			return nil
		}
	})
}

// readPart reads columns (top-level names, all present) of one part, in
// that order.
func readPart(ctx context.Context, p *part, columns []string, dict dictSet) (tbl arrow.Table, err error) {
	defer recoverTo(p.path, &err)
	plan := p.readProps(columns, dict)
	// Contiguous ranges of row groups are decoded on goroutines of ours
	// (not pqarrow's Parallel option: arrow-go would decode on goroutines
	// of its own, where a panic on a corrupt page cannot be recovered into
	// an error). A record reader decodes BatchSize rows at a time, so
	// memory grows with the data actually decoded, never with the
	// footer's claims.
	nrg := p.r.NumRowGroups()
	w := max(1, min(runtime.GOMAXPROCS(0), nrg))
	batches := make([][]arrow.RecordBatch, w)
	errs := make([]error, w)
	var rsc *arrow.Schema
	var once sync.Once
	var wg sync.WaitGroup
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer recoverTo(p.path, &errs[k])
			rgs := make([]int, 0, nrg/w+1)
			for g := k * nrg / w; g < (k+1)*nrg/w; g++ {
				rgs = append(rgs, g)
			}
			var sc *arrow.Schema
			batches[k], sc, errs[k] = readRowGroups(ctx, p, plan, memory.DefaultAllocator, rgs)
			if sc != nil {
				once.Do(func() { rsc = sc })
			}
		}()
	}
	wg.Wait()
	var recs []arrow.RecordBatch
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for k := range w {
		recs = append(recs, batches[k]...)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// pqarrow returns fields in file order; reorder to the request below.
	t := array.NewTableFromRecords(rsc, recs)
	defer t.Release()
	if t.NumRows() != p.r.NumRows() {
		return nil, fmt.Errorf("%s: corrupt parquet file: footer claims %d rows but %d were read", p.path, p.r.NumRows(), t.NumRows())
	}
	cols := make([]arrow.Column, len(columns))
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		j := t.Schema().FieldIndices(c)
		if len(j) == 0 {
			return nil, fmt.Errorf("%s: column %q missing from part", p.path, c)
		}
		cols[i] = *t.Column(j[0])
		fields[i] = cols[i].Field()
	}
	return array.NewTable(arrow.NewSchema(fields, nil), cols, t.NumRows()), nil
}
