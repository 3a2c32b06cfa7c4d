package beamselect

// Selections over a winnow dataset (conventional layout or manifest)
// through the core library's shard API (winnow/pipeline: SelectShard,
// MergeShards): every DoFn opens the dataset and resolves its shard's
// rows exactly as `winnow select` does, so the query (--where),
// preselected tags, annotations, metadata, similarity, max_per_group
// quotas, exclude_near and deduplication distances all carry through the
// merge. Typicality and outliers run as a first stage (typicality.go).
//
//	Create(shards) ─ Reshuffle ─ [typicality stage] ─ local candidates (SelectShard) ─ gather ─ merge (MergeShards) ─ selection file
//
// The dataset must be readable by every worker at the same path (a local
// folder here; a mounted file system on a cluster): the core library opens
// datasets from the local file system only. Each DoFn loads the embedding
// models a strategy reads whole (the core library has no row-range read of
// embeddings yet), so this path bounds work per shard but not memory; the
// table path (Job, rowgroups) is the one whose memory is bounded by the
// shard.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/winnow-data/winnow/pipeline"
)

func init() {
	register.DoFn3x2[context.Context, DatasetShard, func(*RowWeightsPart) bool, ShardRows, error](&datasetLocalFn{})
	register.Iter1[RowWeightsPart]()
	register.DoFn4x2[context.Context, int, func(*ShardRows) bool, func(*RowWeightsPart) bool, DatasetSummary, error](&datasetMergeFn{})
	register.Iter1[ShardRows]()
}

// DatasetJob is one selection over a winnow dataset.
type DatasetJob struct {
	// Dataset is the dataset folder or manifest, at the same path on every
	// worker.
	Dataset string
	// Where is the query narrowing the candidates ("" for all samples).
	Where string
	// Strategies is pipeline.MarshalStrategies of the strategies with
	// global balancing targets (PrepareDataset fills it in).
	Strategies string
	N          int
	Oversample float64 // k'/n, 0 for pipeline.DefaultOversample
	// Options of the selection (pipeline.Options' fields of the same
	// names).
	Preselected string
	DropMissing bool
	MaxPerGroup []pipeline.Quota
	ExcludeNear *pipeline.ExcludeNear
	Workers     int
	// Tag names the selection in its record; the tag itself is made by
	// `winnow tags add DIR TAG --record OUTPUT`.
	Tag string
	// Output is where the merge writes the selection file
	// (pipeline.WriteSelectionFile; any registered Beam file system).
	Output string
	// Typicality holds, when a strategy is typicality or outliers, the
	// embedding model of that stage (PrepareDataset fills it in).
	Typicality *TypicalityStage
	// ShardsAtOnce bounds how many shards one worker process selects at
	// the same time (0: one), as Job.ShardsAtOnce.
	ShardsAtOnce int
}

// DatasetShard is one shard of a DatasetJob: dataset rows [First, End).
type DatasetShard struct {
	Ordinal, First, End int
}

// ShardRows is one shard's local candidates as they travel to the merge.
type ShardRows struct {
	Ordinal int
	Rows    []int64 // dataset rows, increasing
	Radius  float64 // coreset radius (plain diversity), NaN otherwise
}

// DatasetSummary is what the merge reports besides the file it writes.
type DatasetSummary struct {
	Selected, Preselected, Candidates, Shards int
	// Bound is the k-center certificate {Local, Union} when HasBound.
	HasBound               bool
	BoundLocal, BoundUnion float64
}

// Ratio returns the summary's certified k-center ratio (NaN without one).
func (s *DatasetSummary) Ratio() float64 {
	if !s.HasBound {
		return math.NaN()
	}
	return pipeline.ShardBound{Local: s.BoundLocal, Union: s.BoundUnion}.Ratio()
}

// Metadata keys a dataset job adds to its selection file.
const (
	MetaDatasetJob = "winnow.beam.dataset_job" // the DatasetJob as JSON
)

// open opens the job's dataset and selection, with the options and
// strategies of the job; list has no RowWeights.
func (j *DatasetJob) open(ctx context.Context) (*pipeline.Selection, []pipeline.Strategy, error) {
	ds, err := pipeline.OpenContext(ctx, j.Dataset)
	if err != nil {
		return nil, nil, err
	}
	q := ds.Query()
	if j.Where != "" {
		if q, err = q.Where(j.Where); err != nil {
			return nil, nil, err
		}
	}
	sel, err := q.SelectionContext(ctx)
	if err != nil {
		return nil, nil, err
	}
	sel.Options = pipeline.Options{Preselected: j.Preselected, DropMissing: j.DropMissing, MaxPerGroup: j.MaxPerGroup,
		ExcludeNear: j.ExcludeNear, Workers: j.Workers, DryRun: true}
	list, err := pipeline.UnmarshalStrategies([]byte(j.Strategies))
	if err != nil {
		return nil, nil, err
	}
	return sel, list, nil
}

// PrepareDataset checks job on the launcher, resolves its balancing
// targets over all candidates (pipeline.Selection.GlobalStrategies) into
// job.Strategies, and cuts the dataset's rows into shards.
func PrepareDataset(ctx context.Context, job *DatasetJob, list []pipeline.Strategy, shards int) ([]DatasetShard, error) {
	if job.N < 1 {
		return nil, fmt.Errorf("job: n = %d, must be at least 1", job.N)
	}
	if job.Output == "" {
		return nil, fmt.Errorf("job: no output")
	}
	if job.Tag == "" {
		job.Tag = "beam"
	}
	stage, rest, err := typicalityStage(list)
	if err != nil {
		return nil, err
	}
	job.Typicality = stage
	b, err := pipeline.MarshalStrategies(rest)
	if err != nil {
		return nil, err
	}
	job.Strategies = string(b)
	sel, _, err := job.open(ctx)
	if err != nil {
		return nil, err
	}
	global, err := sel.GlobalStrategies(ctx, rest)
	if err != nil {
		return nil, err
	}
	if b, err = pipeline.MarshalStrategies(global); err != nil {
		return nil, err
	}
	job.Strategies = string(b)
	// A dry run of the configuration on no rows checks it (names,
	// models, rules) before any worker starts.
	cfg, err := job.config(ctx, sel, global, nil)
	if err != nil {
		return nil, err
	}
	if _, err := sel.SelectShard(ctx, pipeline.Shard{}, cfg); err != nil {
		return nil, err
	}
	var out []DatasetShard
	for k, sh := range pipeline.SplitRows(sel.Dataset().Len(), shards) {
		out = append(out, DatasetShard{Ordinal: k, First: sh.First, End: sh.End})
	}
	return out, nil
}

// config is the job's shard configuration, with the typicality stage's
// weights (parts, nil without a stage) put in the stage's place.
func (j *DatasetJob) config(ctx context.Context, sel *pipeline.Selection, list []pipeline.Strategy, weights []float64) (pipeline.ShardConfig, error) {
	cfg := pipeline.ShardConfig{Picks: j.N, Oversample: j.Oversample}
	if st := j.Typicality; st != nil {
		if weights == nil {
			weights = make([]float64, sel.Dataset().Len())
		}
		rw := pipeline.RowWeights{Kind: st.Kind, Weights: weights, Strength: pipeline.Strength(st.Strength)}
		list = slices.Insert(slices.Clone(list), min(st.Position, len(list)), pipeline.Strategy(rw))
	}
	cfg.Strategies = list
	return cfg, nil
}

// BuildDataset adds the dataset job to s and returns the PCollection of
// its one DatasetSummary; the merge writes the selection file.
func BuildDataset(s beam.Scope, job DatasetJob, shards []DatasetShard) beam.PCollection {
	s = s.Scope("winnow.select_dataset")
	sh := beam.Reshuffle(s, beam.CreateList(s, shards))
	var weights beam.PCollection
	if job.Typicality != nil {
		weights = buildTypicality(s.Scope("typicality"), job, sh)
	} else {
		weights = beam.Create(s, RowWeightsPart{})
	}
	local := beam.ParDo(s.Scope("local"), &datasetLocalFn{Job: job}, sh, beam.SideInput{Input: weights})
	return beam.ParDo(s.Scope("merge"), &datasetMergeFn{Job: job}, beam.GroupByKey(s, beam.AddFixedKey(s, local)), beam.SideInput{Input: weights})
}

// gatherWeights assembles the typicality stage's parts into one weight
// per dataset row (nil without a stage).
func gatherWeights(rows int, iter func(*RowWeightsPart) bool) []float64 {
	var out []float64
	var p RowWeightsPart
	for iter(&p) {
		if len(p.Rows) == 0 {
			continue
		}
		if out == nil {
			out = make([]float64, rows)
		}
		for i, r := range p.Rows {
			out[r] = p.Weights[i]
		}
		p = RowWeightsPart{}
	}
	return out
}

type datasetLocalFn struct{ Job DatasetJob }

func (f *datasetLocalFn) ProcessElement(ctx context.Context, sh DatasetShard, weights func(*RowWeightsPart) bool) (ShardRows, error) {
	release, err := acquireShard(ctx, f.Job.ShardsAtOnce)
	if err != nil {
		return ShardRows{}, err
	}
	defer release()
	sel, list, err := f.Job.open(ctx)
	if err != nil {
		return ShardRows{}, err
	}
	cfg, err := f.Job.config(ctx, sel, list, gatherWeights(sel.Dataset().Len(), weights))
	if err != nil {
		return ShardRows{}, err
	}
	c, err := sel.SelectShard(ctx, pipeline.Shard{First: sh.First, End: sh.End}, cfg)
	if err != nil {
		return ShardRows{}, fmt.Errorf("shard %d (rows %d to %d): %w", sh.Ordinal, sh.First, sh.End, err)
	}
	out := ShardRows{Ordinal: sh.Ordinal, Radius: c.Radius}
	for _, r := range c.Rows {
		out.Rows = append(out.Rows, int64(r))
	}
	beam.NewCounter("winnow", "local_candidates").Inc(ctx, int64(len(out.Rows)))
	return out, nil
}

type datasetMergeFn struct{ Job DatasetJob }

func (f *datasetMergeFn) ProcessElement(ctx context.Context, _ int, iter func(*ShardRows) bool, weights func(*RowWeightsPart) bool) (DatasetSummary, error) {
	sel, list, err := f.Job.open(ctx)
	if err != nil {
		return DatasetSummary{}, err
	}
	cfg, err := f.Job.config(ctx, sel, list, gatherWeights(sel.Dataset().Len(), weights))
	if err != nil {
		return DatasetSummary{}, err
	}
	var parts []ShardRows
	var p ShardRows
	for iter(&p) {
		parts = append(parts, p)
		p = ShardRows{}
	}
	sort.Slice(parts, func(a, b int) bool { return parts[a].Ordinal < parts[b].Ordinal })
	var union []int
	local := 0.0
	for _, p := range parts {
		for _, r := range p.Rows {
			union = append(union, int(r))
		}
		local = math.Max(local, p.Radius) // NaN-free: Max(x, NaN) is NaN, checked below
	}
	res, err := sel.MergeShards(ctx, f.Job.Tag, cfg, union)
	if err != nil {
		return DatasetSummary{}, fmt.Errorf("merge: %w", err)
	}
	res.Shards = len(parts)
	sum := DatasetSummary{Selected: res.Selected, Preselected: res.Preselected, Candidates: res.Candidates, Shards: len(parts)}
	if len(res.Strategies) == 1 && !math.IsNaN(local) {
		if c := res.Strategies[0].Coverage; c != nil && c.Measured == res.Candidates {
			sum.HasBound, sum.BoundLocal, sum.BoundUnion = true, local, c.Selection
		}
	}
	jb, err := json.Marshal(f.Job)
	if err != nil {
		return DatasetSummary{}, err
	}
	meta := map[string]string{MetaDatasetJob: string(jb), MetaShards: strconv.Itoa(len(parts)), MetaCandidates: strconv.Itoa(res.Candidates)}
	if sum.HasBound {
		bb, _ := json.Marshal(map[string]float64{"local": sum.BoundLocal, "union": sum.BoundUnion, "ratio": sum.Ratio()})
		meta[MetaBound] = string(bb)
	}
	return sum, writeSelectionFile(ctx, f.Job.Output, res, cfg.Strategies, sel.Options, meta)
}

// writeSelectionFile writes res to path on its Beam file system.
func writeSelectionFile(ctx context.Context, path string, res *pipeline.Result, list []pipeline.Strategy, opts pipeline.Options, meta map[string]string) (err error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write selection %s: %w", path, cerr)
		}
	}()
	if err := pipeline.WriteSelectionFile(ctx, w, res, list, opts, meta); err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	return nil
}
