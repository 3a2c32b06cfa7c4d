package columnar

// Sample ids of any type.
//
// A dataset's sample id column is a UUID (FIXED_LEN_BYTE_ARRAY(16), with
// or without the UUID logical type), a string, or an integer (8 to 64
// bits, signed, or unsigned up to 32 bits). IDs holds such a column in
// the form that costs least for its kind: UUIDs as 16-byte arrays,
// integers as int64s, strings as one byte buffer with offsets. The kind
// is the file's, never converted: ids are looked up, compared and
// written back in the type they were read in, so a table winnow writes
// (tags, selection records, exports) joins with the user's tables on the
// same type.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"
	"github.com/zeebo/xxh3"
)

// IDKind is the type of a dataset's sample ids.
type IDKind uint8

// The kinds of sample ids.
const (
	UUIDIDs   IDKind = iota // 16-byte UUIDs
	StringIDs               // UTF-8 strings
	IntIDs                  // integers (int8 to int64, uint8 to uint32)
)

func (k IDKind) String() string {
	switch k {
	case UUIDIDs:
		return "UUID"
	case StringIDs:
		return "string"
	case IntIDs:
		return "integer"
	}
	return fmt.Sprintf("IDKind(%d)", uint8(k))
}

// IDs is a column of sample ids of one kind, one per row. Its methods
// read it; it is never modified after it is built.
type IDs struct {
	kind  IDKind
	typ   arrow.DataType // the Arrow type the ids were read as, and are written back as
	uuids []uuid.UUID    // UUIDIDs
	ints  []int64        // IntIDs
	off   []uint32       // StringIDs: id i is text[off[i]:off[i+1]]; len n+1
	text  []byte
}

// Kind is the ids' kind.
func (x *IDs) Kind() IDKind { return x.kind }

// TypeName names the ids' column type as winnow shows types ("uuid",
// "utf8", "int64", ...).
func (x *IDs) TypeName() string { return TypeName(x.typ) }

// Len is the number of ids.
func (x *IDs) Len() int {
	switch x.kind {
	case UUIDIDs:
		return len(x.uuids)
	case IntIDs:
		return len(x.ints)
	}
	return max(0, len(x.off)-1)
}

// String returns id i in its text form: a UUID in canonical form, an
// integer in decimal, a string as is. ParseID reads it back.
func (x *IDs) String(i int) string {
	switch x.kind {
	case UUIDIDs:
		return x.uuids[i].String()
	case IntIDs:
		return strconv.FormatInt(x.ints[i], 10)
	}
	return string(x.bytes(i))
}

// quoted is id i for messages: strings quoted, so that spaces and empty
// ids show.
func (x *IDs) quoted(i int) string {
	if x.kind == StringIDs {
		return strconv.Quote(string(x.bytes(i)))
	}
	return x.String(i)
}

// bytes is string id i, sharing memory with the column.
func (x *IDs) bytes(i int) []byte { return x.text[x.off[i]:x.off[i+1]:x.off[i+1]] }

// hash is the hash of id i; equal ids of one kind hash equally.
func (x *IDs) hash(i int) uint64 {
	switch x.kind {
	case UUIDIDs:
		return hashUUID(x.uuids[i])
	case IntIDs:
		return hashInt64(x.ints[i])
	}
	return xxh3.Hash(x.bytes(i))
}

// hashes sets out[k] to the hash of id lo+k: one loop per kind, with the
// hash inlined.
func (x *IDs) hashes(lo int, out []uint64) {
	switch x.kind {
	case UUIDIDs:
		for k, id := range x.uuids[lo : lo+len(out)] {
			out[k] = hashUUID(id)
		}
	case IntIDs:
		for k, v := range x.ints[lo : lo+len(out)] {
			out[k] = hashInt64(v)
		}
	default:
		off := x.off[lo : lo+len(out)+1]
		for k := range out {
			out[k] = xxh3.Hash(x.text[off[k]:off[k+1]])
		}
	}
}

// same reports whether id i of x equals id j of y, both of x's kind.
func (x *IDs) same(i int, y *IDs, j int) bool {
	switch x.kind {
	case UUIDIDs:
		return x.uuids[i] == y.uuids[j]
	case IntIDs:
		return x.ints[i] == y.ints[j]
	}
	return bytes.Equal(x.bytes(i), y.bytes(j))
}

// hashUUID mixes both halves of id: UUIDs are mostly random, but ids made
// from counters are not.
func hashUUID(id uuid.UUID) uint64 {
	lo := binary.LittleEndian.Uint64(id[:8])
	hi := binary.LittleEndian.Uint64(id[8:])
	h := (lo ^ bits.RotateLeft64(hi, 31)) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

// hashInt64 spreads integer ids, which are usually consecutive, over all
// 64 bits: the index takes partitions from the top bits and slots from
// the bottom ones.
func hashInt64(v int64) uint64 {
	h := uint64(v) * 0x9E3779B97F4A7C15
	h ^= h >> 32
	h *= 0xD6E8FEB86659FD93
	return h ^ h>>29
}

// idKindOf returns the kind of ids a column of Arrow type t holds, and
// false when t cannot hold sample ids.
func idKindOf(t arrow.DataType) (IDKind, bool) {
	switch t := t.(type) {
	case *extensions.UUIDType:
		return UUIDIDs, true
	case *arrow.FixedSizeBinaryType:
		return UUIDIDs, t.ByteWidth == 16
	}
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return StringIDs, true
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
		return IntIDs, true
	}
	return 0, false
}

// idTypeWant says in messages which types an id column may have.
const idTypeWant = "want a UUID (FIXED_LEN_BYTE_ARRAY(16)), a string or an integer"

// idArrowType is the Arrow type winnow reads and writes ids of a column of
// type t as: the UUID extension type for any 16-byte column, t otherwise.
func idArrowType(t arrow.DataType) arrow.DataType {
	if k, _ := idKindOf(t); k == UUIDIDs {
		return UUIDType()
	}
	return t
}

// newIDs returns an empty column of ids of Arrow type t (a type idKindOf
// accepts).
func newIDs(t arrow.DataType) *IDs {
	k, _ := idKindOf(t)
	x := &IDs{kind: k, typ: idArrowType(t)}
	if k == StringIDs {
		x.off = []uint32{0}
	}
	return x
}

// uuidIDs is a column of the UUIDs ids (sharing memory).
func uuidIDs(ids []uuid.UUID) *IDs {
	return &IDs{kind: UUIDIDs, typ: UUIDType(), uuids: ids}
}

// appendText appends string id s.
func (x *IDs) appendText(s []byte) error {
	if uint64(len(x.text))+uint64(len(s)) > math.MaxUint32 {
		return fmt.Errorf("sample ids take more than 4 GiB of text")
	}
	x.text = append(x.text, s...)
	x.off = append(x.off, uint32(len(x.text)))
	return nil
}

// fitsInt reports whether v fits the integer type t.
func fitsInt(t arrow.DataType, v int64) bool {
	switch t.ID() {
	case arrow.INT8:
		return v >= math.MinInt8 && v <= math.MaxInt8
	case arrow.INT16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case arrow.INT32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	case arrow.UINT8:
		return v >= 0 && v <= math.MaxUint8
	case arrow.UINT16:
		return v >= 0 && v <= math.MaxUint16
	case arrow.UINT32:
		return v >= 0 && v <= math.MaxUint32
	}
	return true
}

// parseID reads text s as an id of kind k (of integer type t): a UUID in
// any form uuid.Parse takes, a decimal integer that fits t, a string as
// is.
func parseID(k IDKind, t arrow.DataType, s string) (any, error) {
	switch k {
	case UUIDIDs:
		return uuid.Parse(s)
	case IntIDs:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not a decimal integer")
		}
		if !fitsInt(t, v) {
			return nil, fmt.Errorf("outside the range of %s", t)
		}
		return v, nil
	}
	return s, nil
}

// one returns a column of the single id v (a value parseID returns) of
// x's kind.
func (x *IDs) one(v any) *IDs {
	y := &IDs{kind: x.kind, typ: x.typ}
	switch v := v.(type) {
	case uuid.UUID:
		y.uuids = []uuid.UUID{v}
	case int64:
		y.ints = []int64{v}
	case string:
		y.off, y.text = []uint32{0, uint32(len(v))}, []byte(v)
	}
	return y
}

// convert returns y's ids as ids of x's kind, so that another table's
// reference column can be matched against x: a UUID column and a string
// column match by the UUID's canonical text, integer columns of any width
// match each other, and strings match integers by their decimal text. An
// id that cannot be converted is an error naming its row; so is a pair of
// kinds that never match (none: every pair converts).
func (x *IDs) convert(y *IDs) (*IDs, error) {
	if y.kind == x.kind {
		return y, nil
	}
	z := &IDs{kind: x.kind, typ: x.typ}
	n := y.Len()
	switch x.kind {
	case UUIDIDs:
		z.uuids = make([]uuid.UUID, n)
	case IntIDs:
		z.ints = make([]int64, n)
	case StringIDs:
		z.off = make([]uint32, 1, n+1)
	}
	for i := range n {
		switch x.kind {
		case StringIDs:
			if err := z.appendText([]byte(y.String(i))); err != nil {
				return nil, err
			}
			continue
		}
		v, err := parseID(x.kind, x.typ, y.String(i))
		if err != nil {
			return nil, fmt.Errorf("%s at row %d is not a sample id (%s): %v", y.quoted(i), i, x.kind, err)
		}
		switch v := v.(type) {
		case uuid.UUID:
			z.uuids[i] = v
		case int64:
			z.ints[i] = v
		}
	}
	return z, nil
}

// slice returns ids [lo, hi) of x, sharing memory.
func (x *IDs) slice(lo, hi int) *IDs {
	y := &IDs{kind: x.kind, typ: x.typ}
	switch x.kind {
	case UUIDIDs:
		y.uuids = x.uuids[lo:hi:hi]
	case IntIDs:
		y.ints = x.ints[lo:hi:hi]
	default:
		y.off, y.text = x.off[lo:hi+1:hi+1], x.text
	}
	return y
}

// equal reports whether x and y hold the same ids of the same kind.
func (x *IDs) equal(y *IDs) bool {
	if x.kind != y.kind || x.Len() != y.Len() {
		return false
	}
	switch x.kind {
	case UUIDIDs:
		return bytes.Equal(idBytes(x.uuids), idBytes(y.uuids))
	case IntIDs:
		for i, v := range x.ints {
			if y.ints[i] != v {
				return false
			}
		}
		return true
	}
	for i := range x.Len() {
		if !bytes.Equal(x.bytes(i), y.bytes(i)) {
			return false
		}
	}
	return true
}

// concatIDs joins chunks of one kind into one column.
func concatIDs(t arrow.DataType, chunks []*IDs) (*IDs, error) {
	x := newIDs(t)
	n, size := 0, 0
	for _, c := range chunks {
		n += c.Len()
		if c.kind == StringIDs && c.Len() > 0 {
			size += int(c.off[c.Len()] - c.off[0])
		}
	}
	switch x.kind {
	case UUIDIDs:
		x.uuids = make([]uuid.UUID, 0, n)
		for _, c := range chunks {
			x.uuids = append(x.uuids, c.uuids...)
		}
	case IntIDs:
		x.ints = make([]int64, 0, n)
		for _, c := range chunks {
			x.ints = append(x.ints, c.ints...)
		}
	case StringIDs:
		if uint64(size) > math.MaxUint32 {
			return nil, fmt.Errorf("sample ids take more than 4 GiB of text")
		}
		x.off = make([]uint32, 1, n+1)
		x.text = make([]byte, 0, size)
		for _, c := range chunks {
			base := uint32(len(x.text)) - c.off[0]
			x.text = append(x.text, c.text[c.off[0]:c.off[c.Len()]]...)
			for _, o := range c.off[1:] {
				x.off = append(x.off, o+base)
			}
		}
	}
	return x, nil
}

// arrowArray returns rows of x (all of them when rows is nil) as an
// Arrow array of the ids' own type.
func (x *IDs) arrowArray(rows []int) (arrow.Array, error) {
	n := x.Len()
	if rows != nil {
		n = len(rows)
	}
	at := func(k int) (int, error) {
		if rows == nil {
			return k, nil
		}
		if r := rows[k]; r >= 0 && r < x.Len() {
			return r, nil
		}
		return 0, fmt.Errorf("row %d outside the %d samples", rows[k], x.Len())
	}
	b := array.NewBuilder(memory.DefaultAllocator, x.typ)
	defer b.Release()
	b.Reserve(n)
	for k := range n {
		i, err := at(k)
		if err != nil {
			return nil, err
		}
		if err := x.appendTo(b, i); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// appendTo appends id i to b, a builder of the ids' Arrow type.
func (x *IDs) appendTo(b array.Builder, i int) error {
	switch b := b.(type) {
	case *extensions.UUIDBuilder:
		b.Append(x.uuids[i])
	case *array.StringBuilder:
		b.BinaryBuilder.Append(x.bytes(i))
	case *array.LargeStringBuilder:
		b.BinaryBuilder.Append(x.bytes(i))
	case *array.StringViewBuilder:
		b.BinaryViewBuilder.Append(x.bytes(i))
	case *array.Int8Builder:
		b.Append(int8(x.ints[i]))
	case *array.Int16Builder:
		b.Append(int16(x.ints[i]))
	case *array.Int32Builder:
		b.Append(int32(x.ints[i]))
	case *array.Int64Builder:
		b.Append(x.ints[i])
	case *array.Uint8Builder:
		b.Append(uint8(x.ints[i]))
	case *array.Uint16Builder:
		b.Append(uint16(x.ints[i]))
	case *array.Uint32Builder:
		b.Append(uint32(x.ints[i]))
	default:
		return fmt.Errorf("ids of type %s cannot be written into a %T", x.typ, b)
	}
	return nil
}

// idsOfArray decodes an id column read through pqarrow (any type
// idKindOf accepts, extension arrays by their storage) into IDs. A null
// is an error naming the row.
func idsOfArray(t arrow.DataType, col *arrow.Chunked) (*IDs, error) {
	x := newIDs(t)
	row := 0
	for _, a := range col.Chunks() {
		if ext, ok := a.(array.ExtensionArray); ok {
			a = ext.Storage()
		}
		for i := 0; i < a.Len(); i, row = i+1, row+1 {
			if a.IsNull(i) {
				return nil, fmt.Errorf("null sample id at row %d", row)
			}
			switch a := a.(type) {
			case *array.FixedSizeBinary:
				x.uuids = append(x.uuids, uuid.UUID(a.Value(i)))
			case *array.String:
				if err := x.appendText(unsafe.Slice(unsafe.StringData(a.Value(i)), len(a.Value(i)))); err != nil {
					return nil, err
				}
			case *array.LargeString:
				if err := x.appendText([]byte(a.Value(i))); err != nil {
					return nil, err
				}
			case *array.StringView:
				if err := x.appendText([]byte(a.Value(i))); err != nil {
					return nil, err
				}
			case *array.Int8:
				x.ints = append(x.ints, int64(a.Value(i)))
			case *array.Int16:
				x.ints = append(x.ints, int64(a.Value(i)))
			case *array.Int32:
				x.ints = append(x.ints, int64(a.Value(i)))
			case *array.Int64:
				x.ints = append(x.ints, a.Value(i))
			case *array.Uint8:
				x.ints = append(x.ints, int64(a.Value(i)))
			case *array.Uint16:
				x.ints = append(x.ints, int64(a.Value(i)))
			case *array.Uint32:
				x.ints = append(x.ints, int64(a.Value(i)))
			default:
				return nil, fmt.Errorf("column has type %s, %s", col.DataType(), idTypeWant)
			}
		}
	}
	return x, nil
}
