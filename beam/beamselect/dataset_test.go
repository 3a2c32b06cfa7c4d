package beamselect

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/fixture"
	"github.com/winnow-data/winnow/pipeline"
)

// mnistDataset copies the MNIST fixture (2,000 digits with embeddings,
// annotations and metadata) with a query tag "q" and a preselected tag
// "pre".
func mnistDataset(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir, err := fixture.CopyMNIST(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for tag, where := range map[string]string{"q": "index < 10", "pre": "index >= 1000 and index < 1005"} {
		q, err := ds.Query().Where(where)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.AddTag(ctx, tag); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type pick struct {
	id    string
	rank  int64
	inf   int64
	score float64
}

// runDataset runs job on Prism over shards and reads its selection file.
func runDataset(t *testing.T, job DatasetJob, list []pipeline.Strategy, shards int) []pick {
	t.Helper()
	ctx := context.Background()
	plan, err := PrepareDataset(ctx, &job, list, shards)
	if err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	BuildDataset(s, job, plan)
	if _, err := prism.Execute(ctx, p); err != nil {
		t.Fatal(err)
	}
	cols, meta, err := columnar.ReadPlain(ctx, job.Output)
	if err != nil {
		t.Fatal(err)
	}
	if meta[pipeline.SelectionHeaderKey] == "" || meta[MetaShards] != fmt.Sprint(len(plan)) {
		t.Fatalf("metadata %v", meta)
	}
	return picksOf(cols)
}

func picksOf(cols []columnar.PlainColumn) []pick {
	by := map[string]any{}
	for _, c := range cols {
		by[c.Name] = c.Values
	}
	ids := by["sample_id"].([]string)
	out := make([]pick, len(ids))
	for i := range ids {
		out[i] = pick{ids[i], by["rank"].([]int64)[i], by["inf_factors"].([]int64)[i], by["score"].([]float64)[i]}
	}
	return out
}

// single runs the selection on one machine through the core library.
func single(t *testing.T, job DatasetJob, list []pipeline.Strategy) []pick {
	t.Helper()
	ctx := context.Background()
	ds, err := pipeline.Open(job.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	q := ds.Query()
	if job.Where != "" {
		if q, err = q.Where(job.Where); err != nil {
			t.Fatal(err)
		}
	}
	sel, err := q.Selection()
	if err != nil {
		t.Fatal(err)
	}
	sel.Options = pipeline.Options{Preselected: job.Preselected, MaxPerGroup: job.MaxPerGroup, ExcludeNear: job.ExcludeNear, DryRun: true}
	res, err := sel.MultiStrategies(ctx, job.N, "picks", list)
	if err != nil {
		t.Fatal(err)
	}
	var out []pick
	for _, p := range res.Picks {
		out = append(out, pick{p.SampleID, int64(p.Rank), int64(p.InfFactors), p.Score})
	}
	return out
}

// TestDatasetOneShardEqualsSelect: on Prism with one shard, a dataset job
// picks what winnow select picks, for every strategy and rule.
func TestDatasetOneShardEqualsSelect(t *testing.T) {
	dir := mnistDataset(t)
	for _, c := range []struct {
		name string
		list []pipeline.Strategy
		job  DatasetJob
		// how scores compare: "exact" or "close" (typicality's float
		// rounding); similarity's μ is the global one (GlobalStrategies)
		scores string
	}{
		{"diversity", []pipeline.Strategy{pipeline.EmbeddingDiversity{}}, DatasetJob{}, "exact"},
		{"deduplication", []pipeline.Strategy{pipeline.Deduplication{MinDistance: 8}}, DatasetJob{}, "exact"},
		{"weighting", []pipeline.Strategy{pipeline.MetadataWeighting{Key: "mean_intensity"}}, DatasetJob{}, "exact"},
		{"similarity", []pipeline.Strategy{pipeline.Similarity{QueryTag: "q"}}, DatasetJob{}, "exact"},
		{"diversity+similarity", []pipeline.Strategy{pipeline.EmbeddingDiversity{}, pipeline.Similarity{QueryTag: "q", Strength: pipeline.Strength(2)}}, DatasetJob{}, "exact"},
		{"balance", []pipeline.Strategy{pipeline.AnnotationBalancing{Target: pipeline.Input}}, DatasetJob{}, "exact"},
		{"metadata balance", []pipeline.Strategy{pipeline.MetadataBalancing{Key: "thickness", Target: pipeline.Uniform}}, DatasetJob{}, "exact"},
		{"typicality", []pipeline.Strategy{pipeline.Typicality{}}, DatasetJob{}, "close"},
		{"outliers", []pipeline.Strategy{pipeline.Outliers{}}, DatasetJob{}, "close"},
		{"diversity+balance, where, preselected", []pipeline.Strategy{pipeline.EmbeddingDiversity{}, pipeline.AnnotationBalancing{Target: pipeline.Uniform}},
			DatasetJob{Where: "index >= 3", Preselected: "pre"}, "exact"},
		{"diversity max_per_group exclude_near", []pipeline.Strategy{pipeline.EmbeddingDiversity{}},
			DatasetJob{MaxPerGroup: []pipeline.Quota{{Column: "thickness", Max: 8}}, ExcludeNear: &pipeline.ExcludeNear{Tag: "q", MinDistance: 8}}, "exact"},
		{"typicality+diversity", []pipeline.Strategy{pipeline.EmbeddingDiversity{}, pipeline.Typicality{Strength: pipeline.Strength(0.5)}}, DatasetJob{}, "close"},
	} {
		t.Run(c.name, func(t *testing.T) {
			job := c.job
			job.Dataset, job.N, job.Output = dir, 20, filepath.Join(t.TempDir(), "picks.parquet")
			want := single(t, job, c.list)
			got := runDataset(t, job, c.list, 1)
			if len(got) != len(want) {
				t.Fatalf("%d picks, want %d", len(got), len(want))
			}
			for i := range want {
				w, g := want[i], got[i]
				switch c.scores {
				case "close":
					if math.Abs(w.score-g.score) <= 1e-6*math.Max(1, math.Abs(w.score)) { // float32 distances summed in another order
						g.score = w.score
					}
				}
				if w != g {
					t.Fatalf("pick %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestDatasetManyShardsWeights: weights alone are exact on many shards.
func TestDatasetManyShardsWeights(t *testing.T) {
	dir := mnistDataset(t)
	list := []pipeline.Strategy{pipeline.MetadataWeighting{Key: "ink_fraction"}}
	job := DatasetJob{Dataset: dir, N: 50, Where: "index >= 100"}
	want := single(t, job, list)
	for _, shards := range []int{3, 16} {
		job.Output = filepath.Join(t.TempDir(), "picks.parquet")
		got := runDataset(t, job, list, shards)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%d shards: %v\nwant %v", shards, got, want)
		}
	}
}

// TestDatasetManyShardsBalance: balancing toward the global target keeps
// the class shares within one sample of the single machine's on 8 shards.
func TestDatasetManyShardsBalance(t *testing.T) {
	dir := mnistDataset(t)
	ctx := context.Background()
	list := []pipeline.Strategy{pipeline.EmbeddingDiversity{}, pipeline.AnnotationBalancing{Target: pipeline.Ratios(map[string]float64{"0": 0.4, "1": 0.1})}}
	job := DatasetJob{Dataset: dir, N: 100, Output: filepath.Join(t.TempDir(), "picks.parquet")}
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := ds.Query().Selection()
	if err != nil {
		t.Fatal(err)
	}
	sel.Options.DryRun = true
	want, err := sel.MultiStrategies(ctx, 100, "picks", list)
	if err != nil {
		t.Fatal(err)
	}
	runDataset(t, job, list, 8)
	_, meta, err := columnar.ReadPlain(ctx, job.Output)
	if err != nil {
		t.Fatal(err)
	}
	var h pipeline.RecordHeader
	if err := json.Unmarshal([]byte(meta[pipeline.SelectionHeaderKey]), &h); err != nil {
		t.Fatal(err)
	}
	w, g := want.Strategies[1].Balance, h.Reports[1].Balance
	if fmt.Sprint(w.Classes) != fmt.Sprint(g.Classes) {
		t.Fatalf("classes %v, want %v", g.Classes, w.Classes)
	}
	for c := range w.Selection {
		if d := math.Abs(w.Selection[c]-g.Selection[c]) * 100; d > 1.0001 {
			t.Fatalf("class %s: share %v, single machine %v", w.Classes[c], g.Selection[c], w.Selection[c])
		}
	}
	t.Logf("class shares %v (single machine %v)", g.Selection, w.Selection)
}

func TestDatasetJobErrors(t *testing.T) {
	dir := mnistDataset(t)
	ctx := context.Background()
	for _, c := range []struct {
		job  DatasetJob
		list []pipeline.Strategy
		msg  string
	}{
		{DatasetJob{Dataset: dir, Output: "x"}, []pipeline.Strategy{pipeline.EmbeddingDiversity{}}, "job: n = 0, must be at least 1"},
		{DatasetJob{Dataset: dir, N: 5}, []pipeline.Strategy{pipeline.EmbeddingDiversity{}}, "job: no output"},
		{DatasetJob{Dataset: dir, N: 5, Output: "x"}, []pipeline.Strategy{pipeline.Typicality{}, pipeline.Outliers{}}, "only one typicality or outliers strategy per job"},
		{DatasetJob{Dataset: dir, N: 5, Output: "x"}, []pipeline.Strategy{pipeline.EmbeddingDiversity{Model: "nope"}}, `unknown embedding model "nope"`},
		{DatasetJob{Dataset: dir, N: 5, Output: "x", Where: "nope >"}, []pipeline.Strategy{pipeline.EmbeddingDiversity{}}, "nope"},
		{DatasetJob{Dataset: filepath.Join(dir, "missing"), N: 5, Output: "x"}, []pipeline.Strategy{pipeline.EmbeddingDiversity{}}, "missing"},
	} {
		_, err := PrepareDataset(ctx, &c.job, c.list, 4)
		if err == nil {
			t.Fatalf("%+v: no error, want %q", c.job, c.msg)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Fatalf("error %q, want %q", err, c.msg)
		}
	}
}
