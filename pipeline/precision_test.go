package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
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

// TestPrecisionFloat16Range: vectors with values float16 cannot hold
// are refused as the vectors are read, counting them and naming the first
// sample in dataset order and its value; 65519 rounds to 65504 and
// passes; nothing is written, and the stored precision selects as usual.
func TestPrecisionFloat16Range(t *testing.T) {
	dir := t.TempDir()
	const n, dim = 6, 3
	ids := make([]uuid.UUID, n)
	vecs := make([]float32, n*dim)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("f16-", i)))
		for j := range dim {
			vecs[i*dim+j] = float32(i*dim+j) / 7
		}
	}
	vecs[1*dim+1], vecs[4*dim] = 70000, -1e6
	vecs[2*dim+2] = 65519
	writeTable(t, dir, "samples", columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids})
	require.NoError(t, mkdirAll(dir+"/embeddings"))
	writeTable(t, dir, "embeddings/m", columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids},
		columnar.PlainColumn{Name: "embedding", Values: columnar.Vectors{Dim: dim, Values: vecs}})
	ds, err := Open(dir)
	require.NoError(t, err)
	sel, err := ds.Query().Selection()
	require.NoError(t, err)
	sel.Options.Precision = PrecisionFloat16
	_, err = sel.Diverse(context.Background(), 3, "half", "")
	var pe *PrecisionError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, 2, pe.Count)
	require.Equal(t, float32(70000), pe.Value)
	require.EqualError(t, err, `strategy diversity: precision float16: model "m": 2 vectors have values beyond float16's range of ±65504 (first: sample `+
		ids[1].String()+`, value 70000); select at the stored precision`)
	ds2, err := Open(dir)
	require.NoError(t, err)
	_, err = ds2.ReadRecord(context.Background(), "half")
	require.Error(t, err, "no tag written")

	sel.Options.Precision = PrecisionStored
	res, err := sel.Diverse(context.Background(), 3, "full", "")
	require.NoError(t, err)
	require.Len(t, res.Picks, 3)
}
