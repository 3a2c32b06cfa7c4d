package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/pipeline"
)

// inspectSmall writes the six-sample dataset of the bad-input tests into a
// temporary folder, changed by setup, and returns its path.
func inspectSmall(t *testing.T, setup func(t *testing.T, dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	relSmall(t, dir)
	if setup != nil {
		setup(t, dir)
	}
	return dir
}

// TestInspectCountsVectorsNotRows: a row with a null vector is a sample
// without an embedding, as select sees it. Before the fix inspect counted
// table rows: 6 vectors and 100.0% coverage here.
func TestInspectCountsVectorsNotRows(t *testing.T) {
	dir := inspectSmall(t, relSetEmb(relListSchema(arrow.PrimitiveTypes.Float32),
		relEmbRows("[0,0]", "null", "[2,2]", "[3,3]", "null", "[5,5]")))
	out := ok(t, "inspect", dir)
	assert.Regexp(t, `(?m)^m\s+2\s+4\s+66\.7%$`, out)
	var rep pipeline.Report
	require.NoError(t, json.Unmarshal([]byte(ok(t, "inspect", "--json", dir)), &rep))
	require.Len(t, rep.Models, 1)
	assert.Equal(t, int64(4), rep.Models[0].Vectors)
	assert.InDelta(t, 4.0/6, rep.Models[0].Coverage, 1e-12)
	// select agrees: two candidates lack a vector.
	code, _, errs := winnow(t, "", "select", "diverse", dir, "--n", "2", "--tag", "x")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "2 of 6 candidates have no embedding")

	// A table whose statistics rule nulls out is counted from its footer.
	dense := inspectSmall(t, nil)
	assert.Regexp(t, `(?m)^m\s+2\s+6\s+100\.0%$`, ok(t, "inspect", dense))
}

// TestInspectNullLabelIsNotTheTextNull: a null label and the label
// "(null)" are two entries. Before the fix both were counted as one
// "(null)" entry of 3.
func TestInspectNullLabelIsNotTheTextNull(t *testing.T) {
	dir := inspectSmall(t, func(t *testing.T, dir string) {
		s := arrow.NewSchema([]arrow.Field{
			{Name: "sample_id", Type: relSamplesSchema.Field(0).Type},
			{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil)
		rows := fmt.Sprintf(`[{"sample_id": %q, "label": null}, {"sample_id": %q, "label": "(null)"}, {"sample_id": %q, "label": "(null)"}, {"sample_id": %q, "label": "cat"}]`,
			relID(0), relID(1), relID(2), relID(3))
		relWriteJSON(t, filepath.Join(dir, "annotations.parquet"), s, rows)
	})
	out := ok(t, "inspect", dir)
	assert.Contains(t, out, `labels (3): "(null)" 2, cat 1, (null) 1`)
	var raw struct {
		Annotations struct {
			Labels []map[string]any `json:"labels"`
		} `json:"annotations"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, "inspect", "--json", dir)), &raw))
	assert.Equal(t, []map[string]any{
		{"value": "(null)", "count": 2.0},
		{"value": "cat", "count": 1.0},
		{"value": nil, "count": 1.0},
	}, raw.Annotations.Labels)
}

// TestInspectDamagedOptionalTable: one unreadable optional table does not
// hide the others. inspect prints the whole report with that table's
// error in its row, then fails (exit 1) with the error. Before the fix it
// printed nothing but the error.
func TestInspectDamagedOptionalTable(t *testing.T) {
	truncate := func(rel string) func(*testing.T, string) {
		return relMangle(rel, func(b []byte) []byte { return b[:len(b)/2] })
	}
	cases := []struct {
		name, table string
		setup       func(*testing.T, string)
		keep        []string // what the report still shows
	}{
		{"annotations", "annotations", truncate("annotations.parquet"), []string{"embeddings/m", "old  2"}},
		{"tags", "tags", truncate("tags.parquet"), []string{"embeddings/m", "labels (3)"}},
		{"embeddings", "embeddings/m", truncate("embeddings/m.parquet"), []string{"labels (3)", "old  2"}},
		{"null tag value", "tags", func(t *testing.T, dir string) {
			s := arrow.NewSchema([]arrow.Field{{Name: "sample_id", Type: relSamplesSchema.Field(0).Type}, {Name: "old", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}, nil)
			relWriteJSON(t, filepath.Join(dir, "tags.parquet"), s, fmt.Sprintf(`[{"sample_id": %q, "old": null}]`, relID(0)))
		}, []string{"embeddings/m", "labels (3)", `tag column "old" has 1 null value(s)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := inspectSmall(t, c.setup)
			code, out, errs := winnow(t, "", "inspect", dir)
			if c.table == "tags" {
				assert.Contains(t, out, "tags: unreadable (the tags table's error is above)")
				assert.NotContains(t, out, "tags: none")
			}
			assert.Equal(t, 1, code, errs)
			assert.Contains(t, out, "6 samples")
			assert.Regexp(t, `(?m)^samples\s+6\s`, out)
			assert.Regexp(t, `(?m)^`+c.table+`\s+-\s+-\s+-\s+error: `, out)
			for _, k := range c.keep {
				assert.Contains(t, out, k)
			}
			assert.True(t, strings.HasPrefix(errs, "winnow: "), errs)
			assert.Contains(t, errs, dir)

			code, out, _ = winnow(t, "", "inspect", "--json", dir)
			assert.Equal(t, 1, code)
			var rep pipeline.Report
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			found := false
			for _, tr := range rep.Tables {
				if tr.Name == c.table {
					found = tr.Error != ""
				}
			}
			assert.True(t, found, "the table's error is in its entry: %s", out)
		})
	}
	// The samples table is not optional.
	dir := inspectSmall(t, truncate("samples.parquet"))
	code, out, errs := winnow(t, "", "inspect", dir)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "samples.parquet")
}
