package columnar

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
)

// Test fixtures: small datasets written either through Writer (winnow's
// conventions) or through pqarrow with the alternative encodings other
// engines produce.

// testIDs returns n deterministic sample ids.
func testIDs(n int, seed uint64) []uuid.UUID {
	r := rand.New(rand.NewPCG(seed, 1))
	ids := make([]uuid.UUID, n)
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(r.Uint32())
		}
	}
	return ids
}

// testVecs returns n vectors of dimension dim; vectors at indexes where
// missing(i) holds are nil.
func testVecs(n, dim int, seed uint64, missing func(int) bool) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([][]float32, n)
	for i := range out {
		if missing != nil && missing(i) {
			continue
		}
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(r.NormFloat64())
		}
	}
	return out
}

// idType selects how sample ids are stored.
type idType int

const (
	idUUID idType = iota
	idString
	idInt32
	idInt64
)

var idTypes = []idType{idUUID, idString, idInt32, idInt64}

func (t idType) String() string { return [...]string{"uuid", "string", "int32", "int64"}[t] }

func idField(t idType) arrow.Field {
	return arrow.Field{Name: SampleIDColumn, Type: idArrow(t)}
}

func idArrow(t idType) arrow.DataType {
	switch t {
	case idString:
		return arrow.BinaryTypes.String
	case idInt32:
		return arrow.PrimitiveTypes.Int32
	case idInt64:
		return arrow.PrimitiveTypes.Int64
	}
	return UUIDType()
}

// intOf is the integer id the tests use for UUID id: 31 bits of it, so
// that int32 and int64 columns hold the same values.
func intOf(id uuid.UUID, _ int) int64 {
	return int64(binary.BigEndian.Uint32(id[:4]) >> 1)
}

// textOf is the text form of id as stored with type t.
func textOf(t idType, id uuid.UUID) string {
	switch t {
	case idInt32:
		return strconv.FormatInt(intOf(id, 32), 10)
	case idInt64:
		return strconv.FormatInt(intOf(id, 64), 10)
	}
	return id.String()
}

func appendID(b array.Builder, id uuid.UUID) {
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(id.String())
	case *array.Int32Builder:
		b.Append(int32(intOf(id, 32)))
	case *array.Int64Builder:
		b.Append(intOf(id, 64))
	case interface{ Append(uuid.UUID) }:
		b.Append(id)
	default:
		panic(fmt.Sprintf("id builder %T", b))
	}
}

// appendVec appends v (null when v is nil) to a list builder of float32
// or float64 values.
func appendVec(b array.Builder, v []float32) {
	if v == nil {
		b.AppendNull()
		return
	}
	var vb array.Builder
	switch lb := b.(type) {
	case *array.FixedSizeListBuilder:
		lb.Append(true)
		vb = lb.ValueBuilder()
	case *array.ListBuilder:
		lb.Append(true)
		vb = lb.ValueBuilder()
	case *array.LargeListBuilder:
		lb.Append(true)
		vb = lb.ValueBuilder()
	default:
		panic(fmt.Sprintf("list builder %T", b))
	}
	for _, x := range v {
		switch vb := vb.(type) {
		case *array.Float32Builder:
			vb.Append(x)
		case *array.Float64Builder:
			vb.Append(float64(x))
		case *array.Float16Builder:
			vb.Append(float16.New(x))
		}
	}
}

// rowGroups builds one record per row group of at most size rows.
//
// Every row group is written from a freshly built record because pqarrow
// (arrow-go v18.8.0) ignores the offset of a sliced FixedSizeList array:
// letting the writer slice a big record into row groups writes the first
// rows' vectors again in every later row group.
func rowGroups(n, size int, build func(lo, hi int) arrow.RecordBatch) []arrow.RecordBatch {
	var recs []arrow.RecordBatch
	for lo := 0; lo < n || lo == 0; lo += size {
		recs = append(recs, build(lo, min(lo+size, n)))
	}
	return recs
}

// writeParquet writes the records to path with pqarrow, one row group
// each, storing the Arrow schema.
func writeParquet(t testing.TB, path string, recs []arrow.RecordBatch, codec compress.Compression) {
	t.Helper()
	writeParquetWith(t, path, recs, parquet.NewWriterProperties(parquet.WithCompression(codec)), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
}

// writeParquetWith writes the records to path with pqarrow and the given
// properties.
func writeParquetWith(t testing.TB, path string, recs []arrow.RecordBatch, props *parquet.WriterProperties, aprops pqarrow.ArrowWriterProperties) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(recs[0].Schema(), f, props, aprops)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeWinnow writes the records with Writer, one row group each.
func writeWinnow(t testing.TB, path string, recs []arrow.RecordBatch) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, recs[0].Schema(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		if i > 0 {
			if err := w.NewRowGroup(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// samplesRecord builds a samples table: sample_id plus an int64 "size"
// column (i*10) and a string "split" column.
func samplesRecord(ids []uuid.UUID, it idType) arrow.RecordBatch {
	sc := arrow.NewSchema([]arrow.Field{
		idField(it),
		{Name: "size", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "split", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, id := range ids {
		appendID(b.Field(0), id)
		b.Field(1).(*array.Int64Builder).Append(int64(i * 10))
		b.Field(2).(*array.StringBuilder).Append([]string{"train", "val"}[i%2])
	}
	return b.NewRecordBatch()
}

// embRecord builds an embeddings table with the given embedding type.
func embRecord(ids []uuid.UUID, vecs [][]float32, it idType, embType arrow.DataType, nullable bool) arrow.RecordBatch {
	sc := arrow.NewSchema([]arrow.Field{idField(it), {Name: EmbeddingColumn, Type: embType, Nullable: nullable}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, id := range ids {
		appendID(b.Field(0), id)
		appendVec(b.Field(1), vecs[i])
	}
	return b.NewRecordBatch()
}

// writeCanonical writes a dataset the way winnow does: samples and one
// model "m" (only present vectors are stored, in dataset order).
func writeCanonical(t testing.TB, dir string, ids []uuid.UUID, vecs [][]float32, dim int, rowGroup int) {
	t.Helper()
	writeWinnow(t, filepath.Join(dir, "samples.parquet"), []arrow.RecordBatch{samplesRecord(ids, idUUID)})
	var eids []uuid.UUID
	var evecs [][]float32
	for i, v := range vecs {
		if v != nil {
			eids, evecs = append(eids, ids[i]), append(evecs, v)
		}
	}
	writeWinnow(t, filepath.Join(dir, "embeddings", "m.parquet"), rowGroups(len(eids), rowGroup, func(lo, hi int) arrow.RecordBatch {
		return embRecord(eids[lo:hi], evecs[lo:hi], idUUID, EmbeddingType(dim), false)
	}))
}

func mustOpen(t testing.TB, dir string) *Dataset {
	t.Helper()
	d, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// record builds a one-row-group record from rows of Go values: uuid.UUID,
// string, int64, float64, bool, []float32 (lists), nil (null).
func record(sc *arrow.Schema, rows ...[]any) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range rows {
		for i, v := range r {
			appendAny(b.Field(i), v)
		}
	}
	return b.NewRecordBatch()
}

func appendAny(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch v := v.(type) {
	case uuid.UUID:
		appendID(b, v)
	case string:
		b.(*array.StringBuilder).Append(v)
	case int64:
		switch ib := b.(type) {
		case *array.Int64Builder:
			ib.Append(v)
		case *array.Int32Builder:
			ib.Append(int32(v))
		}
	case arrow.Timestamp:
		b.(*array.TimestampBuilder).Append(v)
	case float64:
		switch fb := b.(type) {
		case *array.Float64Builder:
			fb.Append(v)
		case *array.Float32Builder:
			fb.Append(float32(v))
		}
	case bool:
		b.(*array.BooleanBuilder).Append(v)
	case []float32:
		appendVec(b, v)
	default:
		panic(fmt.Sprintf("value %T", v))
	}
}

// schemaOf builds a schema of nullable fields from name, type pairs.
func schemaOf(nameTypes ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(nameTypes); i += 2 {
		fs = append(fs, arrow.Field{Name: nameTypes[i].(string), Type: nameTypes[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// put writes a one-row-group table with pqarrow (zstd).
func put(t testing.TB, path string, rec arrow.RecordBatch) {
	t.Helper()
	writeParquet(t, path, []arrow.RecordBatch{rec}, compress.Codecs.Zstd)
}
