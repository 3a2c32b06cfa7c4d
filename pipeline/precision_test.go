package pipeline

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"winnow/bitmap"
	"winnow/columnar"
	"winnow/strategies"
)

// TestPrecisionFloat16: the selection runs on the float16 rounding of the
// fixture's float32 embeddings (the picks of the engine on those values),
// and the result and the record say so.
func TestPrecisionFloat16(t *testing.T) {
	dir := copyMNIST(t)
	ds, err := Open(dir)
	require.NoError(t, err)
	m, err := ds.Columnar().ReadEmbeddings(context.Background(), ds.Columnar().Models()[0])
	require.NoError(t, err)
	require.Nil(t, m.F16, "the fixture stores float32")
	require.Equal(t, m.Rows(), m.Present.Count(), "every sample has a vector")
	h := make([]uint16, len(m.Data))
	strategies.EncodeFloat16(h, m.Data)
	div, err := strategies.NewDiversity(strategies.Vectors{Dim: m.Dim, F16: h}, 1)
	require.NoError(t, err)
	want, err := strategies.Select(context.Background(), strategies.Problem{Rows: m.Rows(), Candidates: m.Rows(), Picks: 50, Strategies: []strategies.Strategy{div}})
	require.NoError(t, err)

	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	sel.Options.Precision = PrecisionFloat16
	res, err := sel.Diverse(context.Background(), 50, "half", "")
	require.NoError(t, err)
	require.Equal(t, PrecisionFloat16, res.Precision)
	var got, exp []int
	for _, p := range res.Picks {
		got = append(got, p.Row)
	}
	for _, p := range want.Picks {
		exp = append(exp, p.Row)
	}
	require.Equal(t, exp, got, "picks of the engine on the float16 values")
	ds2, err := Open(dir)
	require.NoError(t, err)
	rec, err := ds2.ReadRecord(context.Background(), "half")
	require.NoError(t, err)
	require.Equal(t, PrecisionFloat16, rec.Header.Precision)

	// The stored precision records none.
	sel.Options.Precision = PrecisionStored
	res, err = sel.Diverse(context.Background(), 50, "full", "")
	require.NoError(t, err)
	require.Equal(t, PrecisionStored, res.Precision)
	ds3, err := Open(dir)
	require.NoError(t, err)
	rec, err = ds3.ReadRecord(context.Background(), "full")
	require.NoError(t, err)
	require.Equal(t, PrecisionStored, rec.Header.Precision)

	sel.Options.Precision = "bfloat16"
	_, err = sel.Diverse(context.Background(), 5, "bad", "")
	require.EqualError(t, err, `precision "bfloat16": want float16 or stored`)
}

// TestToFloat16 converts exactly as ToFloat16 does, on any number of
// workers, and refuses values float16 cannot hold, naming the first row
// and leaving the matrix as it was.
func TestToFloat16(t *testing.T) {
	const rows, dim = 20000, 3
	data := make([]float32, rows*dim)
	for i := range data {
		data[i] = float32(math.Sin(float64(i))) * 1000
	}
	for _, w := range []int{1, 3} {
		m := &columnar.Matrix{Dim: dim, Data: slices.Clone(data), Present: bitmap.New(rows)}
		require.NoError(t, toFloat16(m, "m", w, func(int) string { return "" }))
		require.Nil(t, m.Data)
		require.Len(t, m.F16, len(data))
		for i, x := range data {
			if m.F16[i] != strategies.ToFloat16(x) {
				t.Fatalf("workers %d: value %d: %#04x, want %#04x", w, i, m.F16[i], strategies.ToFloat16(x))
			}
		}
	}
	bad := slices.Clone(data)
	bad[12000*dim+1], bad[15000*dim] = 70000, -1e6
	m := &columnar.Matrix{Dim: dim, Data: bad, Present: bitmap.New(rows)}
	err := toFloat16(m, "clip", 2, func(r int) string { return "sample #" + string(rune('0'+r/10000)) })
	var pe *PrecisionError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, 2, pe.Count)
	require.Equal(t, float32(70000), pe.Value)
	require.EqualError(t, err, `precision float16: model "clip": 2 vectors have values beyond float16's range of ±65504 (first: sample #1, value 70000); select at the stored precision`)
	require.NotNil(t, m.Data)
	require.Nil(t, m.F16)
}
