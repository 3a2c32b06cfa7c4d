package columnar

// Opening a dataset.
//
// Open reads only what every job needs: the samples' sample_id column
// (validated: present, non-null, unique, UUID), the schemas of the other
// tables, the list of embedding models, and the small tags table, which it
// reads and validates eagerly. Sample metadata, embeddings and annotations
// are read later, column by column, on request. When the tags table's seal
// vouches for the ids (seal.go), Open reads neither table's ids: their
// digests stand in for the validation, and the ids are decoded on first
// use.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"winnow/bitmap"

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
// concurrent use: nothing in it changes after Open but the sample ids,
// which a Dataset opened through a sealed tags table decodes on first use.
type Dataset struct {
	dir     string
	samples string // samples table path
	schema  *arrow.Schema
	n       int // samples

	idMu    sync.Mutex
	ids     []uuid.UUID // nil until decoded; see IDs
	idsSum  digest      // digest of the samples' id bytes (see seal.go)
	sumOK   bool        // idsSum is valid: the layout can be sealed
	vouched bool        // a seal vouched for the ids digested as idsSum

	idxOnce sync.Once
	idx     *idIndex // built on the first lookup; see index

	models     map[string]string // model name -> table path
	modelNames []string

	annotations string
	annSchema   *arrow.Schema

	tags       string
	skip       map[string]bool // optional tables left out by OpenTolerant
	tagNames   []string
	tagBits    map[string]*bitmap.Bitmap
	tagRecords map[string]string // tag -> id of its selection record
}

// Open opens the dataset in folder dir. It validates the samples'
// sample_id column and the tags table and discovers the embedding models
// and the annotations table; it reads no embeddings and no other sample
// column. When the tags table carries a valid seal (winnow seals the tags
// tables it writes, see seal.go), the ids' validation is the seal's and
// they are decoded only when first needed.
func Open(ctx context.Context, dir string) (*Dataset, error) {
	return openSkipping(ctx, dir, nil)
}

// openSkipping is Open leaving out the optional tables in skip (see
// OpenTolerant).
func openSkipping(ctx context.Context, dir string, skip map[string]bool) (*Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open dataset: %s is not a folder", dir)
	}
	d := &Dataset{dir: dir, skip: skip}
	if d.samples, err = locateTable(dir, samplesTable); err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", dir, err)
	}
	if d.samples == "" {
		return nil, fmt.Errorf("open dataset %s: no samples table (samples.parquet or samples/)", dir)
	}
	if err := d.open(ctx); err != nil {
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

// open reads the samples' schema and ids and the tags table.
func (d *Dataset) open(ctx context.Context) error {
	parts, err := openParts(d.samples)
	if err != nil {
		return err
	}
	defer closeParts(parts)
	if err := d.readSchema(parts); err != nil {
		return err
	}
	// The ids' digest is needed to check a seal and to seal tags written
	// later; it reads the id columns' raw bytes, beside whatever else runs.
	type sumResult struct {
		d   digest
		ok  bool
		err error
	}
	sumc := make(chan sumResult, 1)
	go func() {
		s, ok, err := idsDigest(parts)
		sumc <- sumResult{s, ok, err}
	}()
	idsSum := sync.OnceValue(func() sumResult { return <-sumc })
	defer idsSum() // parts stay open until the digest is done

	d.tags, err = locateTable(d.dir, tagsTable)
	if err != nil && !d.skip[tagsTable] {
		return err
	}
	if d.skip[tagsTable] {
		d.tags = ""
	}
	var tparts []*part
	if d.tags != "" {
		if tparts, err = openParts(d.tags); err != nil {
			return err
		}
		defer closeParts(tparts)
	}
	if len(tparts) == 1 {
		sl, valid, err := sealOf(tparts[0])
		if err != nil {
			return fmt.Errorf("%s: %w", d.tags, err)
		}
		// A seal records a validation that passed, so the rows it vouches
		// for were believable then; checking again costs nothing and keeps
		// a forged seal from sizing anything by an absurd footer.
		if n, _, ok := believableRows(parts); valid && ok {
			if r := idsSum(); r.err != nil {
				return r.err
			} else if r.ok && sl.ids == r.d {
				d.vouched, d.n = true, int(n)
				d.idsSum, d.sumOK = r.d, true
				return d.readTags(ctx, tparts, true)
			}
		}
	}
	if err := d.decodeIDs(ctx, parts); err != nil {
		return err
	}
	// The ids are checked for duplicates while the tags table is read: a
	// tags table in dataset order needs no lookup, so both only read ids.
	uniq := make(chan error, 1)
	go func() { uniq <- checkUnique(d.ids) }()
	err = d.readTags(ctx, tparts, false)
	if uerr := <-uniq; uerr != nil {
		return fmt.Errorf("%s: column %q: %w", d.samples, SampleIDColumn, uerr)
	}
	if err != nil {
		return err
	}
	r := idsSum()
	d.idsSum, d.sumOK = r.d, r.ok && r.err == nil
	return nil
}

// readSchema reads and checks the samples' schema.
func (d *Dataset) readSchema(parts []*part) error {
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
	return nil
}

// decodeIDs decodes the sample ids of parts into d.ids and sets d.n; it
// does not check them for duplicates.
func (d *Dataset) decodeIDs(ctx context.Context, parts []*part) error {
	ids, err := readIDs(ctx, d.samples, parts)
	if err != nil {
		return err
	}
	d.ids, d.n = ids, len(ids)
	return nil
}

// readIDs decodes the sample_id column of parts, the table at path.
func readIDs(ctx context.Context, path string, parts []*part) ([]uuid.UUID, error) {
	// Decode the row groups in parallel straight into place when the
	// footers' row counts are believable. Otherwise read in order,
	// growing the slice, so that a lying footer meets the data first.
	claimed, size, ok := believableRows(parts)
	if ok {
		ids := make([]uuid.UUID, claimed)
		err := readIDsParallel(ctx, parts, SampleIDColumn, func(row int, id uuid.UUID) error {
			ids[row] = id
			return nil
		}, func(row int, raw []byte) error {
			copy(idBytes(ids[row:]), raw)
			return nil
		})
		return ids, err
	}
	ids := make([]uuid.UUID, 0, max(0, min(size, math.MaxInt32)))
	err := readIDsInOrder(ctx, parts, SampleIDColumn, func(_ int, id uuid.UUID) error {
		if len(ids) >= math.MaxInt32 {
			return fmt.Errorf("%s: more than %d samples", path, math.MaxInt32)
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// believableRows returns the rows the footers of parts claim and whether
// that is believable: never beyond the bytes on disk (unique ids take 16
// bytes a row anyway) nor math.MaxInt32. size is the bytes on disk / 16.
func believableRows(parts []*part) (claimed, size int64, ok bool) {
	claimed = rowGroupRows(parts)
	for _, p := range parts {
		if fi, err := p.f.Stat(); err == nil {
			size += fi.Size() / 16
		}
	}
	return claimed, size, claimed >= 0 && claimed <= size && claimed <= math.MaxInt32
}

// IDs returns the sample ids in dataset order. The slice is shared, not
// copied: callers must not modify it. A dataset opened through a sealed
// tags table decodes them on the first call (about 15 ns a sample), and
// checks that the bytes it decodes are still the ones the seal vouched
// for; if the samples table changed since Open, that is the error.
func (d *Dataset) IDs(ctx context.Context) ([]uuid.UUID, error) {
	d.idMu.Lock()
	defer d.idMu.Unlock()
	if d.ids != nil {
		return d.ids, nil
	}
	parts, err := openParts(d.samples)
	if err != nil {
		return nil, fmt.Errorf("read sample ids: %w", err)
	}
	defer closeParts(parts)
	sumc := make(chan bool, 1)
	go func() {
		s, ok, err := idsDigest(parts)
		sumc <- ok && err == nil && s == d.idsSum
	}()
	ids, err := readIDs(ctx, d.samples, parts)
	same := <-sumc
	if err != nil {
		return nil, fmt.Errorf("read sample ids: %w", err)
	}
	if !same || len(ids) != d.n {
		return nil, fmt.Errorf("read sample ids: %s changed since the dataset was opened; open it again", d.samples)
	}
	d.ids = ids
	return ids, nil
}

// Sealed reports whether Open trusted the tags table's seal instead of
// validating the sample ids again (see seal.go).
func (d *Dataset) Sealed() bool { return d.vouched }

// SampleName names sample row in messages: its id, or its row number if
// the ids cannot be read.
func (d *Dataset) SampleName(ctx context.Context, row int) string {
	ids, err := d.IDs(ctx)
	if err != nil || row < 0 || row >= len(ids) {
		return fmt.Sprintf("at row %d", row)
	}
	return ids[row].String()
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

// index returns the id index, building it on first use. The ids were
// checked for duplicates without keeping an index (a query that finds
// tables in dataset order never looks an id up, and the index is 13 bytes
// a sample), so the build itself cannot fail.
func (d *Dataset) index(ctx context.Context) (*idIndex, error) {
	ids, err := d.IDs(ctx)
	if err != nil {
		return nil, err
	}
	d.idxOnce.Do(func() { d.idx, _ = buildIDIndex(ids) })
	return d.idx, nil
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
func (d *Dataset) Len() int { return d.n }

// IDStrings returns the text form of the sample ids of rows, in order.
func (d *Dataset) IDStrings(ctx context.Context, rows []int) ([]string, error) {
	ids, err := d.IDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		if r < 0 || r >= len(ids) {
			return nil, fmt.Errorf("row %d outside the %d samples", r, len(ids))
		}
		out[i] = ids[r].String()
	}
	return out, nil
}

// IDError reports text that is not a sample id of the dataset's id type.
type IDError struct {
	Text string
	Err  error // why it does not parse
}

func (e *IDError) Error() string {
	return fmt.Sprintf("%q is not a sample id (UUID): %v", e.Text, e.Err)
}

func (e *IDError) Unwrap() error { return e.Err }

// LookupText returns the dataset row of the sample whose id has the text
// form s (as IDStrings writes it); ok is false when no sample has it. Text
// that cannot be an id at all is an *IDError.
func (d *Dataset) LookupText(ctx context.Context, s string) (row int, ok bool, err error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return 0, false, &IDError{Text: s, Err: err}
	}
	return d.Lookup(ctx, id)
}

// Lookup returns the dataset row of sample id; ok is false if no sample
// has it. The first lookup builds an index of the ids (13 bytes a sample).
func (d *Dataset) Lookup(ctx context.Context, id uuid.UUID) (row int, ok bool, err error) {
	ix, err := d.index(ctx)
	if err != nil {
		return 0, false, err
	}
	i, ok := ix.find(id)
	return int(i), ok, nil
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
