package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrecisionFlag: --precision float16 says in the output and the JSON
// result that the selection is approximate; a bad value is a usage error
// that writes nothing.
func TestPrecisionFlag(t *testing.T) {
	dir := relCopyFixture(t)
	out := ok(t, "select", "diverse", dir, "--n", "5", "--tag", "half", "--precision", "float16")
	assert.Contains(t, out, "precision: float16 (float32 embeddings rounded at load): approximate")
	out = ok(t, "select", "diverse", dir, "--n", "5", "--tag", "halfjson", "--precision", "float16", "--json")
	var res struct {
		Precision string `json:"precision"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, "float16", res.Precision)
	out = ok(t, "select", "diverse", dir, "--n", "5", "--tag", "full")
	assert.NotContains(t, out, "precision")
	code, _, errs := winnow(t, "", "select", "diverse", dir, "--n", "5", "--tag", "bad", "--precision", "half")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, `--precision "half": want float16 or stored`)
}
