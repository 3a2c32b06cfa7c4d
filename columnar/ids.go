package columnar

// Reading id columns: the samples' ids and the references to them in the
// other tables, decoded with the low-level column readers into IDs (see
// idcol.go). Nulls are errors naming the file and row.

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/winnow-data/winnow/internal/workpool"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/uuid"
)

// idColumn locates and type-checks the id leaf name of part p: a
// FIXED_LEN_BYTE_ARRAY(16), a BYTE_ARRAY string or an INT32/INT64 integer
// column, not repeated.
func (p *part) idColumn(name string) (int, error) {
	c, err := p.leafColumn(name)
	if err != nil {
		return -1, err
	}
	if c < 0 {
		return -1, fmt.Errorf("%s: missing required column %q", p.path, name)
	}
	d := p.r.MetaData().Schema.Column(c)
	ok := d.MaxRepetitionLevel() == 0
	switch d.PhysicalType() {
	case parquet.Types.FixedLenByteArray:
		ok = ok && d.TypeLength() == 16
	case parquet.Types.ByteArray:
	case parquet.Types.Int32, parquet.Types.Int64:
		// Dates, times, timestamps and decimals are stored as integers
		// but are not ids.
		switch d.LogicalType().(type) {
		case nil, schema.NoLogicalType, schema.IntLogicalType:
		default:
			ok = false
		}
	default:
		ok = false
	}
	if !ok {
		return -1, fmt.Errorf("%s: column %q has Parquet type %s, %s", p.path, name, d.PhysicalType(), idTypeWant)
	}
	return c, nil
}

// idReader decodes an id column chunk batch by batch into reused buffers.
// Batches stop at page ends (ReadBatchInPage): the values point into the
// page, which is fine because each id is copied or parsed at once, and it
// saves copying every id out of the page first.
type idReader struct {
	flba []parquet.FixedLenByteArray
	ba   []parquet.ByteArray
	i32  []int32
	i64  []int64
	defs []int16
}

// read decodes the ids of column col of row group rg of part p and
// appends them to dst, whose kind must be the column's. It checks that
// the row group holds exactly the rows its footer claims, and that no id
// is null.
func (ir *idReader) read(p *part, rg *file.RowGroupReader, col int, name string, dst *IDs) (err error) {
	defer recoverTo(p.path, &err)
	cr, err := rg.Column(col)
	if err != nil {
		return fmt.Errorf("%s: column %q: %w", p.path, name, err)
	}
	if ir.defs == nil {
		ir.defs = make([]int16, readBatchRows)
	}
	want := rg.NumRows()
	var n int64
	for n < want {
		batch := min(want-n, readBatchRows)
		var (
			lv   int64
			vals int
		)
		switch r := cr.(type) {
		case *file.FixedLenByteArrayColumnChunkReader:
			if ir.flba == nil {
				ir.flba = make([]parquet.FixedLenByteArray, readBatchRows)
			}
			lv, vals, err = r.ReadBatchInPage(batch, ir.flba, ir.defs, nil)
		case *file.ByteArrayColumnChunkReader:
			if ir.ba == nil {
				ir.ba = make([]parquet.ByteArray, readBatchRows)
			}
			lv, vals, err = r.ReadBatchInPage(batch, ir.ba, ir.defs, nil)
		case *file.Int32ColumnChunkReader:
			if ir.i32 == nil {
				ir.i32 = make([]int32, readBatchRows)
			}
			lv, vals, err = r.ReadBatch(batch, ir.i32, ir.defs, nil)
		case *file.Int64ColumnChunkReader:
			if ir.i64 == nil {
				ir.i64 = make([]int64, readBatchRows)
			}
			lv, vals, err = r.ReadBatch(batch, ir.i64, ir.defs, nil)
		default:
			return fmt.Errorf("%s: column %q: unexpected reader %T", p.path, name, cr)
		}
		if err != nil {
			return fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, name, err)
		}
		if lv == 0 {
			if err := cr.Err(); err != nil {
				return fmt.Errorf("%s: column %q: corrupt parquet file: %w", p.path, name, err)
			}
			return fmt.Errorf("%s: column %q: corrupt parquet file: row group claims %d rows but holds %d", p.path, name, want, n)
		}
		if int64(vals) != lv {
			for i := range lv {
				if cr.Descriptor().MaxDefinitionLevel() > 0 && ir.defs[i] == 0 {
					return fmt.Errorf("%s: column %q: null sample id at row %d of the row group", p.path, name, n+i)
				}
			}
		}
		switch cr.Type() {
		case parquet.Types.FixedLenByteArray:
			for _, v := range ir.flba[:vals] {
				dst.uuids = append(dst.uuids, uuid.UUID(v))
			}
		case parquet.Types.ByteArray:
			for _, v := range ir.ba[:vals] {
				if err := dst.appendText(v); err != nil {
					return fmt.Errorf("%s: column %q: %w", p.path, name, err)
				}
			}
		case parquet.Types.Int32:
			for _, v := range ir.i32[:vals] {
				dst.ints = append(dst.ints, int64(v))
			}
		case parquet.Types.Int64:
			dst.ints = append(dst.ints, ir.i64[:vals]...)
		}
		n += lv
	}
	return nil
}

// reset empties x for reuse as a chunk of ids of Arrow type t, keeping
// its buffers.
func (x *IDs) reset(t arrow.DataType) {
	k, _ := idKindOf(t)
	x.kind, x.typ = k, idArrowType(t)
	x.uuids, x.ints, x.text = x.uuids[:0], x.ints[:0], x.text[:0]
	x.off = append(x.off[:0], 0)
}

// readIDsInOrder decodes the id column name (of Arrow type t) of every
// row group of parts in table order, calling put with each row group's
// ids and the row of the whole table that they start at. The chunk is
// reused for the next row group. Unlike readIDsParallel it sizes nothing
// from the footers, so a footer that lies meets the data first.
func readIDsInOrder(ctx context.Context, parts []*part, name string, t arrow.DataType, put func(base int, ids *IDs) error) error {
	cols, err := idColumns(parts, name)
	if err != nil {
		return err
	}
	var ir idReader
	var chunk IDs
	for _, rg := range rowGroupsOf(parts) {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk.reset(t)
		if err := ir.read(rg.p, rg.p.r.RowGroup(rg.g), cols[rg.p], name, &chunk); err != nil {
			return err
		}
		if err := put(rg.base, &chunk); err != nil {
			return err
		}
	}
	return nil
}

// idColumns locates and type-checks the id column name of every part.
func idColumns(parts []*part, name string) (map[*part]int, error) {
	cols := make(map[*part]int, len(parts))
	for _, p := range parts {
		col, err := p.idColumn(name)
		if err != nil {
			return nil, err
		}
		cols[p] = col
	}
	return cols, nil
}

// readIDsParallel decodes the id column name (of Arrow type t) of every
// row group of parts on all cores, calling put with each row group's ids
// (a chunk reused for the worker's next row group) and the row of the
// whole table they start at, by the footers' row counts, which the reader
// checks. Callers must bound the footers' total before allocating by it.
// The error is that of the first failing row group in table order.
//
// bulk, when not nil, takes whole pages of UUIDs as raw bytes (16 a row)
// where the chunk's layout allows (see readPlain): bulk(row, raw).
// into, when not nil, returns the chunk to decode row group g (in table
// order) into, which the caller keeps (or decodes straight into place:
// then the chunk's backing array must have room for the n rows).
func readIDsParallel(ctx context.Context, parts []*part, name string, t arrow.DataType, put func(base int, ids *IDs) error, bulk func(row int, raw []byte) error, into func(g, base, n int) *IDs) error {
	cols, err := idColumns(parts, name)
	if err != nil {
		return err
	}
	tasks := rowGroupsOf(parts)
	return workpool.Run(0, len(tasks), func() func(i int) error {
		var ir idReader
		var own IDs
		return func(i int) error {
			tk := tasks[i]
			if err := ctx.Err(); err != nil {
				return err
			}
			rg, col := tk.p.r.RowGroup(tk.g), cols[tk.p]
			if bulk != nil {
				done, err := ir.readPlain(tk.p, rg, col, name, func(j int, raw []byte) error {
					return bulk(tk.base+j, raw)
				})
				if err != nil || done {
					return err
				}
			}
			chunk := &own
			if into != nil {
				chunk = into(i, tk.base, int(rg.NumRows()))
			} else {
				chunk.reset(t)
			}
			if err := ir.read(tk.p, rg, col, name, chunk); err != nil {
				return err
			}
			if put == nil {
				return nil
			}
			return put(tk.base, chunk)
		}
	})
}

// readPlain is the fast path of read for the common layout of a sample_id
// chunk: required FIXED_LEN_BYTE_ARRAY(16) values, PLAIN encoded, no
// dictionary. A decompressed data page then is the ids themselves, 16
// bytes each, and bulk gets them whole: bulk(i, raw) with i the row group
// index of raw's first id. It reports false, having called nothing, when
// the chunk's metadata allows another layout.
func (ir *idReader) readPlain(p *part, rg *file.RowGroupReader, col int, name string, bulk func(i int, raw []byte) error) (ok bool, err error) {
	defer recoverTo(p.path, &err)
	d := p.r.MetaData().Schema.Column(col)
	if d.PhysicalType() != parquet.Types.FixedLenByteArray || d.TypeLength() != 16 || d.MaxDefinitionLevel() != 0 || d.MaxRepetitionLevel() != 0 {
		return false, nil
	}
	cc, err := rg.MetaData().ColumnChunk(col)
	if err != nil {
		return false, nil // the column reader reports it
	}
	if cc.HasDictionaryPage() {
		return false, nil
	}
	for _, e := range cc.Encodings() {
		if e != parquet.Encodings.Plain && e != parquet.Encodings.RLE && e != parquet.Encodings.BitPacked {
			return false, nil
		}
	}
	pr, err := rg.GetColumnPageReader(col)
	if err != nil {
		return true, fmt.Errorf("%s: column %q: %w", p.path, name, err)
	}
	want := rg.NumRows()
	var n int64
	for n < want && pr.Next() {
		var data []byte
		switch pg := pr.Page().(type) {
		case *file.DataPageV1:
			if parquet.Encoding(pg.Encoding()) != parquet.Encodings.Plain {
				return true, fmt.Errorf("%s: column %q: corrupt parquet file: %s page in a PLAIN column chunk", p.path, name, parquet.Encoding(pg.Encoding()))
			}
			data = pg.Data()
		case *file.DataPageV2:
			if parquet.Encoding(pg.Encoding()) != parquet.Encodings.Plain || pg.DefinitionLevelByteLen() != 0 || pg.RepetitionLevelByteLen() != 0 {
				return true, fmt.Errorf("%s: column %q: corrupt parquet file: unexpected page layout", p.path, name)
			}
			data = pg.Data()
		default:
			return true, fmt.Errorf("%s: column %q: corrupt parquet file: unexpected %T", p.path, name, pg)
		}
		nv := int64(pr.Page().NumValues())
		if nv < 0 || nv > want-n || int64(len(data)) < 16*nv {
			return true, fmt.Errorf("%s: column %q: corrupt parquet file: page of %d values in %d bytes", p.path, name, nv, len(data))
		}
		if err := bulk(int(n), data[:16*nv]); err != nil {
			return true, err
		}
		n += nv
	}
	if err := pr.Err(); err != nil {
		return true, fmt.Errorf("%s: column %q: corrupt or truncated parquet file: %w", p.path, name, err)
	}
	if n != want {
		return true, fmt.Errorf("%s: column %q: corrupt parquet file: row group claims %d rows but holds %d", p.path, name, want, n)
	}
	return true, nil
}

// idBytes is ids as the bytes they are made of.
func idBytes(ids []uuid.UUID) []byte {
	if len(ids) == 0 {
		return nil
	}
	return unsafe.Slice(&ids[0][0], 16*len(ids))
}

// matchIDs returns the dataset row of each of ids, a reference column of
// the table at path (any kind: it is converted to the samples' kind, see
// IDs.convert). An id that is not a sample's is an error naming the table
// and the id.
func (d *Dataset) matchIDs(ctx context.Context, path, column string, ids *IDs) ([]int32, error) {
	ix, err := d.index(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := ix.ids.convert(ids)
	if err != nil {
		return nil, fmt.Errorf("%s: column %q: %w", path, column, err)
	}
	rows := make([]int32, conv.Len())
	for i := range rows {
		r, ok := ix.find(conv, i)
		if !ok {
			return nil, d.unknownSample(ctx, path, fmt.Sprintf("row %d", i), ids, i)
		}
		rows[i] = r
	}
	return rows, nil
}
