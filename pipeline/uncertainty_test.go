package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
)

// writeTable writes cols as DIR/NAME.parquet.
func writeTable(t *testing.T, dir, name string, cols ...columnar.PlainColumn) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name+".parquet"))
	require.NoError(t, err)
	require.NoError(t, columnar.WritePlain(context.Background(), f, cols, nil))
	require.NoError(t, f.Close())
}

// predictionsDataset writes four samples with classification predictions
// of source model_v3 (s0: 0.9; s1: 0.5, 0.4; s2: 0.6, 0.3; s3: none) and
// detection predictions of source detector (s0: 0.9, 0.2; s1: none;
// s2: 0.7; s3: 0.95).
func predictionsDataset(t *testing.T) (string, []uuid.UUID) {
	t.Helper()
	dir := t.TempDir()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	writeTable(t, dir, "samples", columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids})
	type ann struct {
		s      int
		label  string
		source string
		typ    string
		conf   float64
	}
	anns := []ann{
		{0, "cat", "model_v3", "classification", 0.9},
		{1, "cat", "model_v3", "classification", 0.5}, {1, "dog", "model_v3", "classification", 0.4},
		{2, "dog", "model_v3", "classification", 0.6}, {2, "cat", "model_v3", "classification", 0.3},
		{0, "car", "detector", "object_detection", 0.9}, {0, "car", "detector", "object_detection", 0.2},
		{2, "car", "detector", "object_detection", 0.7}, {3, "bus", "detector", "object_detection", 0.95},
		{3, "cat", "ground_truth", "classification", 1},
	}
	var sid []uuid.UUID
	var label, source, typ []string
	var conf []float64
	for _, a := range anns {
		sid = append(sid, ids[a.s])
		label, source, typ, conf = append(label, a.label), append(source, a.source), append(typ, a.typ), append(conf, a.conf)
	}
	writeTable(t, dir, "annotations",
		columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: sid},
		columnar.PlainColumn{Name: "label", Values: label},
		columnar.PlainColumn{Name: "source", Values: source},
		columnar.PlainColumn{Name: "type", Values: typ},
		columnar.PlainColumn{Name: "confidence", Values: conf})
	return dir, ids
}

// TestUncertaintyOnPredictions checks the spec's scores through the whole
// path: margin on classification (s0 0.2, s1 0.9, s2 0.7; s3 has no
// prediction), max and mean on detection (s0 0.8 / 0.45, s1 empty 0,
// s2 0.3, s3 0.05).
func TestUncertaintyOnPredictions(t *testing.T) {
	dir, ids := predictionsDataset(t)
	ctx := context.Background()
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)

	// s3 has no classification prediction: an error naming it, unless dropped.
	_, err = sel.MultiStrategies(ctx, 2, "unsure", []Strategy{Uncertainty{Source: "model_v3", Method: "margin"}})
	var pe *PredictionError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, `strategy uncertainty: predictions of source "model_v3": 1 of 4 candidates have no prediction (first: sample `+ids[3].String()+`)`, err.Error())

	sel.Options = Options{DropMissing: true, DryRun: true}
	res, err := sel.MultiStrategies(ctx, 2, "unsure", []Strategy{Uncertainty{Source: "model_v3", Method: "margin"}})
	require.NoError(t, err)
	assert.Equal(t, []string{ids[1].String(), ids[2].String()}, pickIDs(res))
	assert.InDelta(t, 0.9, res.Picks[0].Objectives[0], 1e-12)
	assert.InDelta(t, 0.7, res.Picks[1].Objectives[0], 1e-12)
	assert.Contains(t, res.Warnings, `dropped 1 of 4 candidates without a usable prediction of source "model_v3"`)
	w := res.Strategies[0].Weights
	assert.InDelta(t, (0.2+0.9+0.7)/3, w.Candidates, 1e-12)
	assert.InDelta(t, 0.8, w.Selection, 1e-12)

	sel.Options = Options{DryRun: true}
	for _, c := range []struct {
		agg  string
		want []int
	}{{"max", []int{0, 2, 3, 1}}, {"mean", []int{0, 2, 3, 1}}} {
		res, err := sel.MultiStrategies(ctx, 4, "objects", []Strategy{Uncertainty{Source: "detector", Aggregate: c.agg}})
		require.NoError(t, err, c.agg)
		var got []string
		for _, i := range c.want {
			got = append(got, ids[i].String())
		}
		assert.Equal(t, got, pickIDs(res), c.agg)
	}
	res, err = sel.MultiStrategies(ctx, 1, "objects", []Strategy{Uncertainty{Source: "detector", Aggregate: "mean"}})
	require.NoError(t, err)
	assert.InDelta(t, 0.45, res.Picks[0].Objectives[0], 1e-12)
}

func TestUncertaintyConfigErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"uncertainty", `strategy "uncertainty" needs annotation_source`},
		{"uncertainty:source=m,method=guess", `unknown method "guess" (least_confidence, margin or entropy)`},
		{"uncertainty:source=m,aggregate=median", `unknown aggregate "median" (max or mean)`},
		{"uncertainty:source=m,task=segmentation", `unknown task "segmentation"`},
		{"uncertainty:source=m,empty_score=2", `empty_score 2 must be in [0, 1]`},
	} {
		_, err := ParseStrategy(c.text)
		require.Error(t, err, c.text)
		assert.Contains(t, err.Error(), c.want)
	}
	s, err := ParseStrategy("uncertainty:source=model_v3,method=entropy,strength=2")
	require.NoError(t, err)
	assert.Equal(t, Uncertainty{Source: "model_v3", Method: "entropy", Strength: Strength(2)}, s)
}

func pickIDs(res *Result) []string {
	var out []string
	for _, p := range res.Picks {
		out = append(out, p.SampleID)
	}
	return out
}
