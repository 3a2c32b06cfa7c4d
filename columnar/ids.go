package columnar

// Reading and converting sample_id columns.
//
// A sample_id is stored either as FIXED_LEN_BYTE_ARRAY(16) (with the UUID
// logical type, as winnow writes it) or as a string in canonical UUID form
// (8-4-4-4-12 hex digits), which other engines often write. Both decode to
// uuid.UUID; nulls and malformed strings are errors naming the file and row.

import (
	"context"
	"fmt"
	"unsafe"

	"winnow/internal/workpool"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/google/uuid"
)

// idColumn locates and type-checks the sample_id leaf of part p.
func (p *part) idColumn(name string) (int, error) {
	c, err := p.leafColumn(name)
	if err != nil {
		return -1, err
	}
	if c < 0 {
		return -1, fmt.Errorf("%s: missing required column %q", p.path, name)
	}
	d := p.r.MetaData().Schema.Column(c)
	ok := d.MaxRepetitionLevel() == 0 &&
		((d.PhysicalType() == parquet.Types.FixedLenByteArray && d.TypeLength() == 16) ||
			d.PhysicalType() == parquet.Types.ByteArray)
	if !ok {
		return -1, fmt.Errorf("%s: column %q has Parquet type %s, want FIXED_LEN_BYTE_ARRAY(16) UUID or a UUID string",
			p.path, name, d.PhysicalType())
	}
	return c, nil
}

// idReader decodes a UUID column chunk batch by batch into reused buffers.
// Batches stop at page ends (ReadBatchInPage): the values point into the
// page, which is fine because each id is copied or parsed at once, and it
// saves copying every id out of the page first.
type idReader struct {
	flba []parquet.FixedLenByteArray
	ba   []parquet.ByteArray
	defs []int16
}

// read decodes the ids of column col of row group rg of part p, calling
// put for each in row order with its index in the row group. It checks
// that the row group holds exactly the rows its footer claims.
func (ir *idReader) read(p *part, rg *file.RowGroupReader, col int, name string, put func(i int, id uuid.UUID) error) (err error) {
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
		for i := range vals {
			var id uuid.UUID
			if cr.Type() == parquet.Types.FixedLenByteArray {
				id = uuid.UUID(ir.flba[i])
			} else {
				s := ir.ba[i]
				if len(s) != 36 {
					return fmt.Errorf("%s: column %q: %q at row %d of the row group is not a canonical UUID", p.path, name, s, n+int64(i))
				}
				if id, err = uuid.ParseBytes(s); err != nil {
					return fmt.Errorf("%s: column %q: %q at row %d of the row group is not a canonical UUID", p.path, name, s, n+int64(i))
				}
			}
			if err := put(int(n)+i, id); err != nil {
				return err
			}
		}
		n += lv
	}
	return nil
}

// uuidsOf decodes a sample_id column read through pqarrow (UUID extension
// type, FixedSizeBinary(16) or string) and calls put for each row.
func uuidsOf(path, name string, col *arrow.Chunked, put func(row int, id uuid.UUID) error) error {
	row := 0
	for _, a := range col.Chunks() {
		if ext, ok := a.(array.ExtensionArray); ok {
			a = ext.Storage()
		}
		for i := 0; i < a.Len(); i, row = i+1, row+1 {
			if a.IsNull(i) {
				return fmt.Errorf("%s: column %q: null sample id at row %d", path, name, row)
			}
			var id uuid.UUID
			switch a := a.(type) {
			case *array.FixedSizeBinary:
				v := a.Value(i)
				if len(v) != 16 {
					return fmt.Errorf("%s: column %q has type %s, want a UUID", path, name, col.DataType())
				}
				id = uuid.UUID(v)
			case array.StringLike:
				s := a.Value(i)
				var err error
				if len(s) != 36 {
					err = fmt.Errorf("wrong length")
				} else {
					id, err = uuid.Parse(s)
				}
				if err != nil {
					return fmt.Errorf("%s: column %q: %q at row %d is not a canonical UUID", path, name, s, row)
				}
			default:
				return fmt.Errorf("%s: column %q has type %s, want a UUID", path, name, col.DataType())
			}
			if err := put(row, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// isUUIDType reports whether t can hold sample ids: the UUID extension
// type, FixedSizeBinary(16) or a string.
func isUUIDType(t arrow.DataType) bool {
	switch t := t.(type) {
	case *extensions.UUIDType:
		return true
	case *arrow.FixedSizeBinaryType:
		return t.ByteWidth == 16
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return true
	}
	return false
}

// uuidArray builds a UUID extension array of ids.
func uuidArray(ids []uuid.UUID) arrow.Array {
	b := extensions.NewUUIDBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Reserve(len(ids))
	for _, id := range ids {
		b.UnsafeAppend(id)
	}
	return b.NewArray()
}

// readIDsInOrder decodes the UUID column name of every row group of parts
// in table order, calling put(row, id) for each value with row its index
// in the whole table. Unlike readIDsParallel it sizes nothing from the
// footers, so a footer that lies meets the data first.
func readIDsInOrder(ctx context.Context, parts []*part, name string, put func(row int, id uuid.UUID) error) error {
	cols, err := idColumns(parts, name)
	if err != nil {
		return err
	}
	var ir idReader
	for _, rg := range rowGroupsOf(parts) {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := ir.read(rg.p, rg.p.r.RowGroup(rg.g), cols[rg.p], name, func(i int, id uuid.UUID) error { return put(rg.base+i, id) })
		if err != nil {
			return err
		}
	}
	return nil
}

// idColumns locates and type-checks the UUID column name of every part.
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

// readIDsParallel decodes the UUID column name of every row group of
// parts on all cores, calling put(row, id) for each value with row its
// index in the whole table (by the footers' row counts, which the reader
// checks). Row groups run concurrently; rows within one come in order.
// Callers must bound the footers' total before allocating by it. The
// error is that of the first failing row group in table order.
//
// bulk, when not nil, takes whole pages of ids as raw bytes (16 a row)
// where the chunk's layout allows (see readPlain): bulk(row, raw).
func readIDsParallel(ctx context.Context, parts []*part, name string, put func(row int, id uuid.UUID) error, bulk func(row int, raw []byte) error) error {
	cols, err := idColumns(parts, name)
	if err != nil {
		return err
	}
	tasks := rowGroupsOf(parts)
	return workpool.Run(0, len(tasks), func() func(i int) error {
		var ir idReader
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
			return ir.read(tk.p, rg, col, name, func(j int, id uuid.UUID) error {
				return put(tk.base+j, id)
			})
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
