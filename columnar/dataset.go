package columnar

// Opening a dataset.
//
// Open reads only what every job needs: the samples' sample_id column
// (validated: present, non-null, unique, UUID), the schemas of the other
// tables, the list of embedding models, and the small tags table, which it
// reads and validates eagerly. Sample metadata, embeddings and annotations
// are read later, column by column, on request.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"
)

// Table names inside a dataset folder.
const (
	samplesTable     = "samples"
	annotationsTable = "annotations"
	tagsTable        = "tags"
	embeddingsDir    = "embeddings"
)

// Dataset is an open winnow dataset folder. Its methods are safe for
// concurrent use: nothing in it changes after Open.
type Dataset struct {
	dir     string
	samples string // samples table path
	schema  *arrow.Schema
	ids     []uuid.UUID
	idxOnce sync.Once
	idx     *idIndex // built on the first lookup; see index

	models     map[string]string // model name -> table path
	modelNames []string

	annotations string
	annSchema   *arrow.Schema

	tags     string
	tagNames []string
	tagBits  map[string]*Bitmap
}

// Open opens the dataset in folder dir. It validates the samples'
// sample_id column and the tags table and discovers the embedding models
// and the annotations table; it reads no embeddings and no other sample
// column.
func Open(ctx context.Context, dir string) (*Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open dataset: %s is not a folder", dir)
	}
	d := &Dataset{dir: dir}
	if d.samples, err = locateTable(dir, samplesTable); err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", dir, err)
	}
	if d.samples == "" {
		return nil, fmt.Errorf("open dataset %s: no samples table (samples.parquet or samples/)", dir)
	}
	if err := d.readSamples(ctx); err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", dir, err)
	}
	// The ids are checked for duplicates while the tags table is read: a
	// tags table in dataset order needs no lookup, so both only read ids.
	uniq := make(chan error, 1)
	go func() { uniq <- checkUnique(d.ids) }()
	err = d.readTags(ctx)
	if uerr := <-uniq; uerr != nil {
		return nil, fmt.Errorf("open dataset %s: %s: column %q: %w", dir, d.samples, SampleIDColumn, uerr)
	}
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", dir, err)
	}
	if err := d.findModels(); err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", dir, err)
	}
	if err := d.openAnnotations(); err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", dir, err)
	}
	return d, nil
}

// readSamples reads and validates the sample ids and the samples schema.
func (d *Dataset) readSamples(ctx context.Context) error {
	parts, err := openParts(d.samples)
	if err != nil {
		return err
	}
	defer closeParts(parts)
	schema, err := tableSchema(parts)
	if err != nil {
		return err
	}
	idx := schema.FieldIndices(SampleIDColumn)
	if len(idx) == 0 {
		return fmt.Errorf("%s: missing required column %q (columns: %s)", d.samples, SampleIDColumn, fieldNames(schema))
	}
	if t := schema.Field(idx[0]).Type; !isUUIDType(t) {
		return fmt.Errorf("%s: column %q has type %s, want a UUID (FIXED_LEN_BYTE_ARRAY(16)) or a UUID string", d.samples, SampleIDColumn, t)
	}
	// Present sample_id as the UUID type whatever its encoding, so the
	// schema matches what SampleColumns returns.
	fields := schema.Fields()
	fields[idx[0]] = arrow.Field{Name: SampleIDColumn, Type: UUIDType()}
	d.schema = arrow.NewSchema(fields, nil)

	// Decode the row groups in parallel straight into place when the
	// footers' row counts are believable: never beyond the bytes on disk
	// (unique ids take 16 bytes a row anyway). Otherwise read in order,
	// growing the slice, so that a lying footer meets the data first.
	claimed, size := rowGroupRows(parts), int64(0)
	for _, p := range parts {
		if fi, err := p.f.Stat(); err == nil {
			size += fi.Size() / 16
		}
	}
	if claimed >= 0 && claimed <= size && claimed <= math.MaxInt32 {
		d.ids = make([]uuid.UUID, claimed)
		return readIDsParallel(ctx, parts, SampleIDColumn, func(row int, id uuid.UUID) error {
			d.ids[row] = id
			return nil
		}, func(row int, raw []byte) error {
			copy(idBytes(d.ids[row:]), raw)
			return nil
		})
	}
	d.ids = make([]uuid.UUID, 0, max(0, min(size, math.MaxInt32)))
	var ir idReader
	for _, p := range parts {
		col, err := p.idColumn(SampleIDColumn)
		if err != nil {
			return err
		}
		for g := 0; g < p.r.NumRowGroups(); g++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := ir.read(p, p.r.RowGroup(g), col, SampleIDColumn, func(i int, id uuid.UUID) error {
				if len(d.ids) >= math.MaxInt32 {
					return fmt.Errorf("%s: more than %d samples", d.samples, math.MaxInt32)
				}
				d.ids = append(d.ids, id)
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// rowGroupRows is the number of rows the row groups of parts claim, or -1
// if one claims a negative number.
func rowGroupRows(parts []*part) int64 {
	var n int64
	for _, p := range parts {
		for g := 0; g < p.r.NumRowGroups(); g++ {
			r := p.r.MetaData().RowGroup(g).NumRows()
			if r < 0 {
				return -1
			}
			n += r
		}
	}
	return n
}

// index returns the id index, building it on first use. Open checked the
// ids for duplicates without keeping an index (a query that finds tables
// in dataset order never looks an id up, and the index is 13 bytes a
// sample), so the build cannot fail here.
func (d *Dataset) index() *idIndex {
	d.idxOnce.Do(func() { d.idx, _ = buildIDIndex(d.ids) })
	return d.idx
}

// findModels lists embeddings/: MODEL.parquet files and MODEL/ folders.
func (d *Dataset) findModels() error {
	d.models = map[string]string{}
	ents, err := os.ReadDir(filepath.Join(d.dir, embeddingsDir))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		name := n
		if !e.IsDir() {
			var ok bool
			if name, ok = strings.CutSuffix(n, ".parquet"); !ok {
				continue
			}
		}
		if prev, dup := d.models[name]; dup {
			return fmt.Errorf("embedding model %s is both %s and %s", name, prev, filepath.Join(d.dir, embeddingsDir, n))
		}
		d.models[name] = filepath.Join(d.dir, embeddingsDir, n)
	}
	for name := range d.models {
		d.modelNames = append(d.modelNames, name)
	}
	slices.Sort(d.modelNames)
	return nil
}

// Dir is the dataset folder.
func (d *Dataset) Dir() string { return d.dir }

// Len is the number of samples.
func (d *Dataset) Len() int { return len(d.ids) }

// IDs returns the sample ids in dataset order. The slice is shared, not
// copied: callers must not modify it.
func (d *Dataset) IDs() []uuid.UUID { return d.ids }

// Lookup returns the dataset row of sample id.
func (d *Dataset) Lookup(id uuid.UUID) (int, bool) {
	i, ok := d.index().find(id)
	return int(i), ok
}

// Models returns the names of the embedding models, sorted.
func (d *Dataset) Models() []string { return slices.Clone(d.modelNames) }

// TablePath returns the file or folder holding table name ("samples",
// "annotations", "tags" or "embeddings/MODEL"), or "" if the dataset has
// no such table.
func (d *Dataset) TablePath(name string) string {
	switch name {
	case samplesTable:
		return d.samples
	case annotationsTable:
		return d.annotations
	case tagsTable:
		return d.tags
	}
	if m, ok := strings.CutPrefix(name, embeddingsDir+"/"); ok {
		return d.models[m]
	}
	return ""
}

// knownList formats names for "unknown X" errors.
func knownList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
