package columnar

// Reading tags.parquet.
//
// The tags table is small (one bit per sample per tag), so Open reads and
// validates it eagerly: a sample_id column whose ids all belong to the
// samples table (each at most once), and one non-null boolean column per
// tag. Rows are mapped to samples by id rather than trusted to be in
// dataset order, so a tags table written before samples were reordered
// still lands on the right rows; samples absent from the table carry no
// tag. Only a valid seal (seal.go) lets row r be taken as sample r without
// reading a single id.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// readTags reads and validates the tags table of parts, if the dataset
// has one, and keeps it as d's tags; inOrder says a seal vouched that its
// rows are the samples'.
func (d *Dataset) readTags(ctx context.Context, parts []*part, inOrder bool) error {
	if len(parts) == 0 {
		return nil
	}
	names, bits, err := d.readTagsFile(ctx, d.tags, parts, inOrder)
	if err != nil {
		return err
	}
	d.tagNames, d.tagBits = names, map[string]*bitmap.Bitmap{}
	d.tagRecords = tagsMetaOf(parts).Records
	for i, n := range names {
		d.tagBits[n] = bits[i]
	}
	return nil
}

// ReadTagColumns reads the tags table as it is on disk now, validated like
// Open validates it, and returns its tag columns in file order as bitmaps
// over d's samples, with its footer's TagsMeta. Tag writers use it under their lock, so that a tag
// another process added since d was opened is kept. A dataset without a
// tags table has none.
func (d *Dataset) ReadTagColumns(ctx context.Context) ([]string, []*bitmap.Bitmap, TagsMeta, error) {
	path, err := locateTable(d.out, tagsTable)
	if err != nil || path == "" {
		return nil, nil, TagsMeta{}, err
	}
	parts, err := openParts(path)
	if err != nil {
		return nil, nil, TagsMeta{}, err
	}
	defer closeParts(parts)
	meta := tagsMetaOf(parts)
	inOrder := false
	if len(parts) == 1 && d.sumOK {
		s, valid, err := sealOf(parts[0])
		if err != nil {
			return nil, nil, meta, fmt.Errorf("%s: %w", path, err)
		}
		inOrder = valid && s.ids == d.idsSum
	}
	names, bits, err := d.readTagsFile(ctx, path, parts, inOrder)
	return names, bits, meta, err
}

// readTagsFile validates the tags table at path (open as parts) and maps
// its columns to sample rows: row r is sample r when inOrder, else by id.
func (d *Dataset) readTagsFile(ctx context.Context, path string, parts []*part, inOrder bool) (names []string, bits []*bitmap.Bitmap, err error) {
	sc, err := tableSchema(parts)
	if err != nil {
		return nil, nil, err
	}
	idName := d.tagsIDColumn(sc)
	idIdx := sc.FieldIndices(idName)
	if len(idIdx) == 0 {
		return nil, nil, fmt.Errorf("%s: missing required column %q (columns: %s)", path, idName, fieldNames(sc))
	}
	idType := sc.Field(idIdx[0]).Type
	if _, ok := idKindOf(idType); !ok {
		return nil, nil, fmt.Errorf("%s: column %q has type %s, %s", path, idName, TypeName(idType), idTypeWant)
	}
	for c, f := range sc.Fields() {
		if c == idIdx[0] {
			continue
		}
		if f.Type.ID() != arrow.BOOL {
			return nil, nil, fmt.Errorf("%s: tag column %q has type %s, want bool", path, f.Name, f.Type)
		}
		names = append(names, f.Name)
	}
	var rows []int32
	if inOrder {
		if n := rowGroupRows(parts); n != int64(d.Len()) {
			return nil, nil, fmt.Errorf("%s: %d rows, the samples table has %d", path, n, d.Len())
		}
	} else if rows, err = d.tagRows(ctx, path, parts, idName, idType); err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, nil
	}
	tbl, err := readParts(ctx, path, parts, names, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tbl.Release()
	// Row r of the table is sample rows[r], or sample r when rows is nil.
	sample := func(r int) int {
		if rows == nil {
			return r
		}
		return int(rows[r])
	}
	for c, name := range names {
		b := bitmap.New(d.Len())
		row, nulls, first := 0, 0, -1
		for _, a := range tbl.Column(c).Data().Chunks() {
			ba := a.(*array.Boolean)
			if rows == nil && ba.NullN() == 0 {
				// In dataset order: the values are the tag's bits.
				bitmap.OrBytes(b.Words(), row, ba.Data().Buffers()[1].Bytes(), ba.Data().Offset(), ba.Len())
				row += ba.Len()
				continue
			}
			for i := 0; i < ba.Len(); i, row = i+1, row+1 {
				if ba.IsNull(i) {
					if nulls++; first < 0 {
						first = row
					}
					continue
				}
				if ba.Value(i) {
					b.Set(sample(row))
				}
			}
		}
		if nulls > 0 {
			// Another engine wrote the column (winnow never writes a
			// null): say which tag, and how to make it a tag again.
			return nil, nil, fmt.Errorf("%s: tag column %q has %d null value(s) (first: sample %s); a tag is true or false for every sample: write false for the samples without it (coalesce(%q, false) in SQL) or drop the column",
				path, name, nulls, d.SampleName(ctx, sample(first)), name)
		}
		bits = append(bits, b)
	}
	return names, bits, nil
}

// errNotInOrder stops tagRows' parallel check at the first table row that
// is not the sample of the same row.
var errNotInOrder = errors.New("not in dataset order")

// tagsIDColumn is the name of the id column of a tags table of schema
// sc: the samples' id column's name, or sample_id when the table has no
// column of that name (a table written before a manifest renamed it).
func (d *Dataset) tagsIDColumn(sc *arrow.Schema) string {
	if len(sc.FieldIndices(d.idCol)) == 0 && len(sc.FieldIndices(SampleIDColumn)) > 0 {
		return SampleIDColumn
	}
	return d.idCol
}

// tagRows decodes the tags table's id column name (of Arrow type t) and
// returns the sample row of each table row, or nil when table row r is
// sample r for every row (winnow writes tags in dataset order; then no id
// is looked up and no row list is kept). Each id must be a sample's, at
// most once. Ids of another kind than the samples' are matched as
// IDs.convert says.
func (d *Dataset) tagRows(ctx context.Context, path string, parts []*part, name string, t arrow.DataType) ([]int32, error) {
	ids, err := d.IDs(ctx)
	if err != nil {
		return nil, err
	}
	// First assume dataset order and check it on all cores; a table in
	// any other order is mapped row by row below.
	if n := rowGroupRows(parts); n >= 0 && n <= int64(ids.Len()) {
		var bulk func(row int, raw []byte) error
		if k, _ := idKindOf(t); k == UUIDIDs && ids.kind == UUIDIDs {
			bulk = func(row int, raw []byte) error {
				if !bytes.Equal(raw, idBytes(ids.uuids[row:row+len(raw)/16])) {
					return errNotInOrder
				}
				return nil
			}
		}
		err := readIDsParallel(ctx, parts, name, t, func(base int, chunk *IDs) error {
			conv, err := ids.convert(chunk)
			if err != nil || base+conv.Len() > ids.Len() || !ids.slice(base, base+conv.Len()).equal(conv) {
				return errNotInOrder // a conversion error is reported below, with its row
			}
			return nil
		}, bulk, nil)
		if err == nil {
			return nil, nil
		}
		if err != errNotInOrder {
			return nil, err
		}
	}
	var rows []int32 // nil while row r is sample r
	seen := bitmap.New(d.Len())
	err = readIDsInOrder(ctx, parts, name, t, func(base int, chunk *IDs) error {
		conv, err := ids.convert(chunk)
		if err != nil {
			return fmt.Errorf("%s: column %q: %w", path, name, err)
		}
		for i := range conv.Len() {
			r := base + i
			s := int32(r)
			if rows != nil || r >= ids.Len() || !ids.same(r, conv, i) {
				if rows == nil {
					rows = make([]int32, r, r+1)
					for j := range rows {
						rows[j] = int32(j)
					}
				}
				ix, err := d.index(ctx)
				if err != nil {
					return err
				}
				var ok bool
				if s, ok = ix.find(conv, i); !ok {
					return d.unknownSample(ctx, path, fmt.Sprintf("row %d", r), chunk, i)
				}
			}
			if seen.Get(int(s)) {
				return fmt.Errorf("%s: column %q: duplicate sample id %s", path, name, chunk.quoted(i))
			}
			seen.Set(int(s))
			if rows != nil {
				rows = append(rows, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// TagNames returns the tag names in tags.parquet column order; none if
// the dataset has no tags table.
func (d *Dataset) TagNames() []string { return append([]string(nil), d.tagNames...) }

// Tag returns the samples carrying tag name, over dataset rows. The bitmap
// is the caller's own copy. An unknown tag is an error listing the known
// tags.
func (d *Dataset) Tag(name string) (*bitmap.Bitmap, error) {
	b, ok := d.tagBits[name]
	if !ok {
		return nil, nameError(ErrUnknownTag, name, d.TagNames(), "unknown tag %q (tags: %s)", name, knownList(d.tagNames))
	}
	return b.Clone(), nil
}

// recordsKey is the footer key under which a tags table lists the
// selection record that belongs to each tag (a JSON object from tag name
// to record id).
const recordsKey = "winnow.records"

// TagsMeta is what a tags table's footer says beyond its columns.
type TagsMeta struct {
	// Records maps a tag to the id of its selection record; tags made
	// without a selection have none. It is nil for a table that lists no
	// records at all (written by another program or an older winnow).
	Records map[string]string
	// Supersedes lists the other parts of a table folder that this file
	// replaces (file names in the same folder).
	Supersedes []string
}

func (m TagsMeta) write(w *Writer) error {
	if m.Records != nil { // even when empty: the table lists every record
		b, err := json.Marshal(m.Records) // map keys sorted: identical input, identical bytes
		if err != nil {
			return err
		}
		if err := w.appendMetadata(recordsKey, string(b)); err != nil {
			return err
		}
	}
	if len(m.Supersedes) > 0 {
		b, err := json.Marshal(m.Supersedes)
		if err != nil {
			return err
		}
		return w.appendMetadata(supersedesKey, string(b))
	}
	return nil
}

// tagsMetaOf reads the record ids from the footers of parts. A value that
// is not a JSON object of strings is ignored, as written by someone else.
func tagsMetaOf(parts []*part) TagsMeta {
	var m TagsMeta
	for _, p := range parts {
		v := p.r.MetaData().KeyValueMetadata().FindValue(recordsKey)
		if v == nil {
			continue
		}
		var recs map[string]string
		if json.Unmarshal([]byte(*v), &recs) == nil {
			m.Records = recs
		}
	}
	return m
}

// TagsMeta returns what the tags table's footer said when the dataset was
// opened: which selection record belongs to which tag.
func (d *Dataset) TagsMeta() TagsMeta {
	return TagsMeta{Records: maps.Clone(d.tagRecords)}
}

// TagsTarget returns where a new tags table goes, as the folder is now:
// the file that the new table replaces (DIR/tags.parquet when there is no
// table yet; the table's first part when it is a folder), and the other
// parts of such a folder, which the new file supersedes (see WriteTags).
func (d *Dataset) TagsTarget() (path string, supersedes []string, err error) {
	if d.skip[tagsTable] {
		return "", nil, fmt.Errorf("dataset %s was opened without its tags table, which could not be read; it cannot be written", d.dir)
	}
	loc, err := locateTable(d.out, tagsTable)
	if err != nil {
		return "", nil, err
	}
	if loc == "" {
		return filepath.Join(d.out, tagsTable+".parquet"), nil, nil
	}
	names, err := tableParts(loc)
	if err != nil {
		return "", nil, err
	}
	for _, n := range names[1:] {
		supersedes = append(supersedes, filepath.Base(n))
	}
	return names[0], supersedes, nil
}

// RecordsDir is the folder of the dataset's selection records.
func (d *Dataset) RecordsDir() string { return filepath.Join(d.out, "selections") }

// LockPath is the lock file that serialises the winnow processes that
// write the dataset's tags and records.
func (d *Dataset) LockPath() string { return filepath.Join(d.out, ".tags.lock") }
