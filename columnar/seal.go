package columnar

// Sealed tags tables.
//
// Open validates two things that take most of its time on a big dataset:
// the samples' ids (decoded and checked unique) and the tags table's ids
// (each a sample's, in dataset order). On 10 million samples that is 320 MB
// of ids decoded and compared, several times the cost of a typical query.
//
// winnow writes tags tables itself, from ids it has validated, so it seals
// each one it writes: a key-value entry in the footer holding two digests,
// one of the bytes that hold the samples' ids (their column chunks and the
// footer fields that say how to read them), one of the tags file itself
// (every byte but the seal's own value). When both digests still match,
// nothing either validation looked at has changed since it passed, and
// Open skips both: the sample ids are decoded when first needed, and the
// tags table's rows are the samples' rows. Any change to those bytes, by
// winnow or any other program, breaks the seal and Open validates in full
// as before; the seal is a cache, never a reason to reject a dataset.
//
// The digests are 128-bit XXH3: they detect change, they do not resist a
// forger, which is no threat here (whoever can write the files can write
// anything into them).

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/zeebo/xxh3"
)

// sealKey is the footer key of a tags table's seal. Its value is sealLen
// hex digits: the digest of the samples' ids, then that of the tags file.
const (
	sealKey = "winnow.seal.v1"
	sealLen = 64
)

// sealPlaceholder is the value written before the tags file's digest is
// known and the value hashed in its place.
var sealPlaceholder = bytes.Repeat([]byte{'0'}, sealLen)

// digest is a 128-bit content digest.
type digest [16]byte

func sum(h *xxh3.Hasher) digest {
	var d digest
	s := h.Sum128()
	binary.BigEndian.PutUint64(d[:8], s.Hi)
	binary.BigEndian.PutUint64(d[8:], s.Lo)
	return d
}

// hashBuf is the size of the reads that feed a digest: small enough to
// stay in cache and never fault in much fresh memory.
const hashBuf = 1 << 20

// hashRange feeds bytes [off, off+n) of f to h.
func hashRange(h *xxh3.Hasher, f *os.File, off, n int64, buf []byte) error {
	if len(buf) == 0 && n > 0 {
		buf = make([]byte, min(n, hashBuf))
	}
	for n > 0 {
		b := buf[:min(n, int64(len(buf)))]
		if _, err := f.ReadAt(b, off); err != nil {
			return err
		}
		h.Write(b)
		off += int64(len(b))
		n -= int64(len(b))
	}
	return nil
}

// hashInt feeds v to h.
func hashInt(h *xxh3.Hasher, v int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	h.Write(b[:])
}

// hashString feeds s to h, length first, so that no two sequences of
// fields feed the same bytes.
func hashString(h *xxh3.Hasher, s string) {
	hashInt(h, int64(len(s)))
	h.WriteString(s)
}

// idsDigest digests what a reader of the id column name of parts looks
// at: the column's name, for every part its row groups' row counts, the column's Parquet
// type, and for every row group the chunk's codec, value count, encodings
// and bytes (the range arrow-go reads). ok is false when the layout cannot
// be sealed (an encrypted chunk, a range outside the file, a writer whose
// ranges arrow-go pads); then err is nil and the full validation decides.
func idsDigest(parts []*part, name string) (d digest, ok bool, err error) {
	// Open runs this on a goroutine of its own: a decoder panic on a
	// corrupt footer must not take the process down.
	defer func() {
		if r := recover(); r != nil {
			d, ok, err = digest{}, false, nil
		}
	}()
	h := xxh3.New()
	hashString(h, "winnow samples ids v1")
	hashString(h, name)
	hashInt(h, int64(len(parts)))
	var buf []byte
	for _, p := range parts {
		col, err := p.idColumn(name)
		if err != nil {
			return d, false, nil
		}
		md := p.r.MetaData()
		if md.WriterVersion().LessThan(metadata.Parquet816FixedVersion) {
			return d, false, nil
		}
		size := p.r.MetaData().GetSourceFileSize()
		if int64(len(buf)) < min(size, hashBuf) {
			buf = make([]byte, min(size, hashBuf))
		}
		desc := md.Schema.Column(col)
		hashString(h, desc.PhysicalType().String())
		hashInt(h, int64(desc.TypeLength()))
		hashInt(h, int64(desc.MaxDefinitionLevel()))
		hashInt(h, int64(desc.MaxRepetitionLevel()))
		hashString(h, desc.LogicalType().String())
		hashInt(h, int64(md.NumRowGroups()))
		for g := 0; g < md.NumRowGroups(); g++ {
			rg := md.RowGroup(g)
			cc, err := rg.ColumnChunk(col)
			if err != nil || cc.CryptoMetadata() != nil {
				return d, false, nil
			}
			start, n := cc.DataPageOffset(), cc.TotalCompressedSize()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
				start = cc.DictionaryPageOffset()
			}
			if start < 0 || n < 0 || start > size || n > size-start {
				return d, false, nil
			}
			hashInt(h, rg.NumRows())
			hashInt(h, int64(cc.Compression()))
			hashInt(h, cc.NumValues())
			hashInt(h, int64(len(cc.Encodings())))
			for _, e := range cc.Encodings() {
				hashInt(h, int64(e))
			}
			hashInt(h, start)
			hashInt(h, n)
			if err := hashRange(h, p.f, start, n, buf); err != nil {
				return d, false, fmt.Errorf("%s: %w", p.path, err)
			}
		}
	}
	return sum(h), true, nil
}

// seal is a tags file's seal as found in its footer.
type seal struct {
	ids, tags digest // digests of the samples' ids and of the tags file
	at        int64  // file offset of the value
	size      int64  // file size
}

// findSeal locates the seal's value in the footer of the Parquet file f
// (size bytes, footer as parsed into md). ok is false when there is none,
// or more than one, or it is not where the footer's encoding puts it.
func findSeal(f *os.File, size int64, md *metadata.FileMetaData) (s seal, ok bool, err error) {
	want := md.KeyValueMetadata().FindValue(sealKey)
	if want == nil || len(*want) != sealLen || size < 12 {
		return s, false, nil
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return s, false, err
	}
	flen := int64(binary.LittleEndian.Uint32(tail[:4]))
	if string(tail[4:]) != "PAR1" || flen > size-12 {
		return s, false, nil
	}
	footer := make([]byte, flen)
	if _, err := f.ReadAt(footer, size-8-flen); err != nil {
		return s, false, err
	}
	key := []byte(sealKey)
	k := bytes.Index(footer, key)
	if k < 0 || bytes.Contains(footer[k+1:], key) {
		return s, false, nil
	}
	// Thrift's compact encoding of KeyValue{key, value}: the key's bytes,
	// then field 2's header (binary, delta 1) and the length 64 as a
	// varint, then the value.
	v := k + len(key) + 2
	if v+sealLen > len(footer) || footer[v-2] != 0x18 || footer[v-1] != sealLen || string(footer[v:v+sealLen]) != *want {
		return s, false, nil
	}
	raw, err := hex.DecodeString(*want)
	if err != nil {
		return s, false, nil
	}
	copy(s.ids[:], raw[:16])
	copy(s.tags[:], raw[16:])
	s.at, s.size = size-8-flen+int64(v), size
	return s, true, nil
}

// fileDigest digests f (size bytes) as sealed: every byte, with the
// seal's value at offset at read as the placeholder.
func fileDigest(f *os.File, size, at int64) (digest, error) {
	h := xxh3.New()
	hashString(h, "winnow tags file v1")
	buf := make([]byte, min(size, hashBuf))
	if err := hashRange(h, f, 0, at, buf); err != nil {
		return digest{}, err
	}
	h.Write(sealPlaceholder)
	if err := hashRange(h, f, at+sealLen, size-at-sealLen, buf); err != nil {
		return digest{}, err
	}
	return sum(h), nil
}

// sealOf returns the seal of the tags file p, if it has one whose digest
// of the file still matches; the caller compares its digest of the ids.
func sealOf(p *part) (s seal, ok bool, err error) {
	s, ok, err = findSeal(p.f, p.r.MetaData().GetSourceFileSize(), p.r.MetaData())
	if err != nil || !ok {
		return s, false, err
	}
	got, err := fileDigest(p.f, s.size, s.at)
	if err != nil {
		return s, false, err
	}
	return s, got == s.tags, nil
}

// writeSeal fills in the seal of the tags file f, written with the
// placeholder as its seal's value, for samples ids digested as ids.
func writeSeal(f *os.File, ids digest) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	p, err := partOf(f)
	if err != nil {
		return err
	}
	s, ok, err := findSeal(f, st.Size(), p.r.MetaData())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("seal not found in the footer just written")
	}
	tags, err := fileDigest(f, s.size, s.at)
	if err != nil {
		return err
	}
	val := hex.EncodeToString(ids[:]) + hex.EncodeToString(tags[:])
	_, err = f.WriteAt([]byte(val), s.at)
	return err
}

// WriteTags writes d's tags table to f, a new file: sample_id in dataset
// order and one non-null boolean column per tag (names[i] holding the
// samples of cols[i]), sealed for d's samples (see seal.go) so that the
// next Open need not validate the ids again. f must be open for reading
// and writing: the seal is filled in after the rest is written. It does
// not sync or close f.
//
// meta is stored in the footer: which selection record belongs to which
// tag, and the parts of a table folder that the new file supersedes.
func (d *Dataset) WriteTags(ctx context.Context, f *os.File, names []string, cols []*bitmap.Bitmap, meta TagsMeta) error {
	ids, err := d.IDs(ctx)
	if err != nil {
		return err
	}
	fields := []arrow.Field{{Name: d.idCol, Type: d.idTyp}}
	for i, n := range names {
		if cols[i].Len() != ids.Len() {
			return fmt.Errorf("tag %q covers %d rows, the dataset has %d samples", n, cols[i].Len(), ids.Len())
		}
		fields = append(fields, arrow.Field{Name: n, Type: arrow.FixedWidthTypes.Boolean})
	}
	schema := arrow.NewSchema(fields, nil)
	pw, err := NewWriter(f, schema, WriterOptions{RowGroupRows: 1 << 20})
	if err != nil {
		return err
	}
	const chunk = 1 << 16
	bb := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer bb.Release()
	n := ids.Len()
	for lo := 0; lo < n || lo == 0; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+chunk, n)
		arrs := make([]arrow.Array, 0, len(fields))
		idArr, err := ids.slice(lo, hi).arrowArray(nil)
		if err != nil {
			return err
		}
		arrs = append(arrs, idArr)
		for _, c := range cols {
			bb.Reserve(hi - lo)
			for r := lo; r < hi; r++ {
				bb.UnsafeAppend(c.Get(r))
			}
			arrs = append(arrs, bb.NewArray())
		}
		rec := array.NewRecordBatch(schema, arrs, int64(hi-lo))
		for _, a := range arrs {
			a.Release()
		}
		err = pw.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if err := meta.write(pw); err != nil {
		return err
	}
	if d.sumOK {
		if err := pw.appendMetadata(sealKey, string(sealPlaceholder)); err != nil {
			return err
		}
	}
	if err := pw.Close(); err != nil {
		return err
	}
	if !d.sumOK {
		return nil
	}
	if err := writeSeal(f, d.idsSum); err != nil {
		return fmt.Errorf("seal %s: %w", f.Name(), err)
	}
	return nil
}
