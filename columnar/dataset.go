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

	"github.com/winnow-data/winnow/bitmap"

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

// Dataset is an open winnow dataset. Its methods are safe for concurrent
// use: nothing in it changes after Open but the sample ids, which a
// Dataset opened through a sealed tags table decodes on first use, and
// the annotation ids, decoded when an object-level model is first read.
type Dataset struct {
	dir     string
	lay     *Layout
	man     *manifest // nil for the conventional layout
	samples string    // samples table path
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

	models      map[string]*vectorTable // sample-level models
	modelNames  []string
	objects     map[string]*vectorTable // object-level models
	objectNames []string

	annotations string
	annSchema   *arrow.Schema
	ann         AnnotationMapping
	annMu       sync.Mutex
	annIDs      *annotationIDs // nil until read; see annotationSpace

	out        string          // where winnow writes: tags, selections, lock
	skip       map[string]bool // optional tables left out by OpenTolerant
	tags       string
	tagNames   []string
	tagBits    map[string]*bitmap.Bitmap
	tagRecords map[string]string // tag -> id of its selection record
}

// ManifestName is the file name of a dataset folder's manifest.
const ManifestName = "winnow.yaml"

// Open opens the dataset at path: a dataset folder, read through its
// manifest (winnow.yaml) when it has one and in the conventional layout
// otherwise, or a manifest file itself (see OpenManifest). It validates
// the sample ids and the tags table, checks every mapped table's schema,
// and lists the embedding models and annotations; it reads no embeddings
// and no other sample column. When the tags table carries a valid seal
// (winnow seals the tags tables it writes, see seal.go), the ids'
// validation is the seal's and they are decoded only when first needed.
func Open(ctx context.Context, path string) (*Dataset, error) {
	return openSkipping(ctx, path, nil)
}

// openSkipping is Open leaving out the optional tables in skip (see
// OpenTolerant).
func openSkipping(ctx context.Context, path string, skip map[string]bool) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if !st.IsDir() {
		if isManifestName(path) {
			return openManifest(ctx, path, skip)
		}
		return nil, fmt.Errorf("open dataset: %s is not a folder (nor a manifest, *.yaml)", path)
	}
	if _, err := os.Stat(filepath.Join(path, ManifestName)); err == nil {
		return openManifest(ctx, filepath.Join(path, ManifestName), skip)
	}
	lay, err := conventionalLayout(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", path, err)
	}
	d, err := openLayout(ctx, lay, nil, skip)
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", path, err)
	}
	return d, nil
}

// isManifestName reports whether path names a manifest file.
func isManifestName(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

// openLayout opens the dataset lay describes; man, when not nil, is the
// manifest it came from, whose lines errors name; the optional tables in
// skip ("annotations", "tags") are left out.
func openLayout(ctx context.Context, lay *Layout, man *manifest, skip map[string]bool) (*Dataset, error) {
	d := &Dataset{dir: lay.Dir, lay: lay, man: man, samples: lay.Samples.Path, idCol: lay.Samples.ID, out: lay.Output, skip: skip}
	if err := d.open(ctx); err != nil {
		return nil, err
	}
	if err := d.openModels(); err != nil {
		return nil, err
	}
	if err := d.openAnnotations(); err != nil {
		return nil, err
	}
	return d, nil
}

// at wraps err with the manifest line of key, when d has a manifest.
func (d *Dataset) at(key string, err error) error {
	if d.man == nil || err == nil {
		return err
	}
	return d.man.errorAt(key, err)
}

// open reads the samples' schema and ids and the tags table.
func (d *Dataset) open(ctx context.Context) error {
	parts, err := openParts(d.samples)
	if err != nil {
		return err
	}
	defer closeParts(parts)
	if err := d.readSchema(parts); err != nil {
		return d.at("samples.id", err)
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

	if !d.skip[tagsTable] {
		if d.tags, err = locateTable(d.out, tagsTable); err != nil {
			return err
		}
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
	groups := rowGroupsOf(parts)
	chunks := make([]*IDs, len(groups))
	err := readIDsParallel(ctx, parts, name, t, nil, nil, func(g, _, n int) *IDs {
		c := newIDs(t)
		if c.kind == StringIDs {
			// Room for the text from the start (growing it by append
			// copied every id about twice): the chunk's uncompressed
			// size, a little more than the text (PLAIN strings take 4
			// bytes of length each), bounded so that a footer's claims
			// cannot make it huge; append grows beyond.
			size := min(groups[g].uncompressed(name), 16<<20)
			c.off = make([]uint32, 1, min(int64(n), size/4, 1<<20)+1)
			c.text = make([]byte, 0, size)
		}
		chunks[g] = c
		return c
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

// openModels lists the models, checking the schema of every model table a
// manifest maps (its reference and vector columns).
func (d *Dataset) openModels() error {
	d.models, d.objects = map[string]*vectorTable{}, map[string]*vectorTable{}
	for _, m := range d.lay.Models {
		vt := &vectorTable{name: m.Name, path: m.Path, id: m.ID, vector: m.Vector, object: m.Object}
		if m.Path == "" {
			vt.id = ""
		}
		// A manifest's entries are checked now, so that a mistake names
		// its line; a conventional model table is checked when read, so
		// that a broken one fails only the jobs that need it.
		if d.man != nil {
			if key, err := d.checkModel(vt); err != nil {
				return d.at("embeddings."+m.Name+key, err)
			}
		}
		if m.Object {
			d.objects[m.Name] = vt
			d.objectNames = append(d.objectNames, m.Name)
		} else {
			d.models[m.Name] = vt
			d.modelNames = append(d.modelNames, m.Name)
		}
	}
	slices.Sort(d.modelNames)
	slices.Sort(d.objectNames)
	return nil
}

// checkModel checks the footers of vt's table: the columns exist and
// have types that hold ids and vectors. It returns the manifest key
// (below the model's) that an error is about.
func (d *Dataset) checkModel(vt *vectorTable) (string, error) {
	if vt.object && d.lay.Annotations == nil {
		return ".annotation_id", fmt.Errorf("an object-level model needs the annotations table, which the dataset lacks")
	}
	if vt.object && d.lay.Annotations.ID == "" {
		return ".annotation_id", fmt.Errorf("an object-level model needs the annotations' id column, which %s lacks (map it as annotations.id)", d.lay.Annotations.Path)
	}
	sc, path := d.schema, d.samples
	if vt.path != "" {
		parts, err := openParts(vt.path)
		if err != nil {
			return ".path", err
		}
		defer closeParts(parts)
		if sc, err = tableSchema(parts); err != nil {
			return ".path", err
		}
		path = vt.path
	}
	idKey := ".id"
	if vt.object {
		idKey = ".annotation_id"
	}
	if vt.id != "" {
		i := sc.FieldIndices(vt.id)
		if len(i) == 0 {
			return idKey, fmt.Errorf("%s: missing required column %q (columns: %s)", path, vt.id, fieldNames(sc))
		}
		if t := sc.Field(i[0]).Type; !isIDType(t) {
			return idKey, fmt.Errorf("%s: column %q has type %s, %s", path, vt.id, TypeName(t), idTypeWant)
		}
	}
	i := sc.FieldIndices(vt.vector)
	if len(i) == 0 {
		return ".vector", fmt.Errorf("%s: missing required column %q (columns: %s)", path, vt.vector, fieldNames(sc))
	}
	if t := sc.Field(i[0]).Type; !isVectorType(t) {
		return ".vector", fmt.Errorf("%s: column %q has type %s, %s", path, vt.vector, TypeName(t), vectorTypeWant)
	}
	if vt.path == "" {
		return "", nil
	}
	t, err := openEmbeddings(vt, vt.path, math.MaxInt)
	if err != nil {
		return "", err
	}
	t.Close()
	return "", nil
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

// Models returns the names of the sample-level embedding models, sorted.
func (d *Dataset) Models() []string { return slices.Clone(d.modelNames) }

// ObjectModels returns the names of the object-level embedding models
// (one vector per annotation), sorted.
func (d *Dataset) ObjectModels() []string { return slices.Clone(d.objectNames) }

// Layout returns the dataset's resolved mapping of tables and columns.
func (d *Dataset) Layout() *Layout { return d.lay.clone() }

// OutputDir is the folder winnow writes the dataset's tags, selection
// records and lock file to: the dataset folder unless its manifest names
// another.
func (d *Dataset) OutputDir() string { return d.out }

// TablePath returns the file, folder or glob holding table name
// ("samples", "annotations", "tags" or "embeddings/MODEL", the samples
// table for a model stored in a samples column), or "" if the dataset
// has no such table.
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
		if vt, ok := d.models[m]; ok {
			return d.tablePath(vt)
		}
		if vt, ok := d.objects[m]; ok {
			return d.tablePath(vt)
		}
	}
	return ""
}
