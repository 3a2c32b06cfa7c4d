package importers

// Reading vectors from a table another program wrote: a Parquet file with
// a list column (through columnar, the module's Parquet reader), or a CSV
// file with a header, whose vectors are either one column of list text
// ("[0.1, 0.2]" as pandas writes lists, "[0.1 0.2]" as numpy prints
// arrays) or every column but the id ("wide": id,e0,e1,...).

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/winnow-data/winnow/columnar"
)

// vectorInput is what an input file holds: vectors, and for tables the
// text of each vector's id.
type vectorInput struct {
	m   *matrix
	ids []string // one per vector; nil when the file has none (.npy)
	// idColumn is the table's column the ids came from.
	idColumn string
	// locate names where vector k (its id) is in the input.
	locate func(k int) (line int, where string)
}

// ColumnChoiceError reports a table in which winnow cannot tell which
// column holds the ids or the vectors, or lacks the one named.
type ColumnChoiceError struct {
	File    string
	Role    string   // "id" or "vector"
	Named   string   // the column asked for, or ""
	Columns []string // the table's columns
}

func (e *ColumnChoiceError) Error() string {
	if e.Named != "" {
		return fmt.Sprintf("%s has no column %q (columns: %s)", e.File, e.Named, strings.Join(e.Columns, ", "))
	}
	return fmt.Sprintf("%s: cannot tell which column holds the %ss (columns: %s): name it", e.File, e.Role, strings.Join(e.Columns, ", "))
}

// Conventional column names, in the order they are tried.
var (
	idColumnNames     = []string{"sample_id", "id", "file_name", "filename", "file_path", "path"}
	vectorColumnNames = []string{"embedding", "vector", "embeddings", "vectors", "emb", "features"}
)

// pickColumn returns named if it is a column, else the first of the
// conventional names that is, else the only column that fits.
func pickColumn(file, role, named string, columns, conventional []string, fits func(string) bool) (string, error) {
	if named != "" {
		if !slices.Contains(columns, named) {
			return "", &ColumnChoiceError{File: file, Role: role, Named: named, Columns: columns}
		}
		return named, nil
	}
	for _, c := range conventional {
		if slices.Contains(columns, c) {
			return c, nil
		}
	}
	var fit []string
	for _, c := range columns {
		if fits != nil && fits(c) {
			fit = append(fit, c)
		}
	}
	if len(fit) == 1 {
		return fit[0], nil
	}
	return "", &ColumnChoiceError{File: file, Role: role, Columns: columns}
}

// readParquetVectors reads the vectors (and, unless withoutIDs, the ids)
// of the Parquet table at path. Null vectors are rows without a vector and
// are skipped.
func readParquetVectors(ctx context.Context, path, idCol, vecCol string, withoutIDs bool) (*vectorInput, error) {
	st, err := columnar.Stat(path)
	if err != nil {
		return nil, err
	}
	var names []string
	types := map[string]string{}
	for _, c := range st.Columns {
		names = append(names, c.Name)
		types[c.Name] = c.Type
	}
	vecCol, err = pickColumn(path, "vector", vecCol, names, vectorColumnNames, func(c string) bool { return strings.HasSuffix(types[c], "]") })
	if err != nil {
		return nil, err
	}
	read := []string{vecCol}
	if !withoutIDs {
		if idCol, err = pickColumn(path, "id", idCol, names, idColumnNames, nil); err != nil {
			return nil, err
		}
		read = append(read, idCol)
	}
	cols, _, err := columnar.ReadPlainColumns(ctx, path, read)
	if err != nil {
		return nil, err
	}
	vecs, ok := cols[0].Values.(columnar.Vectors)
	if !ok {
		return nil, inputErr(path, 0, fmt.Sprintf("column %q", vecCol), "has type %s, want a list of floats", types[vecCol])
	}
	var ids []string
	if !withoutIDs {
		if ids, err = idTexts(path, cols[1]); err != nil {
			return nil, err
		}
	}
	in := &vectorInput{m: &matrix{dim: vecs.Dim}, idColumn: idCol}
	var rows []int // table row of each vector
	for r := 0; r < vecs.Len(); r++ {
		if cols[0].Null != nil && cols[0].Null[r] {
			continue
		}
		v := vecs.Values[r*vecs.Dim : (r+1)*vecs.Dim]
		if x := firstNonFinite(v); x >= 0 {
			return nil, inputErr(path, 0, fmt.Sprintf("row %d, column %q, element %d", r, vecCol, x), "%v; vectors must be finite", v[x])
		}
		if ids != nil {
			if cols[1].Null != nil && cols[1].Null[r] {
				return nil, inputErr(path, 0, fmt.Sprintf("row %d", r), "the id (column %q) is null", idCol)
			}
			in.ids = append(in.ids, ids[r])
		}
		rows = append(rows, r)
	}
	// Keep only the rows with vectors, compacting in place.
	for k, r := range rows {
		copy(vecs.Values[k*vecs.Dim:], vecs.Values[r*vecs.Dim:(r+1)*vecs.Dim])
	}
	in.m.n, in.m.data = len(rows), vecs.Values[:len(rows)*vecs.Dim]
	in.locate = func(k int) (int, string) { return 0, fmt.Sprintf("row %d", rows[k]) }
	if in.m.n == 0 {
		return nil, inputErr(path, 0, "", "holds no vectors")
	}
	return in, nil
}

// idTexts is an id column's values as text.
func idTexts(file string, c columnar.PlainColumn) ([]string, error) {
	switch v := c.Values.(type) {
	case []string:
		return v, nil
	case []int64:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = strconv.FormatInt(x, 10)
		}
		return out, nil
	}
	return nil, inputErr(file, 0, fmt.Sprintf("column %q", c.Name), "ids must be strings, integers or UUIDs")
}

// readCSVVectors reads a CSV table of vectors with a header line.
func readCSVVectors(ctx context.Context, path, idCol, vecCol string, withoutIDs bool, progress func(done, total int)) (*vectorInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bufio.NewReaderSize(newProgressReader(f, fi.Size(), progress), 1<<20))
	cr.ReuseRecord = true
	csvErr := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &InputError{File: path, Line: pe.Line, Err: pe.Err}
		}
		return &InputError{File: path, Err: err}
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, inputErr(path, 0, "", "empty file (a CSV table needs a header line)")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	header = slices.Clone(header)
	idAt := -1
	if !withoutIDs {
		if idCol, err = pickColumn(path, "id", idCol, header, idColumnNames, nil); err != nil {
			return nil, err
		}
		idAt = slices.Index(header, idCol)
	}
	vecAt := -1 // -1: wide, every other column
	if vecCol != "" || slices.ContainsFunc(header, func(h string) bool { return slices.Contains(vectorColumnNames, h) }) {
		if vecCol, err = pickColumn(path, "vector", vecCol, header, vectorColumnNames, nil); err != nil {
			return nil, err
		}
		vecAt = slices.Index(header, vecCol)
	}
	in := &vectorInput{m: &matrix{}, idColumn: idCol}
	var lines []int
	var v []float32
	for row := 0; ; row++ {
		if row%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		v = v[:0]
		if vecAt >= 0 {
			text := strings.TrimSpace(rec[vecAt])
			if text == "" {
				continue // no vector
			}
			text = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(text, "["), "]"), "("), ")")
			for _, s := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
				x, err := parseVectorValue(s)
				if err != nil {
					return nil, inputErr(path, line, fmt.Sprintf("column %q, element %d", vecCol, len(v)), "%v", err)
				}
				v = append(v, x)
			}
		} else {
			for i, s := range rec {
				if i == idAt {
					continue
				}
				x, err := parseVectorValue(strings.TrimSpace(s))
				if err != nil {
					return nil, inputErr(path, line, fmt.Sprintf("column %q", header[i]), "%v", err)
				}
				v = append(v, x)
			}
		}
		switch {
		case len(v) == 0:
			return nil, inputErr(path, line, "", "an empty vector")
		case in.m.dim == 0:
			if len(v) > maxDim {
				return nil, inputErr(path, line, "", "a vector of dimension %d; winnow reads up to %d", len(v), maxDim)
			}
			in.m.dim = len(v)
		case len(v) != in.m.dim:
			return nil, inputErr(path, line, "", "a vector of %d values, but the first has %d", len(v), in.m.dim)
		}
		in.m.data = append(in.m.data, v...)
		if idAt >= 0 {
			in.ids = append(in.ids, rec[idAt])
		}
		lines = append(lines, line)
	}
	in.m.n = len(lines)
	if in.m.n == 0 {
		return nil, inputErr(path, 0, "", "holds no vectors")
	}
	in.locate = func(k int) (int, string) { return lines[k], "" }
	return in, nil
}

// parseVectorValue parses one value of a vector as float32.
func parseVectorValue(s string) (float32, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%s; vectors must be finite", s)
	}
	if math.Abs(x) > math.MaxFloat32 {
		return 0, fmt.Errorf("%s is beyond float32's range", s)
	}
	return float32(x), nil
}
