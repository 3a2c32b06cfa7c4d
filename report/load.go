package report

// load.go is the report's only contact with the pipeline API: it reads a
// selection record and the dataset it was made on into an Input. When the
// pipeline's API changes, this file changes and no other.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/pipeline"
)

// Load opens the dataset in dir and reads the selection record of tag
// and what a report draws from the dataset: the candidates (the record's
// query run again), the vectors of the models involved, the classes of
// balancing strategies, the weights of metadata weighting and the picks'
// file names. It checks that the dataset still matches the record and
// lists every difference in Header.Changed.
func Load(ctx context.Context, dir, tag string) (*Input, error) {
	ds, err := pipeline.OpenContext(ctx, dir)
	if err != nil {
		return nil, err
	}
	return FromDataset(ctx, ds, tag)
}

// FromDataset is Load on an opened dataset.
func FromDataset(ctx context.Context, ds *pipeline.Dataset, tag string) (*Input, error) {
	rec, err := ds.ReadRecord(ctx, tag)
	if err != nil {
		return nil, err
	}
	l := &loader{ctx: ctx, ds: ds, cd: ds.Columnar(), rec: rec, in: &Input{Embeddings: map[string]*Vectors{}}}
	steps := []func() error{l.header, l.strategies, l.picks, l.candidates, l.embeddings, l.classes, l.weights, l.names, l.checkTag}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("report %q: %w", tag, err)
		}
	}
	return l.in, nil
}

type loader struct {
	ctx   context.Context
	ds    *pipeline.Dataset
	cd    *columnar.Dataset
	rec   *pipeline.Record
	in    *Input
	wires []wireStrategy
}

func (l *loader) changed(format string, args ...any) {
	l.in.Header.Changed = append(l.in.Header.Changed, fmt.Sprintf(format, args...))
}

// wireStrategy is a strategy as the record stores it: LightlyStudio's
// request format.
type wireStrategy struct {
	Name        string   `json:"strategy_name"`
	Model       string   `json:"embedding_model_name"`
	Strength    *float64 `json:"strength"`
	Key         string   `json:"metadata_key"`
	Source      string   `json:"annotation_source"`
	MinDistance *float64 `json:"stopping_condition_minimum_distance"`
	QueryTag    string   `json:"query_tag_name"`
}

func (l *loader) header() error {
	h := l.rec.Header
	l.in.Header = Header{
		Tag: h.Tag, Dataset: l.ds.Dir(), Query: h.Query, Version: h.Version, Time: h.Time,
		Candidates: h.Candidates, Requested: h.Requested, Selected: h.Selected, Preselected: h.Preselected,
		PreTag: h.PreTag, DropMissing: h.DropMissing, Warnings: slices.Clone(h.Warnings),
	}
	// The request as LightlyStudio's format spells it, one strategy a
	// line, for the page.
	var b bytes.Buffer
	tag, _ := json.Marshal(h.Tag)
	fmt.Fprintf(&b, "{\"n_samples_to_select\": %d, \"sampling_result_tag_name\": %s, \"strategies\": [", h.Requested, tag)
	for i, raw := range h.Strategies {
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return fmt.Errorf("record strategy %d: %w", i+1, err)
		}
		sep := ","
		if i == len(h.Strategies)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "\n  %s%s", c.Bytes(), sep)
	}
	b.WriteString("]}")
	l.in.Header.Config = b.String()
	return nil
}

func (l *loader) strategies() error {
	h := l.rec.Header
	for i, raw := range h.Strategies {
		var w wireStrategy
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("record strategy %d: %w", i+1, err)
		}
		l.wires = append(l.wires, w)
		s := StrategyInput{Name: w.Name, Strength: 1, Model: w.Model, Key: w.Key, Source: w.Source, QueryTag: w.QueryTag, MinDistance: math.NaN()}
		if w.Strength != nil {
			s.Strength = *w.Strength
		}
		if w.MinDistance != nil {
			s.MinDistance = *w.MinDistance
		}
		if i < len(h.Reports) {
			r := h.Reports[i]
			if r.Model != "" {
				s.Model = r.Model // the model the run resolved "" to
			}
			if c := r.Coverage; c != nil {
				s.Coverage = &CoverageSummary{Selection: c.Selection, Random: c.Random, Measured: c.Measured}
			}
			if b := r.Balance; b != nil {
				s.Balance = &BalanceSummary{Classes: b.Classes, Candidates: b.Candidates, Target: b.Target, Selection: b.Selection}
			}
			if w := r.Weights; w != nil {
				s.Weights = &WeightSummary{Candidates: w.Candidates, Selection: w.Selection}
			}
		}
		l.in.Strategies = append(l.in.Strategies, s)
	}
	return nil
}

func (l *loader) picks() error {
	missing, first := 0, ""
	if l.rec.Missing > 0 {
		missing = l.rec.Missing
		first = "a sample id the dataset no longer has"
	}
	for _, p := range l.rec.Picks {
		l.in.Picks = append(l.in.Picks, PickInput{
			SampleID: p.SampleID, Row: p.Row, Rank: p.Rank, Preselected: p.Preselected,
			Score: p.Score, InfFactors: p.InfFactors, Objectives: p.Objectives,
		})
	}
	if missing > 0 {
		l.changed("%d of the record's %d samples are no longer in the dataset (first: %s)", missing, len(l.rec.Picks), first)
	}
	return nil
}

// candidates runs the record's query again and, for runs that dropped
// candidates without vectors, drops them again.
func (l *loader) candidates() error {
	h := l.rec.Header
	q := l.ds.Query()
	if h.Query != "" {
		var err error
		if q, err = q.Where(h.Query); err != nil {
			l.changed("the record's query no longer parses: %v", err)
			return nil
		}
	}
	bm, err := q.Rows(l.ctx)
	if err != nil {
		if l.ctx.Err() != nil {
			return err
		}
		l.changed("the record's query no longer runs on this dataset: %v", err)
		return nil
	}
	cands := bm.Indexes()
	if h.DropMissing {
		for _, s := range l.in.Strategies {
			if s.Model == "" || !slices.Contains(l.cd.Models(), s.Model) {
				continue
			}
			m, err := l.vectors(s.Model)
			if err != nil {
				return err
			}
			cands = slices.DeleteFunc(cands, func(r int) bool { return !m.present(r) })
		}
	}
	l.in.Candidates = cands
	if len(cands) != h.Candidates {
		l.changed("the record's query now gives %d candidates; the selection chose from %d", len(cands), h.Candidates)
	}
	notCand, first := 0, ""
	for _, p := range l.in.Picks {
		if p.Preselected || p.Row < 0 {
			continue
		}
		if _, ok := slices.BinarySearch(cands, p.Row); !ok {
			if notCand++; first == "" {
				first = p.SampleID
			}
		}
	}
	if notCand > 0 {
		l.changed("%d picks are not among the query's candidates any more (first: %s)", notCand, first)
	}
	return nil
}

func (l *loader) vectors(model string) (*Vectors, error) {
	if v, ok := l.in.Embeddings[model]; ok {
		return v, nil
	}
	m, err := l.cd.ReadEmbeddings(l.ctx, model)
	if err != nil {
		return nil, err
	}
	v := &Vectors{Dim: m.Dim, Data: m.Float32s(), Has: m.Present.Get}
	l.in.Embeddings[model] = v
	return v, nil
}

// embeddings loads every model a strategy used and picks the map's: the
// first strategy's model, else the dataset's only one, else its first.
func (l *loader) embeddings() error {
	known := l.cd.Models()
	for _, s := range l.in.Strategies {
		if s.Model == "" {
			continue
		}
		if !slices.Contains(known, s.Model) {
			l.changed("the dataset has no embedding model %q any more", s.Model)
			continue
		}
		if _, err := l.vectors(s.Model); err != nil {
			return err
		}
		if l.in.MapModel == "" {
			l.in.MapModel = s.Model
		}
	}
	if l.in.MapModel != "" || len(known) == 0 {
		return nil
	}
	sort.Strings(known)
	l.in.MapModel = known[0]
	if len(known) == 1 {
		l.in.Notes = append(l.in.Notes, fmt.Sprintf("The selection used no embeddings; the map, the distances and the coverage curve use the dataset's model %q.", known[0]))
	} else {
		l.in.Notes = append(l.in.Notes, fmt.Sprintf("The selection used no embeddings; the map, the distances and the coverage curve use model %q, the first of %d.", known[0], len(known)))
	}
	_, err := l.vectors(known[0])
	return err
}

// classes gives every row of a balancing strategy its class (the first
// counted annotation's, or the metadata value) for the map's colours, and
// checks the candidates' class shares against the record's.
func (l *loader) classes() error {
	for i := range l.in.Strategies {
		s := &l.in.Strategies[i]
		if s.Balance == nil {
			continue
		}
		index := map[string]int32{}
		for k, c := range s.Balance.Classes {
			index[c] = int32(k)
		}
		// An explicit target pools the classes it does not list into a
		// last class "other".
		other := int32(-1)
		if k := len(s.Balance.Classes); k > 0 && s.Balance.Classes[k-1] == "other" {
			other = int32(k - 1)
		}
		classOf := func(label string) int32 {
			if c, ok := index[label]; ok {
				return c
			}
			return other
		}
		rowClass := make([]int32, l.ds.Len())
		for r := range rowClass {
			rowClass[r] = -1
		}
		counts := make([]float64, len(s.Balance.Classes))
		isCand := l.candidateSet()
		switch s.Name {
		case "balance":
			if l.cd.AnnotationSchema() == nil {
				l.changed("the dataset has no annotations table any more")
				continue
			}
			ann, err := l.cd.Annotations(l.ctx, columnar.WithLabel|columnar.WithSource)
			if err != nil {
				return err
			}
			for a, row := range ann.Sample {
				if s.Source != "" && (ann.Source == nil || ann.Source.Codes[a] < 0 || ann.Source.Values[ann.Source.Codes[a]] != s.Source) {
					continue
				}
				lc := ann.Label.Codes[a]
				if lc < 0 {
					continue
				}
				c := classOf(ann.Label.Values[lc])
				if c < 0 {
					continue
				}
				if rowClass[row] < 0 {
					rowClass[row] = c
				}
				if isCand(int(row)) {
					counts[c]++
				}
			}
		case "metadata_balance":
			col, err := l.cd.CategoricalColumn(l.ctx, s.Key)
			if errors.Is(err, columnar.ErrUnknownColumn) || errors.As(err, new(*columnar.ColumnTypeError)) {
				l.changed("the samples table has no categorical column %q any more", s.Key)
				continue
			}
			if err != nil {
				return err
			}
			for row, code := range col.Codes {
				if code < 0 {
					continue
				}
				if c := classOf(col.Values[code]); c >= 0 {
					rowClass[row] = c
					if isCand(row) {
						counts[c]++
					}
				}
			}
		default:
			continue
		}
		s.RowClass = rowClass
		if l.in.Candidates != nil && !closeShares(shares(counts), s.Balance.Candidates) {
			l.changed("the candidates' class shares for strategy %d (%s) differ from the record's", i+1, s.Name)
		}
	}
	return nil
}

// candidateSet reports whether a row is a candidate (false for all when
// the candidates are unknown).
func (l *loader) candidateSet() func(int) bool {
	set := make([]bool, l.ds.Len())
	for _, r := range l.in.Candidates {
		set[r] = true
	}
	return func(r int) bool { return r >= 0 && r < len(set) && set[r] }
}

func closeShares(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// weights reads the metadata column of each weighting strategy for the
// candidates and checks its mean against the record's.
func (l *loader) weights() error {
	for i := range l.in.Strategies {
		s := &l.in.Strategies[i]
		if s.Name != "weights" || s.Key == "" || l.in.Candidates == nil {
			continue
		}
		col, err := l.cd.NumericColumn(l.ctx, s.Key)
		if errors.Is(err, columnar.ErrUnknownColumn) || errors.As(err, new(*columnar.ColumnTypeError)) {
			l.changed("the samples table has no numeric column %q any more", s.Key)
			continue
		}
		if err != nil {
			return err
		}
		w := make([]float64, len(l.in.Candidates))
		sum := 0.0
		for k, r := range l.in.Candidates {
			if w[k] = col.Values[r]; col.IsNull(r) {
				w[k] = math.NaN()
			}
			sum += w[k]
		}
		s.CandidateWeights = w
		if s.Weights != nil && len(w) > 0 {
			mean := sum / float64(len(w))
			if math.Abs(mean-s.Weights.Candidates) > 1e-9*math.Max(1, math.Abs(mean)) {
				l.changed("the candidates' mean of column %q is %.6g; the record's is %.6g", s.Key, mean, s.Weights.Candidates)
			}
		}
	}
	return nil
}

// names reads the picks' file_name and file_path, when the samples table
// has them as strings.
func (l *loader) names() error {
	var rows []int
	var at []int // index into l.in.Picks of rows[i]
	for i, p := range l.in.Picks {
		if p.Row >= 0 {
			rows, at = append(rows, p.Row), append(at, i)
		}
	}
	for _, name := range []string{"file_name", "file_path"} {
		vals, ok, err := l.cd.StringsAt(l.ctx, name, rows)
		if errors.Is(err, columnar.ErrUnknownColumn) || errors.As(err, new(*columnar.ColumnTypeError)) {
			continue
		}
		if err != nil {
			return err
		}
		for k, i := range at {
			if !ok[k] {
				continue
			}
			if name == "file_name" {
				l.in.Picks[i].Name = vals[k]
			} else {
				l.in.Picks[i].Path = vals[k]
			}
		}
	}
	return nil
}

// checkTag compares the tag's samples with the record's.
func (l *loader) checkTag() error {
	bm, err := l.cd.Tag(l.rec.Header.Tag)
	if err != nil {
		return err
	}
	in := 0
	for _, p := range l.in.Picks {
		if p.Row >= 0 && bm.Get(p.Row) {
			in++
		}
	}
	if n := bm.Count(); n != len(l.in.Picks) || in != n {
		l.changed("tag %q holds %d samples, %d of them in the record; the record lists %d", l.rec.Header.Tag, n, in, len(l.in.Picks))
	}
	return nil
}
