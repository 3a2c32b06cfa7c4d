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

	idCol   string         // the samples' id column
	idTyp   arrow.DataType // its Arrow type as read (idArrowType)
	idMu    sync.Mutex
	ids     *IDs   // nil until decoded; see IDs
	idsSum  digest // digest of the samples' id bytes (see seal.go)
	sumOK   bool   // idsSum is valid: the layout can be sealed
	vouched bool   // a seal vouched for the ids digested as idsSum

	idxOnce sync.Once
	idx     *idIndex // built on the first lookup; see index

	models     map[string]string // model name -> table path
	modelNames []string

	annotations string
	annSchema   *arrow.Schema

	tags       string
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
		s, ok, err := idsDigest(parts, d.idCol)
		sumc <- sumResult{s, ok, err}
	}()
	idsSum := sync.OnceValue(func() sumResult { return <-sumc })
	defer idsSum() // parts stay open until the digest is done

	d.tags, err = locateTable(d.dir, tagsTable)
	if err != nil {
		return err
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
		if n, ok := sealableRows(parts); valid && ok {
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
		return fmt.Errorf("%s: column %q: %w", d.samples, d.idCol, uerr)
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
	if d.idCol == "" {
		d.idCol = SampleIDColumn
	}
	idx := schema.FieldIndices(d.idCol)
	if len(idx) == 0 {
		return fmt.Errorf("%s: missing required column %q (columns: %s)", d.samples, d.idCol, fieldNames(schema))
	}
	t := schema.Field(idx[0]).Type
	if _, ok := idKindOf(t); !ok {
		return fmt.Errorf("%s: column %q has type %s, %s", d.samples, d.idCol, TypeName(t), idTypeWant)
	}
	// Present a 16-byte id column as the UUID type whatever its logical
	// type, so that the schema matches what SampleTable returns.
	d.idTyp = idArrowType(t)
	fields := schema.Fields()
	fields[idx[0]] = arrow.Field{Name: d.idCol, Type: d.idTyp, Nullable: fields[idx[0]].Nullable}
	d.schema = arrow.NewSchema(fields, nil)
	return nil
}

// decodeIDs decodes the sample ids of parts into d.ids and sets d.n; it
// does not check them for duplicates.
func (d *Dataset) decodeIDs(ctx context.Context, parts []*part) error {
	ids, err := readIDs(ctx, d.samples, parts, d.idCol, d.idTyp)
	if err != nil {
		return err
	}
	d.ids, d.n = ids, ids.Len()
	return nil
}

// readIDs decodes the id column name (of Arrow type t) of parts, the
// table at path.
func readIDs(ctx context.Context, path string, parts []*part, name string, t arrow.DataType) (*IDs, error) {
	if k, _ := idKindOf(t); k == UUIDIDs {
		return readUUIDs(ctx, path, parts, name)
	}
	// Strings and integers compress to next to nothing, so no row count
	// is believable from the bytes on disk: each row group decodes into a
	// chunk of its own that grows with the data actually decoded, and the
	// chunks are joined at the end.
	chunks := make([]*IDs, len(rowGroupsOf(parts)))
	err := readIDsParallel(ctx, parts, name, t, nil, nil, func(g, _, _ int) *IDs {
		chunks[g] = newIDs(t)
		return chunks[g]
	})
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range chunks {
		n += c.Len()
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%s: more than %d samples", path, math.MaxInt32)
	}
	return concatIDs(t, chunks)
}

// readUUIDs decodes the UUID column name of parts, the table at path.
func readUUIDs(ctx context.Context, path string, parts []*part, name string) (*IDs, error) {
	// Decode the row groups in parallel straight into place when the
	// footers' row counts are believable. Otherwise read in order,
	// growing the slice, so that a lying footer meets the data first.
	claimed, size, ok := believableRows(parts)
	if ok {
		ids := make([]uuid.UUID, claimed)
		err := readIDsParallel(ctx, parts, name, UUIDType(), nil, func(row int, raw []byte) error {
			copy(idBytes(ids[row:]), raw)
			return nil
		}, func(_, base, n int) *IDs {
			return &IDs{kind: UUIDIDs, uuids: ids[base:base:min(base+n, len(ids))]}
		})
		return uuidIDs(ids), err
	}
	ids := make([]uuid.UUID, 0, max(0, min(size, math.MaxInt32)))
	err := readIDsInOrder(ctx, parts, name, UUIDType(), func(_ int, chunk *IDs) error {
		if len(ids)+chunk.Len() > math.MaxInt32 {
			return fmt.Errorf("%s: more than %d samples", path, math.MaxInt32)
		}
		ids = append(ids, chunk.uuids...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return uuidIDs(ids), nil
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

// sealableRows returns the rows the footers of parts claim and whether a
// seal may vouch for them. A seal records a validation that passed, so
// the rows were real then; the bound only keeps a forged seal from
// sizing anything (a tag bitmap) beyond math.MaxInt32 rows.
func sealableRows(parts []*part) (int64, bool) {
	n := rowGroupRows(parts)
	return n, n >= 0 && n <= math.MaxInt32
}

// IDs returns the sample ids in dataset order. The column is shared, not
// copied. A dataset opened through a sealed tags table decodes them on
// the first call (about 15 ns a sample), and checks that the bytes it
// decodes are still the ones the seal vouched for; if the samples table
// changed since Open, that is the error.
func (d *Dataset) IDs(ctx context.Context) (*IDs, error) {
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
		s, ok, err := idsDigest(parts, d.idCol)
		sumc <- ok && err == nil && s == d.idsSum
	}()
	ids, err := readIDs(ctx, d.samples, parts, d.idCol, d.idTyp)
	same := <-sumc
	if err != nil {
		return nil, fmt.Errorf("read sample ids: %w", err)
	}
	if !same || ids.Len() != d.n {
		return nil, fmt.Errorf("read sample ids: %s changed since the dataset was opened; open it again", d.samples)
	}
	d.ids = ids
	return ids, nil
}

// IDColumnName is the name of the samples' id column (sample_id unless a
// manifest names another).
func (d *Dataset) IDColumnName() string { return d.idCol }

// IDKind is the kind of the dataset's sample ids, as its samples table
// stores them.
func (d *Dataset) IDKind() IDKind {
	k, _ := idKindOf(d.idTyp)
	return k
}

// Sealed reports whether Open trusted the tags table's seal instead of
// validating the sample ids again (see seal.go).
func (d *Dataset) Sealed() bool { return d.vouched }

// SampleName names sample row in messages: its id, or its row number if
// the ids cannot be read.
func (d *Dataset) SampleName(ctx context.Context, row int) string {
	ids, err := d.IDs(ctx)
	if err != nil || row < 0 || row >= ids.Len() {
		return fmt.Sprintf("at row %d", row)
	}
	return ids.quoted(row)
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
		if r < 0 || r >= ids.Len() {
			return nil, fmt.Errorf("row %d outside the %d samples", r, ids.Len())
		}
		out[i] = ids.String(r)
	}
	return out, nil
}

// IDError reports a value that cannot be a sample id of the dataset's id
// type: text that does not parse, or a Go value of another kind.
type IDError struct {
	Text string
	Kind IDKind // the dataset's kind of ids
	Err  error  // why it cannot be one
}

func (e *IDError) Error() string {
	return fmt.Sprintf("%q is not a sample id (%s): %v", e.Text, e.Kind, e.Err)
}

func (e *IDError) Unwrap() error { return e.Err }

// LookupText returns the dataset row of the sample whose id has the text
// form s (as IDStrings writes it: a UUID in any form uuid.Parse reads, an
// integer in decimal, a string as is); ok is false when no sample has it.
// Text that cannot be an id of the dataset's type is an *IDError.
func (d *Dataset) LookupText(ctx context.Context, s string) (row int, ok bool, err error) {
	k := d.IDKind()
	v, err := parseID(k, d.idTyp, s)
	if err != nil {
		return 0, false, &IDError{Text: s, Kind: k, Err: err}
	}
	return d.lookup(ctx, v)
}

// Lookup returns the dataset row of sample id; ok is false if no sample
// has it. id is a uuid.UUID for UUID ids, a string for string ids, and
// an int, int32 or int64 for integer ids; another Go type is an
// *IDError. The first lookup builds an index of the ids (13 bytes a
// sample).
func (d *Dataset) Lookup(ctx context.Context, id any) (row int, ok bool, err error) {
	k := d.IDKind()
	var v any
	switch id := id.(type) {
	case uuid.UUID:
		if k == UUIDIDs {
			v = id
		}
	case string:
		if k == StringIDs {
			v = id
		}
	case int:
		if k == IntIDs {
			v = int64(id)
		}
	case int32:
		if k == IntIDs {
			v = int64(id)
		}
	case int64:
		if k == IntIDs {
			v = id
		}
	}
	if v == nil {
		return 0, false, &IDError{Text: fmt.Sprint(id), Kind: k, Err: fmt.Errorf("a Go %T is not a %s id", id, k)}
	}
	return d.lookup(ctx, v)
}

// lookup finds v, a value of the dataset's kind of ids.
func (d *Dataset) lookup(ctx context.Context, v any) (row int, ok bool, err error) {
	ix, err := d.index(ctx)
	if err != nil {
		return 0, false, err
	}
	i, ok := ix.find(ix.ids.one(v), 0)
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
