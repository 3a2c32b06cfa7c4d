package pipeline

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selectTag runs a real (stored) selection, for ExplainSample to replay.
func selectTag(t *testing.T, ds *Dataset, opts Options, n int, tag string, list ...Strategy) *Result {
	t.Helper()
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	sel.Options = opts
	res, err := sel.MultiStrategies(context.Background(), n, tag, list)
	require.NoError(t, err)
	return res
}

// TestExplainReplaysRules: every sample a quota or the unlabeled rule kept
// out is explained by that rule, naming the pick that filled its group.
func TestExplainReplaysRules(t *testing.T) {
	ctx := context.Background()
	dir, ids := videoDataset(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	res := selectTag(t, ds, Options{MaxPerGroup: []Quota{{"video_id", 1}}}, 5, "one", EmbeddingDiversity{})
	require.Len(t, res.Picks, 3)
	selectTag(t, ds, Options{}, 12, "even", AnnotationBalancing{Target: Uniform})
	ds, err = Open(dir) // a Dataset is a snapshot: reopen to see the tags
	require.NoError(t, err)
	byVideo := map[int]string{}
	for _, p := range res.Picks {
		byVideo[p.Row/4] = p.SampleID
	}
	for row, id := range ids {
		ex, err := ds.ExplainSample(ctx, "one", id.String())
		require.NoError(t, err)
		if ex.InTag {
			assert.Equal(t, "picked", ex.Outcome)
			continue
		}
		require.Equal(t, "ineligible", ex.Outcome, ex.Reason)
		require.Len(t, ex.Because, 1, ex.Reason)
		assert.Equal(t, "max_per_group", ex.Because[0].Rule)
		assert.Equal(t, byVideo[row/4], ex.Because[0].By, "row %d: the pick of its video filled the quota", row)
		assert.Contains(t, ex.Reason, "max_per_group video_id=1: 1 selected samples already shared its video_id")
	}

	for row := 8; row < 12; row++ {
		ex, err := ds.ExplainSample(ctx, "even", ids[row].String())
		require.NoError(t, err)
		require.Equal(t, "ineligible", ex.Outcome, ex.Reason)
		assert.Equal(t, "unlabeled", ex.Because[0].Rule)
		assert.Contains(t, ex.Reason, "include_unlabeled keeps them")
	}
}

// TestExplainReplayAgainstBruteForce: for candidates outside a diverse and
// weighted tag, the replayed objectives equal a direct computation (the
// distance to the nearest pick, the weight), the score is Σ strength ×
// ln(objective), and it does not beat the last pick's.
func TestExplainReplayAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	dir := copyMNIST(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	res := selectTag(t, ds, Options{}, 20, "mix", EmbeddingDiversity{}, MetadataWeighting{Key: "ink_fraction", Strength: Strength(0.5)})
	ds, err = Open(dir)
	require.NoError(t, err)
	m, err := ds.cd.ReadEmbeddings(ctx, "pixels")
	require.NoError(t, err)
	ink, err := ds.cd.NumericColumn(ctx, "ink_fraction")
	require.NoError(t, err)
	picked := map[int]bool{}
	for _, p := range res.Picks {
		picked[p.Row] = true
	}
	checked := 0
	for row := 0; row < ds.Len() && checked < 40; row += 37 {
		if picked[row] {
			continue
		}
		checked++
		rows := []int{row}
		idsRow, err := ds.cd.IDStrings(ctx, rows)
		require.NoError(t, err)
		ex, err := ds.ExplainSample(ctx, "mix", idsRow[0])
		require.NoError(t, err)
		require.Equal(t, "ranked below the cut", ex.Outcome, ex.Reason)
		nearest := math.Inf(1)
		for _, p := range res.Picks[:len(res.Picks)-1] { // S before the last pick
			var d float64
			a, b := m.Row(row), m.Row(p.Row)
			for k := range a {
				d += float64(a[k]-b[k]) * float64(a[k]-b[k])
			}
			nearest = math.Min(nearest, math.Sqrt(d))
		}
		assert.InDelta(t, nearest, ex.Objectives[0].Value, 1e-4*nearest, "row %d: distance to the nearest pick", row)
		assert.Equal(t, ink.Values[row], ex.Objectives[1].Value)
		assert.InDelta(t, math.Log(ex.Objectives[0].Value)+0.5*math.Log(ex.Objectives[1].Value), *ex.Score, 1e-9)
		assert.LessOrEqual(t, *ex.Score, *ex.Cut+1e-9, "row %d beat the last pick", row)
		assert.Equal(t, res.Picks[len(res.Picks)-1].SampleID, ex.CutSampleID)
	}
	require.Greater(t, checked, 30)
}
