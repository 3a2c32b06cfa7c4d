package importers

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// npyBytes writes an array as the .npy format specifies (numpy.lib.format,
// version major.0): magic, version, header length, the dict literal padded
// with spaces to a multiple of 64 bytes and ended by a newline, then the
// values in the dtype's width and byte order, in C or Fortran order.
func npyBytes(major int, descr string, fortran bool, shape []int, rowMajor []float64) []byte {
	fo := "False"
	if fortran {
		fo = "True"
	}
	sh := ""
	for _, s := range shape {
		sh += fmt.Sprintf("%d, ", s)
	}
	if len(shape) > 1 {
		sh = strings.TrimSuffix(sh, ", ")
	} else {
		sh = strings.TrimSuffix(sh, " ")
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }", descr, fo, sh)
	lenBytes := 2
	if major > 1 {
		lenBytes = 4
	}
	pre := 6 + 2 + lenBytes
	pad := 64 - (pre+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	header := dict + strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.Write([]byte{byte(major), 0})
	if lenBytes == 2 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	var bo binary.ByteOrder = binary.LittleEndian
	if descr[0] == '>' {
		bo = binary.BigEndian
	}
	vals := rowMajor
	if fortran && len(shape) == 2 {
		n, d := shape[0], shape[1]
		vals = make([]float64, len(rowMajor))
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				vals[j*n+i] = rowMajor[i*d+j]
			}
		}
	}
	for _, v := range vals {
		switch descr[1:] {
		case "f2":
			binary.Write(&b, bo, float32ToHalf(float32(v)))
		case "f4":
			binary.Write(&b, bo, float32(v))
		case "f8":
			binary.Write(&b, bo, v)
		case "i8":
			binary.Write(&b, bo, int64(v))
		}
	}
	return b.Bytes()
}

// float32ToHalf converts values exactly representable in float16 (the
// tests use only such values) and NaN/Inf.
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	switch {
	case f != f:
		return sign | 0x7e00
	case math.IsInf(float64(f), 0):
		return sign | 0x7c00
	case f == 0:
		return sign
	}
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	if exp <= 0 { // subnormal half
		return sign | uint16((mant|0x800000)>>(14-exp))
	}
	return sign | uint16(exp)<<10 | uint16(mant>>13)
}

// testVectors are three vectors of dimension 4, exact in float16.
var testVectors = []float64{
	0, 0.5, -1, 2,
	1.5, -0.25, 1024, 0.125,
	-3, 6.5, 0.0009765625, 65504,
}

// embeddingsDataset imports the COCO test file as a dataset (three
// samples: 000000397133.jpg, 000000037777.jpg, 000000252219.jpg).
func embeddingsDataset(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ds")
	_, err := COCO(context.Background(), writeCOCO(t, cocoDoc()), out, COCOOptions{})
	require.NoError(t, err)
	return out
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// readModel reads a model's vectors by dataset row (nil for none).
func readModel(t *testing.T, dir, model string) [][]float32 {
	t.Helper()
	ctx := context.Background()
	ds, err := columnar.Open(ctx, dir)
	require.NoError(t, err)
	m, err := ds.ReadEmbeddings(ctx, model)
	require.NoError(t, err)
	out := make([][]float32, ds.Len())
	for i := range out {
		if m.Present.Get(i) {
			out[i] = m.Row(i)
		}
	}
	return out
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestEmbeddingsNPY imports .npy files of each dtype, byte order,
// memory order and format version, matched by file name with a sample
// left without a vector, and reads the model back through columnar.
func TestEmbeddingsNPY(t *testing.T) {
	ctx := context.Background()
	ids := writeFile(t, "ids.txt", []byte("000000252219.jpg\r\n000000397133.jpg\n"))
	for _, descr := range []string{"<f2", ">f2", "<f4", ">f4", "<f8", ">f8"} {
		for _, fortran := range []bool{false, true} {
			for _, major := range []int{1, 2, 3} {
				name := fmt.Sprintf("%s/fortran=%v/v%d", descr, fortran, major)
				t.Run(name, func(t *testing.T) {
					dir := embeddingsDataset(t)
					in := writeFile(t, "emb.npy", npyBytes(major, descr, fortran, []int{2, 4}, testVectors[:8]))
					res, err := Embeddings(ctx, in, dir, EmbeddingsOptions{Model: "clip", IDs: ids, Match: "file_name"})
					require.NoError(t, err)
					require.Equal(t, &EmbeddingsResult{Path: filepath.Join(dir, "embeddings", "clip.parquet"), Model: "clip", Vectors: 2, Dim: 4, Samples: 3}, res)
					got := readModel(t, dir, "clip")
					require.Equal(t, f32(testVectors[4:8]), got[0]) // 000000397133.jpg is row 0
					require.Nil(t, got[1])
					require.Equal(t, f32(testVectors[0:4]), got[2])
				})
			}
		}
	}
}

// TestEmbeddingsBySampleID matches vectors by sample id, the default, and
// replaces a model only when told to.
func TestEmbeddingsBySampleID(t *testing.T) {
	ctx := context.Background()
	dir := embeddingsDataset(t)
	names := []string{"000000397133.jpg", "000000037777.jpg", "000000252219.jpg"}
	var idText string
	for _, n := range []int{2, 0, 1} {
		idText += SampleID(names[n]).String() + "\n"
	}
	ids := writeFile(t, "ids.txt", []byte(idText))
	in := writeFile(t, "emb.npy", npyBytes(1, "<f4", false, []int{3, 4}, testVectors))
	_, err := Embeddings(ctx, in, dir, EmbeddingsOptions{Model: "m", IDs: ids})
	require.NoError(t, err)
	got := readModel(t, dir, "m")
	require.Equal(t, [][]float32{f32(testVectors[4:8]), f32(testVectors[8:12]), f32(testVectors[0:4])}, got)

	before, _ := os.ReadFile(filepath.Join(dir, "embeddings", "m.parquet"))
	in2 := writeFile(t, "emb.npy", npyBytes(1, "<f4", false, []int{3, 4}, make([]float64, 12)))
	_, err = Embeddings(ctx, in2, dir, EmbeddingsOptions{Model: "m", IDs: ids})
	var ee *ExistsError
	require.ErrorAs(t, err, &ee)
	require.EqualError(t, err, filepath.Join(dir, "embeddings", "m.parquet")+" exists")
	after, _ := os.ReadFile(filepath.Join(dir, "embeddings", "m.parquet"))
	require.Equal(t, before, after)
	_, err = Embeddings(ctx, in2, dir, EmbeddingsOptions{Model: "m", IDs: ids, Force: true})
	require.NoError(t, err)
	require.Equal(t, make([]float32, 4), readModel(t, dir, "m")[0])
	left, _ := filepath.Glob(filepath.Join(dir, "embeddings", ".*"))
	require.Empty(t, left)
}

// npzBytes is a zip of .npy members, as numpy.savez (stored) and
// savez_compressed (deflated) write them.
func npzBytes(t *testing.T, deflate bool, members map[string][]byte, order ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: method})
		require.NoError(t, err)
		_, err = w.Write(members[name])
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestEmbeddingsNPZ(t *testing.T) {
	ctx := context.Background()
	ids := writeFile(t, "ids.txt", []byte("000000397133.jpg\n000000037777.jpg\n000000252219.jpg\n"))
	members := map[string][]byte{
		"emb":   npyBytes(1, "<f8", true, []int{3, 4}, testVectors),
		"other": npyBytes(1, "<f4", false, []int{3, 1}, []float64{1, 2, 3}),
	}
	for _, deflate := range []bool{false, true} {
		dir := embeddingsDataset(t)
		in := writeFile(t, "emb.npz", npzBytes(t, deflate, members, "emb", "other"))
		_, err := Embeddings(ctx, in, dir, EmbeddingsOptions{Model: "m", IDs: ids, Match: "file_name"})
		var ac *ArrayChoiceError
		require.ErrorAs(t, err, &ac)
		require.EqualError(t, err, in+" holds 2 arrays (emb, other): choose one")
		_, err = Embeddings(ctx, in, dir, EmbeddingsOptions{Model: "m", IDs: ids, Match: "file_name", Array: "nope"})
		require.EqualError(t, err, in+` has no array "nope" (arrays: emb, other)`)
		_, err = Embeddings(ctx, in, dir, EmbeddingsOptions{Model: "m", IDs: ids, Match: "file_name", Array: "emb"})
		require.NoError(t, err)
		require.Equal(t, f32(testVectors[8:12]), readModel(t, dir, "m")[2])

		one := writeFile(t, "one.npz", npzBytes(t, deflate, members, "other"))
		_, err = Embeddings(ctx, one, dir, EmbeddingsOptions{Model: "one", IDs: ids, Match: "file_name"})
		require.NoError(t, err)
		require.Equal(t, []float32{2}, readModel(t, dir, "one")[1])
	}
}

// TestEmbeddingsTables imports vectors from Parquet and CSV tables with
// their own id columns: file names (matched to file_name by the column's
// name), sample ids, list text and wide columns.
func TestEmbeddingsTables(t *testing.T) {
	ctx := context.Background()
	dir := embeddingsDataset(t)
	names := []string{"000000397133.jpg", "000000037777.jpg", "000000252219.jpg"}

	pq := filepath.Join(t.TempDir(), "vecs.parquet")
	f, err := os.Create(pq)
	require.NoError(t, err)
	require.NoError(t, columnar.WritePlain(ctx, f, []columnar.PlainColumn{
		{Name: "file_name", Values: []string{names[2], names[0]}},
		{Name: "score", Values: []float64{1, 2}},
		{Name: "vector", Values: columnar.Vectors{Dim: 4, Values: f32(testVectors[:8])}},
	}, nil))
	require.NoError(t, f.Close())
	_, err = Embeddings(ctx, pq, dir, EmbeddingsOptions{Model: "pq"})
	require.NoError(t, err)
	got := readModel(t, dir, "pq")
	require.Equal(t, f32(testVectors[4:8]), got[0])
	require.Equal(t, f32(testVectors[0:4]), got[2])

	csvList := writeFile(t, "list.csv", []byte("sample_id,embedding\n"+
		SampleID(names[1]).String()+",\"[1.5, -2, 3e-1]\"\n"+
		SampleID(names[0]).String()+",[4 5 6]\n"+
		SampleID(names[2]).String()+",\n"))
	_, err = Embeddings(ctx, csvList, dir, EmbeddingsOptions{Model: "csvlist"})
	require.NoError(t, err)
	got = readModel(t, dir, "csvlist")
	require.Equal(t, [][]float32{{4, 5, 6}, {1.5, -2, 0.3}, nil}, got)

	csvWide := writeFile(t, "wide.csv", []byte("e0,file_name,e1\n0.5,"+names[2]+",7\n"))
	_, err = Embeddings(ctx, csvWide, dir, EmbeddingsOptions{Model: "wide"})
	require.NoError(t, err)
	require.Equal(t, []float32{0.5, 7}, readModel(t, dir, "wide")[2])

	// An ids file overrides the table's ids.
	ids := writeFile(t, "ids.txt", []byte(names[1]+"\n"))
	_, err = Embeddings(ctx, csvWide, dir, EmbeddingsOptions{Model: "wide2", IDs: ids, Match: "file_name"})
	require.EqualError(t, err, csvWide+`:2: column "file_name": "000000252219.jpg" is not a number`)
	_, err = Embeddings(ctx, writeFile(t, "v.csv", []byte("a,b\n1,2\n")), dir, EmbeddingsOptions{Model: "wide2", IDs: ids, Match: "file_name"})
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2}, readModel(t, dir, "wide2")[1])
}

// TestEmbeddingsMalformed: each malformed input is an error with its
// message, naming the file and the line, row or header, and the dataset
// is left as it was.
func TestEmbeddingsMalformed(t *testing.T) {
	names := "000000397133.jpg\n000000037777.jpg\n"
	good := npyBytes(1, "<f4", false, []int{2, 4}, testVectors[:8])
	nan := slices8(testVectors)
	nan[6] = math.NaN()
	inf := slices8(testVectors)
	inf[1] = math.Inf(-1)
	huge := slices8(testVectors)
	huge[5] = 1e300
	for _, c := range []struct {
		name  string
		file  string // input name
		data  []byte
		ids   string // ids file content; "" for none
		opts  EmbeddingsOptions
		want  string // after "INPUT" (the input's path) or "IDS"
		plain bool   // not an *InputError
	}{
		{name: "NaN", file: "e.npy", data: npyBytes(1, "<f4", false, []int{2, 4}, nan), ids: names, want: "INPUT: row 1, column 2: NaN; vectors must be finite"},
		{name: "NaN in Fortran order", file: "e.npy", data: npyBytes(1, "<f2", true, []int{2, 4}, nan), ids: names, want: "INPUT: row 1, column 2: NaN; vectors must be finite"},
		{name: "infinity", file: "e.npy", data: npyBytes(1, ">f8", false, []int{2, 4}, inf), ids: names, want: "INPUT: row 0, column 1: -Inf; vectors must be finite"},
		{name: "float64 beyond float32", file: "e.npy", data: npyBytes(1, "<f8", false, []int{2, 4}, huge), ids: names, want: "INPUT: row 1, column 1: 1e+300, beyond float32's range; vectors must be finite"},
		{name: "truncated header", file: "e.npy", data: good[:40], ids: names, want: "INPUT: header: truncated header: it has 30 of its 118 bytes"},
		{name: "truncated before the header length", file: "e.npy", data: good[:7], ids: names, want: "INPUT: header: truncated header: the file has 7 bytes"},
		{name: "empty file", file: "e.npy", data: nil, ids: names, want: "INPUT: header: truncated header: the file has 0 bytes"},
		{name: "wrong magic", file: "e.npy", data: append([]byte("\x93NUMPX"), good[6:]...), ids: names, want: `INPUT: header: not a .npy file: it starts with "\x93NUMPX", not "\x93NUMPY"`},
		{name: "a text file", file: "e.npy", data: []byte("0.1 0.2\n"), ids: names, want: `INPUT: header: not a .npy file: it starts with "0.1 0.", not "\x93NUMPY"`},
		{name: "version 4", file: "e.npy", data: append(append([]byte(npyMagic), 4, 0), good[8:]...), ids: names, want: "INPUT: header: format version 4.0; winnow reads versions 1.0, 2.0 and 3.0"},
		{name: "int64 dtype", file: "e.npy", data: npyBytes(1, "<i8", false, []int{2, 4}, testVectors[:8]), ids: names,
			want: `INPUT: header: dtype "<i8" (int64); winnow reads float16, float32 and float64 ('<f2', '<f4', '<f8', or '>' for big-endian)`},
		{name: "object dtype", file: "e.npy", data: rawHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2, 4), }"), ids: names,
			want: `INPUT: header: dtype "|O" (Python objects); winnow reads float16, float32 and float64 ('<f2', '<f4', '<f8', or '>' for big-endian)`},
		{name: "structured dtype", file: "e.npy", data: rawHeader("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }"), ids: names,
			want: `INPUT: header: dtype is a structured (record) type; winnow reads float16, float32 and float64 arrays`},
		{name: "header not a dict", file: "e.npy", data: rawHeader("('<f4', False)"), ids: names, want: "INPUT: header: the header is not a dict"},
		{name: "header with an unknown key", file: "e.npy", data: rawHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), 'x': 1}"), ids: names,
			want: `INPUT: header: unknown key "x" in the header`},
		{name: "header syntax", file: "e.npy", data: rawHeader("{'descr': '<f4' 'shape': (2, 4)}"), ids: names, want: `INPUT: header: header "{'descr': '<f4' 'shape': (2, 4)}": no ',' or '}' after a value`},
		{name: "1-D shape", file: "e.npy", data: npyBytes(1, "<f4", false, []int{8}, testVectors[:8]), ids: names, want: "INPUT: header: shape (8,) is not 2-D (vectors, dimension)"},
		{name: "3-D shape", file: "e.npy", data: npyBytes(1, "<f4", false, []int{2, 2, 2}, testVectors[:8]), ids: names, want: "INPUT: header: shape (2, 2, 2) is not 2-D (vectors, dimension)"},
		{name: "dimension 0", file: "e.npy", data: npyBytes(1, "<f4", false, []int{2, 0}, nil), ids: names, want: "INPUT: header: shape (2, 0): vectors of dimension 0; winnow reads 1 to 1048576"},
		{name: "no vectors", file: "e.npy", data: npyBytes(1, "<f4", false, []int{0, 4}, nil), ids: "", want: "INPUT: header: shape (0, 4) holds no vectors"},
		{name: "truncated data", file: "e.npy", data: good[:len(good)-3], ids: names, want: "INPUT: data holds 29 bytes, but shape (2, 4) of <f4 needs 32"},
		{name: "extra data", file: "e.npy", data: append(slicesBytes(good), 0, 0, 0, 0), ids: names, want: "INPUT: data holds 36 bytes, but shape (2, 4) of <f4 needs 32"},
		{name: "no ids for a .npy", file: "e.npy", data: good, plain: true, want: "INPUT holds no ids: give a file of ids, one per line, in the vectors' order"},
		{name: "fewer ids than vectors", file: "e.npy", data: good, ids: "000000397133.jpg\n", want: "IDS: 1 ids for the 2 vectors of INPUT"},
		{name: "more ids than vectors", file: "e.npy", data: good, ids: names + "000000252219.jpg\n", want: "IDS: 3 ids for the 2 vectors of INPUT"},
		{name: "id matching no sample", file: "e.npy", data: good, ids: "000000397133.jpg\nmissing.jpg\n", want: `IDS:2: file_name "missing.jpg" matches no sample`},
		{name: "sample id matching no sample", file: "e.npy", data: good, ids: SampleID("000000397133.jpg").String() + "\n" + SampleID("x").String() + "\n", opts: EmbeddingsOptions{Match: "id"},
			want: `IDS:2: sample id "` + SampleID("x").String() + `" matches no sample`},
		{name: "id that is not a UUID", file: "e.npy", data: good, ids: names, opts: EmbeddingsOptions{Match: "id"},
			want: `IDS:1: "000000397133.jpg" is not a sample id (UUID): invalid UUID length: 16`},
		{name: "duplicate ids", file: "e.npy", data: good, ids: "000000397133.jpg\n000000397133.jpg\n", want: `IDS:2: file_name "000000397133.jpg" names the same sample as line 1; a sample has at most one vector`},
		{name: "empty line in ids", file: "e.npy", data: good, ids: "000000397133.jpg\n\n", want: "IDS:2: empty line: every line is the id of one vector"},
		{name: "match by an unknown column", file: "e.npy", data: good, ids: names, opts: EmbeddingsOptions{Match: "path"}, plain: true,
			want: `match by path: read samples: DATASET/samples.parquet: unknown column "path" (columns: sample_id, file_name, width, height, coco_image_id)`},
		{name: "unknown extension", file: "e.txt", data: good, ids: names, plain: true, want: `INPUT: winnow imports vectors from .npy, .npz, .parquet and .csv files, not ".txt"`},
		{name: "npz that is not a zip", file: "e.npz", data: good, ids: names, want: "INPUT: not an .npz (zip) archive: zip: not a valid zip file"},
		{name: "csv ragged vectors", file: "e.csv", data: []byte("file_name,vector\n000000397133.jpg,[1 2]\n000000037777.jpg,[1 2 3]\n"), want: "INPUT:3: a vector of 3 values, but the first has 2"},
		{name: "csv not a number", file: "e.csv", data: []byte("file_name,vector\n000000397133.jpg,\"[1, x]\"\n"), want: `INPUT:2: column "vector", element 1: "x" is not a number`},
		{name: "csv NaN", file: "e.csv", data: []byte("file_name,a,b\n000000397133.jpg,1,nan\n"), want: `INPUT:2: column "b": nan; vectors must be finite`},
		{name: "csv without id column", file: "e.csv", data: []byte("name,a\nx,1\n"), plain: true, want: "INPUT: cannot tell which column holds the ids (columns: name, a): name it"},
		{name: "csv with an unknown id column", file: "e.csv", data: []byte("name,a\nx,1\n"), opts: EmbeddingsOptions{IDColumn: "key"}, plain: true, want: `INPUT has no column "key" (columns: name, a)`},
		{name: "csv with a bad quote", file: "e.csv", data: []byte("file_name,a\n\"x,1\n"), want: "INPUT:2: extraneous or missing \" in quoted-field"},
		{name: "csv with a short row", file: "e.csv", data: []byte("file_name,a,b\nx,1\n"), want: "INPUT:2: wrong number of fields"},
		{name: "csv without vectors", file: "e.csv", data: []byte("file_name,vector\n000000397133.jpg,\n"), want: "INPUT: holds no vectors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := embeddingsDataset(t)
			before := treeBytes(t, dir)
			in := writeFile(t, c.file, c.data)
			opts := c.opts
			opts.Model = "m"
			if opts.Match == "" {
				opts.Match = "file_name"
			}
			ids := ""
			if c.ids != "" {
				ids = writeFile(t, "ids.txt", []byte(c.ids))
				opts.IDs = ids
			}
			_, err := Embeddings(context.Background(), in, dir, opts)
			require.Error(t, err)
			want := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(c.want, "INPUT", in), "IDS", ids), "DATASET", dir)
			require.Equal(t, want, err.Error())
			var ie *InputError
			require.Equal(t, !c.plain, errors.As(err, &ie), "%T", err)
			require.Equal(t, before, treeBytes(t, dir), "the dataset changed")
		})
	}
}

func slices8(v []float64) []float64 { return append([]float64(nil), v[:8]...) }

func slicesBytes(b []byte) []byte { return append([]byte(nil), b...) }

// rawHeader is a version 1.0 .npy of the given header text and 32 bytes
// of data.
func rawHeader(dict string) []byte {
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.Write([]byte{1, 0})
	h := dict + "\n"
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(make([]byte, 32))
	return b.Bytes()
}

// TestEmbeddingsModelNames refuses names that winnow would not list as a
// model, before reading anything.
func TestEmbeddingsModelNames(t *testing.T) {
	dir := embeddingsDataset(t)
	for name, want := range map[string]string{
		"":          "no model name",
		"a/b":       `model name "a/b" is not a plain file name`,
		"..":        `model name ".." is not a plain file name`,
		".hidden":   `model name ".hidden" starts with "."; winnow skips such files`,
		"_tmp":      `model name "_tmp" starts with "_"; winnow skips such files`,
		"m.parquet": `model name "m.parquet" ends in .parquet; name the model without it`,
	} {
		_, err := Embeddings(context.Background(), "x.npy", dir, EmbeddingsOptions{Model: name})
		require.EqualError(t, err, want, name)
	}
}

// TestHalfToFloat32 checks every float16 value against its definition:
// (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024.
func TestHalfToFloat32(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		s, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		got := halfToFloat32(uint16(h))
		var want float64
		switch {
		case e == 0x1f && m == 0:
			want = math.Inf(1)
		case e == 0x1f:
			require.True(t, math.IsNaN(float64(got)), "%#04x", h)
			continue
		case e == 0:
			want = math.Ldexp(float64(m)/1024, -14)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		require.Equal(t, math.Float64bits(want), math.Float64bits(float64(got)), "%#04x", h)
	}
}

// TestEmbeddingsCancelled: a cancelled import leaves the dataset as it was.
func TestEmbeddingsCancelled(t *testing.T) {
	dir := embeddingsDataset(t)
	before := treeBytes(t, dir)
	in := writeFile(t, "e.npy", npyBytes(1, "<f4", false, []int{2, 4}, testVectors[:8]))
	ids := writeFile(t, "ids.txt", []byte("000000397133.jpg\n000000037777.jpg\n"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Embeddings(ctx, in, dir, EmbeddingsOptions{Model: "m", IDs: ids, Match: "file_name"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, before, treeBytes(t, dir))
}
