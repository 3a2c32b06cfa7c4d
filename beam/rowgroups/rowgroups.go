// Package rowgroups reads row groups of Parquet files inside Beam DoFns:
// a shard is a run of consecutive row groups of one file, and reading it
// decodes only those row groups and only the requested columns, so a
// worker's memory is one shard's, not the file's (Beam's parquetio reads
// whole files into memory).
//
// It reads through the two calls every Beam file system has, OpenRead and
// Size (filesystem.Interface satisfies FS). Beam's interface has no
// ranged read, so the package picks the cheapest access the file system
// allows, per open:
//
//   - the reader OpenRead returns is an io.ReaderAt (the local file
//     system's *os.File): random access, only the footer and the shard's
//     column chunks are read;
//   - the file system implements RangeFS (a wrapper over a GCS or S3
//     client's ranged GET): one ranged read per run of adjacent chunks;
//   - otherwise (memfs, gcs and s3 as Beam ships them): one forward pass
//     over OpenRead's stream that keeps the shard's chunks and discards the
//     bytes in between, so a shard costs the transfer of the file up to its
//     last chunk. Stats.Skipped reports it.
//
// Plan reads each file's footer once and gives every shard the footer of
// its own row groups only (metadata.Subset), so a DoFn never reads the
// file's footer again.
//
// This file is the only one in winnow/beam that uses arrow-go's Parquet
// reader; when winnow/columnar can open a table from an io.ReaderAt, it
// should replace this code, keeping Plan, Shard, Read and Stats.
//
// Not supported: encrypted files, embedding columns other than
// fixed_size_list or list of float32 or float16, nested id columns.
package rowgroups

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/internal/half"
)

// FS is what the package needs from a file system; Beam's
// filesystem.Interface has both methods.
type FS interface {
	OpenRead(ctx context.Context, name string) (io.ReadCloser, error)
	Size(ctx context.Context, name string) (int64, error)
}

// LocalFS is the local file system as an FS, for programs outside a
// pipeline. OpenRead returns the *os.File, an io.ReaderAt, so Read reads
// only the footer and the shard's column chunks (Beam's local file system
// does the same).
type LocalFS struct{}

// OpenRead opens the file called name.
func (LocalFS) OpenRead(_ context.Context, name string) (io.ReadCloser, error) { return os.Open(name) }

// Size returns the size of the file called name.
func (LocalFS) Size(_ context.Context, name string) (int64, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// RangeFS is an FS that can read n bytes at offset off without reading
// what precedes them. Wrap a file system in it where its client offers
// ranged reads.
type RangeFS interface {
	FS
	OpenRange(ctx context.Context, name string, off, n int64) (io.ReadCloser, error)
}

// Shard is a run of consecutive row groups of one Parquet file. Its
// fields are exported and plain, so Beam can encode it as an element.
type Shard struct {
	Path      string
	Size      int64 // file size in bytes
	Ordinal   int   // position of the shard in the plan
	FirstRow  int64 // row of the whole table the shard starts at
	Rows      int64
	RowGroups []int  // row group numbers in the file, consecutive
	Footer    []byte // the serialized file metadata of RowGroups only
}

// Stats tell what reading a shard cost.
type Stats struct {
	Access  string // "readerat", "range" or "stream"
	Read    int64  // bytes kept: footer and column chunks
	Skipped int64  // bytes transferred and discarded (stream access only)
}

// Plan reads the footers of the files of a table (in the given order,
// which the caller makes lexical) and cuts each file into shards of whole
// row groups holding at least rowsPerShard rows (the last shard of a file
// may hold fewer). Shards never span files. rowsPerShard <= 0 makes every
// file one shard.
func Plan(ctx context.Context, fs FS, paths []string, rowsPerShard int64) ([]Shard, error) {
	fts, err := readFooters(ctx, fs, paths)
	if err != nil {
		return nil, err
	}
	return cut(ctx, fts, rowsPerShard)
}

// PlanShards is Plan with rowsPerShard = ceil(rows / shards), rows the
// table's total: about shards shards when row groups are small against
// that, fewer when they are not (a shard holds whole row groups).
func PlanShards(ctx context.Context, fs FS, paths []string, shards int) ([]Shard, error) {
	if shards < 1 {
		return nil, fmt.Errorf("plan: %d shards, want at least 1", shards)
	}
	fts, err := readFooters(ctx, fs, paths)
	if err != nil {
		return nil, err
	}
	var rows int64
	for _, f := range fts {
		rows += f.meta.NumRows
	}
	return cut(ctx, fts, (rows+int64(shards)-1)/int64(shards))
}

type footer struct {
	path string
	size int64
	meta *metadata.FileMetaData
}

func readFooters(ctx context.Context, fs FS, paths []string) ([]footer, error) {
	out := make([]footer, 0, len(paths))
	for _, path := range paths {
		size, err := fs.Size(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", path, err)
		}
		meta, _, err := readFooter(ctx, fs, path, size)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", path, err)
		}
		out = append(out, footer{path, size, meta})
	}
	return out, nil
}

func cut(ctx context.Context, fts []footer, rowsPerShard int64) ([]Shard, error) {
	var out []Shard
	var base int64
	for _, ft := range fts {
		var cur []int
		var rows int64
		flush := func() error {
			if len(cur) == 0 {
				return nil
			}
			sub, err := ft.meta.Subset(cur)
			if err != nil {
				return err
			}
			b, err := sub.Serialize(ctx)
			if err != nil {
				return fmt.Errorf("plan %s: serialize footer: %w", ft.path, err)
			}
			out = append(out, Shard{Path: ft.path, Size: ft.size, Ordinal: len(out), FirstRow: base, Rows: rows, RowGroups: cur, Footer: b})
			base += rows
			cur, rows = nil, 0
			return nil
		}
		for g := 0; g < ft.meta.NumRowGroups(); g++ {
			cur = append(cur, g)
			rows += ft.meta.RowGroup(g).NumRows()
			if rowsPerShard > 0 && rows >= rowsPerShard {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// footerTail is how many bytes at the end of a file a stream read keeps
// in its first pass; a footer larger than that takes a second pass.
const footerTail = 1 << 20

// readFooter returns the file metadata of path and the bytes read for it.
func readFooter(ctx context.Context, fs FS, path string, size int64) (*metadata.FileMetaData, int64, error) {
	if size < 12 {
		return nil, 0, fmt.Errorf("%d bytes are too few for a parquet file", size)
	}
	read := func(off, n int64) ([]byte, error) {
		set, err := load(ctx, fs, path, size, []span{{off, off + n}}, false)
		if err != nil {
			return nil, err
		}
		return set.data[0], nil
	}
	tail := min(size, footerTail)
	buf, err := read(size-tail, tail)
	if err != nil {
		return nil, 0, err
	}
	if string(buf[len(buf)-4:]) != "PAR1" {
		if string(buf[len(buf)-4:]) == "PARE" {
			return nil, 0, errors.New("encrypted parquet files are not supported")
		}
		return nil, 0, errors.New("not a parquet file (no PAR1 magic at the end)")
	}
	flen := int64(binary.LittleEndian.Uint32(buf[len(buf)-8:]))
	if flen+12 > size {
		return nil, 0, fmt.Errorf("footer of %d bytes does not fit in the file's %d", flen, size)
	}
	got := tail
	if flen+8 > tail {
		if buf, err = read(size-8-flen, flen+8); err != nil {
			return nil, 0, err
		}
		got += flen + 8
	}
	meta, err := metadata.NewFileMetaData(buf[len(buf)-8-int(flen):len(buf)-8], nil)
	if err != nil {
		return nil, 0, fmt.Errorf("corrupt footer: %w", err)
	}
	meta.SetSourceFileSize(size - 8 - flen)
	return meta, got, nil
}

// Read decodes the top-level columns of shard and returns them as record
// batches (the caller releases them) in row order, with what it cost.
func Read(ctx context.Context, fs FS, shard Shard, columns []string) ([]arrow.RecordBatch, *arrow.Schema, Stats, error) {
	var st Stats
	fail := func(err error) ([]arrow.RecordBatch, *arrow.Schema, Stats, error) {
		return nil, nil, st, fmt.Errorf("read %s row groups %v: %w", shard.Path, shard.RowGroups, err)
	}
	meta, err := metadata.NewFileMetaData(shard.Footer, nil)
	if err != nil {
		return fail(fmt.Errorf("corrupt shard footer: %w", err))
	}
	// The plan's offsets are only valid for the file it read.
	if size, err := fs.Size(ctx, shard.Path); err != nil {
		return fail(err)
	} else if size != shard.Size {
		return fail(fmt.Errorf("the file changed since the plan: %d bytes, planned %d", size, shard.Size))
	}
	footerStart := shard.Size - 8 - int64(len(shard.Footer))
	meta.SetSourceFileSize(footerStart)
	sc := meta.Schema
	var leaves []int
	for _, c := range columns {
		n := len(leaves)
		for i := 0; i < sc.NumColumns(); i++ {
			if sc.ColumnRoot(i).Name() == c {
				leaves = append(leaves, i)
			}
		}
		if len(leaves) == n {
			return fail(fmt.Errorf("no column %q", c))
		}
	}
	// The byte spans of the needed column chunks, with the padding the
	// reader adds for files of old writers (PARQUET-816).
	var spans []span
	for g := range meta.RowGroups {
		rg := meta.RowGroup(g)
		for _, l := range leaves {
			cc, err := rg.ColumnChunk(l)
			if err != nil {
				return fail(err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
				start = cc.DictionaryPageOffset()
			}
			end := start + cc.TotalCompressedSize() + 100
			if start < 0 || cc.TotalCompressedSize() < 0 || start > footerStart {
				return fail(fmt.Errorf("column chunk at %d of %d bytes lies outside the file", start, cc.TotalCompressedSize()))
			}
			spans = append(spans, span{start, min(end, footerStart)})
		}
	}
	set, err := load(ctx, fs, shard.Path, shard.Size, spans, true)
	if err != nil {
		return fail(err)
	}
	if set.file != nil {
		defer set.file.Close()
	}
	pf, err := file.NewParquetReader(set, file.WithMetadata(meta))
	if err != nil {
		return fail(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return fail(err)
	}
	rgs := make([]int, len(meta.RowGroups))
	for i := range rgs {
		rgs[i] = i
	}
	rr, err := fr.GetRecordReader(ctx, leaves, rgs)
	if err != nil {
		return fail(err)
	}
	defer rr.Release()
	var recs []arrow.RecordBatch
	for rr.Next() {
		r := rr.RecordBatch()
		r.Retain()
		recs = append(recs, r)
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		for _, r := range recs {
			r.Release()
		}
		return fail(err)
	}
	st = set.stats
	st.Read = set.read.Load()
	if set.file == nil {
		st.Read = set.stats.Read
	}
	return recs, rr.Schema(), st, nil
}

// span is the byte range [lo, hi) of a file.
type span struct{ lo, hi int64 }

// spanSet holds the loaded byte ranges of a file, or, for random access,
// the open file itself. It serves ReadAt inside the loaded ranges only.
type spanSet struct {
	size  int64
	spans []span // sorted, disjoint
	data  [][]byte
	file  readerAtCloser
	stats Stats
	read  atomic.Int64 // bytes read from file
	off   int64        // Seek position
}

type readerAtCloser interface {
	io.ReaderAt
	io.Seeker
	io.ReadCloser
}

// merge sorts spans and joins overlapping or adjacent ones.
func merge(in []span) []span {
	s := slices.Clone(in)
	sort.Slice(s, func(i, j int) bool { return s[i].lo < s[j].lo })
	var out []span
	for _, x := range s {
		if n := len(out); n > 0 && x.lo <= out[n-1].hi {
			out[n-1].hi = max(out[n-1].hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// load reads spans of path by the cheapest access fs offers. With direct,
// a file that OpenRead returns as an io.ReaderAt is kept open in the set
// (set.file, for the caller to close) instead: the parquet reader then
// reads each column chunk from it when it decodes it, so no more than one
// compressed chunk is in memory at a time.
func load(ctx context.Context, fs FS, path string, size int64, want []span, direct bool) (*spanSet, error) {
	want = merge(want)
	set := &spanSet{size: size, spans: want}
	var total int64
	for _, s := range want {
		if s.lo < 0 || s.hi > size || s.lo > s.hi {
			return nil, fmt.Errorf("byte range %d-%d outside the file's %d bytes", s.lo, s.hi, size)
		}
		total += s.hi - s.lo
	}
	if rfs, ok := fs.(RangeFS); ok {
		set.stats.Access = "range"
		for _, s := range want {
			rc, err := rfs.OpenRange(ctx, path, s.lo, s.hi-s.lo)
			if err != nil {
				return nil, err
			}
			b := make([]byte, s.hi-s.lo)
			_, err = io.ReadFull(rc, b)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("read bytes %d-%d: %w", s.lo, s.hi, err)
			}
			set.data = append(set.data, b)
		}
		set.stats.Read = total
		return set, nil
	}
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, err
	}
	if f, ok := rc.(readerAtCloser); ok {
		set.stats = Stats{Access: "readerat", Read: total}
		if direct {
			set.file = f
			set.stats.Read = 0 // counted by ReadAt
			return set, nil
		}
		for _, s := range want {
			b := make([]byte, s.hi-s.lo)
			if _, err := f.ReadAt(b, s.lo); err != nil && !(errors.Is(err, io.EOF) && s.hi == size) {
				f.Close()
				return nil, fmt.Errorf("read bytes %d-%d: %w", s.lo, s.hi, err)
			}
			set.data = append(set.data, b)
		}
		f.Close()
		return set, nil
	}
	defer rc.Close()
	set.stats.Access = "stream"
	var pos int64
	for _, s := range want {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := io.CopyN(io.Discard, rc, s.lo-pos)
		set.stats.Skipped += n
		if err != nil {
			return nil, fmt.Errorf("skip to byte %d: %w", s.lo, err)
		}
		b := make([]byte, s.hi-s.lo)
		if _, err := io.ReadFull(rc, b); err != nil {
			return nil, fmt.Errorf("read bytes %d-%d: %w", s.lo, s.hi, err)
		}
		set.data = append(set.data, b)
		pos = s.hi
	}
	set.stats.Read = total
	return set, nil
}

// ReadAt serves p from one loaded span, or from the file inside one; a
// read outside them is an error on every access path (the parquet reader
// asked for bytes the column chunks' metadata did not name), so the tests
// on local files check the spans the stream path relies on.
func (s *spanSet) ReadAt(p []byte, off int64) (int, error) {
	i := sort.Search(len(s.spans), func(i int) bool { return s.spans[i].hi > off })
	if i == len(s.spans) || off < s.spans[i].lo || off+int64(len(p)) > s.spans[i].hi {
		if off >= s.size {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("rowgroups: bytes %d-%d were not loaded", off, off+int64(len(p)))
	}
	if s.file != nil {
		n, err := s.file.ReadAt(p, off)
		s.read.Add(int64(n))
		return n, err
	}
	return copy(p, s.data[i][off-s.spans[i].lo:]), nil
}

// Read reads at the Seek position (the parquet reader only seeks, to
// learn the size).
func (s *spanSet) Read(p []byte) (int, error) {
	n, err := s.ReadAt(p, s.off)
	s.off += int64(n)
	return n, err
}

// Seek implements io.Seeker over the file's full size.
func (s *spanSet) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, fmt.Errorf("rowgroups: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, errors.New("rowgroups: negative position")
	}
	s.off = offset
	return offset, nil
}

// Column returns the column called name of rec, or nil.
func Column(rec arrow.RecordBatch, name string) arrow.Array {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil
	}
	return rec.Column(idx[0])
}

// Float32Rows returns the vectors of an embedding column
// (fixed_size_list or list of one length, of float32 or float16 values,
// float16 widened exactly) as a row-major matrix and its dimension. A
// null or differently sized row is an error naming the row.
func Float32Rows(a arrow.Array, firstRow int64) ([]float32, int, error) {
	vc, err := vectorsOf(a)
	if err != nil {
		return nil, 0, err
	}
	out := make([]float32, a.Len()*vc.dim)
	for i := 0; i < a.Len(); i++ {
		if err := vc.row(i, firstRow, out[i*vc.dim:(i+1)*vc.dim]); err != nil {
			return nil, 0, err
		}
	}
	return out, vc.dim, nil
}

// CopyRows copies the vectors of the table rows in rows (increasing, each
// in [firstRow, firstRow+a.Len())) of embedding column a, whose first
// element is table row firstRow, into consecutive rows of dst, and
// returns the dimension. It is Float32Rows for a subset: a merge gathers
// its candidates' vectors with it without holding a whole batch twice.
func CopyRows(a arrow.Array, firstRow int64, rows []int64, dst []float32) (int, error) {
	vc, err := vectorsOf(a)
	if err != nil {
		return 0, err
	}
	if len(dst) < len(rows)*vc.dim {
		return 0, fmt.Errorf("copy of %d rows of dimension %d into %d values", len(rows), vc.dim, len(dst))
	}
	for j, r := range rows {
		i := r - firstRow
		if i < 0 || i >= int64(a.Len()) {
			return 0, fmt.Errorf("row %d is not among rows %d to %d", r, firstRow, firstRow+int64(a.Len())-1)
		}
		if err := vc.row(int(i), firstRow, dst[j*vc.dim:(j+1)*vc.dim]); err != nil {
			return 0, err
		}
	}
	return vc.dim, nil
}

// vectorColumn reads the rows of an embedding column.
type vectorColumn struct {
	a   arrow.Array
	dim int
	f32 []float32 // the values, one of f32 and f16
	f16 []float16.Num
	off func(i int) (int, int) // the value range of row i
}

func vectorsOf(a arrow.Array) (*vectorColumn, error) {
	vc := &vectorColumn{a: a}
	var vals arrow.Array
	switch l := a.(type) {
	case *array.FixedSizeList:
		vc.dim = int(l.DataType().(*arrow.FixedSizeListType).Len())
		vals = l.ListValues()
		base, dim := l.Offset()*vc.dim, vc.dim
		vc.off = func(i int) (int, int) { return base + i*dim, base + (i+1)*dim }
	case *array.List:
		vals = l.ListValues()
		if l.Len() > 0 {
			s, e := l.ValueOffsets(0)
			vc.dim = int(e - s)
		}
		vc.off = func(i int) (int, int) { s, e := l.ValueOffsets(i); return int(s), int(e) }
	default:
		return nil, fmt.Errorf("embedding column has type %s, want a list of float32 or float16", a.DataType())
	}
	switch v := vals.(type) {
	case *array.Float32:
		vc.f32 = v.Float32Values()
	case *array.Float16:
		vc.f16 = v.Values()
	default:
		return nil, fmt.Errorf("embedding values are %s, want float32 or float16", vals.DataType())
	}
	return vc, nil
}

// row writes row i (table row firstRow+i) into dst, len(dst) == dim.
func (vc *vectorColumn) row(i int, firstRow int64, dst []float32) error {
	if vc.a.IsNull(i) {
		return fmt.Errorf("row %d: null embedding", firstRow+int64(i))
	}
	s, e := vc.off(i)
	if e-s != vc.dim {
		return fmt.Errorf("row %d: embedding of %d values, others have %d", firstRow+int64(i), e-s, vc.dim)
	}
	if vc.f32 != nil {
		copy(dst, vc.f32[s:e])
		return nil
	}
	// arrow-go's own widening turns float16 subnormals into garbage
	// (internal/half); this one is exact.
	for k, h := range vc.f16[s:e] {
		dst[k] = half.ToFloat32(h.Uint16())
	}
	return nil
}

// Float64s returns a numeric column (integers, floats, booleans as 0/1)
// as float64; nulls are an error naming the row.
func Float64s(a arrow.Array, firstRow int64) ([]float64, error) {
	out := make([]float64, a.Len())
	for i := range out {
		if a.IsNull(i) {
			return nil, fmt.Errorf("row %d: null value", firstRow+int64(i))
		}
		switch c := a.(type) {
		case *array.Float64:
			out[i] = c.Value(i)
		case *array.Float32:
			out[i] = float64(c.Value(i))
		case *array.Int64:
			out[i] = float64(c.Value(i))
		case *array.Int32:
			out[i] = float64(c.Value(i))
		case *array.Boolean:
			if c.Value(i) {
				out[i] = 1
			}
		default:
			return nil, fmt.Errorf("column type %s is not numeric", a.DataType())
		}
	}
	return out, nil
}

// Strings returns a string column; a null is the empty string and ok[i]
// false.
func Strings(a arrow.Array) (vals []string, ok []bool, err error) {
	vals, ok = make([]string, a.Len()), make([]bool, a.Len())
	for i := range vals {
		if a.IsNull(i) {
			continue
		}
		ok[i] = true
		switch c := a.(type) {
		case *array.String:
			vals[i] = c.Value(i)
		case *array.LargeString:
			vals[i] = c.Value(i)
		case *array.Dictionary:
			d, isStr := c.Dictionary().(*array.String)
			if !isStr {
				return nil, nil, fmt.Errorf("column type %s is not a string", a.DataType())
			}
			vals[i] = d.Value(c.GetValueIndex(i))
		default:
			return nil, nil, fmt.Errorf("column type %s is not a string", a.DataType())
		}
	}
	return vals, ok, nil
}

// FixedBytes returns the values of a FIXED_LEN_BYTE_ARRAY column (UUIDs
// as winnow writes sample_id) or of a string/binary column, copied.
func FixedBytes(a arrow.Array, firstRow int64) ([][]byte, error) {
	out := make([][]byte, a.Len())
	for i := range out {
		if a.IsNull(i) {
			return nil, fmt.Errorf("row %d: null id", firstRow+int64(i))
		}
	}
	var get func(int) []byte
	switch c := a.(type) {
	case array.ExtensionArray:
		return FixedBytes(c.Storage(), firstRow)
	case *array.FixedSizeBinary:
		get = c.Value
	case *array.Binary:
		get = c.Value
	case *array.String:
		get = func(i int) []byte { return []byte(c.Value(i)) }
	default:
		return nil, fmt.Errorf("id column type %s is not binary", a.DataType())
	}
	for i := range out {
		out[i] = bytes.Clone(get(i))
	}
	return out, nil
}

// IDText returns an id column's value as a dataset's sample_id text: 16
// bytes (a UUID column, as winnow writes sample_id) as a UUID, anything
// else as it is.
func IDText(b []byte) string {
	if len(b) == 16 {
		if u, err := uuid.FromBytes(b); err == nil {
			return u.String()
		}
	}
	return string(b)
}

var _ parquet.ReaderAtSeeker = (*spanSet)(nil)
