package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"winnow/columnar"
	"winnow/tags"
)

// Version is winnow's version, stamped into selection records.
var Version = "0.1.0-dev"

// recordKey is the Parquet key-value metadata key of a record's header.
const recordKey = "winnow.selection"

// RecordHeader is the configuration and outcome of a selection, stored as
// JSON in its record's Parquet key-value metadata.
type RecordHeader struct {
	Tag         string            `json:"tag"`
	Version     string            `json:"winnow_version"`
	Time        time.Time         `json:"time"`
	Query       string            `json:"query"`
	Candidates  int               `json:"candidates"`
	Requested   int               `json:"n_requested"`
	Selected    int               `json:"n_selected"`
	Preselected int               `json:"n_preselected"`
	PreTag      string            `json:"preselected_tag,omitempty"`
	DropMissing bool              `json:"drop_missing,omitempty"`
	Strategies  []json.RawMessage `json:"strategies"`
	Reports     []StrategyReport  `json:"summary"`
	Warnings    []string          `json:"warnings,omitempty"`
}

// RecordPath is where the selection record of tag lives in ds: the folder
// selections/, the tag name escaped to be a safe file name.
func RecordPath(dir, tag string) string {
	return filepath.Join(dir, "selections", url.PathEscape(tag)+".parquet")
}

// writeRecord writes selections/<tag>.parquet: one row per sample of the
// result tag (sample_id, rank, preselected, score, inf_factors and each
// strategy's objective when it was picked), the header in the metadata.
func writeRecord(ds *Dataset, res *Result, list []Strategy, opts Options) (string, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	h := RecordHeader{
		Tag: res.Tag, Version: Version, Time: now().UTC(), Query: res.Query,
		Candidates: res.Candidates, Requested: res.Requested, Selected: res.Selected,
		Preselected: res.Preselected, PreTag: opts.Preselected, DropMissing: opts.DropMissing,
		Reports: res.Strategies, Warnings: res.Warnings,
	}
	for _, s := range list {
		raw, err := json.Marshal(toWire(s))
		if err != nil {
			return "", err
		}
		h.Strategies = append(h.Strategies, raw)
	}
	header, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("selection record: %w", err)
	}
	path := RecordPath(ds.Dir(), res.Tag)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("selection record: %w", err)
	}
	// store runs this under the dataset's tag lock (as tags.Add's
	// sidecar), so no other record is being written: temporary files in
	// selections/ are left by killed runs, and would pile up.
	if stale, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.parquet.tmp-*")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	write := func(f *os.File) error { return writeRecordRows(f, res, list, string(header)) }
	if err := tags.WriteFile(path, write, nil, nil); err != nil {
		return "", fmt.Errorf("selection record: %w", err)
	}
	return path, nil
}

func objectiveColumn(i int, s Strategy) string { return fmt.Sprintf("objective_%d_%s", i, s.Name()) }

func writeRecordRows(w io.Writer, res *Result, list []Strategy, header string) error {
	fields := []arrow.Field{
		{Name: columnar.SampleIDColumn, Type: columnar.UUIDType()},
		{Name: "rank", Type: arrow.PrimitiveTypes.Int32},
		{Name: "preselected", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "inf_factors", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}
	for i, s := range list {
		fields = append(fields, arrow.Field{Name: objectiveColumn(i, s), Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, p := range res.Picks {
		b.Field(0).(*extensions.UUIDBuilder).Append(p.SampleID)
		b.Field(1).(*array.Int32Builder).Append(int32(p.Rank))
		b.Field(2).(*array.BooleanBuilder).Append(p.Preselected)
		if p.Preselected {
			for c := 3; c < len(fields); c++ {
				b.Field(c).AppendNull()
			}
			continue
		}
		b.Field(3).(*array.Float64Builder).Append(p.Score)
		b.Field(4).(*array.Int32Builder).Append(int32(p.InfFactors))
		for i := range list {
			b.Field(5 + i).(*array.Float64Builder).Append(p.Objectives[i])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	pw, err := columnar.NewWriter(w, schema, columnar.WriterOptions{Metadata: map[string]string{recordKey: header}})
	if err != nil {
		return err
	}
	if err := pw.Write(rec); err != nil {
		return err
	}
	return pw.Close()
}

func removeRecord(path string) { os.Remove(path) }

// Record is a selection record read back: its header and rows.
type Record struct {
	Header RecordHeader
	Picks  []Pick
}

// ReadRecord reads the selection record of tag. A tag made by other means
// (tags add, query --tag) has none, and the error says so.
func (d *Dataset) ReadRecord(ctx context.Context, tag string) (*Record, error) {
	if _, err := d.cd.Tag(tag); err != nil {
		return nil, err
	}
	path := RecordPath(d.Dir(), tag)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("tag %q has no selection record (%s): it was not made by winnow select", tag, path)
	}
	st, err := columnar.Stat(path)
	if err != nil {
		return nil, err
	}
	header, ok := st.Metadata[recordKey]
	if !ok {
		return nil, fmt.Errorf("%s: no %s metadata", path, recordKey)
	}
	rec := &Record{}
	if err := json.Unmarshal([]byte(header), &rec.Header); err != nil {
		return nil, fmt.Errorf("%s: %s metadata: %w", path, recordKey, err)
	}
	tbl, err := columnar.ReadTable(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	rr := array.NewTableReader(tbl, -1)
	defer rr.Release()
	for rr.Next() {
		b := rr.RecordBatch()
		ids := b.Column(0).(*extensions.UUIDArray)
		ranks := b.Column(1).(*array.Int32)
		pre := b.Column(2).(*array.Boolean)
		score := b.Column(3).(*array.Float64)
		inf := b.Column(4).(*array.Int32)
		for r := 0; r < int(b.NumRows()); r++ {
			p := Pick{SampleID: ids.Value(r), Rank: int(ranks.Value(r)), Preselected: pre.Value(r)}
			row, ok, err := d.cd.Lookup(ctx, p.SampleID)
			if err != nil {
				return nil, err
			}
			if ok {
				p.Row = row
			}
			if !p.Preselected {
				p.Score, p.InfFactors = score.Value(r), int(inf.Value(r))
				for c := 5; c < int(b.NumCols()); c++ {
					p.Objectives = append(p.Objectives, b.Column(c).(*array.Float64).Value(r))
				}
			}
			rec.Picks = append(rec.Picks, p)
		}
	}
	return rec, nil
}
