package beamselect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	// The file systems every job can read: local paths and memfs://. A
	// command adds gs:// and s3:// by importing their packages.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"

	"github.com/winnow-data/winnow/beam/rowgroups"
	"github.com/winnow-data/winnow/beam/shardselect"
	"github.com/winnow-data/winnow/internal/workpool"
)

func init() {
	register.DoFn3x1[context.Context, rowgroups.Shard, func(LabelCount), error](&countFn{})
	register.Emitter1[LabelCount]()
	register.Function2x1[int, func(*LabelCount) bool, Classes](gatherClasses)
	register.Iter1[LabelCount]()
	register.DoFn3x2[context.Context, rowgroups.Shard, func(*Classes) bool, Cands, error](&localFn{})
	register.Iter1[Classes]()
	register.DoFn4x2[context.Context, int, func(*Cands) bool, func(*Classes) bool, Selection, error](&mergeFn{})
	register.Iter1[Cands]()
	register.DoFn2x1[context.Context, Selection, error](&writeFn{})
}

// LabelCount is one label's count on one shard and the first table row
// holding it.
type LabelCount struct {
	Label string
	Count int64
	First int64
}

// Cands is one shard's local candidates as they travel to the merge:
// shardselect.Candidates flattened to slices of plain values, with the
// rows' ids. The candidates' vectors do not travel: the merge reads them
// again from the shard's row groups (Shard) straight into the union's one
// matrix, so neither the runner's shuffle nor the merge's worker holds
// them more than once (a shard's k' vectors are most of what it sends).
type Cands struct {
	Ordinal int             // the shard's position in the plan
	Shard   rowgroups.Shard // where the vectors are (Dim > 0)
	Index   []int64         // table rows, increasing
	IDs     []string
	Dim     int
	Weights []float64
	Classes int
	Counts  []float64
	Radius  float64 // coreset radius, NaN when not k-center
}

// Selection is the merged result: the new picks in pick order.
type Selection struct {
	IDs      []string
	Rows     []int64 // table rows
	Ranks    []int64
	ScoreInf []int64   // the combined score: count of infinite factors
	ScoreLog []float64 // and the sum of the finite log terms
	// Objectives holds each pick's per-strategy objective, one row of
	// len(Kinds) values a pick.
	Objectives []float64
	Kinds      []string
	Shards     int // shards that contributed
	Candidates int // rows of the union the merge selected from
	// Bound is the k-center certificate (shardselect.Bound) when HasBound.
	HasBound               bool
	BoundLocal, BoundUnion float64
}

// Plan cuts the job's table into about shards shards of whole row groups,
// reading each file's footer once; the result goes to Build.
func Plan(ctx context.Context, job Job, shards int) ([]rowgroups.Shard, error) {
	if err := job.Check(); err != nil {
		return nil, err
	}
	fs, err := filesystem.New(ctx, job.Files[0])
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	return rowgroups.PlanShards(ctx, fs, job.Files, shards)
}

// Build adds the selection to s and returns the PCollection holding the
// one Selection; with job.Output set it also writes it there.
func Build(s beam.Scope, job Job, shards []rowgroups.Shard) beam.PCollection {
	s = s.Scope("winnow.select")
	sh := beam.Reshuffle(s, beam.CreateList(s, shards))
	var classes beam.PCollection
	if job.needsLabels() {
		counts := beam.ParDo(s.Scope("classes"), &countFn{Job: job}, sh)
		classes = beam.ParDo(s.Scope("classes"), gatherClasses, beam.GroupByKey(s, beam.AddFixedKey(s, counts)))
	} else {
		classes = beam.Create(s, Classes{})
	}
	local := beam.ParDo(s.Scope("local"), &localFn{Job: job}, sh, beam.SideInput{Input: classes})
	sel := beam.ParDo(s.Scope("merge"), &mergeFn{Job: job}, beam.GroupByKey(s, beam.AddFixedKey(s, local)), beam.SideInput{Input: classes})
	if job.Output != "" {
		beam.ParDo0(s.Scope("write"), &writeFn{Job: job}, sel)
	}
	return sel
}

// readShard reads the job's columns of one shard.
func readShard(ctx context.Context, job *Job, sh rowgroups.Shard) (*shardData, error) {
	fs, err := filesystem.New(ctx, sh.Path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	recs, _, st, err := rowgroups.Read(ctx, fs, sh, job.columns())
	if err != nil {
		return nil, err
	}
	beam.NewCounter("winnow", "bytes_read").Inc(ctx, st.Read)
	beam.NewCounter("winnow", "bytes_skipped").Inc(ctx, st.Skipped)
	return decodeShard(recs, sh.FirstRow, job) // releases recs
}

// countFn counts the labels of one shard.
type countFn struct{ Job Job }

func (f *countFn) ProcessElement(ctx context.Context, sh rowgroups.Shard, emit func(LabelCount)) error {
	d, err := readShard(ctx, &f.Job, sh)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	var out []LabelCount
	for i, l := range d.labels {
		if !d.labelled[i] {
			continue
		}
		k, ok := seen[l]
		if !ok {
			k = len(out)
			seen[l] = k
			out = append(out, LabelCount{Label: l, First: sh.FirstRow + int64(i)})
		}
		out[k].Count++
	}
	for _, c := range out {
		emit(c)
	}
	return nil
}

// gatherClasses orders the table's labels by first row (dataset order,
// the spec's first-seen order) and sums their counts.
func gatherClasses(_ int, iter func(*LabelCount) bool) Classes {
	first := map[string]int64{}
	count := map[string]int64{}
	var c LabelCount
	for iter(&c) {
		if f, ok := first[c.Label]; !ok || c.First < f {
			first[c.Label] = c.First
		}
		count[c.Label] += c.Count
	}
	var cl Classes
	for l := range first {
		cl.Names = append(cl.Names, l)
	}
	sort.Slice(cl.Names, func(a, b int) bool { return first[cl.Names[a]] < first[cl.Names[b]] })
	for _, l := range cl.Names {
		cl.Counts = append(cl.Counts, float64(count[l]))
	}
	return cl
}

func oneClasses(iter func(*Classes) bool) Classes {
	var cl, c Classes
	for iter(&c) {
		cl = c
	}
	return cl
}

// shardSlots bounds how many shards one worker process selects at once.
// It is process-wide on purpose: a runner gives each bundle its own DoFn
// instance and may run as many bundles at once as it likes (Prism runs
// every shard of a job at the same time), while memory is the process's,
// and each engine run already uses every core.
var shardSlots struct {
	once sync.Once
	ch   chan struct{}
}

// acquireShard waits for one of n shard slots (n < 1: one) of this
// process, fixed by the first call, and returns its release.
func acquireShard(ctx context.Context, n int) (func(), error) {
	shardSlots.once.Do(func() { shardSlots.ch = make(chan struct{}, max(1, n)) })
	select {
	case shardSlots.ch <- struct{}{}:
		return func() { <-shardSlots.ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// localFn picks one shard's candidates.
type localFn struct{ Job Job }

func (f *localFn) ProcessElement(ctx context.Context, sh rowgroups.Shard, classes func(*Classes) bool) (Cands, error) {
	release, err := acquireShard(ctx, f.Job.ShardsAtOnce)
	if err != nil {
		return Cands{}, err
	}
	defer release()
	start := time.Now()
	cl := oneClasses(classes)
	cfg, target, err := f.Job.config(cl)
	if err != nil {
		return Cands{}, err
	}
	d, err := readShard(ctx, &f.Job, sh)
	if err != nil {
		return Cands{}, err
	}
	rows, ids, err := d.rows(&f.Job, cl, target)
	if err != nil {
		return Cands{}, fmt.Errorf("shard %d (%s row groups %v): %w", sh.Ordinal, sh.Path, sh.RowGroups, err)
	}
	c, err := shardselect.Local(ctx, cfg, rows, shardselect.Rows{})
	if err != nil {
		return Cands{}, fmt.Errorf("shard %d (%s row groups %v): %w", sh.Ordinal, sh.Path, sh.RowGroups, err)
	}
	beam.NewCounter("winnow", "local_candidates").Inc(ctx, int64(c.Rows.Len()))
	log.Infof(ctx, "winnow: shard %d: %d rows, %d candidates in %v", sh.Ordinal, rows.Len(), c.Rows.Len(), time.Since(start).Round(time.Millisecond))
	return toWire(sh, c, rows, ids), nil
}

// toWire flattens a shard's candidates, finding each kept row's id by its
// key in the shard's rows.
func toWire(sh rowgroups.Shard, c *shardselect.Candidates, all shardselect.Rows, ids []string) Cands {
	w := Cands{Ordinal: sh.Ordinal, Radius: c.Radius}
	for _, k := range c.Rows.Index {
		p, _ := slices.BinarySearch(all.Index, k)
		w.Index = append(w.Index, int64(k))
		w.IDs = append(w.IDs, ids[p])
	}
	if len(c.Rows.Vectors) > 0 {
		w.Dim, w.Shard = c.Rows.Vectors[0].Dim, sh
	}
	if len(c.Rows.Weights) > 0 {
		w.Weights = c.Rows.Weights[0]
	}
	if len(c.Rows.Counts) > 0 {
		w.Classes, w.Counts = c.Rows.Counts[0].Classes, c.Rows.Counts[0].Data
	}
	return w
}

// union builds the merge's one part from the shards' wires (sorted by
// ordinal, so in key order: shards are runs of the table in plan order):
// keys, weights and counts appended, vectors read from each shard's row
// groups into one matrix allocated once, and the largest coreset radius
// (NaN if any shard has none), which is all Merge takes from the parts.
// The shards are read mergeReaders at a time, each into its own range of
// the matrix: a shard's read (its row groups decoded whole) ran on one
// core, 4.7 minutes of a 10M-row job's merge.
func union(ctx context.Context, job *Job, wires []Cands, classes int) (shardselect.Candidates, error) {
	dim, total := 0, 0
	for _, w := range wires {
		dim = max(dim, w.Dim) // an empty shard has no dimension
		total += len(w.Index)
	}
	r := shardselect.Rows{Index: make([]int, 0, total)}
	r.Vectors, r.Weights, r.Counts = inputs(job, dim, classes)
	if len(r.Vectors) > 0 {
		v := &r.Vectors[0]
		v.Data = make([]float32, total*v.Dim)
		at := make([]int, len(wires)+1) // wire p's rows start at at[p]
		for p := range wires {
			at[p+1] = at[p] + len(wires[p].Index)
		}
		errs := make([]error, len(wires))
		workpool.Do(min(runtime.GOMAXPROCS(0), mergeReaders), len(wires), func(p int) {
			if w := &wires[p]; len(w.Index) > 0 && ctx.Err() == nil {
				errs[p] = readVectors(ctx, job, w, v.Data[at[p]*v.Dim:at[p+1]*v.Dim], v.Dim)
			}
		})
		if err := errors.Join(append(errs, ctx.Err())...); err != nil {
			return shardselect.Candidates{}, err
		}
	}
	radius := 0.0
	for p := range wires {
		w := &wires[p]
		if math.IsNaN(w.Radius) || math.IsNaN(radius) {
			radius = math.NaN()
		} else {
			radius = math.Max(radius, w.Radius)
		}
		for _, k := range w.Index {
			r.Index = append(r.Index, int(k))
		}
		if len(r.Weights) > 0 {
			r.Weights[0] = append(r.Weights[0], w.Weights...)
		}
		if len(r.Counts) > 0 {
			r.Counts[0].Data = append(r.Counts[0].Data, w.Counts...)
		}
	}
	return shardselect.Candidates{Rows: r, Radius: radius}, nil
}

// mergeReaders bounds the shards the merge reads at once: each holds its
// shard's decoded row groups (about 300 MB for 196,608 rows of 768
// float16 values) on top of the candidates' matrix.
const mergeReaders = 4

// readVectors reads the vectors of w's candidates from its shard into dst.
func readVectors(ctx context.Context, job *Job, w *Cands, dst []float32, dim int) error {
	fail := func(err error) error {
		return fmt.Errorf("merge: shard %d (%s row groups %v): %w", w.Ordinal, w.Shard.Path, w.Shard.RowGroups, err)
	}
	fs, err := filesystem.New(ctx, w.Shard.Path)
	if err != nil {
		return fail(err)
	}
	defer fs.Close()
	recs, _, _, err := rowgroups.Read(ctx, fs, w.Shard, []string{job.Vector})
	if err != nil {
		return fail(err)
	}
	defer func() {
		for _, rec := range recs {
			if rec != nil {
				rec.Release()
			}
		}
	}()
	row, next := w.Shard.FirstRow, 0
	for k, rec := range recs {
		end := row + rec.NumRows()
		j := next
		for j < len(w.Index) && w.Index[j] < end {
			j++
		}
		if j > next {
			got, err := rowgroups.CopyRows(rowgroups.Column(rec, job.Vector), row, w.Index[next:j], dst[next*dim:j*dim])
			if err != nil {
				return fail(err)
			}
			if got != dim {
				return fail(fmt.Errorf("embeddings of dimension %d, the shard's candidates had %d (the table changed?)", got, dim))
			}
		}
		next, row = j, end
		rec.Release()
		recs[k] = nil
	}
	if next != len(w.Index) {
		return fail(fmt.Errorf("candidate row %d is past the shard's %d rows (the table changed?)", w.Index[next], w.Shard.Rows))
	}
	return nil
}

// mergeFn selects from the union of all shards' candidates.
type mergeFn struct{ Job Job }

func (f *mergeFn) ProcessElement(ctx context.Context, _ int, iter func(*Cands) bool, classes func(*Classes) bool) (Selection, error) {
	cl := oneClasses(classes)
	cfg, target, err := f.Job.config(cl)
	if err != nil {
		return Selection{}, err
	}
	nclass := 0
	if target != nil {
		nclass = len(target.Classes)
	}
	var wires []Cands
	var c Cands
	for iter(&c) {
		wires = append(wires, c)
		c = Cands{}
	}
	// Arrival order never matters to Merge; sorting makes the ids' lookup
	// and any error message deterministic.
	sort.Slice(wires, func(a, b int) bool { return wires[a].Ordinal < wires[b].Ordinal })
	id := map[int64]string{}
	for p := range wires {
		for i, k := range wires[p].Index {
			id[k] = wires[p].IDs[i]
		}
		wires[p].IDs = nil
	}
	read := time.Now()
	part, err := union(ctx, &f.Job, wires, nclass)
	if err != nil {
		return Selection{}, err
	}
	log.Infof(ctx, "winnow: merge: %d candidates of %d shards read in %v", len(part.Rows.Index), len(wires), time.Since(read).Round(time.Millisecond))
	start := time.Now()
	res, err := shardselect.Merge(ctx, cfg, []shardselect.Candidates{part}, shardselect.Rows{})
	if err != nil {
		return Selection{}, err
	}
	log.Infof(ctx, "winnow: merge: %d picks from %d candidates of %d shards in %v", len(res.Picks), res.Candidates, len(wires), time.Since(start).Round(time.Millisecond))
	sel := Selection{Shards: len(wires), Candidates: res.Candidates}
	for _, s := range f.Job.Strategies {
		sel.Kinds = append(sel.Kinds, s.Kind)
	}
	for _, p := range res.Picks {
		sel.IDs = append(sel.IDs, id[int64(p.Index)])
		sel.Rows = append(sel.Rows, int64(p.Index))
		sel.Ranks = append(sel.Ranks, int64(p.Rank))
		sel.ScoreInf = append(sel.ScoreInf, int64(p.Score.Inf))
		sel.ScoreLog = append(sel.ScoreLog, p.Score.Log)
		sel.Objectives = append(sel.Objectives, p.Objectives...)
	}
	if res.Bound != nil {
		sel.HasBound, sel.BoundLocal, sel.BoundUnion = true, res.Bound.Local, res.Bound.Union
	}
	return sel, nil
}

// Ratio returns the selection's certified k-center ratio (NaN without a
// bound).
func (s *Selection) Ratio() float64 {
	if !s.HasBound {
		return math.NaN()
	}
	return shardselect.Bound{Local: s.BoundLocal, Union: s.BoundUnion}.Ratio()
}

// writeFn writes the selection to the job's output.
type writeFn struct{ Job Job }

func (f *writeFn) ProcessElement(ctx context.Context, sel Selection) error {
	return WriteSelection(ctx, f.Job.Output, &f.Job, &sel)
}
