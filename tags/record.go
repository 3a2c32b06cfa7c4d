package tags

// Selection records.
//
// A tag made by a selection has a record: a small Parquet table in the
// dataset's selections/ folder, one row per sample of the tag with its
// rank, score and each strategy's objective, and the selection's header
// (configuration and outcome, JSON that tags stores but does not read) in
// its metadata. The tags table, the commit point of every change, names
// the record that belongs to each tag by an id that the record carries
// too, so a record left by an interrupted run is never taken for another
// run's.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/atomicfile"
)

// Record is the selection record of a tag.
type Record struct {
	// Header is the selection's configuration and outcome, as JSON; its
	// meaning is the caller's. It should not hold the time: the same
	// selection run twice gives the same header and record id.
	Header []byte
	// Time is when the selection was made.
	Time time.Time
	// Objectives names the objective columns, one per strategy.
	Objectives []string
	// Rows are the tag's samples: preselected ones first, then the picks
	// in pick order.
	Rows []RecordRow
	// Missing counts the rows read back whose sample is no longer in the
	// dataset (their Row is -1): the dataset changed since the selection.
	Missing int
}

// RecordRow is one sample of a selection record.
type RecordRow struct {
	Row         int // dataset row; -1 when the sample is no longer in the dataset
	Rank        int
	Preselected bool
	Score       float64 // combined log score when picked
	InfFactors  int     // +inf factors minus -inf factors of the score
	Objectives  []float64
}

// Metadata keys of a record file.
const (
	headerKey   = "winnow.selection"
	recordIDKey = "winnow.record_id"
	timeKey     = "winnow.time"
	legacyID    = "-" // a record written before records had ids
)

// ErrNoRecord reports a tag without a selection record (a *NoRecordError).
var ErrNoRecord = errors.New("no selection record")

// NoRecordError reports a tag that has no selection record: it was made
// by other means than a selection (tags add, query --tag).
type NoRecordError struct {
	Tag  string
	Path string // where its record would be
}

func (e *NoRecordError) Error() string {
	return fmt.Sprintf("tag %q has no selection record (%s): it was not made by winnow select", e.Tag, e.Path)
}

// Is makes errors.Is(err, ErrNoRecord) hold.
func (e *NoRecordError) Is(target error) bool { return target == ErrNoRecord }

// RecordPath is where the selection record of tag lives in ds: the
// dataset's selections/ folder, the tag name escaped to a safe file name.
func RecordPath(ds *columnar.Dataset, tag string) string {
	return filepath.Join(ds.RecordsDir(), url.PathEscape(tag)+".parquet")
}

// stagingPath is where a commit writes tag's new record before the tags
// table names it.
func stagingPath(ds *columnar.Dataset, tag string) string {
	return filepath.Join(ds.RecordsDir(), "."+url.PathEscape(tag)+".parquet.next")
}

// ReadRecord reads the selection record of tag, as the tags table names
// it. A tag made without a selection (tags add, query --tag) has none:
// the error is ErrNoRecord.
func ReadRecord(ctx context.Context, ds *columnar.Dataset, tag string) (*Record, error) {
	if _, err := ds.Tag(tag); err != nil {
		return nil, err
	}
	records := ds.TagsMeta().Records
	want, listed := records[tag]
	path := RecordPath(ds, tag)
	if records != nil && !listed {
		return nil, &NoRecordError{Tag: tag, Path: path}
	}
	for _, p := range []string{path, stagingPath(ds, tag)} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		rec, id, err := readRecordFile(ctx, ds, p)
		if err != nil {
			return nil, err
		}
		if !listed || id == want {
			return rec, nil
		}
	}
	if !listed {
		return nil, &NoRecordError{Tag: tag, Path: path}
	}
	return nil, fmt.Errorf("tag %q: the selection record %s is missing or belongs to another run", tag, path)
}

// id is the record's content digest: the header, objectives and rows, so
// that the same selection made twice gets the same id (and the same tags
// table), while a record from another run is told apart.
func (rec *Record) id() string {
	h := sha256.New()
	fmt.Fprintf(h, "winnow record v1\x00%d:%s\x00", len(rec.Header), rec.Header)
	for _, o := range rec.Objectives {
		fmt.Fprintf(h, "%d:%s\x00", len(o), o)
	}
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	for _, r := range rec.Rows {
		put(uint64(r.Row))
		put(uint64(r.Rank))
		if r.Preselected {
			put(1)
			continue
		}
		put(0)
		put(math.Float64bits(r.Score))
		put(uint64(r.InfFactors))
		for _, o := range r.Objectives {
			put(math.Float64bits(o))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// writeRecordFile writes rec to path (atomically) with id.
func writeRecordFile(ctx context.Context, ds *columnar.Dataset, path, id string, rec *Record) error {
	n := len(rec.Rows)
	rows := make([]int, n)
	rank := make([]int32, n)
	pre := make([]bool, n)
	score := make([]float64, n)
	inf := make([]int32, n)
	objs := make([][]float64, len(rec.Objectives))
	for k := range objs {
		objs[k] = make([]float64, n)
	}
	for i, r := range rec.Rows {
		rows[i], rank[i], pre[i] = r.Row, int32(r.Rank), r.Preselected
		if r.Preselected {
			continue
		}
		if len(r.Objectives) != len(rec.Objectives) {
			return fmt.Errorf("record row %d has %d objectives for %d columns", i, len(r.Objectives), len(rec.Objectives))
		}
		score[i], inf[i] = r.Score, int32(r.InfFactors)
		for k, v := range r.Objectives {
			objs[k][i] = v
		}
	}
	cols := []columnar.PlainColumn{
		ds.IDColumn(columnar.SampleIDColumn, rows),
		{Name: "rank", Values: rank},
		{Name: "preselected", Values: pre},
		{Name: "score", Values: score, Null: pre},
		{Name: "inf_factors", Values: inf, Null: pre},
	}
	for k, name := range rec.Objectives {
		cols = append(cols, columnar.PlainColumn{Name: name, Values: objs[k], Null: pre})
	}
	meta := map[string]string{headerKey: string(rec.Header), recordIDKey: id}
	if !rec.Time.IsZero() {
		meta[timeKey] = rec.Time.UTC().Format(time.RFC3339Nano)
	}
	return atomicfile.WriteFile(path, func(f *os.File) error {
		return columnar.WritePlain(ctx, f, cols, meta)
	}, atomicfile.Options{Seam: SeamRecord})
}

// readRecordFile reads the record at path and its id (legacyID for a
// record written before records had ids).
func readRecordFile(ctx context.Context, ds *columnar.Dataset, path string) (*Record, string, error) {
	cols, meta, err := columnar.ReadPlain(ctx, path)
	if err != nil {
		return nil, "", err
	}
	header, ok := meta[headerKey]
	if !ok {
		return nil, "", fmt.Errorf("%s: no %s metadata", path, headerKey)
	}
	id, ok := meta[recordIDKey]
	if !ok {
		id = legacyID
	}
	if len(cols) < 5 {
		return nil, "", fmt.Errorf("%s: %d columns, a selection record has at least 5", path, len(cols))
	}
	ids, ok1 := cols[0].Values.([]string)
	if ints, ok := cols[0].Values.([]int64); ok { // a dataset of integer ids
		ids, ok1 = make([]string, len(ints)), true
		for i, v := range ints {
			ids[i] = strconv.FormatInt(v, 10)
		}
	}
	rank, ok2 := cols[1].Values.([]int64)
	pre, ok3 := cols[2].Values.([]bool)
	score, ok4 := cols[3].Values.([]float64)
	inf, ok5 := cols[4].Values.([]int64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil, "", fmt.Errorf("%s: not a selection record (columns %s, %s, %s, %s, %s)", path, cols[0].Name, cols[1].Name, cols[2].Name, cols[3].Name, cols[4].Name)
	}
	rec := &Record{Header: []byte(header)}
	if t, ok := meta[timeKey]; ok {
		if rec.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return nil, "", fmt.Errorf("%s: %s metadata: %w", path, timeKey, err)
		}
	}
	var objs [][]float64
	for _, c := range cols[5:] {
		v, ok := c.Values.([]float64)
		if !ok {
			return nil, "", fmt.Errorf("%s: objective column %q is not a float column", path, c.Name)
		}
		rec.Objectives = append(rec.Objectives, c.Name)
		objs = append(objs, v)
	}
	for i, text := range ids {
		r := RecordRow{Rank: int(rank[i]), Preselected: pre[i]}
		row, found, err := ds.LookupText(ctx, text)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		r.Row = row
		if !found {
			r.Row = -1
			rec.Missing++
		}
		if !r.Preselected {
			r.Score, r.InfFactors = score[i], int(inf[i])
			for _, o := range objs {
				r.Objectives = append(r.Objectives, o[i])
			}
		}
		rec.Rows = append(rec.Rows, r)
	}
	return rec, id, nil
}

// stageRecords writes the records that a commit adds (as staging files
// beside their final names) and copies those that a rename moves, and
// enters their ids in t.records. It returns the files it wrote.
func stageRecords(ctx context.Context, ds *columnar.Dataset, t *table) (staged []string, err error) {
	defer func() {
		if err != nil {
			for _, p := range staged {
				os.Remove(p)
			}
		}
	}()
	if len(t.writes)+len(t.moves) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(ds.RecordsDir(), 0o755); err != nil {
		return nil, fmt.Errorf("selection record: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(t.writes)) {
		rec := t.writes[name]
		id := rec.id()
		p := stagingPath(ds, name)
		if err := writeRecordFile(ctx, ds, p, id, rec); err != nil {
			return staged, fmt.Errorf("selection record: %w", err)
		}
		staged = append(staged, p)
		t.records[name] = id
	}
	for _, to := range slices.Sorted(maps.Keys(t.moves)) {
		from := t.moves[to]
		rec, id, err := readRecordFile(ctx, ds, RecordPath(ds, from))
		if err != nil {
			return staged, fmt.Errorf("selection record of %q: %w", from, err)
		}
		rec.Header = renamedHeader(rec.Header, to)
		p := stagingPath(ds, to)
		if err := writeRecordFile(ctx, ds, p, id, rec); err != nil {
			return staged, fmt.Errorf("selection record: %w", err)
		}
		staged = append(staged, p)
		t.records[to] = id
	}
	return staged, nil
}

// renamedHeader sets the top-level "tag" field of a JSON header, so a
// renamed tag's record names it by its new name.
func renamedHeader(header []byte, tag string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(header, &m) != nil {
		return header
	}
	if _, ok := m["tag"]; !ok {
		return header
	}
	m["tag"], _ = json.Marshal(tag)
	b, err := json.Marshal(m)
	if err != nil {
		return header
	}
	return b
}

// settle makes the selections/ folder agree with records (tag -> record
// id, as the tags table on disk says): a staging file that the table
// vouches for moves into place, any other staging file is removed, and so
// are the record of a tag the table no longer lists and the temporary
// files of killed writes. It runs under the
// lock. A nil records (a table written before records had ids) settles
// only the temporary files.
func settle(ds *columnar.Dataset, records map[string]string) error {
	ents, err := os.ReadDir(ds.RecordsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") {
			// A temporary file of a write killed before its rename: under
			// the lock no other writer runs, so it is stale.
			os.Remove(filepath.Join(ds.RecordsDir(), name))
			continue
		}
		if records == nil {
			continue // a table from before record ids: leave its records alone
		}
		if staged, ok := strings.CutSuffix(name, ".parquet.next"); ok && strings.HasPrefix(staged, ".") {
			tag, err := url.PathUnescape(staged[1:])
			p := filepath.Join(ds.RecordsDir(), name)
			if err != nil {
				os.Remove(p)
				continue
			}
			id, err := recordID(p)
			if err == nil && id == records[tag] {
				if err := atomicfile.Rename(p, RecordPath(ds, tag)); err != nil {
					return fmt.Errorf("selection record of %q: %w", tag, err)
				}
				continue
			}
			os.Remove(p)
			continue
		}
		if esc, ok := strings.CutSuffix(name, ".parquet"); ok && !strings.HasPrefix(name, ".") {
			tag, err := url.PathUnescape(esc)
			if _, listed := records[tag]; err == nil && !listed {
				if err := atomicfile.Remove(filepath.Join(ds.RecordsDir(), name)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// recordID reads the id of the record at path from its footer.
func recordID(path string) (string, error) {
	st, err := columnar.Stat(path)
	if err != nil {
		return "", err
	}
	if id, ok := st.Metadata[recordIDKey]; ok {
		return id, nil
	}
	return legacyID, nil
}
