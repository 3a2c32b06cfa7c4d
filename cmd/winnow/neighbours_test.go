package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNeighboursFlag: typicality says how it searched neighbours; forced
// approximate gives the IVF parameters and the measured recall; an unknown
// mode is a usage error.
func TestNeighboursFlag(t *testing.T) {
	dir := relCopyFixture(t)
	out := ok(t, "select", "typical", dir, "--n", "5", "--tag", "typ")
	assert.Contains(t, out, "neighbours: exact, 20 nearest of")
	out = ok(t, "select", "outliers", dir, "--n", "5", "--tag", "odd", "--neighbours", "approximate")
	assert.Regexp(t, `neighbours: approximate \(IVF: \d+ lists, probe \d+ tuned for recall 0.98, k-means on \d+ rows, 10 iterations\), measured recall@20 0\.\d{4} on \d+ queries`, out)
	out = ok(t, "select", "multi", dir, "--n", "5", "--tag", "mix", "--strategy", "typicality:neighbours=approximate")
	assert.Contains(t, out, "neighbours: approximate (IVF:")
	code, _, errs := winnow(t, "", "select", "typical", dir, "--n", "5", "--tag", "bad", "--neighbours", "fast")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, `--neighbours "fast": want auto, exact or approximate`)
}

// TestNeighboursProgressJSON: --progress=json has the neighbour search's
// lines, in vector pairs: done never decreases, never passes the total,
// and the last line is complete.
func TestNeighboursProgressJSON(t *testing.T) {
	dir := relCopyFixture(t)
	code, _, errs := winnow(t, "", "select", "typical", dir, "--n", "5", "--tag", "p", "--progress", "json", "--neighbours", "approximate")
	require.Equal(t, 0, code, errs)
	var last *progressLine
	for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
		var l progressLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), "stderr line %q", line)
		if l.Phase == "neighbours" {
			require.Equal(t, "pairs", l.Unit)
			require.LessOrEqual(t, l.Done, l.Total)
			if last != nil {
				require.GreaterOrEqual(t, l.Done, last.Done)
			}
			last = &l
		}
	}
	require.NotNil(t, last, "no neighbours phase in %s", errs)
	require.Equal(t, last.Total, last.Done)
	require.Positive(t, last.Total)
}
