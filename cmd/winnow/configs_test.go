package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/pipeline"
)

// exampleConfigs are the LightlyStudio configs shipped in docs/examples,
// with what running each on the fixture must do. Every file there must be
// listed: TestExampleConfigs fails on one that is not.
var exampleConfigs = map[string]struct {
	tag   string   // the result tag the config names
	size  int      // samples the tag holds
	notes []string // note lines on stderr
	query string   // the candidates' query of the record
}{
	"selection_config.json": {tag: "diverse-inky", size: 60,
		notes: []string{`note: collection_id "5b0f6e2a-3c1d-4e8f-9a7b-2d6c4e1f0a93" was ignored: it names a collection of LightlyStudio's database; winnow selects from the dataset folder it is given`}},
	"sampling_config.json": {tag: "round-2", size: 50 + 20,
		notes: []string{`note: collection_id "5b0f6e2a-3c1d-4e8f-9a7b-2d6c4e1f0a93" was ignored`}},
	"sampling_request.json": {tag: "bold-or-regular", size: 40,
		notes: []string{"note: filter field sample_filter.tag_ids was ignored: it refers to rows of LightlyStudio's database (tags, labels, regions by id), not to this dataset's columns; give the condition as a query (--where) instead"},
		query: `thickness in ("bold", "regular") and width >= 28 and width <= 28`},
}

// TestExampleConfigs parses and runs every example config of docs/examples
// on the fixture, as LightlyStudio's users would bring them. Before,
// selection_result_tag_name, preselected_tag_name, collection_id,
// annotation_source_id, selected_sequence_length and filter were refused.
func TestExampleConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "examples", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		want, listed := exampleConfigs[name]
		if !listed {
			t.Errorf("docs/examples/%s is not tested: add it to exampleConfigs", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			_, err = pipeline.ParseRequest(data)
			require.NoError(t, err)
			dir := relCopyFixture(t)
			// sampling_config.json preselects the tag "reviewed".
			ok(t, "query", dir, "--where", "index < 20", "--tag", "reviewed")
			code, out, errs := winnow(t, "", "select", "multi", dir, "--config", f)
			require.Equal(t, 0, code, errs)
			for _, n := range want.notes {
				assert.Contains(t, errs, n)
			}
			assert.Contains(t, out, `into tag "`+want.tag+`"`)
			assert.Equal(t, want.size, tagCount(t, dir, want.tag))
			var rec struct {
				Header pipeline.RecordHeader `json:"header"`
			}
			require.NoError(t, json.Unmarshal([]byte(ok(t, "tags", "show", dir, want.tag, "--json")), &rec))
			assert.Equal(t, want.query, rec.Header.Query)
		})
	}
}

// TestConfigMatchesFlags: a config and the same request as --strategy
// flags (docs/configs.md shows both) select the same samples.
func TestConfigMatchesFlags(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "query", dir, "--where", "index < 20", "--tag", "reviewed")
	ok(t, "select", "multi", dir, "--config", filepath.Join("..", "..", "docs", "examples", "sampling_config.json"))
	ok(t, "select", "multi", dir, "--n", "50", "--tag", "flags", "--preselected", "reviewed",
		"--strategy", "diversity:model=pixels", "--strategy", "balance:target=1=0.2,7=0.2,source=ground_truth",
		"--strategy", "metadata_balance:key=thickness,target=uniform,strength=0.5")
	assert.Equal(t, ok(t, "tags", "export", dir, "round-2"), ok(t, "tags", "export", dir, "flags"))
}

// TestConfigErrors: what a config cannot ask for is an error naming it,
// and changes nothing.
func TestConfigErrors(t *testing.T) {
	dir := relCopyFixture(t)
	before := relSnapshot(t, dir)
	for _, c := range []struct{ config, msg string }{
		{`{"n_samples_to_select": 8, "sampling_result_tag_name": "clips", "selected_sequence_length": 4, "strategies": [{"strategy_name": "diversity"}]}`,
			"selected_sequence_length 4 needs the column that groups samples into sequences: set group_by in the config or --group-by COLUMN"},
		{`{"n_samples_to_select": -5, "sampling_result_tag_name": "x", "strategies": [{"strategy_name": "diversity"}]}`, "n must be at least 1, got -5"},
		{`{"sampling_result_tag_name": "x", "preselected_tag_name": "nope", "n_samples_to_select": 3, "strategies": [{"strategy_name": "diversity"}]}`,
			`preselected tag: unknown tag "nope"`},
		{`{"sampling_result_tag_name": "x", "n_samples_to_select": 3, "filter": {"sample_filter": {"metadata_filters": [{"key": "colour", "op": "==", "value": "red"}]}}, "strategies": [{"strategy_name": "diversity"}]}`,
			`1:1: unknown column "colour"`},
	} {
		code, _, errs := winnow(t, c.config, "select", "multi", dir, "--config", "-")
		assert.Equal(t, 1, code, errs)
		assert.Contains(t, errs, c.msg)
		assert.False(t, strings.Contains(errs, "panic"))
	}
	assert.Empty(t, relSameSnapshot(before, relSnapshot(t, dir)))
}
