package columnar

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// rewriteFooter edits the Parquet footer of the file at path.
func rewriteFooter(t *testing.T, path string, edit func(md *metadata.FileMetaData)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	body, footer := b[:len(b)-8-n], b[len(b)-8-n:len(b)-8]
	md, err := metadata.NewFileMetaData(footer, nil)
	if err != nil {
		t.Fatal(err)
	}
	edit(md)
	out, err := md.Serialize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nb := append(append([]byte(nil), body...), out...)
	nb = binary.LittleEndian.AppendUint32(nb, uint32(len(out)))
	nb = append(nb, "PAR1"...)
	if err := os.WriteFile(path, nb, 0o644); err != nil {
		t.Fatal(err)
	}
}

// nullElementVec writes an embeddings table where sample id's vector has
// a null second element.
func nullElementRecord(id any) arrow.RecordBatch {
	sc := schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, arrow.ListOf(arrow.PrimitiveTypes.Float32))
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	appendAny(b.Field(0), id)
	lb := b.Field(1).(*array.ListBuilder)
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.Float32Builder)
	vb.Append(1)
	vb.AppendNull()
	vb.Append(3)
	return b.NewRecordBatch()
}

// TestValidationErrors checks every validation error and its message:
// the file, the column and, where it applies, the sample id.
func TestValidationErrors(t *testing.T) {
	ids := testIDs(4, 99)
	a, b, c, x := ids[0], ids[1], ids[2], ids[3] // x is not a sample
	f32, f64 := arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64
	embFixed := schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, EmbeddingType(3))
	embList := schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, arrow.ListOf(f32))
	embList64 := schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, arrow.ListOf(f64))
	ann := func(extra ...any) *arrow.Schema {
		return schemaOf(append([]any{SampleIDColumn, UUIDType(), LabelColumn, arrow.BinaryTypes.String}, extra...)...)
	}
	tagsSc := schemaOf(SampleIDColumn, UUIDType(), "t", arrow.FixedWidthTypes.Boolean)
	const (
		samples = "samples.parquet"
		emb     = "embeddings/m.parquet"
		annot   = "annotations.parquet"
		tags    = "tags.parquet"
	)
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) // after the valid samples table is written
		op    string                         // "open", "embeddings" or "annotations"
		want  []string
	}{
		{"no samples table", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, samples)) },
			"open", []string{"no samples table"}},
		{"samples missing sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf("size", arrow.PrimitiveTypes.Int64), []any{int64(1)}))
		}, "open", []string{samples, `missing required column "sample_id"`, "columns: size"}},
		{"samples sample_id of floats", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.PrimitiveTypes.Float64), []any{1.0}))
		}, "open", []string{samples, `column "sample_id" has type float64, want a UUID (FIXED_LEN_BYTE_ARRAY(16)), a string or an integer`}},
		{"samples sample_id of booleans", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.FixedWidthTypes.Boolean), []any{true}))
		}, "open", []string{samples, `column "sample_id" has type bool, want a UUID`}},
		{"samples sample_id of timestamps", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.FixedWidthTypes.Timestamp_us), []any{arrow.Timestamp(5)}))
		}, "open", []string{samples, `column "sample_id" has type timestamp[us, tz=UTC], want a UUID`}},
		{"duplicate string sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.BinaryTypes.String), []any{"img 1"}, []any{"img 2"}, []any{"img 2"}))
		}, "open", []string{samples, `column "sample_id": duplicate sample id "img 2" (rows 1 and 2)`}},
		{"duplicate integer sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.PrimitiveTypes.Int64), []any{int64(7)}, []any{int64(-1)}, []any{int64(7)}))
		}, "open", []string{samples, `column "sample_id": duplicate sample id 7 (rows 0 and 2)`}},
		{"null string sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.BinaryTypes.String), []any{"a"}, []any{nil}))
		}, "open", []string{samples, `column "sample_id": null sample id at row 1 of the row group`}},
		{"null integer sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, arrow.PrimitiveTypes.Int64), []any{nil}, []any{int64(2)}))
		}, "open", []string{samples, `column "sample_id": null sample id at row 0 of the row group`}},
		{"embedding id not a UUID", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(schemaOf(SampleIDColumn, arrow.BinaryTypes.String, EmbeddingColumn, EmbeddingType(3)),
				[]any{a.String(), []float32{1, 2, 3}}, []any{"xyz", []float32{1, 2, 3}}))
		}, "embeddings", []string{emb, `column "sample_id": "xyz" at row 1 is not a sample id (UUID): invalid UUID length: 3`}},
		{"embedding id of floats", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(schemaOf(SampleIDColumn, arrow.PrimitiveTypes.Float64, EmbeddingColumn, EmbeddingType(3)), []any{1.0, []float32{1, 2, 3}}))
		}, "embeddings", []string{emb, `column "sample_id" has Parquet type DOUBLE, want a UUID`}},
		{"duplicate sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, UUIDType()), []any{a}, []any{b}, []any{a}))
		}, "open", []string{samples, `column "sample_id"`, "duplicate sample id " + a.String(), "rows 0 and 2"}},
		{"null sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, UUIDType()), []any{a}, []any{nil}))
		}, "open", []string{samples, `column "sample_id"`, "null sample id at row 1"}},

		{"embeddings missing embedding", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(schemaOf(SampleIDColumn, UUIDType(), "vec", arrow.BinaryTypes.String), []any{a, "x"}))
		}, "embeddings", []string{emb, `missing required column "embedding"`, "columns: sample_id, vec"}},
		{"embeddings missing sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(schemaOf(EmbeddingColumn, arrow.ListOf(f32)), []any{[]float32{1}}))
		}, "embeddings", []string{emb, `missing required column "sample_id"`}},
		{"embedding wrong type", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, arrow.BinaryTypes.String), []any{a, "v"}))
		}, "embeddings", []string{emb, `column "embedding" has type utf8, want a list or fixed-size list of float16, float32 or float64`}},
		{"embedding list of ints", func(t *testing.T, dir string) {
			sc := schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, arrow.ListOf(arrow.PrimitiveTypes.Int32))
			b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
			appendAny(b.Field(0), a)
			b.Field(1).(*array.ListBuilder).Append(true)
			b.Field(1).(*array.ListBuilder).ValueBuilder().(*array.Int32Builder).Append(1)
			put(t, filepath.Join(dir, emb), b.NewRecordBatch())
		}, "embeddings", []string{emb, `column "embedding" has type list<element: int32`}},
		{"embeddings id not in samples", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embFixed, []any{a, []float32{1, 2, 3}}, []any{x, []float32{1, 2, 3}}))
		}, "embeddings", []string{emb, "sample id " + x.String() + " is not in samples"}},
		{"mixed dimension shorter", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embList, []any{a, []float32{1, 2, 3}}, []any{b, []float32{1, 2}}))
		}, "embeddings", []string{emb, `column "embedding"`, "sample " + b.String() + " has a vector of dimension 2, want 3"}},
		{"mixed dimension longer", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embList, []any{a, []float32{1, 2, 3}}, []any{c, []float32{1, 2, 3, 4}}))
		}, "embeddings", []string{emb, "sample " + c.String() + " has a vector of dimension more than 3"}},
		{"empty vector", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embList, []any{a, []float32{1, 2, 3}}, []any{c, []float32{}}))
		}, "embeddings", []string{emb, "sample " + c.String() + " has a vector of dimension 0, want 3"}},
		{"NaN element", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embFixed, []any{a, []float32{1, 2, 3}}, []any{b, []float32{1, float32(math.NaN()), 3}}))
		}, "embeddings", []string{emb, "sample " + b.String() + ": vector element 1 is NaN"}},
		{"-Inf element", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embList, []any{c, []float32{1, 2, float32(math.Inf(-1))}}))
		}, "embeddings", []string{emb, "sample " + c.String() + ": vector element 2 is -Inf"}},
		{"float64 outside float32 range", func(t *testing.T, dir string) {
			sc := embList64
			bl := array.NewRecordBuilder(memory.DefaultAllocator, sc)
			appendAny(bl.Field(0), a)
			lb := bl.Field(1).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Float64Builder).AppendValues([]float64{1, 1e300}, nil)
			put(t, filepath.Join(dir, emb), bl.NewRecordBatch())
		}, "embeddings", []string{emb, "sample " + a.String() + ": vector element 1 is +Inf"}},
		{"null element", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), nullElementRecord(b))
		}, "embeddings", []string{emb, "sample " + b.String() + ": vector element 1 is null"}},
		{"two vectors for one sample", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, emb), record(embFixed, []any{a, []float32{1, 2, 3}}, []any{b, []float32{1, 2, 3}}, []any{a, []float32{4, 5, 6}}))
		}, "embeddings", []string{emb, "sample " + a.String() + " has more than one vector"}},
		{"two vectors in two row groups", func(t *testing.T, dir string) {
			writeParquet(t, filepath.Join(dir, emb), []arrow.RecordBatch{
				record(embFixed, []any{a, []float32{1, 2, 3}}),
				record(embFixed, []any{a, []float32{4, 5, 6}}),
			}, compress.Codecs.Snappy)
		}, "embeddings", []string{emb, "sample " + a.String() + " has more than one vector"}},

		{"annotations missing label", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, annot), record(schemaOf(SampleIDColumn, UUIDType()), []any{a}))
		}, "open", []string{annot, `missing required column "label"`}},
		{"annotations label wrong type", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, annot), record(schemaOf(SampleIDColumn, UUIDType(), LabelColumn, arrow.PrimitiveTypes.Float64), []any{a, 3.0}))
		}, "open", []string{annot, `column "label" has type float64, want string or integer`}},
		{"annotations box of strings", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, annot), record(ann("x", arrow.BinaryTypes.String), []any{a, "cat", "left"}))
		}, "open", []string{annot, `column "x" has type utf8, want integer or float`}},
		{"annotations confidence wrong type", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, annot), record(ann("confidence", arrow.BinaryTypes.String), []any{a, "cat", "high"}))
		}, "open", []string{annot, `column "confidence" has type utf8, want float`}},
		{"annotations id not in samples", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, annot), record(ann(), []any{a, "cat"}, []any{x, "dog"}))
		}, "annotations", []string{annot, "sample id " + x.String() + " is not in samples"}},
		{"annotations bad type value", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, annot), record(ann("type", arrow.BinaryTypes.String), []any{a, "cat", "classification"}, []any{b, "dog", "box"}))
		}, "annotations", []string{annot, `column "type"`, "annotation of sample " + b.String() + ` has type "box"`}},

		{"tags missing sample_id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, tags), record(schemaOf("t", arrow.FixedWidthTypes.Boolean), []any{true}))
		}, "open", []string{tags, `missing required column "sample_id"`}},
		{"tags id not in samples", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, tags), record(tagsSc, []any{a, true}, []any{x, false}))
		}, "open", []string{tags, "sample id " + x.String() + " is not in samples"}},
		{"tags duplicate id", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, tags), record(tagsSc, []any{a, true}, []any{a, false}))
		}, "open", []string{tags, `column "sample_id": duplicate sample id ` + a.String()}},
		{"tag not boolean", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, tags), record(schemaOf(SampleIDColumn, UUIDType(), "t", arrow.PrimitiveTypes.Int64), []any{a, int64(1)}))
		}, "open", []string{tags, `tag column "t" has type int64, want bool`}},
		{"tag null", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, tags), record(tagsSc, []any{a, true}, []any{b, nil}))
		}, "open", []string{tags, `tag column "t" has 1 null value(s) (first: sample ` + b.String() + `)`, `coalesce("t", false)`}},

		{"samples parts with different schemas", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, samples))
			put(t, filepath.Join(dir, "samples", "0.parquet"), record(schemaOf(SampleIDColumn, UUIDType()), []any{a}))
			put(t, filepath.Join(dir, "samples", "1.parquet"), record(schemaOf(SampleIDColumn, UUIDType(), "size", arrow.PrimitiveTypes.Int64), []any{b, int64(1)}))
		}, "open", []string{filepath.Join("samples", "1.parquet") + ": schema", "differs from the first part"}},
		{"samples file and folder", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, "samples", "0.parquet"), record(schemaOf(SampleIDColumn, UUIDType()), []any{a}))
		}, "open", []string{"table samples is both a file"}},
		{"empty samples folder", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, samples))
			os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
		}, "open", []string{"table folder holds no *.parquet part"}},
		{"truncated samples", func(t *testing.T, dir string) {
			p := filepath.Join(dir, samples)
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		}, "open", []string{samples, "corrupt or truncated parquet file"}},
		{"wrong magic", func(t *testing.T, dir string) {
			p := filepath.Join(dir, samples)
			bs, _ := os.ReadFile(p)
			copy(bs[len(bs)-4:], "XXXX")
			os.WriteFile(p, bs, 0o644)
		}, "open", []string{samples, "corrupt or truncated parquet file"}},
		{"truncated embeddings", func(t *testing.T, dir string) {
			p := filepath.Join(dir, emb)
			put(t, p, record(embFixed, []any{a, []float32{1, 2, 3}}))
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-20)
		}, "embeddings", []string{emb, "corrupt or truncated parquet file"}},
		{"flipped bytes in embeddings data", func(t *testing.T, dir string) {
			p := filepath.Join(dir, emb)
			vecs := testVecs(3, 64, 5, nil)
			put(t, p, record(schemaOf(SampleIDColumn, UUIDType(), EmbeddingColumn, EmbeddingType(64)),
				[]any{a, vecs[0]}, []any{b, vecs[1]}, []any{c, vecs[2]}))
			bs, _ := os.ReadFile(p)
			// Corrupt the column chunks (the footer stays intact).
			for i := 4; i < len(bs)/3; i++ {
				bs[i] ^= 0x5a
			}
			os.WriteFile(p, bs, 0o644)
		}, "embeddings", []string{emb}},
		{"samples footer claims absurd rows", func(t *testing.T, dir string) {
			rewriteFooter(t, filepath.Join(dir, samples), func(md *metadata.FileMetaData) {
				md.NumRows = 1 << 40
				md.RowGroups[0].NumRows = 1 << 40
			})
		}, "open", []string{samples, "corrupt parquet file: row group 0 claims 1099511627776 rows"}},
		{"samples footer claims absurd rows consistently", func(t *testing.T, dir string) {
			rewriteFooter(t, filepath.Join(dir, samples), func(md *metadata.FileMetaData) {
				md.NumRows = 1 << 40
				md.RowGroups[0].NumRows = 1 << 40
				for _, c := range md.RowGroups[0].Columns {
					c.MetaData.NumValues = 1 << 40
				}
			})
		}, "open", []string{samples, "row group claims 1099511627776 rows but holds 3"}},
		{"embeddings footer claims absurd rows", func(t *testing.T, dir string) {
			p := filepath.Join(dir, emb)
			put(t, p, record(embFixed, []any{a, []float32{1, 2, 3}}))
			rewriteFooter(t, p, func(md *metadata.FileMetaData) {
				md.NumRows = 1 << 40
				md.RowGroups[0].NumRows = 1 << 40
				md.RowGroups[0].Columns[0].MetaData.NumValues = 1 << 40
				md.RowGroups[0].Columns[1].MetaData.NumValues = 1 << 42
			})
		}, "embeddings", []string{emb, "table claims 1099511627776 rows but the dataset has 3 samples"}},
		{"tags footer claims absurd rows", func(t *testing.T, dir string) {
			p := filepath.Join(dir, tags)
			put(t, p, record(tagsSc, []any{a, true}))
			rewriteFooter(t, p, func(md *metadata.FileMetaData) {
				md.NumRows = 1 << 40
				md.RowGroups[0].NumRows = 1 << 40
				for _, c := range md.RowGroups[0].Columns {
					c.MetaData.NumValues = 1 << 40
				}
			})
		}, "open", []string{tags, "1099511627776"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			put(t, filepath.Join(dir, samples), record(schemaOf(SampleIDColumn, UUIDType()), []any{a}, []any{b}, []any{c}))
			tc.setup(t, dir)
			ctx := context.Background()
			d, err := Open(ctx, dir)
			if tc.op != "open" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				switch tc.op {
				case "embeddings":
					_, err = d.ReadEmbeddings(ctx, "m")
				case "annotations":
					_, _, err = d.AnnotationTable(ctx, nil)
				}
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
