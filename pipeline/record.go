package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/winnow-data/winnow/tags"
)

// Version is winnow's version, stamped into selection records.
var Version = "0.1.0-dev"

// RecordHeader is the configuration and outcome of a selection, stored as
// JSON with its record.
type RecordHeader struct {
	Tag         string    `json:"tag"`
	Version     string    `json:"winnow_version"`
	Time        time.Time `json:"time,omitzero"` // stored beside the header: see tags.Record
	Query       string    `json:"query"`
	Candidates  int       `json:"candidates"`
	Requested   int       `json:"n_requested"`
	Selected    int       `json:"n_selected"`
	Preselected int       `json:"n_preselected"`
	PreTag      string    `json:"preselected_tag,omitempty"`
	DropMissing bool      `json:"drop_missing,omitempty"`
	// Precision is "float16" when float32 vectors were rounded to float16
	// at load (approximate); empty for the stored precision.
	Precision Precision `json:"precision,omitempty"`
	// MaxPerGroup, ExcludeNear and Groups are the run's rules, so that a
	// sample's fate can be replayed (ExplainSample).
	MaxPerGroup []Quota           `json:"max_per_group,omitempty"`
	ExcludeNear *ExcludeNear      `json:"exclude_near,omitempty"`
	Groups      *Groups           `json:"groups,omitempty"`
	Strategies  []json.RawMessage `json:"strategies"`
	Reports     []StrategyReport  `json:"summary"`
	Warnings    []string          `json:"warnings,omitempty"`
	// Shards is Result.Shards: a distributed selection's shard count.
	Shards int `json:"shards,omitempty"`
}

// objectiveColumn names strategy i's objective column in a record.
func objectiveColumn(i int, s Strategy) string { return fmt.Sprintf("objective_%d_%s", i, s.Name()) }

// newRecord builds the selection record of res: one row per sample of the
// result tag (rank, preselected, score, inf factors and each strategy's
// objective when it was picked), with the header.
func newRecord(res *Result, list []Strategy, opts Options) (*tags.Record, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	h := RecordHeader{
		Tag: res.Tag, Version: Version, Query: res.Query,
		Candidates: res.Candidates, Requested: res.Requested, Selected: res.Selected,
		Preselected: res.Preselected, PreTag: opts.Preselected, DropMissing: opts.DropMissing, Precision: res.Precision,
		MaxPerGroup: opts.MaxPerGroup, ExcludeNear: opts.ExcludeNear, Groups: opts.Groups,
		Reports: res.Strategies, Warnings: res.Warnings, Shards: res.Shards,
	}
	rec := &tags.Record{Time: now().UTC()}
	for i, s := range list {
		raw, err := json.Marshal(encodeStrategy(s))
		if err != nil {
			return nil, err
		}
		h.Strategies = append(h.Strategies, raw)
		rec.Objectives = append(rec.Objectives, objectiveColumn(i, s))
	}
	header, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("selection record: %w", err)
	}
	rec.Header = header
	for _, p := range res.Picks {
		rec.Rows = append(rec.Rows, tags.RecordRow{Row: p.Row, Rank: p.Rank, Preselected: p.Preselected,
			Score: p.Score, InfFactors: p.InfFactors, Objectives: p.Objectives})
	}
	return rec, nil
}

// Record is a selection record read back: its header and rows.
type Record struct {
	Header RecordHeader `json:"header"`
	Picks  []Pick       `json:"picks"`
	// Missing counts picks whose sample is no longer in the dataset (their
	// Row is -1 and SampleID empty): the dataset changed since.
	Missing int `json:"missing"`
}

// ReadRecord reads the selection record of tag. A tag made by other means
// (tags add, query --tag) has none: the error is ErrNoRecord.
func (d *Dataset) ReadRecord(ctx context.Context, tag string) (*Record, error) {
	tr, err := tags.ReadRecord(ctx, d.cd, tag)
	if err != nil {
		return nil, err
	}
	rec := &Record{Missing: tr.Missing}
	if err := json.Unmarshal(tr.Header, &rec.Header); err != nil {
		return nil, fmt.Errorf("selection record of %q: header: %w", tag, err)
	}
	if !tr.Time.IsZero() {
		rec.Header.Time = tr.Time
	}
	var rows []int
	for _, r := range tr.Rows {
		if r.Row >= 0 {
			rows = append(rows, r.Row)
		}
	}
	ids, err := d.cd.IDStrings(ctx, rows)
	if err != nil {
		return nil, err
	}
	k := 0
	for _, r := range tr.Rows {
		p := Pick{Row: r.Row, Rank: r.Rank, Preselected: r.Preselected, Score: r.Score, InfFactors: r.InfFactors, Objectives: r.Objectives}
		if r.Row >= 0 {
			p.SampleID = ids[k]
			k++
		}
		rec.Picks = append(rec.Picks, p)
	}
	return rec, nil
}
