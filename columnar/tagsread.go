package columnar

// Reading tags.parquet.
//
// The tags table is small (one bit per sample per tag), so Open reads and
// validates it eagerly: a sample_id column whose ids all belong to the
// samples table (each at most once), and one non-null boolean column per
// tag. Rows are mapped to samples by id rather than trusted to be in
// dataset order, so a tags table written before samples were reordered
// still lands on the right rows; samples absent from the table carry no
// tag.

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/google/uuid"
)

// tagsLoad is the tags table as read from disk, before validation.
type tagsLoad struct {
	path string
	tbl  arrow.Table
	err  error
}

// loadTags reads the tags table of dataset dir, if it has one.
func loadTags(ctx context.Context, dir string) tagsLoad {
	path, err := locateTable(dir, tagsTable)
	if err != nil || path == "" {
		return tagsLoad{err: err}
	}
	tbl, err := ReadTable(ctx, path, nil)
	return tagsLoad{path: path, tbl: tbl, err: err}
}

// readTags validates the loaded tags table and keeps it as d's tags.
func (d *Dataset) readTags(tl tagsLoad) error {
	if tl.err != nil || tl.path == "" {
		return tl.err
	}
	names, bits, err := d.parseTags(tl.path, tl.tbl)
	if err != nil {
		return err
	}
	d.tags, d.tagNames, d.tagBits = tl.path, names, map[string]*Bitmap{}
	for i, n := range names {
		d.tagBits[n] = bits[i]
	}
	return nil
}

// ReadTagColumns reads tags.parquet as it is on disk now, validated like
// Open validates it, and returns its tag columns in file order as bitmaps
// over d's samples. Tag writers use it under their lock, so that a tag
// another process added since d was opened is kept. A dataset without a
// tags table has none.
func (d *Dataset) ReadTagColumns(ctx context.Context) ([]string, []*Bitmap, error) {
	tl := loadTags(ctx, d.dir)
	if tl.tbl != nil {
		defer tl.tbl.Release()
	}
	if tl.err != nil || tl.path == "" {
		return nil, nil, tl.err
	}
	return d.parseTags(tl.path, tl.tbl)
}

// parseTags validates a tags table and maps its columns to sample rows.
func (d *Dataset) parseTags(path string, tbl arrow.Table) (names []string, bits []*Bitmap, err error) {
	sc := tbl.Schema()
	idIdx := sc.FieldIndices(SampleIDColumn)
	if len(idIdx) == 0 {
		return nil, nil, fmt.Errorf("%s: missing required column %q (columns: %s)", path, SampleIDColumn, fieldNames(sc))
	}
	if t := sc.Field(idIdx[0]).Type; !isUUIDType(t) {
		return nil, nil, fmt.Errorf("%s: column %q has type %s, want a UUID", path, SampleIDColumn, t)
	}
	rows := make([]int32, tbl.NumRows())
	ids := make([]uuid.UUID, tbl.NumRows())
	seen := NewBitmap(d.Len())
	err = uuidsOf(path, SampleIDColumn, tbl.Column(idIdx[0]).Data(), func(row int, id uuid.UUID) error {
		// winnow writes tags in dataset order: then no lookup is needed.
		r, ok := int32(row), row < len(d.ids) && d.ids[row] == id
		if !ok {
			if r, ok = d.index.find(id); !ok {
				return fmt.Errorf("%s: sample id %s is not in samples", path, id)
			}
		}
		if seen.Get(int(r)) {
			return fmt.Errorf("%s: column %q: duplicate sample id %s", path, SampleIDColumn, id)
		}
		seen.Set(int(r))
		rows[row], ids[row] = r, id
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for c, f := range sc.Fields() {
		if c == idIdx[0] {
			continue
		}
		if f.Type.ID() != arrow.BOOL {
			return nil, nil, fmt.Errorf("%s: tag column %q has type %s, want bool", path, f.Name, f.Type)
		}
		b := NewBitmap(d.Len())
		row := 0
		for _, a := range tbl.Column(c).Data().Chunks() {
			ba := a.(*array.Boolean)
			for i := 0; i < ba.Len(); i, row = i+1, row+1 {
				if ba.IsNull(i) {
					return nil, nil, fmt.Errorf("%s: tag column %q: null value for sample %s", path, f.Name, ids[row])
				}
				if ba.Value(i) {
					b.Set(int(rows[row]))
				}
			}
		}
		names, bits = append(names, f.Name), append(bits, b)
	}
	return names, bits, nil
}

// TagNames returns the tag names in tags.parquet column order; none if
// the dataset has no tags table.
func (d *Dataset) TagNames() []string { return append([]string(nil), d.tagNames...) }

// Tag returns the samples carrying tag name, over dataset rows. The bitmap
// is the caller's own copy. An unknown tag is an error listing the known
// tags.
func (d *Dataset) Tag(name string) (*Bitmap, error) {
	b, ok := d.tagBits[name]
	if !ok {
		return nil, fmt.Errorf("unknown tag %q (tags: %s)", name, knownList(d.tagNames))
	}
	return b.Clone(), nil
}
