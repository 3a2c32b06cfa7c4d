package pipeline

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/strategies"
)

func pickRows(res *Result) []int {
	var rows []int
	for _, p := range res.Picks {
		rows = append(rows, p.Row)
	}
	return rows
}

// TestTypicalityNeighbours: auto searches the fixture exactly (far below
// a minute of work) and gives the picks of the exact search, which are
// those of the engine over strategies' exact typicality weights; forced
// approximate says so with its IVF parameters and measured recall, in the
// result and the record; an unknown mode is an error.
func TestTypicalityNeighbours(t *testing.T) {
	dir := copyMNIST(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	ctx := context.Background()

	// The straightforward path: exact weights, the engine.
	m, err := ds.Columnar().ReadEmbeddings(ctx, ds.Columnar().Models()[0])
	require.NoError(t, err)
	n := m.Rows()
	require.Equal(t, n, sel.Candidates())
	w, info, err := strategies.TypicalityWeights(ctx, strategies.Vectors{Dim: m.Dim, F32: m.Data}, n, strategies.NeighbourOptions{Mode: strategies.NeighboursExact})
	require.NoError(t, err)
	require.False(t, info.Approximate)
	st, err := strategies.NewWeights(w, 1)
	require.NoError(t, err)
	want, err := strategies.Select(ctx, strategies.Problem{Rows: n, Candidates: n, Picks: 30, Strategies: []strategies.Strategy{st}})
	require.NoError(t, err)
	var wantRows []int
	for _, p := range want.Picks {
		wantRows = append(wantRows, p.Row)
	}

	for _, mode := range []string{"", "auto", "exact"} {
		res, err := sel.MultiStrategies(ctx, 30, "typ-"+mode+"x", []Strategy{Typicality{Neighbours: mode}})
		require.NoError(t, err)
		nb := res.Strategies[0].Neighbours
		require.NotNil(t, nb, mode)
		require.Equal(t, NeighbourReport{Search: "exact", K: 20, Rows: n, Recall: 1}, *nb, mode)
		require.Equal(t, wantRows, pickRows(res), "mode %q: picks of the exact path", mode)
	}

	res, err := sel.MultiStrategies(ctx, 30, "typ-approx", []Strategy{Outliers{Neighbours: "approximate"}})
	require.NoError(t, err)
	nb := res.Strategies[0].Neighbours
	require.NotNil(t, nb)
	t.Logf("%d candidates: %+v", n, *nb)
	require.Equal(t, "approximate", nb.Search)
	require.Positive(t, nb.Lists)
	require.Positive(t, nb.Probe)
	require.Positive(t, nb.RecallQueries)
	require.Greater(t, nb.Recall, 0.5)
	require.LessOrEqual(t, nb.Recall, 1.0)
	ds2, err := Open(dir)
	require.NoError(t, err)
	rec, err := ds2.ReadRecord(ctx, "typ-approx")
	require.NoError(t, err)
	require.Equal(t, nb, rec.Header.Reports[0].Neighbours)
	list, err := recordStrategies(rec)
	require.NoError(t, err)
	require.Equal(t, "approximate", list[0].(Outliers).Neighbours, "the record's request keeps the mode")

	_, err = ParseStrategy("typicality:neighbours=fast")
	require.EqualError(t, err, `strategy "typicality:neighbours=fast": strategy "typicality": unknown neighbours "fast" (auto, exact or approximate)`)
	_, err = sel.MultiStrategies(ctx, 3, "bad", []Strategy{Typicality{Neighbours: "fast"}})
	require.ErrorContains(t, err, `unknown neighbours "fast"`)
}

// TestTypicalityProgress: the neighbour search reports PhaseNeighbours in
// rows of the model, never decreasing, ending at every candidate, for the
// exact and the approximate search.
func TestTypicalityProgress(t *testing.T) {
	dir := copyMNIST(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	model := ds.Columnar().Models()[0]
	for _, mode := range []string{"exact", "approximate"} {
		var got []Progress
		sel.Options.Progress = func(p Progress) {
			if p.Phase == PhaseNeighbours {
				got = append(got, p)
			}
		}
		sel.Options.DryRun = true
		_, err := sel.MultiStrategies(context.Background(), 5, "p", []Strategy{Typicality{Neighbours: mode}})
		require.NoError(t, err)
		require.NotEmpty(t, got, mode)
		for i, p := range got {
			require.Equal(t, model, p.Item)
			require.Equal(t, "pairs", p.Unit)
			require.LessOrEqual(t, p.Done, p.Total)
			if mode == "exact" { // the exact search knows its work: n² pairs
				require.Equal(t, int64(sel.Candidates())*int64(sel.Candidates()), p.Total)
			}
			if i > 0 {
				require.Greater(t, p.Done, got[i-1].Done, "%s: report %d", mode, i)
			}
		}
		last := got[len(got)-1]
		require.Equal(t, last.Total, last.Done, mode)
		t.Logf("%s: %d reports", mode, len(got))
	}
}
