package datagen

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// table is a Parquet file read back for inspection: its Arrow schema and
// every column as one array (row groups concatenated).
type table struct {
	schema *arrow.Schema
	rows   int
	cols   map[string]arrow.Array
	meta   map[string]string
}

func readTable(t *testing.T, path string) table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer tbl.Release()
	out := table{schema: tbl.Schema(), rows: int(tbl.NumRows()), cols: map[string]arrow.Array{}, meta: map[string]string{}}
	for i := range int(tbl.NumCols()) {
		col := tbl.Column(i)
		arr, err := array.Concatenate(col.Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("read %s column %s: %v", path, col.Name(), err)
		}
		t.Cleanup(arr.Release)
		out.cols[col.Name()] = arr
	}
	kv := rdr.MetaData().KeyValueMetadata()
	for i, k := range kv.Keys() {
		out.meta[k] = kv.Values()[i]
	}
	return out
}

// parquetColumn returns the Parquet physical and logical type of a
// top-level column, to check what other engines will see.
func parquetColumn(t *testing.T, path, name string) (parquet.Type, schema.LogicalType, int) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rdr.Close()
	sc := rdr.MetaData().Schema
	i := sc.ColumnIndexByName(name)
	if i < 0 {
		t.Fatalf("%s: no column %q", path, name)
	}
	c := sc.Column(i)
	return c.PhysicalType(), c.LogicalType(), c.TypeLength()
}

// rowGroups returns the number of row groups of a Parquet file.
func rowGroups(t *testing.T, path string) int {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rdr.Close()
	return rdr.NumRowGroups()
}

// sameFields reports whether two schemas have the same field names, types
// and nullability, ignoring the field ids the Parquet reader adds.
func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i, f := range a.Fields() {
		g := b.Field(i)
		if f.Name != g.Name || f.Nullable != g.Nullable || !arrow.TypeEqual(f.Type, g.Type) {
			return false
		}
	}
	return true
}

// mixedEncodings returns, for every column chunk of a Parquet file whose
// data pages use more than one encoding (a dictionary that fell back to
// plain), its column path. arrow-go writes such chunks' encoding stats in
// map order, so files holding them are not byte-reproducible.
func mixedEncodings(t *testing.T, path string) []string {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rdr.Close()
	var out []string
	md := rdr.MetaData()
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			data := 0
			for _, st := range cc.EncodingStats() {
				if st.PageType.String() != "DICTIONARY_PAGE" {
					data++
				}
			}
			if data > 1 {
				out = append(out, cc.PathInSchema().String())
			}
		}
	}
	return out
}
