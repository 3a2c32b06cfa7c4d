package importers

// Reading NumPy's .npy and .npz files, following the format's
// specification (numpy.lib.format): the magic "\x93NUMPY", a version, a
// little-endian header length (2 bytes in version 1.0, 4 in 2.0 and 3.0),
// and a header that is a Python dict literal with the keys descr (the
// dtype, such as '<f4'), fortran_order and shape, followed by the raw
// array. An .npz is a zip archive of .npy files, one per array.
//
// The data is converted to float32 as it is read, in chunks, straight into
// its row-major place, so a Fortran-order (column-major) array needs no
// second copy either. Every value is checked: NaN, ±Inf and float64 values
// beyond float32's range are errors naming their row and column.

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// matrix is n vectors of dimension dim, row-major.
type matrix struct {
	n, dim int
	data   []float32
}

// npyHeader is a parsed .npy header.
type npyHeader struct {
	descr   string // as written, for messages
	size    int    // bytes per value: 2, 4 or 8 (float16, float32, float64)
	big     bool   // big-endian
	fortran bool   // column-major
	shape   []int
	length  int64 // bytes up to the data
}

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header's length: numpy's own reader refuses
// headers over 10,000 bytes unless told otherwise.
const maxNPYHeader = 1 << 16

// readNPYHeader reads and checks a header; errors are plain, for the
// caller to locate.
func readNPYHeader(r io.Reader) (npyHeader, error) {
	var pre [8]byte
	n, err := io.ReadFull(r, pre[:])
	if m := min(n, 6); string(pre[:m]) != npyMagic[:m] {
		return npyHeader{}, fmt.Errorf("not a .npy file: it starts with %q, not %q", pre[:m], npyMagic)
	}
	if err != nil {
		return npyHeader{}, fmt.Errorf("truncated header: the file has %d bytes", n)
	}
	major, minor := pre[6], pre[7]
	var hlen int
	var lenBytes int
	switch major {
	case 1:
		lenBytes = 2
	case 2, 3:
		lenBytes = 4
	default:
		return npyHeader{}, fmt.Errorf("format version %d.%d; winnow reads versions 1.0, 2.0 and 3.0", major, minor)
	}
	var lb [4]byte
	if k, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return npyHeader{}, fmt.Errorf("truncated header: the file has %d bytes", 8+k)
	}
	if lenBytes == 2 {
		hlen = int(binary.LittleEndian.Uint16(lb[:]))
	} else {
		hlen = int(binary.LittleEndian.Uint32(lb[:]))
	}
	if hlen > maxNPYHeader {
		return npyHeader{}, fmt.Errorf("header of %d bytes, more than the %d winnow reads", hlen, maxNPYHeader)
	}
	text := make([]byte, hlen)
	if k, err := io.ReadFull(r, text); err != nil {
		return npyHeader{}, fmt.Errorf("truncated header: it has %d of its %d bytes", k, hlen)
	}
	p := &pyParser{s: string(text)}
	v, err := p.value()
	if p.skip(); err == nil && p.i != len(p.s) {
		err = fmt.Errorf("unexpected %q after the dict", p.s[p.i:])
	}
	if err != nil {
		return npyHeader{}, fmt.Errorf("header %s: %w", strconv.Quote(strings.TrimRight(string(text), " \n")), err)
	}
	h, err := npyDict(v)
	if err != nil {
		return npyHeader{}, err
	}
	h.length = int64(8 + lenBytes + hlen)
	return h, nil
}

// npyDict interprets the header's parsed dict literal.
func npyDict(v any) (npyHeader, error) {
	d, ok := v.(map[string]any)
	if !ok {
		return npyHeader{}, errors.New("the header is not a dict")
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range d {
			if !yield(k) {
				return
			}
		}
	}) {
		if k != "descr" && k != "fortran_order" && k != "shape" {
			return npyHeader{}, fmt.Errorf("unknown key %q in the header", k)
		}
	}
	var h npyHeader
	descr, ok := d["descr"].(string)
	if !ok {
		if _, has := d["descr"]; has {
			return npyHeader{}, errors.New("dtype is a structured (record) type; winnow reads float16, float32 and float64 arrays")
		}
		return npyHeader{}, errors.New("no descr (dtype)")
	}
	h.descr = descr
	if len(descr) != 3 || !strings.ContainsRune("<>=|", rune(descr[0])) || descr[1] != 'f' || !strings.ContainsRune("248", rune(descr[2])) {
		return npyHeader{}, fmt.Errorf("dtype %q (%s); winnow reads float16, float32 and float64 ('<f2', '<f4', '<f8', or '>' for big-endian)", descr, dtypeWords(descr))
	}
	h.big = descr[0] == '>'
	h.size = int(descr[2] - '0')
	fo, ok := d["fortran_order"].(bool)
	if !ok {
		return npyHeader{}, errors.New("no fortran_order (True or False)")
	}
	h.fortran = fo
	shape, ok := d["shape"].([]int)
	if !ok {
		return npyHeader{}, errors.New("no shape (a tuple of integers)")
	}
	h.shape = shape
	return h, nil
}

// dtypeWords names a dtype numpy might write, for messages.
func dtypeWords(descr string) string {
	if len(descr) < 2 {
		return "unknown"
	}
	kind, size := descr[1], descr[2:]
	switch kind {
	case 'f':
		if size == "16" || size == "12" {
			return "long double"
		}
		return "float" + strconv.Itoa(atoiOr(size, 0)*8)
	case 'i':
		return "int" + strconv.Itoa(atoiOr(size, 0)*8)
	case 'u':
		return "uint" + strconv.Itoa(atoiOr(size, 0)*8)
	case 'b':
		return "bool"
	case 'c':
		return "complex"
	case 'O':
		return "Python objects"
	case 'U', 'S':
		return "text"
	case 'V':
		return "raw bytes"
	case 'M', 'm':
		return "dates or times"
	}
	return "unknown"
}

func atoiOr(s string, def int) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return v
}

// pyParser parses the subset of Python literals .npy headers use: dicts,
// tuples, lists, strings, booleans, integers.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) skip() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\n\r", rune(p.s[p.i])) {
		p.i++
	}
}

func (p *pyParser) value() (any, error) {
	p.skip()
	if p.i >= len(p.s) {
		return nil, errors.New("ends early")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.dict()
	case c == '(' || c == '[':
		return p.sequence(c)
	case c == '\'' || c == '"':
		return p.str()
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case c >= '0' && c <= '9' || c == '-':
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("integer %q: %w", p.s[p.i:j], err)
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2's long
			p.i++
		}
		return v, nil
	default:
		return nil, fmt.Errorf("unexpected %q", p.s[p.i:min(len(p.s), p.i+10)])
	}
}

func (p *pyParser) str() (string, error) {
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, nil
}

func (p *pyParser) dict() (any, error) {
	p.i++ // {
	d := map[string]any{}
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			return nil, errors.New("dict key is not a string")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, fmt.Errorf("no ':' after key %q", k)
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if _, dup := d[k]; dup {
			return nil, fmt.Errorf("key %q twice", k)
		}
		d[k] = v
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		} else if p.i >= len(p.s) || p.s[p.i] != '}' {
			return nil, errors.New("no ',' or '}' after a value")
		}
	}
}

// sequence parses a tuple or list: of integers it is []int (a shape);
// anything else (a structured dtype's list of fields) is []any.
func (p *pyParser) sequence(open byte) (any, error) {
	close := byte(')')
	if open == '[' {
		close = ']'
	}
	p.i++
	var items []any
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == close {
			p.i++
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		} else if p.i >= len(p.s) || p.s[p.i] != close {
			return nil, fmt.Errorf("no ',' or '%c' in a sequence", close)
		}
	}
	ints := make([]int, len(items))
	for i, v := range items {
		k, ok := v.(int)
		if !ok {
			return items, nil
		}
		ints[i] = k
	}
	return ints, nil
}

// readNPY reads one .npy array of size bytes (header included) from r as
// vectors. file and where ("" or the .npz member) locate errors.
func readNPY(ctx context.Context, r io.Reader, size int64, file, member string) (*matrix, error) {
	at := func(s string) string {
		if member == "" {
			return s
		}
		if s == "" {
			return member
		}
		return member + ", " + s
	}
	h, err := readNPYHeader(r)
	if err != nil {
		return nil, &InputError{File: file, Where: at("header"), Err: err}
	}
	shape := "(" + strings.Trim(strings.ReplaceAll(fmt.Sprint(h.shape), " ", ", "), "[]") + ")"
	if len(h.shape) == 1 {
		shape = fmt.Sprintf("(%d,)", h.shape[0])
	}
	if len(h.shape) != 2 {
		return nil, inputErr(file, 0, at("header"), "shape %s is not 2-D (vectors, dimension)", shape)
	}
	n, dim := h.shape[0], h.shape[1]
	if n < 0 || dim < 0 {
		return nil, inputErr(file, 0, at("header"), "shape %s has a negative size", shape)
	}
	if dim == 0 || dim > maxDim {
		return nil, inputErr(file, 0, at("header"), "shape %s: vectors of dimension %d; winnow reads 1 to %d", shape, dim, maxDim)
	}
	if n == 0 {
		return nil, inputErr(file, 0, at("header"), "shape %s holds no vectors", shape)
	}
	if n > math.MaxInt32 || int64(n)*int64(dim) > math.MaxInt64/8 {
		return nil, inputErr(file, 0, at("header"), "shape %s is too large", shape)
	}
	want := int64(n) * int64(dim) * int64(h.size)
	if size >= 0 && size-h.length != want {
		return nil, inputErr(file, 0, at(""), "data holds %d bytes, but shape %s of %s needs %d", size-h.length, shape, h.descr, want)
	}
	m := &matrix{n: n, dim: dim, data: make([]float32, n*dim)}
	if err := m.fill(ctx, r, h, file, at); err != nil {
		return nil, err
	}
	return m, nil
}

// fill reads the array's values into m.data: each chunk is decoded into
// float32 by one tight loop per value width, checked, and copied (C
// order) or scattered (Fortran order) into place.
func (m *matrix) fill(ctx context.Context, r io.Reader, h npyHeader, file string, at func(string) string) error {
	var bo binary.ByteOrder = binary.LittleEndian
	if h.big {
		bo = binary.BigEndian
	}
	total := m.n * m.dim
	buf := make([]byte, (1<<20)/8*h.size)
	vals := make([]float32, len(buf)/h.size)
	var half []float32 // float16 bits -> float32: a table beats the bit twiddling
	if h.size == 2 {
		half = make([]float32, 1<<16)
		for x := range half {
			half[x] = halfToFloat32(uint16(x))
		}
	}
	i, j := 0, 0 // Fortran order: the row and column of value k
	for k := 0; k < total; {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(len(buf), (total-k)*h.size)]
		if got, err := io.ReadFull(r, chunk); err != nil {
			return inputErr(file, 0, at(""), "data ends after %d of its %d bytes (truncated?)", int64(k)*int64(h.size)+int64(got), int64(total)*int64(h.size))
		}
		// C order decodes straight into place; Fortran order through vals.
		v := m.data[k : k+len(chunk)/h.size]
		if h.fortran {
			v = vals[:len(chunk)/h.size]
		}
		switch h.size {
		case 2:
			for x := range v {
				v[x] = half[bo.Uint16(chunk[2*x:])]
			}
		case 4:
			for x := range v {
				v[x] = math.Float32frombits(bo.Uint32(chunk[4*x:]))
			}
		case 8:
			for x := range v {
				v[x] = float32(math.Float64frombits(bo.Uint64(chunk[8*x:])))
			}
		}
		if x := firstNonFinite(v); x >= 0 {
			kk := k + x
			r, c := kk/m.dim, kk%m.dim
			if h.fortran {
				r, c = kk%m.n, kk/m.n
			}
			what := fmt.Sprint(v[x])
			if h.size == 8 {
				if wide := math.Float64frombits(bo.Uint64(chunk[8*x:])); !math.IsNaN(wide) && !math.IsInf(wide, 0) {
					what = fmt.Sprintf("%g, beyond float32's range", wide)
				}
			}
			return inputErr(file, 0, at(fmt.Sprintf("row %d, column %d", r, c)), "%s; vectors must be finite", what)
		}
		if h.fortran {
			for _, x := range v {
				m.data[i*m.dim+j] = x
				if i++; i == m.n {
					i, j = 0, j+1
				}
			}
		}
		k += len(v)
	}
	return nil
}

// firstNonFinite is the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// readNPYFile reads the .npy file at path.
func readNPYFile(ctx context.Context, path string, progress func(done, total int)) (*matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readNPY(ctx, bufio.NewReaderSize(newProgressReader(f, fi.Size(), progress), 1<<20), fi.Size(), path, "")
}

// ArrayChoiceError reports an .npz holding several arrays when none was
// chosen, or not the one chosen.
type ArrayChoiceError struct {
	File   string
	Arrays []string // the arrays it holds
	Chosen string   // the array asked for, or ""
}

func (e *ArrayChoiceError) Error() string {
	if e.Chosen != "" {
		return fmt.Sprintf("%s has no array %q (arrays: %s)", e.File, e.Chosen, strings.Join(e.Arrays, ", "))
	}
	return fmt.Sprintf("%s holds %d arrays (%s): choose one", e.File, len(e.Arrays), strings.Join(e.Arrays, ", "))
}

// readNPZFile reads array name ("" for the only one) of the .npz file at
// path.
func readNPZFile(ctx context.Context, path, name string, progress func(done, total int)) (*matrix, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, &InputError{File: path, Err: fmt.Errorf("not an .npz (zip) archive: %w", err)}
	}
	defer zr.Close()
	var arrays []string
	var chosen *zip.File
	for _, f := range zr.File {
		a := strings.TrimSuffix(f.Name, ".npy")
		arrays = append(arrays, a)
		if name == a || name == f.Name {
			chosen = f
		}
	}
	switch {
	case name == "" && len(zr.File) == 1:
		chosen = zr.File[0]
	case len(zr.File) == 0:
		return nil, inputErr(path, 0, "", "the archive holds no array")
	case chosen == nil:
		return nil, &ArrayChoiceError{File: path, Arrays: arrays, Chosen: name}
	}
	rc, err := chosen.Open()
	if err != nil {
		return nil, &InputError{File: path, Where: chosen.Name, Err: err}
	}
	defer rc.Close()
	size := int64(chosen.UncompressedSize64)
	if size < 0 {
		size = -1
	}
	m, err := readNPY(ctx, bufio.NewReaderSize(newProgressReader(rc, size, progress), 1<<20), size, path, chosen.Name)
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
		return nil, &InputError{File: path, Where: chosen.Name, Err: err}
	}
	return m, err
}

// maxDim bounds a vector's dimension, as columnar does.
const maxDim = 1 << 20
