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

// readTags validates the loaded tags table and maps it to sample rows.
func (d *Dataset) readTags(tl tagsLoad) error {
	if tl.err != nil || tl.path == "" {
		return tl.err
	}
	path, tbl := tl.path, tl.tbl
	d.tags = path
	sc := tbl.Schema()
	idIdx := sc.FieldIndices(SampleIDColumn)
	if len(idIdx) == 0 {
		return fmt.Errorf("%s: missing required column %q (columns: %s)", path, SampleIDColumn, fieldNames(sc))
	}
	if t := sc.Field(idIdx[0]).Type; !isUUIDType(t) {
		return fmt.Errorf("%s: column %q has type %s, want a UUID", path, SampleIDColumn, t)
	}
	rows := make([]int32, tbl.NumRows())
	ids := make([]uuid.UUID, tbl.NumRows())
	seen := NewBitmap(d.Len())
	err := uuidsOf(path, SampleIDColumn, tbl.Column(idIdx[0]).Data(), func(row int, id uuid.UUID) error {
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
		return err
	}
	d.tagBits = map[string]*Bitmap{}
	for c, f := range sc.Fields() {
		if c == idIdx[0] {
			continue
		}
		if f.Type.ID() != arrow.BOOL {
			return fmt.Errorf("%s: tag column %q has type %s, want bool", path, f.Name, f.Type)
		}
		b := NewBitmap(d.Len())
		row := 0
		for _, a := range tbl.Column(c).Data().Chunks() {
			ba := a.(*array.Boolean)
			for i := 0; i < ba.Len(); i, row = i+1, row+1 {
				if ba.IsNull(i) {
					return fmt.Errorf("%s: tag column %q: null value for sample %s", path, f.Name, ids[row])
				}
				if ba.Value(i) {
					b.Set(int(rows[row]))
				}
			}
		}
		d.tagNames = append(d.tagNames, f.Name)
		d.tagBits[f.Name] = b
	}
	return nil
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
