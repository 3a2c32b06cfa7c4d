package main

// The bad-input matrix of docs/bad-inputs.md: every bad input winnow
// handles, run through the real binary, checking the exit status, the
// message on stderr, and that the dataset is left exactly as it was
// (tags.parquet byte for byte, and no selection record). Keep this table
// and the document in step: each row of the document names its case here.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/benchmarks/datagen"
	"github.com/winnow-data/winnow/columnar"
)

// Sample ids of the small dataset: relID(i) for sample i.
func relID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

var (
	relSamplesSchema = arrow.NewSchema([]arrow.Field{
		{Name: "sample_id", Type: columnar.UUIDType()},
		{Name: "w", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "cls", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "count", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	relAnnSchema = arrow.NewSchema([]arrow.Field{
		{Name: "sample_id", Type: columnar.UUIDType()},
		{Name: "label", Type: arrow.BinaryTypes.String},
	}, nil)
	relTagsSchema = arrow.NewSchema([]arrow.Field{
		{Name: "sample_id", Type: columnar.UUIDType()},
		{Name: "old", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
)

// relSmallRows writes n sample rows as JSON; set, when not nil, may
// replace a field of row i with a JSON value ("" keeps it).
func relSmallRows(n int, set func(i int) (field, value string)) string {
	var rows []string
	for i := range n {
		vals := map[string]string{
			"w":     fmt.Sprint(i + 1),
			"cls":   fmt.Sprintf("%q", []string{"a", "b", "c"}[i%3]),
			"count": fmt.Sprint(i),
		}
		if set != nil {
			if f, v := set(i); f != "" {
				vals[f] = v
			}
		}
		rows = append(rows, fmt.Sprintf(`{"sample_id": %q, "w": %s, "cls": %s, "count": %s}`, relID(i), vals["w"], vals["cls"], vals["count"]))
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// relWeightAt sets weight w of the rows that pick selects to value.
func relWeightAt(pick func(i int) bool, value string) func(i int) (string, string) {
	return func(i int) (string, string) {
		if pick(i) {
			return "w", value
		}
		return "", ""
	}
}

// relEmbRows writes vectors as the rows of an embeddings table.
func relEmbRows(vecs ...string) string {
	var rows []string
	for i, v := range vecs {
		rows = append(rows, fmt.Sprintf(`{"sample_id": %q, "embedding": %s}`, relID(i), v))
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// relSmall writes the small dataset of the bad-input tests into dir: six
// samples with metadata w (1..6), cls (a, b, c, ...) and count, a 2-D
// embedding model m with vectors (i, i), two annotations per sample, and
// tags.parquet holding tag "old" (samples 0 and 1).
func relSmall(t *testing.T, dir string) {
	t.Helper()
	relWriteJSON(t, filepath.Join(dir, "samples.parquet"), relSamplesSchema, relSmallRows(6, nil))
	relWriteJSON(t, filepath.Join(dir, "embeddings", "m.parquet"), columnar.EmbeddingSchema(2),
		relEmbRows("[0,0]", "[1,1]", "[2,2]", "[3,3]", "[4,4]", "[5,5]"))
	var ann []string
	for i := range 6 {
		ann = append(ann, fmt.Sprintf(`{"sample_id": %q, "label": %q}`, relID(i), []string{"cat", "dog"}[i%2]))
		ann = append(ann, fmt.Sprintf(`{"sample_id": %q, "label": "bird"}`, relID(i)))
	}
	relWriteJSON(t, filepath.Join(dir, "annotations.parquet"), relAnnSchema, "["+strings.Join(ann, ",")+"]")
	var tg []string
	for i := range 6 {
		tg = append(tg, fmt.Sprintf(`{"sample_id": %q, "old": %t}`, relID(i), i < 2))
	}
	relWriteJSON(t, filepath.Join(dir, "tags.parquet"), relTagsSchema, "["+strings.Join(tg, ",")+"]")
}

// relBadCase is one row of the matrix.
type relBadCase struct {
	name  string
	setup func(t *testing.T, dir string) // changes the small dataset; nil keeps it
	// args follow "winnow"; "DIR" is replaced by the dataset folder.
	args   []string
	stdin  string
	code   int
	stderr []string // substrings the message must hold
	// tag, when set, is a tag the run must store with this many samples
	// (runs that succeed with a warning); otherwise nothing may change.
	tag     string
	tagSize int
}

// Mutations of the small dataset.
func relSetSamples(rows string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		relWriteJSON(t, filepath.Join(dir, "samples.parquet"), relSamplesSchema, rows)
	}
}

func relSetEmb(schema *arrow.Schema, rows string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		relWriteJSON(t, filepath.Join(dir, "embeddings", "m.parquet"), schema, rows)
	}
}

// relListSchema is an embeddings schema with a nullable List column, the
// way pyarrow, Spark and DuckDB usually write vectors.
func relListSchema(elem arrow.DataType) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "sample_id", Type: columnar.UUIDType()},
		{Name: "embedding", Type: arrow.ListOf(elem), Nullable: true},
	}, nil)
}

// relMangle rewrites file rel of the dataset with f.
func relMangle(rel string, f func([]byte) []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func relBadCases() []relBadCase {
	div := func(extra ...string) []string {
		return append([]string{"select", "diverse", "DIR", "--n", "2", "--tag", "new"}, extra...)
	}
	weighted := func(key string) []string {
		return []string{"select", "weighted", "DIR", "--n", "2", "--tag", "new", "--metadata-key", key}
	}
	withTag := func(tag string) []string { return []string{"select", "diverse", "DIR", "--n", "2", "--tag", tag} }
	multi := func(extra ...string) []string {
		return append([]string{"select", "multi", "DIR", "--n", "2", "--tag", "new"}, extra...)
	}
	sid := relID(0)
	return []relBadCase{
		// The dataset folder and its tables.
		{name: "missing folder", setup: func(t *testing.T, dir string) { os.RemoveAll(dir) },
			args: div(), code: 1, stderr: []string{"open dataset", "no such file or directory"}},
		{name: "no samples table", setup: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "samples.parquet")) },
			args: div(), code: 1, stderr: []string{"no samples table (samples.parquet or samples/)"}},
		{name: "empty dataset", setup: relSetSamples("[]"),
			args: weighted("w"), code: 1, stderr: []string{"tags.parquet", "is not in samples"}},
		{name: "empty dataset without tags", setup: func(t *testing.T, dir string) {
			relSetSamples("[]")(t, dir)
			os.Remove(filepath.Join(dir, "tags.parquet"))
			os.RemoveAll(filepath.Join(dir, "embeddings"))
			os.Remove(filepath.Join(dir, "annotations.parquet"))
		}, args: weighted("w"), code: 0, stderr: []string{"warning: the query matched no candidates"}, tag: "new", tagSize: 0},
		{name: "zero candidates", args: append(weighted("w"), "--where", "w > 100"),
			code: 0, stderr: []string{"warning: the query matched no candidates"}, tag: "new", tagSize: 0},
		{name: "n larger than candidates", args: []string{"select", "diverse", "DIR", "--n", "50", "--tag", "new"},
			code: 0, stderr: []string{"warning: asked for 50 samples but only 6 candidates are available; selecting 6"}, tag: "new", tagSize: 6},
		{name: "n zero", args: []string{"select", "diverse", "DIR", "--n", "0", "--tag", "new"},
			code: 2, stderr: []string{"--n must be at least 1, got 0"}},
		{name: "n negative", args: []string{"select", "diverse", "DIR", "--n", "-3", "--tag", "new"},
			code: 2, stderr: []string{"--n must be at least 1, got -3"}},
		{name: "n missing", args: []string{"select", "diverse", "DIR", "--tag", "new"},
			code: 2, stderr: []string{"needs --n"}},
		{name: "n not a number", args: []string{"select", "diverse", "DIR", "--n", "lots", "--tag", "new"},
			code: 2, stderr: []string{"lots"}},

		// Vectors.
		{name: "NaN in a vector", setup: relSetEmb(columnar.EmbeddingSchema(2), relEmbRows("[0,0]", `[1,"NaN"]`)),
			args: div(), code: 1, stderr: []string{"NaN", relID(1)}},
		{name: "Inf in a vector", setup: relSetEmb(columnar.EmbeddingSchema(2), relEmbRows(`["-Inf",0]`, "[1,1]")),
			args: div(), code: 1, stderr: []string{"Inf", relID(0)}},
		{name: "mixed dimensions", setup: relSetEmb(relListSchema(arrow.PrimitiveTypes.Float32), relEmbRows("[0,0]", "[1,1,1]")),
			args: div(), code: 1, stderr: []string{"dimension", relID(1)}},
		{name: "empty vector", setup: relSetEmb(relListSchema(arrow.PrimitiveTypes.Float32), relEmbRows("[]", "[1,1]")),
			args: div(), code: 1, stderr: []string{"m.parquet", relID(0), "has a vector of dimension 0; an embedding needs at least one element"}},
		{name: "empty vector later", setup: relSetEmb(relListSchema(arrow.PrimitiveTypes.Float32), relEmbRows("[1,1]", "[]")),
			args: div(), code: 1, stderr: []string{"m.parquet", relID(1), "dimension"}},
		{name: "null vector", setup: relSetEmb(relListSchema(arrow.PrimitiveTypes.Float32), relEmbRows("[0,0]", "null", "[2,2]", "[3,3]", "[4,4]", "[5,5]")),
			args: div(), code: 1, stderr: []string{"1 of 6 candidates have no embedding for model \"m\"", relID(1)}},
		{name: "null vector element", setup: relSetEmb(relListSchema(arrow.PrimitiveTypes.Float32), relEmbRows("[0,null]", "[1,1]")),
			args: div(), code: 1, stderr: []string{"m.parquet", relID(0), "null"}},
		{name: "float64 vectors out of float32 range", setup: relSetEmb(relListSchema(arrow.PrimitiveTypes.Float64), relEmbRows("[0,1e300]", "[1,1]")),
			args: div(), code: 1, stderr: []string{"m.parquet", relID(0), "outside float32 range"}},
		{name: "missing embeddings", setup: relSetEmb(columnar.EmbeddingSchema(2), relEmbRows("[0,0]", "[1,1]")),
			args: div(), code: 1, stderr: []string{"4 of 6 candidates have no embedding for model \"m\"", relID(2), "--drop-missing"}},
		{name: "missing embeddings dropped", setup: relSetEmb(columnar.EmbeddingSchema(2), relEmbRows("[0,0]", "[1,1]", "[2,2]")),
			args: div("--drop-missing"), code: 0, stderr: []string{"warning:", "3"}, tag: "new", tagSize: 2},
		{name: "duplicate vector", setup: relSetEmb(columnar.EmbeddingSchema(2),
			fmt.Sprintf(`[{"sample_id": %q, "embedding": [0,0]}, {"sample_id": %q, "embedding": [1,1]}]`, sid, sid)),
			args: div(), code: 1, stderr: []string{"m.parquet", sid}},
		{name: "vector of an unknown sample", setup: relSetEmb(columnar.EmbeddingSchema(2),
			fmt.Sprintf(`[{"sample_id": %q, "embedding": [0,0]}]`, relID(99))),
			args: div(), code: 1, stderr: []string{"m.parquet", relID(99)}},

		// Weights.
		{name: "NaN weight", setup: relSetSamples(relSmallRows(6, relWeightAt(func(i int) bool { return i == 3 }, `"NaN"`))),
			args: weighted("w"), code: 1, stderr: []string{`metadata column "w": 1 of 6 candidates have a NaN weight`, relID(3)}},
		{name: "Inf weight", setup: relSetSamples(relSmallRows(6, relWeightAt(func(i int) bool { return i == 4 }, `"+Inf"`))),
			args: weighted("w"), code: 1, stderr: []string{`metadata column "w": 1 of 6 candidates have a +Inf weight`, relID(4)}},
		{name: "negative weight", setup: relSetSamples(relSmallRows(6, relWeightAt(func(i int) bool { return i >= 2 }, "-1"))),
			args: weighted("w"), code: 1, stderr: []string{`metadata column "w": 4 of 6 candidates have a negative weight`, relID(2)}},
		{name: "null weight", setup: relSetSamples(relSmallRows(6, relWeightAt(func(i int) bool { return i == 5 }, "null"))),
			args: weighted("w"), code: 1, stderr: []string{`metadata column "w": 1 of 6 candidates have a null weight`, relID(5)}},
		{name: "weight column of strings", args: weighted("cls"), code: 1, stderr: []string{`metadata column "cls" is utf8; weighting needs a numeric column`}},

		// Unknown names.
		{name: "unknown model", args: div("--model", "clip"), code: 1, stderr: []string{`unknown embedding model "clip"`, "known models: m"}},
		{name: "several models, none named", setup: func(t *testing.T, dir string) {
			relWriteJSON(t, filepath.Join(dir, "embeddings", "other.parquet"), columnar.EmbeddingSchema(2), relEmbRows("[0,0]"))
		}, args: div(), code: 1, stderr: []string{"several embedding models (m, other)", "--model"}},
		{name: "no embeddings at all", setup: func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, "embeddings")) },
			args: div(), code: 1, stderr: []string{"embedding"}},
		{name: "unknown metadata column", args: weighted("nope"), code: 1, stderr: []string{`"nope"`, "w, cls, count"}},
		{name: "unknown preselected tag", args: div("--preselected", "nope"), code: 1, stderr: []string{`unknown tag "nope"`, "old"}},
		{name: "unknown query tag", args: []string{"select", "similar", "DIR", "--n", "2", "--tag", "new", "--query-tag", "nope"},
			code: 1, stderr: []string{`unknown tag "nope"`}},
		{name: "unknown tag in --where", args: div("--where", `tagged("nope")`), code: 1, stderr: []string{`"nope"`}},
		{name: "unknown label in target", args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new", "--target", "zebra=1"},
			code: 1, stderr: []string{`"zebra"`}},
		{name: "unknown annotation source", args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new", "--source", "nope"},
			code: 1, stderr: []string{"source"}},

		// Tag names.
		{name: "tag name empty", args: withTag(""), code: 2, stderr: []string{"needs --tag"}},
		{name: "tag name very long", args: withTag(strings.Repeat("x", 300)), code: 1, stderr: []string{"is 300 bytes long; the limit is 200"}},
		{name: "tag name with a control character", args: withTag("a\x01b"), code: 1, stderr: []string{`tag name "a\x01b" has a control character at byte 1`}},
		{name: "tag name with a newline", args: withTag("a\nb"), code: 1, stderr: []string{`tag name "a\nb" has a control character`}},
		{name: "tag name with surrounding space", args: withTag(" a"), code: 1, stderr: []string{"starts or ends with white space"}},
		{name: "tag name not UTF-8", args: withTag("a\xffb"), code: 1, stderr: []string{"not valid UTF-8"}},
		{name: "tag name sample_id", args: withTag("sample_id"), code: 1, stderr: []string{`tag name "sample_id" is reserved for the sample id column`}},
		{name: "tag name in use", args: withTag("old"), code: 1, stderr: []string{`tag "old": tag already exists`, "choose a new name"}},

		// Corrupt and truncated files.
		{name: "table both file and folder", setup: func(t *testing.T, dir string) {
			relWriteJSON(t, filepath.Join(dir, "samples", "part-0.parquet"), relSamplesSchema, relSmallRows(6, nil))
		}, args: div(), code: 1, stderr: []string{"table samples is both a file", "and a folder"}},
		{name: "table folder without parts", setup: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "samples.parquet"))
			os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
			os.WriteFile(filepath.Join(dir, "samples", "_SUCCESS"), nil, 0o644)
		}, args: div(), code: 1, stderr: []string{"table folder holds no *.parquet part"}},
		{name: "parts with different schemas", setup: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "samples.parquet"))
			relWriteJSON(t, filepath.Join(dir, "samples", "part-0.parquet"), relSamplesSchema, relSmallRows(3, nil))
			other := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: columnar.UUIDType()}, {Name: "w", Type: arrow.BinaryTypes.String}}, nil)
			relWriteJSON(t, filepath.Join(dir, "samples", "part-1.parquet"), other, fmt.Sprintf(`[{"sample_id": %q, "w": "x"}]`, relID(3)))
		}, args: div(), code: 1, stderr: []string{`part-1.parquet: schema differs from the first part`, "part-0.parquet: columns (sample_id, w) instead of (sample_id, w, cls, count)"}},
		{name: "parts with different column types", setup: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "samples.parquet"))
			relWriteJSON(t, filepath.Join(dir, "samples", "part-0.parquet"), relSamplesSchema, relSmallRows(3, nil))
			other := arrow.NewSchema(append(relSamplesSchema.Fields()[:1:1], arrow.Field{Name: "w", Type: arrow.BinaryTypes.String, Nullable: true},
				relSamplesSchema.Field(2), relSamplesSchema.Field(3)), nil)
			relWriteJSON(t, filepath.Join(dir, "samples", "part-1.parquet"), other, fmt.Sprintf(`[{"sample_id": %q, "w": "x"}]`, relID(3)))
		}, args: div(), code: 1, stderr: []string{`part-1.parquet: schema differs from the first part`, `part-0.parquet: column "w" is utf8 instead of float64`}},
		{name: "embedding parts of different dimensions", setup: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "embeddings", "m.parquet"))
			relWriteJSON(t, filepath.Join(dir, "embeddings", "m", "a.parquet"), columnar.EmbeddingSchema(2), relEmbRows("[0,0]", "[1,1]", "[2,2]"))
			relWriteJSON(t, filepath.Join(dir, "embeddings", "m", "b.parquet"), columnar.EmbeddingSchema(3),
				fmt.Sprintf(`[{"sample_id": %q, "embedding": [3,3,3]}]`, relID(3)))
		}, args: div(), code: 1, stderr: []string{"b.parquet", relID(3), "has a vector of dimension more than 2"}},
		{name: "null tag value", setup: func(t *testing.T, dir string) {
			// One null among the values, as another engine may write it.
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: columnar.UUIDType()}, {Name: "old", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}, nil)
			var rows []string
			for i, v := range []string{"true", "true", "null", "false", "false", "false"} {
				rows = append(rows, fmt.Sprintf(`{"sample_id": %q, "old": %s}`, relID(i), v))
			}
			relWriteJSON(t, filepath.Join(dir, "tags.parquet"), s, "["+strings.Join(rows, ",")+"]")
		}, args: div(), code: 1, stderr: []string{"tags.parquet", `tag column "old" has 1 null value(s) (first: sample ` + relID(2) + `); a tag is true or false for every sample: write false for the samples without it (coalesce("old", false) in SQL) or drop the column`}},
		// Bytes flipped inside a data page of ids, in tables written the way
		// other engines may write them: uncompressed, no dictionary, no page
		// checksum, so nothing but the ids themselves shows the damage. The
		// dataset has random ids, as real ones do.
		{name: "flipped bytes in an annotations page", setup: func(t *testing.T, dir string) {
			relRandomIDs(t, dir)
			var ann []string
			for i := range 6 {
				ann = append(ann, fmt.Sprintf(`{"sample_id": %q, "label": %q}`, relRandID(i), []string{"cat", "dog"}[i%2]))
			}
			relWritePlainJSON(t, filepath.Join(dir, "annotations.parquet"), relAnnSchema, "["+strings.Join(ann, ",")+"]")
			relFlipID(t, filepath.Join(dir, "annotations.parquet"), relRandID(3))
		}, args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new"}, code: 1,
			stderr: []string{"annotations.parquet: sample id ", "is not in samples, but it is sample " + relRandID(3) + " with 2 of its 16 bytes changed (row 3): most likely a corrupt data page (flipped bytes in a page without a checksum) of this file, or of the samples table if that one was changed; restore the damaged file"}},
		{name: "flipped bytes in a tags page", setup: func(t *testing.T, dir string) {
			relRandomIDs(t, dir)
			var tg []string
			for i := range 6 {
				tg = append(tg, fmt.Sprintf(`{"sample_id": %q, "old": %t}`, relRandID(i), i < 2))
			}
			relWritePlainJSON(t, filepath.Join(dir, "tags.parquet"), relTagsSchema, "["+strings.Join(tg, ",")+"]")
			relFlipID(t, filepath.Join(dir, "tags.parquet"), relRandID(3))
		}, args: div(), code: 1,
			stderr: []string{"tags.parquet: sample id ", "is not in samples, but it is sample " + relRandID(3) + " with 2 of its 16 bytes changed (row 3): most likely a corrupt data page"}},
		{name: "truncated samples", setup: relMangle("samples.parquet", func(b []byte) []byte { return b[:len(b)/2] }),
			args: div(), code: 1, stderr: []string{"samples.parquet", "corrupt or truncated parquet file"}},
		{name: "samples not parquet", setup: relMangle("samples.parquet", func(b []byte) []byte { return []byte("sample_id\n1\n") }),
			args: div(), code: 1, stderr: []string{"samples.parquet", "corrupt or truncated parquet file"}},
		{name: "samples wrong magic", setup: relMangle("samples.parquet", func(b []byte) []byte { copy(b[len(b)-4:], "PARX"); return b }),
			args: div(), code: 1, stderr: []string{"samples.parquet", "corrupt or truncated parquet file"}},
		{name: "empty samples file", setup: relMangle("samples.parquet", func(b []byte) []byte { return nil }),
			args: div(), code: 1, stderr: []string{"samples.parquet", "corrupt or truncated parquet file"}},
		{name: "truncated embeddings", setup: relMangle("embeddings/m.parquet", func(b []byte) []byte { return b[:len(b)-10] }),
			args: div(), code: 1, stderr: []string{"m.parquet", "corrupt or truncated parquet file"}},
		{name: "truncated tags", setup: relMangle("tags.parquet", func(b []byte) []byte { return b[:len(b)-1] }),
			args: div(), code: 1, stderr: []string{"tags.parquet", "corrupt or truncated parquet file"}},
		{name: "truncated annotations", setup: relMangle("annotations.parquet", func(b []byte) []byte { return b[:100] }),
			args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new"}, code: 1, stderr: []string{"annotations.parquet", "corrupt or truncated parquet file"}},

		// Wrong column types and ids.
		{name: "sample_id of floats", setup: func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: arrow.PrimitiveTypes.Float64}}, nil)
			relWriteJSON(t, filepath.Join(dir, "samples.parquet"), s, `[{"sample_id": 1.5}]`)
		}, args: div(), code: 1, stderr: []string{`column "sample_id" has type float64, want a UUID (FIXED_LEN_BYTE_ARRAY(16)), a string or an integer`}},
		{name: "string sample_id the tags do not name", setup: func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: arrow.BinaryTypes.String}}, nil)
			relWriteJSON(t, filepath.Join(dir, "samples.parquet"), s, `[{"sample_id": "not-a-uuid"}]`)
		}, args: div(), code: 1, stderr: []string{"tags.parquet: sample id " + relID(0) + " is not in samples"}},
		{name: "no sample_id column", setup: func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
			relWriteJSON(t, filepath.Join(dir, "samples.parquet"), s, `[{"id": 1}]`)
		}, args: div(), code: 1, stderr: []string{`missing required column "sample_id" (columns: id)`}},
		{name: "null sample_id", setup: func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: columnar.UUIDType(), Nullable: true}}, nil)
			relWriteJSON(t, filepath.Join(dir, "samples.parquet"), s, fmt.Sprintf(`[{"sample_id": %q}, {"sample_id": null}]`, relID(0)))
		},
			args: div(), code: 1, stderr: []string{"samples.parquet", "null"}},
		{name: "duplicate sample ids", setup: relSetSamples(fmt.Sprintf(`[{"sample_id": %q}, {"sample_id": %q}, {"sample_id": %q}]`, relID(0), relID(1), relID(0))),
			args: div(), code: 1, stderr: []string{"duplicate sample id " + relID(0), "rows 0 and 2"}},
		{name: "embedding of strings", setup: relSetEmb(relListSchema(arrow.BinaryTypes.String), relEmbRows(`["a"]`)),
			args: div(), code: 1, stderr: []string{`column "embedding" has type list<element: utf8, nullable>, want a list or fixed-size list of float16, float32 or float64`}},
		{name: "label of floats", setup: func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: columnar.UUIDType()}, {Name: "label", Type: arrow.PrimitiveTypes.Float64}}, nil)
			relWriteJSON(t, filepath.Join(dir, "annotations.parquet"), s, fmt.Sprintf(`[{"sample_id": %q, "label": 3.5}]`, sid))
		}, args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new"}, code: 1, stderr: []string{"annotations.parquet", `column "label" has type float64, want string or integer`}},
		{name: "annotation of an unknown sample", setup: func(t *testing.T, dir string) {
			relWriteJSON(t, filepath.Join(dir, "annotations.parquet"), relAnnSchema, fmt.Sprintf(`[{"sample_id": %q, "label": "cat"}, {"sample_id": %q, "label": "dog"}]`, sid, relID(77)))
		}, args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new"}, code: 1, stderr: []string{"annotations.parquet", relID(77), "not in samples"}},
		{name: "tag of an unknown sample", setup: func(t *testing.T, dir string) {
			relWriteJSON(t, filepath.Join(dir, "tags.parquet"), relTagsSchema, fmt.Sprintf(`[{"sample_id": %q, "old": true}]`, relID(55)))
		}, args: div(), code: 1, stderr: []string{"tags.parquet", relID(55), "not in samples"}},
		{name: "tag column not boolean", setup: func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: columnar.UUIDType()}, {Name: "old", Type: arrow.PrimitiveTypes.Int64}}, nil)
			relWriteJSON(t, filepath.Join(dir, "tags.parquet"), s, fmt.Sprintf(`[{"sample_id": %q, "old": 3}]`, sid))
		}, args: div(), code: 1, stderr: []string{"tags.parquet", `tag column "old" has type int64, want bool`}},

		// Queries.
		{name: "where syntax error", args: div("--where", "w >"), code: 1, stderr: []string{"winnow: 1:4: syntax error: expected a value", "\n    w >\n       ^\n"}},
		{name: "where unknown column", args: div("--where", "nope > 1"), code: 1, stderr: []string{`"nope"`}},
		{name: "where type mismatch", args: div("--where", `w == "abc"`), code: 1, stderr: []string{`"w"`}},
		{name: "where deeply nested", args: div("--where", strings.Repeat("(", 50000)+"w > 1"), code: 1, stderr: []string{"syntax error"}},
		{name: "where single =", args: div("--where", `w = 1`), code: 1, stderr: []string{`syntax error: "=" must be followed by "=" (use == or !=)`}},

		// Strategy settings.
		{name: "strength NaN", args: div("--strength", "NaN"), code: 1, stderr: []string{"strength NaN is not finite"}},
		{name: "strength Inf", args: div("--strength", "Inf"), code: 1, stderr: []string{"strength +Inf is not finite"}},
		{name: "negative minimum distance", args: []string{"select", "dedup", "DIR", "--n", "2", "--tag", "new", "--min-distance", "-1"},
			code: 1, stderr: []string{"minimum distance must be a finite number >= 0, got -1"}},
		{name: "bad target", args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new", "--target", "cat=-1"},
			code: 2, stderr: []string{`ratio of "cat" must be a non-negative number`}},
		{name: "target summing to zero", args: []string{"select", "balanced", "DIR", "--n", "2", "--tag", "new", "--target", "cat=0,dog=0,bird=0"},
			code: 1, stderr: []string{"target"}},

		// Id lists (tags add).
		{name: "ids not UUIDs", args: []string{"tags", "add", "DIR", "new", "--ids", "-"}, stdin: relID(0) + "\nnot-an-id\n",
			code: 1, stderr: []string{`tag "new": line 2: "not-an-id" is not a sample id (UUID)`}},
		{name: "ids of unknown samples", args: []string{"tags", "add", "DIR", "new", "--ids", "-"}, stdin: relID(1) + "\n" + relID(42) + "\n",
			code: 1, stderr: []string{`tag "new": line 2: sample id ` + relID(42) + " is not in the dataset"}},
		{name: "ids line over 1 MiB", args: []string{"tags", "add", "DIR", "new", "--ids", "-"}, stdin: strings.Repeat("x", 2<<20),
			code: 1, stderr: []string{`tag "new": read ids: line 1 is longer than 1 MiB; expected one sample id per line`}},
		{name: "ids for a tag name in use", args: []string{"tags", "add", "DIR", "old", "--ids", "-"}, stdin: relID(1) + "\n",
			code: 1, stderr: []string{`tag "old": tag already exists`}},

		// Strategy configs.
		{name: "config not JSON", args: multi("--config", "-"), stdin: `{"strategies": [`, code: 1, stderr: []string{"strategies config"}},
		{name: "config unknown strategy", args: multi("--config", "-"), stdin: `{"strategies": [{"strategy_name": "magic"}]}`,
			code: 1, stderr: []string{`strategies[0]: unknown strategy_name "magic"`, "diversity"}},
		{name: "config unknown field", args: multi("--config", "-"), stdin: `{"strategies": [{"strategy_name": "diversity", "colour": 1}]}`,
			code: 1, stderr: []string{`strategy "diversity": unknown field "colour"`}},
		{name: "config wrong field type", args: multi("--config", "-"), stdin: `{"strategies": [{"strategy_name": "diversity", "strength": "high"}]}`,
			code: 1, stderr: []string{`strategies config: strategies[0]: field "strength" must be a number, got string`}},
		{name: "config n not a number", args: []string{"select", "multi", "DIR", "--tag", "new", "--config", "-"},
			stdin: `{"n_samples_to_select": "ten", "strategies": [{"strategy_name": "diversity"}]}`,
			code:  1, stderr: []string{`strategies config: field "n_samples_to_select": must be a whole number, got string`}},
		{name: "config without strategies", args: multi("--config", "-"), stdin: `{"n_samples_to_select": 3}`,
			code: 1, stderr: []string{"no strategies given"}},
		{name: "config file missing", args: multi("--config", "/nonexistent/req.json"), code: 1, stderr: []string{"/nonexistent/req.json", "no such file"}},
		{name: "strategy flag unknown key", args: multi("--strategy", "diversity:colour=red"), code: 2, stderr: []string{`unknown key "colour"`}},
		{name: "strategy flag bad number", args: multi("--strategy", "weights:key=w,strength=lots"), code: 2, stderr: []string{`strength "lots" is not a number`}},
		{name: "strategy flag unknown name", args: multi("--strategy", "magic"), code: 2, stderr: []string{`unknown strategy_name "magic"`}},
	}
}

// relRandID is the id of sample i in relRandomIDs' dataset: random-looking,
// as real sample ids are.
func relRandID(i int) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("winnow-bad-input-", i))).String()
}

// relRandomIDs rewrites the small dataset in dir with the ids relRandID.
func relRandomIDs(t *testing.T, dir string) {
	t.Helper()
	rows := relSmallRows(6, nil)
	for i := range 6 {
		rows = strings.ReplaceAll(rows, relID(i), relRandID(i))
	}
	relWriteJSON(t, filepath.Join(dir, "samples.parquet"), relSamplesSchema, rows)
	emb := relEmbRows("[0,0]", "[1,1]", "[2,2]", "[3,3]", "[4,4]", "[5,5]")
	var tg []string
	for i := range 6 {
		emb = strings.ReplaceAll(emb, relID(i), relRandID(i))
		tg = append(tg, fmt.Sprintf(`{"sample_id": %q, "old": %t}`, relRandID(i), i < 2))
	}
	relWriteJSON(t, filepath.Join(dir, "embeddings", "m.parquet"), columnar.EmbeddingSchema(2), emb)
	relWriteJSON(t, filepath.Join(dir, "tags.parquet"), relTagsSchema, "["+strings.Join(tg, ",")+"]")
	os.Remove(filepath.Join(dir, "annotations.parquet"))
}

// relWritePlainJSON writes rows (as relWriteJSON) uncompressed, PLAIN
// encoded and without statistics, the layout in which a flipped byte
// changes a stored value and nothing else.
func relWritePlainJSON(t *testing.T, path string, schema *arrow.Schema, rows string) {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Uncompressed),
		parquet.WithDictionaryDefault(false), parquet.WithStats(false))
	if err := pqarrow.WriteTable(tbl, f, 1024, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
}

// relFlipID flips two bytes of the first stored copy of sample id in the
// file at path.
func relFlipID(t *testing.T, path, id string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := uuid.MustParse(id)
	k := bytes.Index(b, raw[:])
	if k < 0 {
		t.Fatalf("%s does not hold the bytes of %s", path, id)
	}
	b[k+5] ^= 0x5a
	b[k+6] ^= 0xa5
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputs(t *testing.T) {
	base := filepath.Join(t.TempDir(), "small")
	relSmall(t, base)
	relBuild(t)
	for _, tc := range relBadCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ds")
			relCopyDir(t, base, dir)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			var before map[string]string
			if _, err := os.Stat(dir); err == nil {
				before = relSnapshot(t, dir)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			r := relRunWith(t, nil, tc.stdin, args...)
			t.Logf("exit %d: %s", r.code, strings.ReplaceAll(strings.TrimSpace(r.stderr), dir, "DIR"))
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, r.stderr)
				}
			}
			if tc.code != 0 && !strings.HasPrefix(r.stderr, "winnow: ") {
				t.Errorf("error message does not start with \"winnow: \": %q", r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("winnow panicked:\n%s", r.stderr)
			}
			if before == nil {
				return
			}
			after := relSnapshot(t, dir)
			if tc.tag == "" {
				if d := relSameSnapshot(before, after); d != "" {
					t.Errorf("the failed run changed the dataset: %s", d)
				}
				return
			}
			tags := relTags(t, dir)
			if rows, ok := tags[tc.tag]; !ok || len(rows) != tc.tagSize {
				t.Errorf("tag %q holds %d samples (present: %t), want %d", tc.tag, len(rows), ok, tc.tagSize)
			}
			if _, ok := before["tags.parquet"]; ok {
				if _, still := tags["old"]; !still {
					t.Errorf("tag \"old\" was lost")
				}
			}
		})
	}
}

// TestBadInputCorruptZstdPage flips bytes inside the zstd-compressed page
// of the fixture's annotation ids (the column chunk spans bytes 4 to
// 32080): the frame's checksum fails, and the error names the file.
func TestBadInputCorruptZstdPage(t *testing.T) {
	dir := relCopyFixture(t)
	relMangle("annotations.parquet", func(b []byte) []byte {
		b[2000] ^= 0xff
		b[2001] ^= 0xff
		return b
	})(t, dir)
	before := relSnapshot(t, dir)
	r := relRun(t, nil, "select", "balanced", dir, "--n", "5", "--tag", "new")
	want := filepath.Join(dir, "annotations.parquet") + ": corrupt or truncated parquet file: parquet: could not decompress page: CRC check failed"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
	}
	if d := relSameSnapshot(before, relSnapshot(t, dir)); d != "" {
		t.Errorf("the failed run changed the dataset: %s", d)
	}
}

// TestBadInputHighCardinality balances by a column with a distinct value
// per sample (file_name): 20,000 classes over 20,000 samples would need a
// 3.2 GB count matrix. winnow must refuse with a clear message instead of
// running out of memory.
func TestBadInputHighCardinality(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wide")
	_, err := datagen.Generate(context.Background(), dir, datagen.Config{N: 20000, Dim: 2, Clusters: 2, NoAnnotations: true, NoEmbeddings: true, NoTags: true})
	if err != nil {
		t.Fatal(err)
	}
	before := relSnapshot(t, dir)
	r := relRun(t, nil, "select", "metadata-balanced", dir, "--n", "5", "--tag", "new", "--metadata-key", "file_name")
	want := `metadata column "file_name": 20000 distinct classes; balancing 20000 samples over them needs 400 million counts, more than the limit of 268 million`
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
	}
	if d := relSameSnapshot(before, relSnapshot(t, dir)); d != "" {
		t.Errorf("the failed run changed the dataset: %s", d)
	}
}

// TestBadInputReadOnlyDataset runs a selection on a dataset folder that
// refuses new files (read-only, or immutable when the tests run as root,
// which ignores permission bits): exit 1 naming what could not be written,
// and no change.
func TestBadInputReadOnlyDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	relSmall(t, dir)
	// Tagged before, so the lock file exists as in any dataset winnow
	// has written.
	if r := relRun(t, nil, "select", "diverse", dir, "--n", "1", "--tag", "first"); r.code != 0 {
		t.Fatalf("first selection: exit %d: %s", r.code, r.stderr)
	}
	before := relSnapshot(t, dir)
	for _, sub := range []string{dir, filepath.Join(dir, "selections")} {
		relReadOnly(t, sub)
	}
	r := relRun(t, nil, "select", "diverse", dir, "--n", "2", "--tag", "new")
	t.Logf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
	if r.code != 1 || !strings.Contains(r.stderr, `winnow: add tag "new": selection record: `) || !strings.Contains(r.stderr, filepath.Join(dir, "selections")) {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the selection record's folder", r.code, r.stderr)
	}
	if d := relSameSnapshot(before, relSnapshot(t, dir)); d != "" {
		t.Errorf("the failed run changed the dataset: %s", d)
	}
}

// relReadOnly makes dir refuse new files until the test ends: chmod for
// ordinary users, the immutable attribute (chattr +i) for root.
func relReadOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("running as root, which ignores permission bits, without chattr to make a folder immutable")
	}
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, which ignores permission bits, and chattr +i failed: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", dir).Run() })
}

// TestLargeMultiPartDataset runs every strategy to completion on a
// dataset whose tables are folders of three parts, each of several row
// groups, with 40,000 samples: columns then arrive in many chunks, the
// shape the 2,000-sample fixture never has (weighting and balancing
// crashed on it once). Each run must succeed and store a tag of n
// samples; the existing tag must survive.
func TestLargeMultiPartDataset(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 40,000-sample dataset")
	}
	dir := filepath.Join(t.TempDir(), "big")
	_, err := datagen.Generate(context.Background(), dir, datagen.Config{N: 40000, Dim: 8, Clusters: 20, Seed: 3, Parts: 3, RowGroupRows: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range [][]string{
		{"diverse"},
		{"dedup", "--min-distance", "0.05"},
		{"weighted", "--metadata-key", "width"},
		{"balanced", "--source", "ground_truth", "--target", "input"},
		{"metadata-balanced", "--metadata-key", "weather"},
		{"similar", "--query-tag", "reviewed"},
		{"typical", "--where", `split == "test"`},
		{"diverse", "--preselected", "reviewed", "--where", `weather == "rain" and width > 500`},
	} {
		tag := fmt.Sprintf("big%d", i)
		args := append([]string{"select", tc[0], dir, "--n", "30", "--tag", tag}, tc[1:]...)
		if r := relRun(t, nil, args...); r.code != 0 {
			t.Errorf("%s: exit %d: %s", strings.Join(tc, " "), r.code, r.stderr)
		}
	}
	tags := relTags(t, dir)
	if len(tags["reviewed"]) == 0 {
		t.Error("tag reviewed was lost")
	}
	for i := range 8 {
		name := fmt.Sprintf("big%d", i)
		want := 30
		if i == 7 {
			want += len(tags["reviewed"]) // preselected samples stay in the result
		}
		if got := len(tags[name]); got != want {
			t.Errorf("tag %s holds %d samples, want %d", name, got, want)
		}
	}
}
