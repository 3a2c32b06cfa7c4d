package columnar

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"
)

// idKindDataset writes a dataset whose every table holds ids of type it:
// samples, embeddings in reverse order with a missing vector, annotations
// and a tags table written by another program in another order. It
// returns the folder and the ids.
func idKindDataset(t *testing.T, it idType) (string, []uuid.UUID, [][]float32) {
	t.Helper()
	const n, dim = 40, 4
	dir := t.TempDir()
	ids := testIDs(n, 77)
	vecs := testVecs(n, dim, 77, func(i int) bool { return i == 7 })
	writeParquet(t, filepath.Join(dir, "samples.parquet"), rowGroups(n, 16, func(lo, hi int) arrow.RecordBatch {
		return samplesRecord(ids[lo:hi], it)
	}), compress.Codecs.Zstd)
	var eids []uuid.UUID
	var evecs [][]float32
	for i := n - 1; i >= 0; i-- {
		if vecs[i] != nil {
			eids, evecs = append(eids, ids[i]), append(evecs, vecs[i])
		}
	}
	writeParquet(t, filepath.Join(dir, "embeddings", "m.parquet"), rowGroups(len(eids), 10, func(lo, hi int) arrow.RecordBatch {
		return embRecord(eids[lo:hi], evecs[lo:hi], it, EmbeddingType(dim), false)
	}), compress.Codecs.Snappy)
	ann := arrow.NewSchema([]arrow.Field{idField(it), {Name: LabelColumn, Type: arrow.BinaryTypes.String}}, nil)
	put(t, filepath.Join(dir, "annotations.parquet"), record(ann, []any{ids[5], "cat"}, []any{ids[0], "dog"}, []any{ids[5], "dog"}))
	tagsSc := arrow.NewSchema([]arrow.Field{idField(it), {Name: "odd", Type: arrow.FixedWidthTypes.Boolean}}, nil)
	var rows [][]any
	for i := n - 1; i >= 0; i -= 2 { // every other sample, backwards: odd rows
		rows = append(rows, []any{ids[i], true})
	}
	put(t, filepath.Join(dir, "tags.parquet"), record(tagsSc, rows...))
	return dir, ids, vecs
}

// TestIDKinds runs everything that touches ids on datasets of UUID,
// string, int32 and int64 ids: the id matching of every table, the tags
// table winnow writes (in the ids' own type, sealed), selection-record
// columns, export, and the samples' id column as the query sees it.
func TestIDKinds(t *testing.T) {
	ctx := context.Background()
	for _, it := range idTypes {
		t.Run(it.String(), func(t *testing.T) {
			dir, ids, vecs := idKindDataset(t, it)
			d := mustOpen(t, dir)
			if want := map[idType]IDKind{idUUID: UUIDIDs, idString: StringIDs, idInt32: IntIDs, idInt64: IntIDs}[it]; d.IDKind() != want {
				t.Fatalf("IDKind %v, want %v", d.IDKind(), want)
			}
			m, err := d.ReadEmbeddings(ctx, "m")
			if err != nil {
				t.Fatal(err)
			}
			equalMatrix(t, m, wantMatrix(vecs, 4))
			ann, err := d.Annotations(ctx, WithLabel)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ann.Sample, []int32{5, 0, 5}) {
				t.Errorf("annotation samples %v", ann.Sample)
			}
			odd := mustTag(t, d, "odd")
			for i := range ids {
				if odd.Get(i) != (i%2 == 1) {
					t.Fatalf("tag odd at row %d: %v", i, odd.Get(i))
				}
			}
			if d.Sealed() {
				t.Fatal("a tags table another program wrote vouches for nothing")
			}

			// winnow's own tags table: ids in their type, sealed.
			writeTagsFile(t, d, []string{"odd"}, []*bitmap.Bitmap{odd})
			st, err := Stat(filepath.Join(dir, "tags.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := st.Columns[0], (ColumnInfo{Name: SampleIDColumn, Type: TypeName(idArrow(it))}); got != want {
				t.Errorf("tags id column %v, want %v", got, want)
			}
			d2 := mustOpen(t, dir)
			if !d2.Sealed() {
				t.Error("winnow's tags table does not vouch for the ids")
			}
			if got := mustTag(t, d2, "odd"); !slices.Equal(got.Indexes(), odd.Indexes()) {
				t.Errorf("sealed tag %v", got.Indexes())
			}
			if got := idsOf(t, d2); got[3] != textOf(it, ids[3]) {
				t.Errorf("lazily decoded id %s, want %s", got[3], textOf(it, ids[3]))
			}

			// A selection record's id column has the ids' type.
			var buf bytes.Buffer
			if err := WritePlain(ctx, &buf, []PlainColumn{d.IDColumn(SampleIDColumn, []int{9, 2})}, nil); err != nil {
				t.Fatal(err)
			}
			rec := filepath.Join(t.TempDir(), "rec.parquet")
			os.WriteFile(rec, buf.Bytes(), 0o644)
			st, err = Stat(rec)
			if err != nil {
				t.Fatal(err)
			}
			if st.Columns[0].Type != TypeName(idArrow(it)) {
				t.Errorf("record id column %s, want %s", st.Columns[0].Type, TypeName(idArrow(it)))
			}

			var out strings.Builder
			sel := bitmap.New(d.Len())
			sel.Set(3)
			sel.Set(20)
			if err := d.Export(ctx, sel, "ids", &out); err != nil {
				t.Fatal(err)
			}
			if want := textOf(it, ids[3]) + "\n" + textOf(it, ids[20]) + "\n"; out.String() != want {
				t.Errorf("export ids %q, want %q", out.String(), want)
			}
			out.Reset()
			if err := d.Export(ctx, sel, "csv", &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "\n"+textOf(it, ids[20])+",40,train\n") {
				t.Errorf("export csv %q", out.String())
			}

			tbl, err := d.SampleTable(ctx, []string{SampleIDColumn})
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Release()
			if !arrow.TypeEqual(tbl.Column(0).DataType(), idArrow(it)) {
				t.Errorf("SampleTable id type %s, want %s", tbl.Column(0).DataType(), idArrow(it))
			}
			if d.CanStream([]string{SampleIDColumn}) != (it != idUUID) {
				t.Errorf("CanStream(ids) = %v", d.CanStream([]string{SampleIDColumn}))
			}
		})
	}
}

// TestIDKindsAcrossTables matches reference columns of another kind than
// the samples' ids: UUID text against UUIDs and the reverse, int32
// against int64, decimal text against integers.
func TestIDKindsAcrossTables(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ samples, ref idType }{
		{idUUID, idString}, {idString, idUUID}, {idInt64, idInt32}, {idInt32, idInt64},
	} {
		t.Run(c.samples.String()+"/"+c.ref.String(), func(t *testing.T) {
			dir := t.TempDir()
			ids := testIDs(6, 8)
			put(t, filepath.Join(dir, "samples.parquet"), samplesRecord(ids, c.samples))
			vecs := testVecs(6, 2, 8, nil)
			put(t, filepath.Join(dir, "embeddings", "m.parquet"), embRecord(ids, vecs, c.ref, EmbeddingType(2), false))
			d := mustOpen(t, dir)
			m, err := d.ReadEmbeddings(ctx, "m")
			if err != nil {
				t.Fatal(err)
			}
			equalMatrix(t, m, wantMatrix(vecs, 2))
		})
	}
}

// TestIDConvert converts reference columns between kinds, including the
// errors that name the row.
func TestIDConvert(t *testing.T) {
	u := uuid.MustParse("0191a0c4-7b2e-7000-8000-0000000000aa")
	strs := newIDs(arrow.BinaryTypes.String)
	for _, s := range []string{"12", u.String(), "-3"} {
		strs.appendText([]byte(s))
	}
	ints := &IDs{kind: IntIDs, typ: arrow.PrimitiveTypes.Int32, ints: []int64{12, 40000}}
	uuids := uuidIDs([]uuid.UUID{u})

	if got, err := ints.convert(strs.slice(0, 1)); err != nil || got.ints[0] != 12 {
		t.Errorf("decimal text to int: %v %v", got, err)
	}
	if _, err := ints.convert(strs); err == nil || err.Error() != `"`+u.String()+`" at row 1 is not a sample id (integer): not a decimal integer` {
		t.Errorf("UUID text to int: %v", err)
	}
	if got, err := uuids.convert(strs.slice(1, 2)); err != nil || got.uuids[0] != u {
		t.Errorf("UUID text to UUID: %v %v", got, err)
	}
	if got, err := strs.convert(uuids); err != nil || got.String(0) != u.String() {
		t.Errorf("UUID to text: %v %v", got, err)
	}
	if got, err := strs.convert(ints); err != nil || got.String(1) != "40000" {
		t.Errorf("int to text: %v %v", got, err)
	}
}
