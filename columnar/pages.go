package columnar

// Decoding embedding pages straight into the matrix.
//
// The column readers' ReadBatch expands every page's repetition and
// definition levels into int16 arrays (one per value: 512 of each per
// 512-d vector), and the reader then scans them to find the vectors; on a
// million 512-d vectors that is about a tenth of the load. Embedding
// column chunks almost always have the simplest layout there is: PLAIN
// values (no dictionary), RLE levels, every row one full non-null vector.
// For such a chunk the reader takes the decompressed pages themselves
// (GetColumnPageReader) and reads their levels as runs: a page whose
// definition levels are one run at the maximum and whose repetition
// levels alternate "0 once, 1 Dim-1 times" holds exactly NumValues/Dim
// full vectors, whose values are copied in one move per run of
// consecutive matrix rows and checked to be finite. Any other page (nulls,
// vectors of other lengths, a vector split across pages) has its levels
// expanded and goes through consume, the general path, with its values
// read from the page bytes; so both paths give the same matrix and the
// same errors, which the tests check against the ReadBatch path.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// levelRun is a run of equal levels.
type levelRun struct {
	v int16
	n int
}

// readRuns decodes n levels of bit width w in Parquet's RLE/bit-packed
// hybrid encoding from buf into runs, merging equal neighbours, and
// appends them to out. It returns false for malformed input.
func readRuns(buf []byte, w, n int, out []levelRun) ([]levelRun, bool) {
	if w == 0 {
		return append(out, levelRun{0, n}), true
	}
	vbytes := (w + 7) / 8
	add := func(v int16, k int) {
		if l := len(out); l > 0 && out[l-1].v == v {
			out[l-1].n += k
		} else {
			out = append(out, levelRun{v, k})
		}
	}
	for n > 0 {
		h, k := binary.Uvarint(buf)
		if k <= 0 {
			return out, false
		}
		buf = buf[k:]
		if h&1 == 0 { // RLE run
			cnt := int(min(h>>1, uint64(n)))
			if cnt == 0 || len(buf) < vbytes {
				return out, false
			}
			var v uint32
			for i := range vbytes {
				v |= uint32(buf[i]) << (8 * i)
			}
			buf = buf[vbytes:]
			add(int16(v), cnt)
			n -= cnt
			continue
		}
		// Bit-packed: h>>1 groups of 8 values, w bits each, LSB first.
		groups := h >> 1
		if groups == 0 || groups > uint64(len(buf))/uint64(w) {
			return out, false
		}
		nb := int(groups) * w
		vals := int(groups) * 8
		mask := uint64(1)<<w - 1
		for i := 0; i < vals && n > 0; i, n = i+1, n-1 {
			bit := i * w
			var x uint64
			for b := bit / 8; b <= (bit+w-1)/8; b++ {
				x |= uint64(buf[b]) << (8 * (b - bit/8))
			}
			add(int16((x>>(bit%8))&mask), 1)
		}
		buf = buf[nb:]
	}
	return out, true
}

// expandRuns writes runs as one level per value into dst.
func expandRuns(runs []levelRun, dst []int16) {
	i := 0
	for _, r := range runs {
		s := dst[i : i+r.n]
		for j := range s {
			s[j] = r.v
		}
		i += r.n
	}
}

// pageLayout checks whether the chunk of column l.embCol in row group rg
// can be decoded page by page: PLAIN values of a width the matrix takes
// directly, RLE levels, no dictionary.
func pageLayout(p *part, rgr *file.RowGroupReader, l listLayout, half bool) bool {
	cc, err := rgr.MetaData().ColumnChunk(l.embCol)
	if err != nil || cc.HasDictionaryPage() {
		return false
	}
	for _, e := range cc.Encodings() {
		if e != parquet.Encodings.Plain && e != parquet.Encodings.RLE {
			return false
		}
	}
	switch l.elem {
	case elemF16:
		return true // into F16, or widened into float32
	case elemF32, elemF64:
		return !half
	}
	return false
}

// pageValues is a page's PLAIN values as bytes.
type pageValues struct {
	raw   []byte
	width int // bytes per value: 2, 4 or 8
}

// pages decodes row group rg (whose rows map to matrix rows rows) page by
// page; see the file comment. It reports false, having read nothing, when
// the chunk's layout is not one it takes.
func (w *embWorker) pages(rg rowGroup, l listLayout, rows []int32) (done bool, err error) {
	p := rg.p
	rgr := p.r.RowGroup(rg.g)
	if w.noPages || !pageLayout(p, rgr, l, w.m.F16 != nil) {
		return false, nil
	}
	pr, err := rgr.GetColumnPageReader(l.embCol)
	if err != nil {
		return true, fmt.Errorf("%s: column %q: %w", p.path, w.t.vt.vector, err)
	}
	desc := p.r.MetaData().Schema.Column(l.embCol)
	repW, defW := bits.Len(uint(desc.MaxRepetitionLevel())), bits.Len(uint(desc.MaxDefinitionLevel()))
	width := map[elemKind]int{elemF16: 2, elemF32: 4, elemF64: 8}[l.elem]
	st := &rowState{p: p, l: l, g: rg.g, rows: rows, row: -1, k: -1}
	col := w.t.vt.vector
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: column %q: corrupt parquet file: row group %d: %s", p.path, col, rg.g, fmt.Sprintf(format, args...))
	}
	for pr.Next() {
		var data []byte
		var repBytes, defBytes []byte
		pg := pr.Page()
		n := int(pg.NumValues())
		if n < 0 {
			return true, corrupt("page of %d values", n)
		}
		switch pg := pg.(type) {
		case *file.DataPageV1:
			if parquet.Encoding(pg.Encoding()) != parquet.Encodings.Plain ||
				(repW > 0 && pg.RepetitionLevelEncoding() != parquet.Encodings.RLE) ||
				(defW > 0 && pg.DefinitionLevelEncoding() != parquet.Encodings.RLE) {
				return true, corrupt("%s page in a PLAIN chunk", parquet.Encoding(pg.Encoding()))
			}
			data = pg.Data()
			section := func(wd int) ([]byte, bool) {
				if wd == 0 {
					return nil, true
				}
				if len(data) < 4 {
					return nil, false
				}
				ln := int(binary.LittleEndian.Uint32(data))
				if ln < 0 || ln > len(data)-4 {
					return nil, false
				}
				s := data[4 : 4+ln]
				data = data[4+ln:]
				return s, true
			}
			var ok1, ok2 bool
			repBytes, ok1 = section(repW)
			defBytes, ok2 = section(defW)
			if !ok1 || !ok2 {
				return true, corrupt("level lengths beyond the page")
			}
		case *file.DataPageV2:
			if parquet.Encoding(pg.Encoding()) != parquet.Encodings.Plain {
				return true, corrupt("%s page in a PLAIN chunk", parquet.Encoding(pg.Encoding()))
			}
			data = pg.Data()
			rl, dl := int(pg.RepetitionLevelByteLen()), int(pg.DefinitionLevelByteLen())
			if rl < 0 || dl < 0 || rl+dl > len(data) {
				return true, corrupt("level lengths beyond the page")
			}
			repBytes, defBytes, data = data[:rl], data[rl:rl+dl], data[rl+dl:]
		case *file.DictionaryPage:
			return true, corrupt("dictionary page in a chunk whose footer lists none")
		default:
			continue // index pages and the like
		}
		var ok bool
		if w.repRuns, ok = readRuns(repBytes, repW, n, w.repRuns[:0]); !ok {
			return true, corrupt("malformed repetition levels")
		}
		if w.defRuns, ok = readRuns(defBytes, defW, n, w.defRuns[:0]); !ok {
			return true, corrupt("malformed definition levels")
		}
		if err := w.page(st, n, pageValues{raw: data, width: width}); err != nil {
			return true, err
		}
	}
	if err := pr.Err(); err != nil {
		return true, fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, col, err)
	}
	if err := w.finish(st); err != nil {
		return true, err
	}
	if st.row+1 != len(rows) {
		return true, fmt.Errorf("%s: corrupt parquet file: row group %d claims %d rows but holds %d", p.path, rg.g, len(rows), st.row+1)
	}
	return true, nil
}

// regular reports how many full vectors of dim values the page's level
// runs describe when they are nothing else: every definition level the
// maximum, repetition levels "0, then 1 dim-1 times" over and over.
func (w *embWorker) regular(n, dim int, maxDef int16) (int, bool) {
	if dim <= 0 || n%dim != 0 || len(w.defRuns) != 1 || w.defRuns[0].v != maxDef || w.defRuns[0].n != n {
		return 0, false
	}
	runs := w.repRuns
	if dim == 1 {
		return n, len(runs) == 1 && runs[0].v == 0
	}
	if len(runs) != 2*(n/dim) {
		return 0, false
	}
	for i := 0; i < len(runs); i += 2 {
		if runs[i] != (levelRun{0, 1}) || runs[i+1] != (levelRun{1, dim - 1}) {
			return 0, false
		}
	}
	return n / dim, true
}

// page decodes one page of n levels (as runs in w.repRuns and w.defRuns)
// and its values.
func (w *embWorker) page(st *rowState, n int, vals pageValues) error {
	m := w.m
	dim := m.Dim
	if nv, ok := w.regular(n, dim, st.l.maxDef); ok && (st.k == -1 || st.k == dim) {
		if len(vals.raw) < n*vals.width {
			return fmt.Errorf("%s: column %q: corrupt parquet file: row group %d: page of %d values in %d bytes", st.p.path, w.t.vt.vector, st.g, n, len(vals.raw))
		}
		if st.row+nv >= len(st.rows) {
			return fmt.Errorf("%s: corrupt parquet file: row group %d holds more than the %d rows it claims", st.p.path, st.g, len(st.rows))
		}
		return w.regularPage(st, nv, vals)
	}
	// Anything else: levels one by one through consume.
	if len(w.defs) < n {
		w.defs = make([]int16, n)
		w.reps = make([]int16, n)
	}
	expandRuns(w.defRuns, w.defs[:n])
	expandRuns(w.repRuns, w.reps[:n])
	nonNull := 0
	for _, r := range w.defRuns {
		if r.v == st.l.maxDef {
			nonNull += r.n
		}
	}
	if len(vals.raw) < nonNull*vals.width {
		return fmt.Errorf("%s: column %q: corrupt parquet file: row group %d: page of %d values in %d bytes", st.p.path, w.t.vt.vector, st.g, nonNull, len(vals.raw))
	}
	w.raw = vals
	defer func() { w.raw = pageValues{} }()
	return w.consume(st, w.defs[:n], w.reps[:n])
}

// regularPage copies nv full vectors, the next rows of the row group,
// from the page into their matrix rows: one move per run of consecutive
// matrix rows.
func (w *embWorker) regularPage(st *rowState, nv int, vals pageValues) error {
	m := w.m
	dim := m.Dim
	for r := 0; r < nv; {
		t := int(st.rows[st.row+1+r])
		run := 1
		for r+run < nv && int(st.rows[st.row+1+r+run]) == t+run {
			run++
		}
		if bad := w.claim(t, run); bad >= 0 {
			return fmt.Errorf("%s: column %q: %s %s has more than one vector", st.p.path, w.t.vt.vector, space(w.t.vt), w.name(bad))
		}
		src := vals.raw[r*dim*vals.width : (r+run)*dim*vals.width]
		if err := w.copyRows(st, t, run, src, vals.width); err != nil {
			w.unclaim(t, run)
			return err
		}
		r += run
	}
	st.row += nv
	st.k = dim
	return nil
}

// copyRows writes run vectors of PLAIN values src (width bytes each) into
// matrix rows t.. and checks that they are finite.
func (w *embWorker) copyRows(st *rowState, t, run int, src []byte, width int) error {
	m := w.m
	dim := m.Dim
	var bad int
	var v float64
	if m.F16 != nil {
		bad, v = fillValues(nil, m.F16[t*dim:(t+run)*dim], src, width)
	} else {
		bad, v = fillValues(m.Data[t*dim:(t+run)*dim], nil, src, width)
	}
	if bad >= 0 {
		return w.nonFinite(st.p.path, t+bad/dim, bad%dim, v)
	}
	return nil
}

// fillValues writes the PLAIN values src (width bytes each: float16,
// float32 or float64) into dst32, or as float16 bits into dst16, and
// returns the index of the first that is not finite (NaN, ±Inf, or a
// float64 beyond float32's range) with its value, or -1.
func fillValues(dst32 []float32, dst16 []uint16, src []byte, width int) (int, float64) {
	if dst16 != nil { // float16 into float16 storage: the bits as they are
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst16))), len(dst16)*2), src)
		if bad := firstNonFinite16(dst16); bad >= 0 {
			return bad, float64(f16float(dst16[bad]))
		}
		return -1, 0
	}
	switch width {
	case 4:
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst32))), len(dst32)*4), src)
	case 8:
		for i := range dst32 {
			dst32[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case 2:
		for i := range dst32 {
			dst32[i] = f16float(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}
	if bad := firstNonFinite(dst32); bad >= 0 {
		return bad, float64(dst32[bad])
	}
	return -1, 0
}

// valueAt returns PLAIN value i of src (width bytes each) as float32.
func valueAt(src []byte, width, i int) float32 {
	switch width {
	case 2:
		return f16float(binary.LittleEndian.Uint16(src[2*i:]))
	case 8:
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
}
