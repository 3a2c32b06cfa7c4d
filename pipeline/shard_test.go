package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shardFixture opens a copy of the MNIST fixture with a query tag "q"
// (ten samples) and a preselected tag "pre" (five others).
func shardFixture(t *testing.T) *Dataset {
	t.Helper()
	ctx := context.Background()
	ds, err := Open(copyMNIST(t))
	require.NoError(t, err)
	q, err := ds.Query().Where("index < 10")
	require.NoError(t, err)
	_, err = q.AddTag(ctx, "q")
	require.NoError(t, err)
	p, err := ds.Query().Where("index >= 1000 and index < 1005")
	require.NoError(t, err)
	_, err = p.AddTag(ctx, "pre")
	require.NoError(t, err)
	ds, err = Open(ds.Dir())
	require.NoError(t, err)
	return ds
}

// distributed runs the shard-composable selection over shards and returns
// the merged result (dry run).
func distributed(t *testing.T, sel *Selection, n, shards int, list []Strategy) *Result {
	t.Helper()
	ctx := context.Background()
	global, err := sel.GlobalStrategies(ctx, list)
	require.NoError(t, err)
	cfg := ShardConfig{Picks: n, Strategies: global}
	var union []int
	for _, sh := range SplitRows(sel.ds.Len(), shards) {
		c, err := sel.SelectShard(ctx, sh, cfg)
		require.NoError(t, err)
		require.True(t, slices.IsSorted(c.Rows))
		for _, r := range c.Rows {
			require.True(t, r >= sh.First && r < sh.End, "row %d outside shard %v", r, sh)
		}
		union = append(union, c.Rows...)
	}
	res, err := sel.MergeShards(ctx, "picks", cfg, union)
	require.NoError(t, err)
	return res
}

type pickKey struct {
	Row, Rank, Inf int
	Score          float64
}

func keys(res *Result) []pickKey {
	var out []pickKey
	for _, p := range res.Picks {
		out = append(out, pickKey{p.Row, p.Rank, p.InfFactors, p.Score})
	}
	return out
}

var shardConfigs = []struct {
	name string
	list []Strategy
	opts Options
}{
	{"diversity", []Strategy{EmbeddingDiversity{}}, Options{}},
	{"deduplication", []Strategy{Deduplication{MinDistance: 8}}, Options{}},
	{"weighting", []Strategy{MetadataWeighting{Key: "mean_intensity"}}, Options{}},
	{"similarity", []Strategy{Similarity{QueryTag: "q"}}, Options{}},
	{"balance uniform", []Strategy{AnnotationBalancing{Target: Uniform}}, Options{}},
	{"balance input", []Strategy{AnnotationBalancing{Target: Input}}, Options{}},
	{"balance ratios", []Strategy{AnnotationBalancing{Target: Ratios(map[string]float64{"1": 0.5, "7": 0.3})}}, Options{}},
	{"metadata balance", []Strategy{MetadataBalancing{Key: "thickness", Target: Uniform}}, Options{}},
	{"diversity+balance", []Strategy{EmbeddingDiversity{}, AnnotationBalancing{Target: Uniform}}, Options{}},
	{"diversity+weighting", []Strategy{EmbeddingDiversity{}, MetadataWeighting{Key: "ink_fraction", Strength: Strength(0.5)}}, Options{}},
	{"diversity+similarity", []Strategy{EmbeddingDiversity{}, Similarity{QueryTag: "q", Strength: Strength(2)}}, Options{}},
	{"diversity preselected", []Strategy{EmbeddingDiversity{}}, Options{Preselected: "pre"}},
	{"diversity max_per_group", []Strategy{EmbeddingDiversity{}}, Options{MaxPerGroup: []Quota{{Column: "thickness", Max: 10}}}},
	{"diversity exclude_near", []Strategy{EmbeddingDiversity{}}, Options{ExcludeNear: &ExcludeNear{Tag: "q", MinDistance: 8}}},
	{"balance+weighting preselected", []Strategy{AnnotationBalancing{Target: Input}, MetadataWeighting{Key: "mean_intensity"}}, Options{Preselected: "pre"}},
}

// With one shard, the shard-composable selection returns the picks of a
// single-machine selection, for every strategy and rule.
func TestOneShardEqualsSelect(t *testing.T) {
	ds := shardFixture(t)
	for _, c := range shardConfigs {
		t.Run(c.name, func(t *testing.T) {
			q, err := ds.Query().Where("index >= 3")
			require.NoError(t, err)
			sel, err := q.Selection()
			require.NoError(t, err)
			sel.Options = c.opts
			sel.Options.DryRun = true
			want, err := sel.MultiStrategies(context.Background(), 30, "picks", c.list)
			require.NoError(t, err)
			require.Equal(t, 30, want.Selected)
			got := distributed(t, sel, 30, 1, c.list)
			require.Equal(t, keys(want), keys(got))
		})
	}
}

// Weights alone are exact on any number of shards.
func TestManyShardsWeightsExact(t *testing.T) {
	ds := shardFixture(t)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	sel.Options.DryRun = true
	for _, list := range [][]Strategy{
		{MetadataWeighting{Key: "mean_intensity"}},
		{Similarity{QueryTag: "q"}},
		{Similarity{QueryTag: "q"}, MetadataWeighting{Key: "mean_intensity", Strength: Strength(0.5)}},
		{MetadataWeighting{Key: "ink_fraction"}, MetadataWeighting{Key: "bbox_width", Strength: Strength(2)}},
	} {
		want, err := sel.MultiStrategies(context.Background(), 40, "picks", list)
		require.NoError(t, err)
		for _, shards := range []int{2, 7, 32} {
			t.Run(fmt.Sprintf("%s/%d", list[0].Name(), shards), func(t *testing.T) {
				// With the global μ similarity is a fixed weight a row:
				// rows, ranks and scores are the single machine's.
				got := distributed(t, sel, 40, shards, list)
				require.Equal(t, keys(want), keys(got))
			})
		}
	}
}

// Balancing toward global targets keeps the class counts within one of the
// single machine's on many shards.
func TestManyShardsBalance(t *testing.T) {
	ds := shardFixture(t)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	sel.Options.DryRun = true
	list := []Strategy{EmbeddingDiversity{}, AnnotationBalancing{Target: Ratios(map[string]float64{"0": 0.4, "1": 0.1})}}
	want, err := sel.MultiStrategies(context.Background(), 100, "picks", list)
	require.NoError(t, err)
	got := distributed(t, sel, 100, 8, list)
	w, g := want.Strategies[1].Balance.Selection, got.Strategies[1].Balance.Selection
	require.Equal(t, want.Strategies[1].Balance.Classes, got.Strategies[1].Balance.Classes)
	for c := range w {
		require.InDelta(t, w[c]*100, g[c]*100, 1.0001, "class %s", want.Strategies[1].Balance.Classes[c])
	}
}

func TestGlobalStrategies(t *testing.T) {
	ds := shardFixture(t)
	q, err := ds.Query().Where("index < 500")
	require.NoError(t, err)
	sel, err := q.Selection()
	require.NoError(t, err)
	out, err := sel.GlobalStrategies(context.Background(), []Strategy{EmbeddingDiversity{}, AnnotationBalancing{Target: Input}})
	require.NoError(t, err)
	b := out[1].(AnnotationBalancing)
	require.Equal(t, "ratios", b.Target.Kind())
	m := b.Target.Map()
	require.Len(t, m, 10)
	sum := 0.0
	for _, v := range m {
		sum += v
	}
	require.InDelta(t, 1, sum, 1e-12)
	require.Equal(t, EmbeddingDiversity{}, out[0])

	// Similarity's μ is the candidates' mean distance: the single
	// machine given it selects, and scores, as it does without it.
	list := []Strategy{Similarity{QueryTag: "q"}, EmbeddingDiversity{}}
	out, err = sel.GlobalStrategies(context.Background(), list)
	require.NoError(t, err)
	mu := out[0].(Similarity).Mean
	require.NotNil(t, mu)
	require.Greater(t, *mu, 0.0)
	sel.Options.DryRun = true
	want, err := sel.MultiStrategies(context.Background(), 25, "picks", list)
	require.NoError(t, err)
	got, err := sel.MultiStrategies(context.Background(), 25, "picks", out)
	require.NoError(t, err)
	require.Equal(t, keys(want), keys(got))
	// A μ of twice the mean changes the scores.
	twice := 2 * *mu
	other, err := sel.MultiStrategies(context.Background(), 25, "picks", []Strategy{Similarity{QueryTag: "q", Mean: &twice}, EmbeddingDiversity{}})
	require.NoError(t, err)
	require.NotEqual(t, keys(want), keys(other))
}

func TestShardErrors(t *testing.T) {
	ds := shardFixture(t)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	ctx := context.Background()
	for _, c := range []struct {
		sh   Shard
		cfg  ShardConfig
		opts Options
		msg  string
	}{
		{Shard{0, 10}, ShardConfig{Picks: 0, Strategies: []Strategy{EmbeddingDiversity{}}}, Options{}, "n must be at least 1, got 0"},
		{Shard{0, 10}, ShardConfig{Picks: 1}, Options{}, "no strategy given"},
		{Shard{0, 10}, ShardConfig{Picks: 1, Strategies: []Strategy{EmbeddingDiversity{}}, Oversample: 0.5}, Options{}, "oversample 0.5 must be finite and at least 1"},
		{Shard{0, 10}, ShardConfig{Picks: 1, Strategies: []Strategy{Typicality{}}}, Options{}, "strategy typicality needs neighbours across shards"},
		{Shard{0, 10}, ShardConfig{Picks: 1, Strategies: []Strategy{EmbeddingDiversity{}}}, Options{Groups: &Groups{By: "thickness"}}, "group selection is not shard-composable"},
		{Shard{5, 3000}, ShardConfig{Picks: 1, Strategies: []Strategy{EmbeddingDiversity{}}}, Options{}, "shard rows [5, 3000) outside the dataset's 2000 rows"},
	} {
		sel.Options = c.opts
		_, err := sel.SelectShard(ctx, c.sh, c.cfg)
		require.ErrorContains(t, err, c.msg)
	}
}

func TestShardRadiusAndRowWeights(t *testing.T) {
	ds := shardFixture(t)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	ctx := context.Background()
	c, err := sel.SelectShard(ctx, Shard{0, 500}, ShardConfig{Picks: 20, Strategies: []Strategy{EmbeddingDiversity{}}})
	require.NoError(t, err)
	require.Len(t, c.Rows, 40)
	require.Greater(t, c.Radius, 0.0)
	c, err = sel.SelectShard(ctx, Shard{0, 500}, ShardConfig{Picks: 20, Strategies: []Strategy{MetadataWeighting{Key: "index"}}})
	require.NoError(t, err)
	require.True(t, math.IsNaN(c.Radius))
	require.Equal(t, 20, len(c.Rows))
	require.Equal(t, 480, c.Rows[0])
	w := make([]float64, ds.Len())
	for i := range w {
		w[i] = float64(ds.Len() - i)
	}
	c, err = sel.SelectShard(ctx, Shard{100, 500}, ShardConfig{Picks: 5, Strategies: []Strategy{RowWeights{Kind: "typicality", Weights: w}}})
	require.NoError(t, err)
	require.Equal(t, []int{100, 101, 102, 103, 104}, c.Rows)
}

func TestMarshalStrategies(t *testing.T) {
	list := []Strategy{EmbeddingDiversity{Model: "pixels"}, AnnotationBalancing{Target: Ratios(map[string]float64{"1": 0.5})}, MetadataWeighting{Key: "k", Strength: Strength(2)}}
	b, err := MarshalStrategies(list)
	require.NoError(t, err)
	back, err := UnmarshalStrategies(b)
	require.NoError(t, err)
	b2, err := MarshalStrategies(back)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(b2))
	_, err = MarshalStrategies([]Strategy{RowWeights{}})
	require.ErrorContains(t, err, "row weights have no request form")
}

// Similarity's mean_distance (the μ a sharded run passes to every shard)
// is a number >= 0 in both forms and survives the wire.
func TestSimilarityMeanField(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"similarity:query_tag=q,mean_distance=-1", "mean_distance -1 must be finite and >= 0"},
		{"similarity:query_tag=q,mean_distance=NaN", "mean_distance NaN is not a finite number"},
		{"diversity:strength=Inf", "strength Inf is not a finite number"},
		{"similarity:query_tag=q,mean_distance=far", `mean_distance "far" is not a number`},
	} {
		_, err := ParseStrategy(c.text)
		require.Error(t, err, c.text)
		assert.Contains(t, err.Error(), c.want)
	}
	s, err := ParseStrategy("similarity:query_tag=q,mean_distance=2.5")
	require.NoError(t, err)
	mu := 2.5
	require.Equal(t, Similarity{QueryTag: "q", Mean: &mu}, s)
	b, err := MarshalStrategies([]Strategy{s})
	require.NoError(t, err)
	require.Contains(t, string(b), `"mean_distance":2.5`)
	back, err := UnmarshalStrategies(b)
	require.NoError(t, err)
	require.Len(t, back, 1)
	require.Equal(t, &mu, back[0].(Similarity).Mean)
}
