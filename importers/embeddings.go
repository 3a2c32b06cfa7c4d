package importers

// Adding an embedding model to an existing dataset.
//
// The vectors are read whole (they are the model table's content, and
// must be reordered into dataset order), their ids matched to samples,
// then the table is written batch by batch through an atomic replacement
// of embeddings/MODEL.parquet, under the dataset's writer lock (the one
// tag commits take), so two winnow processes never replace a table of the
// same dataset at once. Peak memory is the float32 matrix plus one batch.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
)

// EmbeddingsOptions adjust Embeddings.
type EmbeddingsOptions struct {
	// Model names the model: the table is embeddings/MODEL.parquet.
	Model string
	// IDs is a text file of one id per line, the i-th line the id of the
	// i-th vector. .npy and .npz files need it; a table's own id column
	// is used when it is "".
	IDs string
	// Match says what the ids are: "id" (sample ids) or the name of a
	// samples column of unique strings, such as "file_name" or
	// "file_path". "" means "id", except for a table's id column named
	// like a samples column (file_name), which is matched to that column.
	Match string
	// Array chooses the array of an .npz that holds several.
	Array string
	// IDColumn and VectorColumn name a table's columns; "" takes the
	// conventional names (sample_id, id, file_name, ...; embedding,
	// vector, ...), the only list column of a Parquet table, or every
	// column but the id of a CSV table.
	IDColumn, VectorColumn string
	// Force replaces a model the dataset already has.
	Force bool
	// Progress, when set, is called with the bytes of the input read so
	// far and its size.
	Progress func(done, total int)
}

// EmbeddingsResult is what Embeddings wrote.
type EmbeddingsResult struct {
	Path    string // the table written
	Model   string
	Vectors int // vectors written, one per matched sample
	Dim     int
	Samples int // samples in the dataset; Samples - Vectors have no vector
}

// ErrNoIDs is the error of vectors without ids (an .npy or .npz) imported
// without a file of ids.
var ErrNoIDs = errors.New("holds no ids")

// lockTimeout is how long Embeddings waits for another winnow process
// writing the same dataset.
const lockTimeout = 60 * time.Second

// Embeddings adds the vectors in file (.npy, .npz, .parquet or .csv) to
// the dataset in folder dir as model opts.Model, matching them to samples
// by their ids. Every vector must match a sample, at most one per sample;
// samples may have none. An existing model is replaced only with Force.
// Malformed input is an *InputError and writes nothing.
func Embeddings(ctx context.Context, file, dir string, opts EmbeddingsOptions) (*EmbeddingsResult, error) {
	if err := checkModelName(opts.Model); err != nil {
		return nil, err
	}
	ds, err := columnar.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	target := filepath.Join(dir, "embeddings", opts.Model+".parquet")
	if err := modelFree(ds, target, opts.Model, opts.Force); err != nil {
		return nil, err
	}
	in, err := readVectors(ctx, file, opts)
	if err != nil {
		return nil, err
	}
	if opts.IDs != "" {
		if in.ids, in.locate, err = readIDs(opts.IDs, in.m.n, file); err != nil {
			return nil, err
		}
	}
	match := opts.Match
	if match == "" {
		match = "id"
		if opts.IDs == "" && isSampleColumn(ds, in.idColumn) {
			match = in.idColumn
		}
	}
	idsFile := file
	if opts.IDs != "" {
		idsFile = opts.IDs
	}
	vecOf, err := matchIDs(ctx, ds, in, match, idsFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, err
	}
	unlock, err := atomicfile.Lock(ctx, ds.LockPath(), lockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Checked again under the lock: another import may have added it.
	if err := modelFree(ds, target, opts.Model, opts.Force); err != nil {
		return nil, err
	}
	var rows []int // dataset rows with a vector, in dataset order
	for r, k := range vecOf {
		if k >= 0 {
			rows = append(rows, r)
		}
	}
	err = atomicfile.WriteFile(target, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 1<<20)
		if err := writeVectors(ctx, w, ds, in.m, rows, vecOf); err != nil {
			return err
		}
		return w.Flush()
	}, atomicfile.Options{})
	if err != nil {
		return nil, err
	}
	return &EmbeddingsResult{Path: target, Model: opts.Model, Vectors: len(rows), Dim: in.m.dim, Samples: ds.Len()}, nil
}

// isSampleColumn reports whether a table input's id column is named like
// a samples column other than the id (so its values are that column's).
func isSampleColumn(ds *columnar.Dataset, idCol string) bool {
	if idCol == "" || idCol == columnar.SampleIDColumn || idCol == "id" {
		return false
	}
	return len(ds.SampleSchema().FieldIndices(idCol)) > 0
}

// checkModelName refuses names that are not a plain file name winnow
// would list as a model.
func checkModelName(name string) error {
	switch {
	case name == "":
		return errors.New("no model name")
	case strings.ContainsAny(name, `/\`+"\x00"), name == "." || name == "..":
		return fmt.Errorf("model name %q is not a plain file name", name)
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_"):
		return fmt.Errorf("model name %q starts with %q; winnow skips such files", name, name[:1])
	case strings.HasSuffix(name, ".parquet"):
		return fmt.Errorf("model name %q ends in .parquet; name the model without it", name)
	}
	return nil
}

// modelFree checks that model may be written at target.
func modelFree(ds *columnar.Dataset, target, model string, force bool) error {
	folder := strings.TrimSuffix(target, ".parquet")
	if fi, err := os.Stat(folder); err == nil && fi.IsDir() {
		return fmt.Errorf("model %q is the folder %s; remove it to import the model as one file", model, folder)
	}
	if _, err := os.Stat(target); err == nil && !force {
		return &ExistsError{Path: target, What: "exists"}
	}
	return nil
}

// readVectors reads the vectors of file, by its extension.
func readVectors(ctx context.Context, file string, opts EmbeddingsOptions) (*vectorInput, error) {
	noIDs := func(m *matrix, err error) (*vectorInput, error) {
		if err != nil {
			return nil, err
		}
		if opts.IDs == "" {
			return nil, fmt.Errorf("%s %w: give a file of ids, one per line, in the vectors' order", file, ErrNoIDs)
		}
		return &vectorInput{m: m}, nil
	}
	switch ext := strings.ToLower(filepath.Ext(file)); ext {
	case ".npy":
		return noIDs(readNPYFile(ctx, file, opts.Progress))
	case ".npz":
		return noIDs(readNPZFile(ctx, file, opts.Array, opts.Progress))
	case ".parquet":
		return readParquetVectors(ctx, file, opts.IDColumn, opts.VectorColumn, opts.IDs != "")
	case ".csv":
		return readCSVVectors(ctx, file, opts.IDColumn, opts.VectorColumn, opts.IDs != "", opts.Progress)
	default:
		return nil, fmt.Errorf("%s: winnow imports vectors from .npy, .npz, .parquet and .csv files, not %q", file, ext)
	}
}

// readIDs reads a file of n ids, one per line.
func readIDs(path string, n int, vectorsFile string) ([]string, func(int) (int, string), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" {
			return nil, nil, inputErr(path, line, "", "empty line: every line is the id of one vector")
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, &InputError{File: path, Line: len(ids) + 1, Err: err}
	}
	if len(ids) != n {
		return nil, nil, inputErr(path, 0, "", "%d ids for the %d vectors of %s", len(ids), n, vectorsFile)
	}
	return ids, func(k int) (int, string) { return k + 1, "" }, nil
}

// matchIDs finds the dataset row of each vector: vecOf[row] is the
// vector of that row, or -1. match is "id" or a samples column name.
func matchIDs(ctx context.Context, ds *columnar.Dataset, in *vectorInput, match, idsFile string) ([]int32, error) {
	var lookup func(s string) (row int, ok bool, err error)
	var what string
	if match == "id" || match == columnar.SampleIDColumn {
		lookup = func(s string) (int, bool, error) { return ds.LookupText(ctx, s) }
		what = "sample id"
	} else {
		col, err := ds.CategoricalColumn(ctx, match)
		if err != nil {
			return nil, fmt.Errorf("match by %s: %w", match, err)
		}
		counts, _ := col.Counts()
		rowOf := make(map[string]int32, len(col.Values))
		for r, c := range col.Codes {
			if c >= 0 {
				rowOf[col.Values[c]] = int32(r)
			}
		}
		lookup = func(s string) (int, bool, error) {
			r, ok := rowOf[s]
			if ok && counts[col.Codes[r]] > 1 {
				return 0, false, fmt.Errorf("%d samples have %s %q; ids matched by %s must name one sample", counts[col.Codes[r]], match, s, match)
			}
			return int(r), ok, nil
		}
		what = match
	}
	vecOf := make([]int32, ds.Len())
	for i := range vecOf {
		vecOf[i] = -1
	}
	for k, s := range in.ids {
		if k%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, where := in.locate(k)
		row, ok, err := lookup(s)
		if err != nil {
			return nil, &InputError{File: idsFile, Line: line, Where: where, Err: err}
		}
		if !ok {
			return nil, inputErr(idsFile, line, where, "%s %q matches no sample", what, s)
		}
		if prev := vecOf[row]; prev >= 0 {
			pl, pw := in.locate(int(prev))
			return nil, inputErr(idsFile, line, where, "%s %q names the same sample as %s; a sample has at most one vector", what, s, place(pl, pw))
		}
		vecOf[row] = int32(k)
	}
	return vecOf, nil
}

// place names a line or other locator in a message.
func place(line int, where string) string {
	if line > 0 {
		return fmt.Sprintf("line %d", line)
	}
	return where
}

// writeVectors writes the model table: the samples' ids in the dataset's
// own id type and their vectors, in dataset order, one row group at a
// time, as columnar.EmbeddingWriterOptions says.
func writeVectors(ctx context.Context, w io.Writer, ds *columnar.Dataset, m *matrix, rows []int, vecOf []int32) error {
	opts := columnar.EmbeddingWriterOptions(m.dim)
	group := int(opts.RowGroupRows)
	pw := columnar.NewPlainWriter(w, opts)
	buf := make([]float32, 0, min(len(rows), group)*m.dim)
	for lo := 0; lo < len(rows); lo += group {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(len(rows), lo+group)
		buf = buf[:0]
		for _, r := range rows[lo:hi] {
			k := int(vecOf[r])
			buf = append(buf, m.data[k*m.dim:(k+1)*m.dim]...)
		}
		if err := pw.Write(ctx, []columnar.PlainColumn{
			ds.IDColumn(columnar.SampleIDColumn, rows[lo:hi]),
			{Name: columnar.EmbeddingColumn, Values: columnar.Vectors{Dim: m.dim, Values: buf}},
		}); err != nil {
			return err
		}
	}
	return pw.Close()
}
