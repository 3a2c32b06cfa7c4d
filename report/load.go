package report

// load.go is the report's only contact with the pipeline API: it reads a
// selection record and the dataset it was made on into an Input. When the
// pipeline's API changes, this file changes and no other.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"winnow/columnar"
	"winnow/pipeline"
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
	for _, p := range l.rec.Picks {
		row, ok, err := l.cd.Lookup(l.ctx, p.SampleID)
		if err != nil {
			return err
		}
		if !ok {
			if row = -1; missing == 0 {
				first = p.SampleID.String()
			}
			missing++
		}
		l.in.Picks = append(l.in.Picks, PickInput{
			SampleID: p.SampleID.String(), Row: row, Rank: p.Rank, Preselected: p.Preselected,
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
	v := &Vectors{Dim: m.Dim, Data: m.Data, Has: m.Present.Get}
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
			cols := []string{columnar.LabelColumn}
			if s.Source != "" {
				cols = append(cols, "source")
			}
			ann, err := l.cd.AnnotationColumns(l.ctx, cols)
			if err != nil {
				return err
			}
			labels := columnStrings(ann.Table.Column(0))
			var sources []string
			if s.Source != "" {
				sources = columnStrings(ann.Table.Column(1))
			}
			ann.Table.Release()
			for a, row := range ann.Sample {
				if sources != nil && sources[a] != s.Source {
					continue
				}
				c := classOf(labels[a])
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
			col, ok, err := l.sampleColumn(s.Key)
			if err != nil {
				return err
			}
			if !ok || !col.isText() {
				if ok {
					col.release()
				}
				l.changed("the samples table has no categorical column %q any more", s.Key)
				continue
			}
			for row := range rowClass {
				v, ok := col.textAt(row)
				if !ok {
					continue
				}
				if c := classOf(v); c >= 0 {
					rowClass[row] = c
					if isCand(row) {
						counts[c]++
					}
				}
			}
			col.release()
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
		col, ok, err := l.sampleColumn(s.Key)
		if err != nil {
			return err
		}
		if !ok || !col.isNumber() {
			if ok {
				col.release()
			}
			l.changed("the samples table has no numeric column %q any more", s.Key)
			continue
		}
		w := make([]float64, len(l.in.Candidates))
		sum := 0.0
		for k, r := range l.in.Candidates {
			w[k], _ = col.numberAt(r)
			sum += w[k]
		}
		col.release()
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
// has them.
func (l *loader) names() error {
	for _, name := range []string{"file_name", "file_path"} {
		col, ok, err := l.sampleColumn(name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if col.isText() {
			for i := range l.in.Picks {
				p := &l.in.Picks[i]
				if p.Row < 0 {
					continue
				}
				if v, ok := col.textAt(p.Row); ok {
					if name == "file_name" {
						p.Name = v
					} else {
						p.Path = v
					}
				}
			}
		}
		col.release()
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

// column is one samples column as the reader returned it: chunks in
// dataset order, never concatenated (concatenating dictionary chunks
// unifies their dictionaries, a second of work for a million file names
// of which a report reads a hundred).
type column struct {
	tbl    arrow.Table
	chunks []arrow.Array
	starts []int // starts[i] is the dataset row of chunks[i]'s first value
	text   []func(int) string
	number []func(int) float64
}

// sampleColumn reads one samples column; ok is false when the table has
// no such column. The caller releases it.
func (l *loader) sampleColumn(name string) (*column, bool, error) {
	if s := l.cd.SampleSchema(); s == nil || len(s.FieldIndices(name)) == 0 {
		return nil, false, nil
	}
	tbl, err := l.cd.SampleColumns(l.ctx, []string{name})
	if err != nil {
		return nil, false, err
	}
	c := &column{tbl: tbl, chunks: tbl.Column(0).Data().Chunks()}
	row := 0
	for _, ch := range c.chunks {
		c.starts = append(c.starts, row)
		row += ch.Len()
		t, _ := textOf(ch)
		c.text = append(c.text, t)
		c.number = append(c.number, numberOf(ch))
	}
	return c, true, nil
}

func (c *column) release() { c.tbl.Release() }

// locate returns the chunk holding row and the row's index in it.
func (c *column) locate(row int) (int, int) {
	i := sort.Search(len(c.starts), func(i int) bool { return c.starts[i] > row }) - 1
	if i < 0 || row-c.starts[i] >= c.chunks[i].Len() {
		return -1, 0
	}
	return i, row - c.starts[i]
}

// textAt is row's value as text; ok is false for a null or a type that
// is not categorical.
func (c *column) textAt(row int) (string, bool) {
	i, j := c.locate(row)
	if i < 0 || c.text[i] == nil || c.chunks[i].IsNull(j) {
		return "", false
	}
	return c.text[i](j), true
}

// numberAt is row's value as a number, NaN for a null; ok is false for a
// type that is not numeric.
func (c *column) numberAt(row int) (float64, bool) {
	i, j := c.locate(row)
	if i < 0 || c.number[i] == nil {
		return 0, false
	}
	if c.chunks[i].IsNull(j) {
		return math.NaN(), true
	}
	return c.number[i](j), true
}

// isText and isNumber report whether every chunk has the kind of values.
func (c *column) isText() bool {
	return !slices.ContainsFunc(c.text, func(f func(int) string) bool { return f == nil })
}
func (c *column) isNumber() bool {
	return !slices.ContainsFunc(c.number, func(f func(int) float64) bool { return f == nil })
}

// numberOf returns an accessor of numeric and boolean arrays as float64,
// nil for other types.
func numberOf(a arrow.Array) func(int) float64 {
	switch a := a.(type) {
	case *array.Float64:
		return a.Value
	case *array.Float32:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int64:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int32:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int16:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int8:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Uint64:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Uint32:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Uint16:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Uint8:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Boolean:
		return func(i int) float64 {
			if a.Value(i) {
				return 1
			}
			return 0
		}
	}
	return nil
}

// textOf returns a text accessor for string-like, boolean and integer
// arrays, as balancing reads categories.
func textOf(a arrow.Array) (func(int) string, bool) {
	switch a := a.(type) {
	case *array.String:
		return a.Value, true
	case *array.LargeString:
		return a.Value, true
	case *array.Dictionary:
		dict, ok := textOf(a.Dictionary())
		if !ok {
			return nil, false
		}
		return func(i int) string { return dict(a.GetValueIndex(i)) }, true
	case *array.Boolean, *array.Int64, *array.Int32, *array.Int16, *array.Int8,
		*array.Uint64, *array.Uint32, *array.Uint16, *array.Uint8:
		return a.ValueStr, true
	}
	return nil, false
}

// columnStrings reads a string-like column into Go strings ("" for null).
func columnStrings(c *arrow.Column) []string {
	out := make([]string, 0, c.Len())
	for _, chunk := range c.Data().Chunks() {
		text, ok := textOf(chunk)
		for i := 0; i < chunk.Len(); i++ {
			if !ok || chunk.IsNull(i) {
				out = append(out, "")
				continue
			}
			out = append(out, text(i))
		}
	}
	return out
}
