package main

// The selections of issue #15 from the CLI, on the predictions fixture
// (testdata/predictions: 30 videos of 10 frames, a classifier's and a
// detector's predictions, object embeddings).

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/pipeline"
)

// copyPredictions copies the predictions fixture into a temporary folder.
func copyPredictions(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pred")
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join("..", "..", "testdata", "predictions"))))
	return dst
}

// tagRows returns the dataset rows of tag.
func tagRows(t *testing.T, dir, tag string) []int {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	require.NoError(t, err)
	bm, err := ds.Tag(tag)
	require.NoError(t, err)
	return bm.Indexes()
}

func TestSelectUncertain(t *testing.T) {
	dir := copyPredictions(t)
	code, _, errs := winnow(t, "", "select", "uncertain", dir, "--n", "10", "--tag", "unsure", "--source", "model_v3", "--method", "margin")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `strategy uncertainty: predictions of source "model_v3": 6 of 300 candidates have no prediction (first: sample `)
	assert.Contains(t, errs, "; use --drop-missing to skip them")
	out := ok(t, "select", "uncertain", dir, "--n", "10", "--tag", "unsure", "--source", "model_v3", "--method", "margin", "--drop-missing")
	assert.Contains(t, out, "mean weight: candidates")
	assert.Len(t, tagRows(t, dir, "unsure"), 10)
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	rec, err := ds.ReadRecord(context.Background(), "unsure")
	require.NoError(t, err)
	for i := 1; i < len(rec.Picks); i++ {
		assert.GreaterOrEqual(t, rec.Picks[i-1].Objectives[0], rec.Picks[i].Objectives[0], "uncertainty alone picks in descending order")
	}
	// Object detection: the detector's objects, most uncertain object.
	ok(t, "select", "uncertain", dir, "--n", "5", "--tag", "objs", "--source", "detector", "--aggregate", "mean")
	// Active learning: uncertainty times diversity.
	ok(t, "select", "multi", dir, "--n", "20", "--tag", "al", "--drop-missing",
		"--strategy", "uncertainty:source=model_v3,method=entropy", "--strategy", "diversity")
	code, _, errs = winnow(t, "", "select", "uncertain", dir, "--n", "1", "--tag", "x", "--source", "model_v3", "--method", "vibes", "--drop-missing")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `unknown method "vibes" (least_confidence, margin or entropy)`)
}

func TestSelectObjects(t *testing.T) {
	dir := copyPredictions(t)
	out := ok(t, "select", "multi", dir, "--n", "8", "--tag", "sub", "--strategy", "subpart_diversity:model=objects,source=detector", "--json")
	var res pipeline.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Len(t, res.Picks, 8)
	assert.Equal(t, "objects", res.Strategies[0].Model)
	assert.Equal(t, 1131, res.Strategies[0].Objects.Candidates)
	assert.Equal(t, 1.0, res.Picks[0].Objectives[0], "no object is selected before the first pick")
	for i := 2; i < len(res.Picks); i++ {
		assert.GreaterOrEqual(t, res.Picks[i-1].Objectives[0], res.Picks[i].Objectives[0], "object distances only shrink")
	}
	code, _, errs := winnow(t, "", "select", "multi", dir, "--n", "3", "--tag", "x", "--strategy", "subpart_diversity:model=pooled")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `unknown embedding model "pooled"; known models: objects`)
}

// TestSelectClips: diverse clips of 4 consecutive frames (by
// frame_number, which the table stores out of order), picked whole.
func TestSelectClips(t *testing.T) {
	dir := copyPredictions(t)
	out := ok(t, "select", "diverse", dir, "--n", "3", "--tag", "clips", "--group-by", "video_id", "--order-by", "frame_number", "--sequence-length", "4")
	assert.Contains(t, out, "groups: 3 units selected of 60, 12 samples tagged")
	rows := tagRows(t, dir, "clips")
	require.Len(t, rows, 12)
	// Row r is frame (3r mod 10) of video r/10 (see the fixture's README).
	frames := map[int][]int{}
	for _, r := range rows {
		frames[r/10] = append(frames[r/10], r%10*3%10)
	}
	for v, f := range frames {
		slices.Sort(f)
		require.Equal(t, 0, len(f)%4, "video %d: clips of 4 frames, got %v", v, f)
		for k := 0; k < len(f); k += 4 {
			assert.Equal(t, f[k]+3, f[k+3], "video %d: frames %v are not consecutive", v, f[k:k+4])
			assert.Contains(t, []int{0, 4}, f[k], "clips start at frames 0 and 4 (8, 9 are a dropped trailing run)")
		}
	}
}

func TestSelectQuotasAndExcludeNear(t *testing.T) {
	dir := copyPredictions(t)
	code, _, errs := winnow(t, "", "select", "diverse", dir, "--n", "40", "--tag", "one-per-video", "--max-per-group", "video_id=1")
	assert.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "warning: stopped after 30 of 40 picks: no eligible candidate was left (max_per_group)")
	rows := tagRows(t, dir, "one-per-video")
	require.Len(t, rows, 30)
	seen := map[int]bool{}
	for _, r := range rows {
		assert.False(t, seen[r/10], "two frames of video %d", r/10)
		seen[r/10] = true
	}
	ok(t, "query", dir, "--where", "video_id < 10", "--tag", "test")
	out := ok(t, "select", "diverse", dir, "--n", "30", "--tag", "train", "--exclude-near", "test:0.3")
	assert.Contains(t, out, `exclude_near "test" (min distance 0.3): kept away from 100 vectors, 100 candidates of the tag left out; nearest pick at `)
	for _, r := range tagRows(t, dir, "train") {
		assert.GreaterOrEqual(t, r, 100, "picked sample %d of the test tag", r)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--max-per-group", "video_id"}, 2, `--max-per-group "video_id": want COLUMN=M with M a whole number >= 1, e.g. video_id=3`},
		{[]string{"--max-per-group", "video_id=0"}, 2, `--max-per-group "video_id=0": want COLUMN=M`},
		{[]string{"--max-per-group", "nope=1"}, 1, `max_per_group nope=1: read samples: ` + filepath.Join(dir, "samples.parquet") + `: unknown column "nope" (columns: sample_id, file_name, video_id, frame_number, content_hash)`},
		{[]string{"--exclude-near", "test"}, 2, `--exclude-near "test": want TAG:D or TAG:D:MODEL, e.g. test:0.1`},
		{[]string{"--exclude-near", "test:far"}, 2, `--exclude-near "test:far": the distance "far" is not a number`},
		{[]string{"--exclude-near", "nope:0.1"}, 1, `exclude_near: unknown tag "nope" (tags: one-per-video, test, train)`},
		{[]string{"--exclude-near", "test:-1"}, 1, `exclude_near test: the minimum distance must be a finite number >= 0, got -1`},
		{[]string{"--sequence-length", "1", "--group-by", "video_id"}, 2, `--sequence-length must be at least 2, got 1`},
		{[]string{"--order-by", "frame_number"}, 2, `--order-by frame_number needs --group-by and --sequence-length`},
		{[]string{"--sequence-length", "4"}, 2, `--sequence-length 4 needs the column that groups samples into sequences: --group-by COLUMN (and --order-by COLUMN for their order)`},
		{[]string{"--group-by", "nope"}, 1, `group_by nope: read samples: `},
	} {
		code, _, errs := winnow(t, "", append([]string{"select", "diverse", dir, "--n", "2", "--tag", "bad"}, c.args...)...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errs)
		assert.Contains(t, errs, c.want, "%v", c.args)
	}
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	infos, err := ds.Tags()
	require.NoError(t, err)
	for _, info := range infos {
		assert.NotEqual(t, "bad", info.Name, "a refused selection writes nothing")
	}
}

// TestSelectBalancedIncludeUnlabeled: --include-unlabeled keeps samples
// without annotations eligible; without it they are left out, with a
// warning that counts them.
func TestSelectBalancedIncludeUnlabeled(t *testing.T) {
	dir := copyPredictions(t)
	// 6 of the 300 samples have no prediction of model_v3 (the fixture's README).
	code, _, errs := winnow(t, "", "select", "balanced", dir, "--n", "300", "--tag", "even", "--source", "model_v3", "--json")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "balancing left out 6 candidates without an annotation of the counted classes (include_unlabeled keeps them)")
	out := ok(t, "select", "balanced", dir, "--n", "300", "--tag", "all", "--source", "model_v3", "--include-unlabeled", "--json")
	var res pipeline.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, 300, res.Selected)
	assert.Greater(t, tagCount(t, dir, "all"), tagCount(t, dir, "even"))
}
