package pipeline

// Selection files: a selection made elsewhere (winnow/beam's merge, on a
// runner's workers) written as one Parquet file, and committed into the
// dataset's tags table later with the same crash-safe commit as a
// selection made here (`winnow tags add DIR TAG --record FILE`).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/tags"
)

// SelectionHeaderKey is the metadata key of a selection file holding its
// record header (RecordHeader as JSON).
const SelectionHeaderKey = "winnow.selection"

// selectionTimeKey holds when the selection was made (RFC 3339).
const selectionTimeKey = "winnow.selection_time"

// Columns of a selection file besides its objective_<i>_<name> columns.
var selectionFileColumns = []string{"sample_id", "preselected", "rank", "score", "inf_factors"}

// WriteSelectionFile writes res as a selection file to w: one row per
// sample of res.Picks in order (preselected samples first) with columns
// sample_id (text), row (the sample's row where the selection was made,
// for the reader: a commit finds samples by id), preselected, rank, score,
// inf_factors and one objective_<i>_<name> column per strategy of list
// (null for preselected samples), and the record header of the selection in the metadata,
// under SelectionHeaderKey, with extra metadata beside it.
func WriteSelectionFile(ctx context.Context, w io.Writer, res *Result, list []Strategy, opts Options, extra map[string]string) error {
	rec, err := newRecord(res, list, opts)
	if err != nil {
		return err
	}
	n := len(res.Picks)
	ids := make([]string, n)
	row := make([]int64, n)
	pre := make([]bool, n)
	rank := make([]int64, n)
	score := make([]float64, n)
	inf := make([]int64, n)
	for i, p := range res.Picks {
		ids[i], row[i], pre[i], rank[i], score[i], inf[i] = p.SampleID, int64(p.Row), p.Preselected, int64(p.Rank), p.Score, int64(p.InfFactors)
	}
	cols := []columnar.PlainColumn{
		{Name: "sample_id", Values: ids}, {Name: "row", Values: row}, {Name: "preselected", Values: pre}, {Name: "rank", Values: rank},
		{Name: "score", Values: score}, {Name: "inf_factors", Values: inf},
	}
	for k, name := range rec.Objectives {
		v := make([]float64, n)
		null := make([]bool, n)
		for i, p := range res.Picks {
			if p.Preselected || k >= len(p.Objectives) {
				null[i] = true
				continue
			}
			v[i] = p.Objectives[k]
		}
		cols = append(cols, columnar.PlainColumn{Name: name, Values: v, Null: null})
	}
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	meta[SelectionHeaderKey] = string(rec.Header)
	meta[selectionTimeKey] = rec.Time.Format(time.RFC3339Nano)
	return columnar.WritePlain(ctx, w, cols, meta)
}

// AddTagFromRecord commits the samples of the selection file at path (as
// WriteSelectionFile writes it) as tag, with the file's rows as the tag's
// selection record and its header renamed to tag, in one crash-safe
// commit of package tags; replace lets it overwrite an existing tag. The
// samples are found by sample_id, so the file may come from another copy
// of the dataset; an id the dataset lacks, a sample listed twice or a
// file without the selection columns is an error that changes nothing.
// It returns the number of samples of the tag.
func (d *Dataset) AddTagFromRecord(ctx context.Context, tag, path string, replace bool) (int, error) {
	check, commit := tags.CheckName, tags.Add
	if replace {
		check, commit = tags.CheckReplace, tags.Replace
	}
	if err := check(d.cd, tag); err != nil {
		return 0, err
	}
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("selection file: %w", err)
	}
	cols, meta, err := columnar.ReadPlain(ctx, path)
	if err != nil {
		return 0, fmt.Errorf("selection file %s: %w", path, err)
	}
	rec, err := d.selectionRecord(ctx, tag, path, cols, meta)
	if err != nil {
		return 0, err
	}
	rows := bitmap.New(d.Len())
	for _, r := range rec.Rows {
		rows.Set(r.Row)
	}
	if err := commit(ctx, d.cd, tag, rows, rec); err != nil {
		return 0, err
	}
	return len(rec.Rows), nil
}

// selectionRecord builds the record of a selection file's columns.
func (d *Dataset) selectionRecord(ctx context.Context, tag, path string, cols []columnar.PlainColumn, meta map[string]string) (*tags.Record, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("selection file %s: %s", path, fmt.Sprintf(format, a...))
	}
	by := map[string]columnar.PlainColumn{}
	var objectives []string
	for _, c := range cols {
		by[c.Name] = c
		if strings.HasPrefix(c.Name, "objective_") {
			objectives = append(objectives, c.Name)
		}
	}
	for _, name := range selectionFileColumns {
		if _, ok := by[name]; !ok {
			return nil, bad("no column %q (a selection file has %s and objective columns)", name, strings.Join(selectionFileColumns, ", "))
		}
	}
	ids, ok1 := by["sample_id"].Values.([]string)
	pre, ok2 := by["preselected"].Values.([]bool)
	rank, ok3 := by["rank"].Values.([]int64)
	score, ok4 := by["score"].Values.([]float64)
	inf, ok5 := by["inf_factors"].Values.([]int64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil, bad("columns %s must be string, bool, int64, float64, int64", strings.Join(selectionFileColumns, ", "))
	}
	header, ok := meta[SelectionHeaderKey]
	if !ok {
		return nil, bad("no record header (metadata %q)", SelectionHeaderKey)
	}
	var h RecordHeader
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		return nil, bad("record header: %v", err)
	}
	h.Tag = tag
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	rec := &tags.Record{Header: hb, Objectives: objectives}
	if ts, ok := meta[selectionTimeKey]; ok {
		if rec.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return nil, bad("selection time: %v", err)
		}
	}
	seen := map[int]bool{}
	for i, id := range ids {
		row, found, err := d.cd.LookupText(ctx, id)
		if err != nil {
			return nil, bad("row %d: %v", i, err)
		}
		if !found {
			return nil, bad("row %d: no sample has id %q", i, id)
		}
		if seen[row] {
			return nil, bad("row %d: sample %q is listed twice", i, id)
		}
		seen[row] = true
		rr := tags.RecordRow{Row: row, Rank: int(rank[i]), Preselected: pre[i], Score: score[i], InfFactors: int(inf[i])}
		if !pre[i] {
			for _, name := range objectives {
				v, ok := by[name].Values.([]float64)
				if !ok {
					return nil, bad("objective column %q is not float64", name)
				}
				rr.Objectives = append(rr.Objectives, v[i])
			}
		}
		rec.Rows = append(rec.Rows, rr)
	}
	if !slices.IsSortedFunc(rec.Rows, func(a, b tags.RecordRow) int { return a.Rank - b.Rank }) {
		return nil, bad("ranks are not in order")
	}
	return rec, nil
}
