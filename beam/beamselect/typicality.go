package beamselect

// The typicality stage of a dataset job. Typicality (and outliers, its
// inverse) scores a candidate by its K = min(20, N−1) nearest neighbours
// among all N candidates, across shards, and normalises by σ, the mean
// neighbour distance over all candidates, so it runs before the shards
// select, as exact per-shard neighbours of all candidates:
//
//  1. per shard, every candidate of the shard gets its K nearest
//     candidates of the whole selection (shardselect.Neighbours over the
//     candidates' vectors, which the core library resolves:
//     pipeline.Selection.CandidateVectors), and the shard's part of σ·N·K
//     (shardselect.NeighbourSum);
//  2. the parts are summed in shard order into σ (one small gather);
//  3. with σ as a side input, each shard's lists become its weights
//     (shardselect.TypicalityFromNeighbours), which local candidates and
//     merge read as a pipeline.RowWeights in the strategy's place.
//
// The cost is the single machine's, N² distances, spread over the shards;
// the values equal strategies.TypicalityWeights to float rounding (that
// kernel sums the float32 squared distances in another order), so picks
// whose scores tie to the last bits may differ. It is exact, not an
// approximate neighbour search; a sampled variant for very large N is not
// implemented.

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/winnow-data/winnow/beam/shardselect"
	"github.com/winnow-data/winnow/pipeline"
)

func init() {
	register.DoFn2x2[context.Context, DatasetShard, NeighbourPart, error](&neighboursFn{})
	register.Function1x1[NeighbourPart, SigmaPart](sigmaPart)
	register.Function2x1[int, func(*SigmaPart) bool, Sigma](gatherSigma)
	register.Iter1[SigmaPart]()
	register.Function2x1[NeighbourPart, func(*Sigma) bool, RowWeightsPart](weightsOf)
	register.Iter1[Sigma]()
}

// TypicalityStage is the typicality or outliers strategy of a dataset
// job, computed before the shards select.
type TypicalityStage struct {
	Kind     string // "typicality" or "outliers"
	Model    string
	Strength float64 // as the strategy gives it (outliers: negated here)
	Position int     // the strategy's place in the job's list
}

// typicalityStage takes the one typicality or outliers strategy out of
// list.
func typicalityStage(list []pipeline.Strategy) (*TypicalityStage, []pipeline.Strategy, error) {
	var st *TypicalityStage
	var rest []pipeline.Strategy
	for i, s := range list {
		var t *TypicalityStage
		switch x := s.(type) {
		case pipeline.Typicality:
			t = &TypicalityStage{Kind: "typicality", Model: x.Model, Strength: strength(x.Strength), Position: i}
		case pipeline.Outliers:
			t = &TypicalityStage{Kind: "outliers", Model: x.Model, Strength: -strength(x.Strength), Position: i}
		default:
			rest = append(rest, s)
			continue
		}
		if st != nil {
			return nil, nil, fmt.Errorf("strategy %d (%s): only one typicality or outliers strategy per job", i, s.Name())
		}
		st = t
	}
	return st, rest, nil
}

func strength(p *float64) float64 {
	if p == nil {
		return 1
	}
	return *p
}

// fullList is the job's list with the stage's strategy in its place, as
// the single machine would resolve candidates with it.
func (j *DatasetJob) fullList(list []pipeline.Strategy) []pipeline.Strategy {
	st := j.Typicality
	var s pipeline.Strategy = pipeline.Typicality{Model: st.Model}
	return slices.Insert(slices.Clone(list), min(st.Position, len(list)), s)
}

// NeighbourPart is one shard's neighbour lists: K ascending squared
// distances a row.
type NeighbourPart struct {
	Ordinal int
	Rows    []int64
	Lists   []float64
	K, N    int     // neighbours a row, candidates in all
	Sum     float64 // the shard's part of σ·N·K
}

// SigmaPart is a NeighbourPart without its lists.
type SigmaPart struct {
	Ordinal, K, N int
	Sum           float64
}

// Sigma is the stage's global σ.
type Sigma struct{ Value float64 }

// RowWeightsPart is one shard's weights of the stage.
type RowWeightsPart struct {
	Rows    []int64
	Weights []float64
}

func buildTypicality(s beam.Scope, job DatasetJob, shards beam.PCollection) beam.PCollection {
	parts := beam.ParDo(s, &neighboursFn{Job: job}, shards)
	sums := beam.ParDo(s, sigmaPart, parts)
	sigma := beam.ParDo(s, gatherSigma, beam.GroupByKey(s, beam.AddFixedKey(s, sums)))
	return beam.ParDo(s, weightsOf, parts, beam.SideInput{Input: sigma})
}

type neighboursFn struct{ Job DatasetJob }

func (f *neighboursFn) ProcessElement(ctx context.Context, sh DatasetShard) (NeighbourPart, error) {
	release, err := acquireShard(ctx, f.Job.ShardsAtOnce)
	if err != nil {
		return NeighbourPart{}, err
	}
	defer release()
	sel, list, err := f.Job.open(ctx)
	if err != nil {
		return NeighbourPart{}, err
	}
	full := f.Job.fullList(list)
	all, vec, dim, err := sel.CandidateVectors(ctx, full, f.Job.Typicality.Model, pipeline.Shard{First: 0, End: sel.Dataset().Len()})
	if err != nil {
		return NeighbourPart{}, fmt.Errorf("typicality: %w", err)
	}
	lo := sort.SearchInts(all, sh.First)
	hi := sort.SearchInts(all, sh.End)
	a := shardselect.Rows{Index: all[lo:hi], Vectors: []shardselect.Vectors{{Data: vec[lo*dim : hi*dim], Dim: dim}}}
	b := shardselect.Rows{Index: all, Vectors: []shardselect.Vectors{{Data: vec, Dim: dim}}}
	k := shardselect.TypicalityK(len(all))
	lists, err := shardselect.Neighbours(ctx, a, b, k)
	if err != nil {
		return NeighbourPart{}, fmt.Errorf("typicality: %w", err)
	}
	p := NeighbourPart{Ordinal: sh.Ordinal, Lists: lists, K: k, N: len(all), Sum: shardselect.NeighbourSum(lists, k)}
	for _, r := range a.Index {
		p.Rows = append(p.Rows, int64(r))
	}
	return p, nil
}

func sigmaPart(p NeighbourPart) SigmaPart {
	return SigmaPart{Ordinal: p.Ordinal, K: p.K, N: p.N, Sum: p.Sum}
}

// gatherSigma sums the shards' parts in shard order (so σ does not
// depend on arrival order) into σ = Σ/(N·K).
func gatherSigma(_ int, iter func(*SigmaPart) bool) Sigma {
	var parts []SigmaPart
	var p SigmaPart
	for iter(&p) {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(a, b int) bool { return parts[a].Ordinal < parts[b].Ordinal })
	sum, n, k := 0.0, 0, 0
	for _, p := range parts {
		sum += p.Sum
		n, k = p.N, p.K
	}
	if n*k == 0 {
		return Sigma{}
	}
	return Sigma{Value: sum / float64(n*k)}
}

func weightsOf(p NeighbourPart, sigma func(*Sigma) bool) RowWeightsPart {
	var s Sigma
	sigma(&s)
	return RowWeightsPart{Rows: p.Rows, Weights: shardselect.TypicalityFromNeighbours(p.Lists, len(p.Rows), p.K, s.Value)}
}
