package pipeline

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// videoDataset writes 12 frames of 3 videos (4 frames each, stored with
// their frames out of order), a 2-d vector per frame (frame f of video v
// at (10v + f, 0)), and annotations for all but the last video.
func videoDataset(t *testing.T) (string, []uuid.UUID) {
	t.Helper()
	dir := t.TempDir()
	const n = 12
	ids := make([]uuid.UUID, n)
	video := make([]int64, n)
	frame := make([]int64, n)
	vecs := make([]float32, 0, 2*n)
	var annIDs []uuid.UUID
	var labels []string
	for i := range n {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(i)))
		video[i] = int64(i / 4)
		frame[i] = int64([]int{2, 0, 3, 1}[i%4])
		vecs = append(vecs, float32(10*video[i]+frame[i]), 0)
		if video[i] < 2 {
			annIDs, labels = append(annIDs, ids[i]), append(labels, []string{"cat", "dog"}[i%2])
		}
	}
	writeTable(t, dir, "samples", columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids},
		columnar.PlainColumn{Name: "video_id", Values: video}, columnar.PlainColumn{Name: "frame", Values: frame})
	writeTable(t, dir, "annotations", columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: annIDs},
		columnar.PlainColumn{Name: "label", Values: labels})
	require.NoError(t, mkdirAll(dir+"/embeddings"))
	writeTable(t, dir, "embeddings/m", columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids},
		columnar.PlainColumn{Name: "embedding", Values: columnar.Vectors{Dim: 2, Values: vecs}})
	return dir, ids
}

func rowsOf(res *Result) []int {
	var out []int
	for _, p := range res.Picks {
		out = append(out, p.Row)
	}
	return out
}

func dryRun(t *testing.T, dir string, opts Options, n int, list ...Strategy) *Result {
	t.Helper()
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	opts.DryRun = true
	sel.Options = opts
	res, err := sel.MultiStrategies(context.Background(), n, "t", list)
	require.NoError(t, err)
	return res
}

// TestQuotaThroughTheAPI: at most one frame per video, diversity decides
// which. Row 0 is frame 2 of video 0 at x=2; diversity alone would take
// row 0 (x=2), then row 10 (x=23), then video 1's or 0's far end.
func TestQuotaThroughTheAPI(t *testing.T) {
	dir, _ := videoDataset(t)
	res := dryRun(t, dir, Options{MaxPerGroup: []Quota{{Column: "video_id", Max: 1}}}, 5, EmbeddingDiversity{})
	videos := map[int]bool{}
	for _, r := range rowsOf(res) {
		assert.False(t, videos[r/4], "two picks from video %d", r/4)
		videos[r/4] = true
	}
	assert.Len(t, res.Picks, 3, "three videos, one frame each")
	assert.Contains(t, res.Warnings[len(res.Warnings)-1], "stopped after 3 of 5 picks")
	require.Len(t, res.Rules, 1)
	assert.Equal(t, RuleReport{Rule: "max_per_group", Column: "video_id", Max: 1, Groups: 3, FullGroups: 3}, res.Rules[0])
}

// TestExcludeNearThroughTheAPI: the tag holds video 0; with a minimum
// distance of 2 nothing within 2 of x in {0..3} may be picked (x <= 5),
// and the tag's own frames never are.
func TestExcludeNearThroughTheAPI(t *testing.T) {
	dir, _ := videoDataset(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	_, err = ds.Query().Where("video_id == 0")
	require.NoError(t, err)
	q, _ := ds.Query().Where("video_id == 0")
	_, err = q.AddTag(context.Background(), "test")
	require.NoError(t, err)
	res := dryRun(t, dir, Options{ExcludeNear: &ExcludeNear{Tag: "test", MinDistance: 2}}, 8, EmbeddingDiversity{})
	for _, r := range rowsOf(res) {
		assert.GreaterOrEqual(t, r, 4, "picked a frame of the test tag (row %d)", r)
	}
	assert.Len(t, res.Picks, 8, "videos 1 and 2 are all at x >= 10")
	require.Len(t, res.Rules, 1)
	assert.Equal(t, 4, res.Rules[0].InTag)
	assert.Equal(t, 4, res.Rules[0].Excluded)
	assert.InDelta(t, 7, res.Rules[0].Nearest, 1e-9, "frame 0 of video 1 (x=10) is 7 from x=3")
	res = dryRun(t, dir, Options{ExcludeNear: &ExcludeNear{Tag: "test", MinDistance: 8}}, 8, EmbeddingDiversity{})
	x := func(r int) int { return 10*(r/4) + []int{2, 0, 3, 1}[r%4] }
	for _, r := range rowsOf(res) {
		assert.GreaterOrEqual(t, x(r)-3, 8, "row %d (x=%d) is within 8 of the tag's x=3", r, x(r))
	}
	assert.Len(t, res.Picks, 7, "only x=10 (row 5) is too near")
}

// TestGroupsThroughTheAPI: clips of 2 consecutive frames of a video
// (frames ordered by the frame column, not by row), picked whole.
func TestGroupsThroughTheAPI(t *testing.T) {
	dir, _ := videoDataset(t)
	g := &Groups{By: "video_id", OrderBy: "frame", SequenceLength: 2}
	res := dryRun(t, dir, Options{Groups: g}, 2, EmbeddingDiversity{})
	rows := rowsOf(res)
	require.Len(t, rows, 4, "2 clips of 2 frames")
	frameOf := func(r int) int { return []int{2, 0, 3, 1}[r%4] }
	for k := 0; k < 4; k += 2 {
		a, b := rows[k], rows[k+1]
		assert.Equal(t, a/4, b/4, "a clip stays in one video")
		fa, fb := frameOf(a), frameOf(b)
		assert.Equal(t, 1, max(fa, fb)-min(fa, fb), "consecutive frames")
		assert.Equal(t, min(fa, fb)%2, 0, "clips start at frames 0 and 2")
		assert.Equal(t, res.Picks[k].Rank, res.Picks[k+1].Rank, "members share their unit's rank")
	}
	assert.Equal(t, RuleReport{Rule: "groups", Units: 6, UnitsSelected: 2, Samples: 4}, res.Rules[len(res.Rules)-1])
	// Whole videos as units, at most one... of three.
	res = dryRun(t, dir, Options{Groups: &Groups{By: "video_id"}}, 2, EmbeddingDiversity{})
	assert.Len(t, res.Picks, 8)
}

// TestBalancingLeavesOutUnlabeled: video 2's frames have no annotation;
// balancing may not pick them (they would leave the imbalance as it is),
// and says so; include_unlabeled keeps them eligible.
func TestBalancingLeavesOutUnlabeled(t *testing.T) {
	dir, _ := videoDataset(t)
	res := dryRun(t, dir, Options{}, 12, AnnotationBalancing{Target: Uniform})
	for _, r := range rowsOf(res) {
		assert.Less(t, r, 8, "picked unannotated row %d", r)
	}
	assert.Len(t, res.Picks, 8)
	assert.Contains(t, res.Warnings, "balancing left out 4 candidates without an annotation of the counted classes (include_unlabeled keeps them)")
	assert.Equal(t, 4, res.Strategies[0].Balance.Unlabeled)
	res = dryRun(t, dir, Options{}, 12, AnnotationBalancing{Target: Uniform, IncludeUnlabeled: true})
	assert.Len(t, res.Picks, 12)
	assert.Zero(t, res.Strategies[0].Balance.Unlabeled)
	assert.True(t, slices.ContainsFunc(rowsOf(res), func(r int) bool { return r >= 8 }))
}

func TestRulesConfigAndErrors(t *testing.T) {
	req, err := ParseRequest([]byte(`{"strategies": [{"strategy_name": "diversity"}], "group_by": "video_id", "order_by": "frame",
		"selected_sequence_length": 16, "max_per_group": {"video_id": 3, "hash": 1}, "exclude_near": {"tag": "test", "min_distance": 0.1}}`))
	require.NoError(t, err)
	assert.Equal(t, "video_id", req.GroupBy)
	assert.Equal(t, 16, req.SequenceLength)
	assert.Equal(t, []Quota{{"hash", 1}, {"video_id", 3}}, req.MaxPerGroup)
	assert.Equal(t, &ExcludeNear{Tag: "test", MinDistance: 0.1}, req.ExcludeNear)
	_, err = ParseRequest([]byte(`{"strategies": [{"strategy_name": "diversity"}], "exclude_near": {"tag": "t", "distance": 1}}`))
	assert.ErrorContains(t, err, `unknown field "distance"`)

	dir, _ := videoDataset(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{MaxPerGroup: []Quota{{"video_id", 0}}}, "max_per_group video_id=0: the limit must be at least 1"},
		{Options{MaxPerGroup: []Quota{{"nope", 1}}}, `unknown column "nope"`},
		{Options{ExcludeNear: &ExcludeNear{Tag: "nope", MinDistance: 1}}, `exclude_near: unknown tag "nope"`},
		{Options{ExcludeNear: &ExcludeNear{Tag: "x", MinDistance: -1}}, "exclude_near x: the minimum distance must be a finite number >= 0, got -1"},
		{Options{Groups: &Groups{By: "video_id", SequenceLength: 1}}, "sequence_length 1: a run is at least 2 samples"},
		{Options{Groups: &Groups{By: "video_id", OrderBy: "frame"}}, `order_by "frame" only orders runs of sequence_length samples`},
		{Options{Groups: &Groups{By: "video_id", OrderBy: "nope", SequenceLength: 2}}, `order_by nope: read samples`},
	} {
		sel.Options = c.opts
		sel.Options.DryRun = true
		_, err := sel.MultiStrategies(context.Background(), 1, "t", []Strategy{EmbeddingDiversity{}})
		require.Error(t, err, c.want)
		assert.Contains(t, err.Error(), c.want)
	}
}
