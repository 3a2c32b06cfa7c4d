package main

// tags add --record: committing a selection made elsewhere (winnow-beam)
// with its selection record.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/pipeline"
)

// selectionFile writes the dry-run selection of list as a selection file
// and returns its path with the result.
func selectionFile(t *testing.T, dir string, n int, list []pipeline.Strategy, opts pipeline.Options) (string, *pipeline.Result) {
	t.Helper()
	ctx := context.Background()
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	opts.DryRun = true
	sel.Options = opts
	res, err := sel.MultiStrategies(ctx, n, "elsewhere", list)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "picks.parquet")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, pipeline.WriteSelectionFile(ctx, f, res, list, opts, map[string]string{"winnow.beam.shards": "8"}))
	require.NoError(t, f.Close())
	return path, res
}

func TestTagsAddRecord(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "query", dir, "--where", "index < 3", "--tag", "seed")
	list := []pipeline.Strategy{pipeline.EmbeddingDiversity{}, pipeline.AnnotationBalancing{Target: pipeline.Uniform}}
	path, res := selectionFile(t, dir, 12, list, pipeline.Options{Preselected: "seed"})

	assert.Equal(t, "added tag \"beam\" with 15 samples and their selection record\n", ok(t, "tags", "add", dir, "beam", "--record", path))
	assert.Equal(t, 15, tagCount(t, dir, "beam"))
	assert.Contains(t, ok(t, "tags", "show", dir, "beam"), `tag "beam": 12 selected`)

	// The record equals the one winnow select itself writes for the same
	// selection.
	ok(t, "select", "multi", dir, "--n", "12", "--tag", "here", "--preselected", "seed",
		"--strategy", "diversity", "--strategy", "balance:target=uniform")
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	got, err := ds.ReadRecord(context.Background(), "beam")
	require.NoError(t, err)
	want, err := ds.ReadRecord(context.Background(), "here")
	require.NoError(t, err)
	assert.Equal(t, "beam", got.Header.Tag)
	assert.Equal(t, want.Picks, got.Picks)
	assert.Equal(t, want.Header.Strategies, got.Header.Strategies)
	assert.Len(t, res.Picks, 15)

	// A report reads the distributed runner's record like any other.
	page := filepath.Join(t.TempDir(), "beam.html")
	ok(t, "report", dir, "beam", "--out", page)
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(html), "beam")
	assert.Contains(t, string(html), "<img")

	// Bad input changes nothing and says why.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"tags", "add", dir, "again"}, "needs one of --ids FILE and --record FILE"},
		{[]string{"tags", "add", dir, "again", "--record", path, "--ids", path}, "needs one of --ids FILE and --record FILE"},
		{[]string{"tags", "add", dir, "again", "--record", path, "--by", "file_name"}, "--record takes no --column or --by"},
		{[]string{"tags", "add", dir, "beam", "--record", path}, `tag "beam": tag already exists`},
		{[]string{"tags", "add", dir, "again", "--record", filepath.Join(dir, "nope.parquet")}, "selection file: stat"},
		{[]string{"tags", "add", dir, "again", "--record", filepath.Join(dir, "samples.parquet")}, `no column "preselected"`},
	} {
		code, _, errs := winnow(t, "", c.args...)
		assert.NotEqual(t, 0, code, "%v", c.args)
		assert.Contains(t, errs, c.msg, "%v", c.args)
	}
	assert.NotContains(t, tagNames(t, dir), "again")

	// A file from another dataset: an unknown id is an error.
	other := filepath.Join(t.TempDir(), "other.parquet")
	cols, meta, err := columnar.ReadPlain(context.Background(), path)
	require.NoError(t, err)
	cols[0].Values.([]string)[4] = "00000000-0000-0000-0000-000000000000"
	f, err := os.Create(other)
	require.NoError(t, err)
	require.NoError(t, columnar.WritePlain(context.Background(), f, cols, meta))
	require.NoError(t, f.Close())
	code, _, errs := winnow(t, "", "tags", "add", dir, "again", "--record", other)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `row 4: no sample has id "00000000-0000-0000-0000-000000000000"`)
	assert.Equal(t, "added tag \"beam\" with 15 samples and their selection record\n", ok(t, "tags", "add", dir, "beam", "--record", path, "--replace"))
}

// TestTagsShowSampleDistributed: a tag committed from a distributed
// selection (its record says how many shards) is not replayed as if the
// merge had run on every candidate; a sample outside it is explained
// from the record, naming the shards. One shard is replayed as usual.
func TestTagsShowSampleDistributed(t *testing.T) {
	dir := relCopyFixture(t)
	list := []pipeline.Strategy{pipeline.EmbeddingDiversity{}}
	ids := strings.Fields(ok(t, "query", dir, "--ids"))
	for _, shards := range []int{8, 1} {
		path, res := selectionFile(t, dir, 5, list, pipeline.Options{})
		res.Shards = shards
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, pipeline.WriteSelectionFile(context.Background(), f, res, list, pipeline.Options{}, nil))
		require.NoError(t, f.Close())
		tag := fmt.Sprintf("beam%d", shards)
		ok(t, "tags", "add", dir, tag, "--record", path)
		picked := map[string]bool{}
		for _, p := range res.Picks {
			picked[p.SampleID] = true
		}
		var other string
		for _, id := range ids {
			if !picked[id] {
				other = id
				break
			}
		}
		out := ok(t, "tags", "show", dir, tag, "--sample", other)
		if shards > 1 {
			assert.Contains(t, out, "its shard did not propose it (each of the 8 shards proposed its best), or the merge ranked it below the cut")
			assert.Contains(t, out, "a distributed selection over 8 shards, whose merge chose among the")
		} else {
			assert.NotContains(t, out, "shard", "one shard is replayed like a selection made here")
		}
	}
}
