package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/pipeline"
)

// winnow runs the CLI in-process and returns its exit status and output.
func winnow(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"winnow"}, args...), stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// ok runs the CLI and fails the test unless it succeeds.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := winnow(t, "", args...)
	require.Equal(t, 0, code, "winnow %s\nstderr: %s", strings.Join(args, " "), errs)
	return out
}

func tagCount(t *testing.T, dir, tag string) int {
	t.Helper()
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	bm, err := ds.Columnar().Tag(tag)
	require.NoError(t, err)
	return bm.Count()
}

func TestSelectSubcommands(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "query", dir, "--where", `annotation(label == "3")`, "--tag", "threes")
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"diverse", "--n", "20"}, 20},
		{[]string{"dedup", "--n", "50", "--min-distance", "10"}, -1},
		{[]string{"weighted", "--n", "10", "--metadata-key", "ink_fraction"}, 10},
		{[]string{"balanced", "--n", "30", "--target", "uniform", "--source", "ground_truth"}, 30},
		{[]string{"metadata-balanced", "--n", "12", "--metadata-key", "thickness"}, 12},
		{[]string{"similar", "--n", "15", "--query-tag", "threes", "--where", `not tagged("threes")`}, 15},
		{[]string{"typical", "--n", "5"}, 5},
		{[]string{"outliers", "--n", "5"}, 5},
		{[]string{"multi", "--n", "25", "--strategy", "diversity", "--strategy", "balance:target=1=0.5,source=ground_truth"}, 25},
	}
	for i, c := range cases {
		t.Run(c.args[0], func(t *testing.T) {
			tag := "t" + string(rune('a'+i))
			args := append([]string{"select", c.args[0], dir, "--tag", tag}, c.args[1:]...)
			out := ok(t, args...)
			assert.Contains(t, out, "into tag \""+tag+"\"")
			n := tagCount(t, dir, tag)
			if c.want >= 0 {
				assert.Equal(t, c.want, n)
			} else {
				assert.True(t, n > 0 && n <= 50, "dedup picked %d", n)
			}
			// The record matches the tag, sample for sample.
			ds, err := pipeline.Open(dir)
			require.NoError(t, err)
			rec, err := ds.ReadRecord(context.Background(), tag)
			require.NoError(t, err)
			bm, err := ds.Columnar().Tag(tag)
			require.NoError(t, err)
			require.Len(t, rec.Picks, bm.Count())
			for _, p := range rec.Picks {
				assert.True(t, bm.Get(p.Row))
			}
		})
	}
}

func TestSelectWeightedIsTopN(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "weighted", dir, "--n", "5", "--tag", "inky", "--metadata-key", "ink_fraction")
	// The 5 tagged digits are exactly those with ink_fraction at or above the 5th largest.
	top := strings.Fields(ok(t, "query", dir, "--where", `tagged("inky")`, "--count"))
	assert.Equal(t, []string{"5"}, top)
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	rec, err := ds.ReadRecord(context.Background(), "inky")
	require.NoError(t, err)
	for i := 1; i < len(rec.Picks); i++ {
		assert.GreaterOrEqual(t, rec.Picks[i-1].Objectives[0], rec.Picks[i].Objectives[0], "weights come out in descending order")
	}
	min := rec.Picks[len(rec.Picks)-1].Objectives[0]
	n := ok(t, "query", dir, "--where", "ink_fraction > "+jsonNumber(min), "--count")
	assert.Equal(t, "4\n", n, "exactly the other four picks lie above the smallest pick")
}

func jsonNumber(x float64) string { b, _ := json.Marshal(x); return string(b) }

func TestSelectMultiConfig(t *testing.T) {
	dir := relCopyFixture(t)
	cfg := filepath.Join(t.TempDir(), "mix.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{
		"n_samples_to_select": 40, "sampling_result_tag_name": "mix",
		"strategies": [
			{"strategy_name": "diversity", "embedding_model_name": "pixels", "strength": 1.0},
			{"strategy_name": "balance", "target_distribution": "uniform", "annotation_source": "ground_truth"},
			{"strategy_name": "weights", "metadata_key": "ink_fraction", "strength": 0.5}]}`), 0o644))
	out := ok(t, "select", "multi", dir, "--config", cfg, "--json")
	var res pipeline.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, "mix", res.Tag)
	assert.Equal(t, 40, res.Selected)
	require.Len(t, res.Strategies, 3)
	assert.NotNil(t, res.Strategies[0].Coverage)
	assert.NotNil(t, res.Strategies[1].Balance)
	assert.NotNil(t, res.Strategies[2].Weights)
	assert.Greater(t, res.Strategies[2].Weights.Selection, 0.0)
	// --n and --tag override the file.
	ok(t, "select", "multi", dir, "--config", cfg, "--n", "7", "--tag", "mix7")
	assert.Equal(t, 7, tagCount(t, dir, "mix7"))
	// From stdin.
	data, _ := os.ReadFile(cfg)
	code, _, errs := winnow(t, string(data), "select", "multi", dir, "--config", "-", "--tag", "mix-stdin")
	require.Equal(t, 0, code, errs)
}

func TestSelectErrors(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "diverse", dir, "--n", "3", "--tag", "taken")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"n zero", []string{"select", "diverse", dir, "--n", "0", "--tag", "x"}, 2, "--n must be at least 1, got 0"},
		{"no n", []string{"select", "diverse", dir, "--tag", "x"}, 2, "needs --n"},
		{"no tag", []string{"select", "diverse", dir, "--n", "3"}, 2, "needs --tag"},
		{"tag exists", []string{"select", "diverse", dir, "--n", "3", "--tag", "taken"}, 1, `tag "taken": tag already exists`},
		{"empty tag", []string{"select", "multi", dir, "--n", "3", "--tag", "", "--strategy", "diversity"}, 2, "needs --tag"},
		{"sample_id tag", []string{"select", "diverse", dir, "--n", "3", "--tag", "sample_id"}, 1, "reserved for the sample id column"},
		{"unknown model", []string{"select", "diverse", dir, "--n", "3", "--tag", "x", "--model", "clip"}, 1, `unknown embedding model "clip"; known models: pixels`},
		{"unknown column", []string{"select", "weighted", dir, "--n", "3", "--tag", "x", "--metadata-key", "nope"}, 1, `"nope"`},
		{"string weights", []string{"select", "weighted", dir, "--n", "3", "--tag", "x", "--metadata-key", "thickness"}, 1, `metadata column "thickness" is utf8; weighting needs a numeric column`},
		{"float categories", []string{"select", "metadata-balanced", dir, "--n", "3", "--tag", "x", "--metadata-key", "ink_fraction"}, 1, "balancing needs a categorical column"},
		{"unknown class", []string{"select", "balanced", dir, "--n", "3", "--tag", "x", "--target", "cat=1"}, 1, `class "cat" does not exist`},
		{"unknown source", []string{"select", "balanced", dir, "--n", "3", "--tag", "x", "--source", "model_v9"}, 1, `unknown annotation source "model_v9"; known sources: ground_truth`},
		{"unknown query tag", []string{"select", "similar", dir, "--n", "3", "--tag", "x", "--query-tag", "nope"}, 1, `unknown tag "nope"`},
		{"unknown preselected", []string{"select", "diverse", dir, "--n", "3", "--tag", "x", "--preselected", "nope"}, 1, `unknown tag "nope"`},
		{"bad target", []string{"select", "balanced", dir, "--n", "3", "--tag", "x", "--target", "cat"}, 2, `"cat" is not CLASS=RATIO`},
		{"dedup without distance", []string{"select", "dedup", dir, "--n", "3", "--tag", "x"}, 2, "dedup needs --min-distance"},
		{"negative distance", []string{"select", "dedup", dir, "--n", "3", "--tag", "x", "--min-distance", "-1"}, 1, "minimum distance must be a finite number >= 0"},
		{"unknown strategy", []string{"select", "multi", dir, "--n", "3", "--tag", "x", "--strategy", "vibes"}, 2, `unknown strategy_name "vibes"`},
		{"unknown key", []string{"select", "multi", dir, "--n", "3", "--tag", "x", "--strategy", "diversity:colour=red"}, 2, `unknown key "colour"`},
		{"no strategy", []string{"select", "multi", dir, "--n", "3", "--tag", "x"}, 2, "needs --config FILE or at least one --strategy"},
		{"negative workers", []string{"select", "diverse", dir, "--n", "3", "--tag", "x", "--workers", "-5"}, 2, "--workers must be 0 (all cores) or more, got -5"},
		{"bad where", []string{"select", "diverse", dir, "--n", "3", "--tag", "x", "--where", "width <"}, 1, "1:"},
		{"unknown subcommand", []string{"select", "best", dir}, 2, `unknown select command "best"; use one of diverse, dedup`},
		{"missing dir", []string{"select", "diverse", "--n", "3", "--tag", "x"}, 2, "needs a dataset folder"},
		{"not a dataset", []string{"select", "diverse", t.TempDir(), "--n", "3", "--tag", "x"}, 1, "samples"},
	}
	before, err := os.ReadFile(filepath.Join(dir, "tags.parquet"))
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := winnow(t, "", c.args...)
			assert.Equal(t, c.code, code, errs)
			assert.Contains(t, errs, c.msg)
			// One message (a query error's text and caret indented under
			// it), plus a usage hint.
			unindented := 0
			for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
				if !strings.HasPrefix(l, " ") {
					unindented++
				}
			}
			assert.LessOrEqual(t, unindented, 2, "one message, plus a usage hint: %q", errs)
			after, err := os.ReadFile(filepath.Join(dir, "tags.parquet"))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "a failed run leaves tags.parquet byte-identical")
		})
	}
	_, err = os.Stat(filepath.Join(dir, "selections", "x.parquet"))
	assert.True(t, os.IsNotExist(err), "no record is left behind by failed runs")
}

func TestSelectClampAndDryRun(t *testing.T) {
	dir := relCopyFixture(t)
	code, out, errs := winnow(t, "", "select", "diverse", dir, "--n", "5000", "--tag", "all", "--where", `thickness == "bold"`)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "warning: asked for 5000 samples but only 675 candidates are available; selecting 675")
	assert.Contains(t, out, "selected 675 of 675")

	code, _, errs = winnow(t, "", "select", "diverse", dir, "--n", "5", "--tag", "none", "--where", "width > 100")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "warning: the query matched no candidates")
	assert.Equal(t, 0, tagCount(t, dir, "none"))

	before, _ := os.ReadFile(filepath.Join(dir, "tags.parquet"))
	out = ok(t, "select", "diverse", dir, "--n", "5", "--tag", "dry", "--dry-run")
	assert.Contains(t, out, "dry run: would select 5 of 2000")
	after, _ := os.ReadFile(filepath.Join(dir, "tags.parquet"))
	assert.Equal(t, before, after)
}

func TestPreselectedIncremental(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "diverse", dir, "--n", "30", "--tag", "once")
	ok(t, "select", "diverse", dir, "--n", "12", "--tag", "first")
	out := ok(t, "select", "diverse", dir, "--n", "18", "--tag", "second", "--preselected", "first")
	assert.Contains(t, out, "plus 12 preselected")
	a := ok(t, "query", dir, "--where", `tagged("once")`, "--ids")
	b := ok(t, "query", dir, "--where", `tagged("second")`, "--ids")
	assert.Equal(t, a, b, "12 then 18 more equals 30 at once")
}

func TestSameRunSameFiles(t *testing.T) {
	a, b := relCopyFixture(t), relCopyFixture(t)
	args := []string{"select", "multi", "--n", "20", "--tag", "mix", "--strategy", "diversity", "--strategy", "balance"}
	ok(t, append(args[:2:2], append([]string{a}, args[2:]...)...)...)
	ok(t, append(args[:2:2], append([]string{b}, args[2:]...)...)...)
	ta, _ := os.ReadFile(filepath.Join(a, "tags.parquet"))
	tb, _ := os.ReadFile(filepath.Join(b, "tags.parquet"))
	assert.Equal(t, ta, tb, "tags.parquet is identical byte for byte")
	ra, err := pipeline.Open(a)
	require.NoError(t, err)
	rb, err := pipeline.Open(b)
	require.NoError(t, err)
	reca, err := ra.ReadRecord(context.Background(), "mix")
	require.NoError(t, err)
	recb, err := rb.ReadRecord(context.Background(), "mix")
	require.NoError(t, err)
	assert.Equal(t, reca.Picks, recb.Picks)
	reca.Header.Time = recb.Header.Time
	assert.Equal(t, reca.Header, recb.Header, "records differ only in their timestamp")
}

func TestInspectAndTags(t *testing.T) {
	dir := relCopyFixture(t)
	out := ok(t, "inspect", dir)
	for _, want := range []string{"2000 samples", "embeddings/pixels", "pixels  784", "ground_truth 2000", "tags: none"} {
		assert.Contains(t, out, want)
	}
	var rep pipeline.Report
	require.NoError(t, json.Unmarshal([]byte(ok(t, "inspect", "--json", dir)), &rep))
	assert.Equal(t, 2000, rep.Samples)
	require.Len(t, rep.Models, 1)
	assert.Equal(t, 784, rep.Models[0].Dim)

	ok(t, "select", "diverse", dir, "--n", "4", "--tag", "four")
	ids := ok(t, "tags", "export", dir, "four")
	assert.Len(t, strings.Fields(ids), 4)
	csvOut := ok(t, "tags", "export", dir, "four", "--format", "csv")
	assert.Len(t, strings.Split(strings.TrimSpace(csvOut), "\n"), 5, "header and four rows")
	assert.True(t, strings.HasPrefix(csvOut, "sample_id,file_name,"))
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(ok(t, "tags", "export", dir, "four", "--format", "json")), &rows))
	assert.Len(t, rows, 4)
	pq := filepath.Join(t.TempDir(), "four.parquet")
	ok(t, "tags", "export", dir, "four", "--format", "parquet", "--out", pq)
	data, err := os.ReadFile(pq)
	require.NoError(t, err)
	assert.Equal(t, "PAR1", string(data[:4]))

	// Round trip: the exported ids become a new tag.
	code, out, errs := winnow(t, ids, "tags", "add", dir, "four-again", "--ids", "-")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, `added tag "four-again" with 4 samples`)
	assert.Equal(t, ids, ok(t, "tags", "export", dir, "four-again"))

	list := ok(t, "tags", "list", dir)
	assert.Contains(t, list, "four        4")
	show := ok(t, "tags", "show", dir, "four")
	assert.Contains(t, show, `tag "four": 4 selected of 2000 candidates`)
	code, _, errs = winnow(t, "", "tags", "show", dir, "four-again")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `tag "four-again" has no selection record`)

	code, _, errs = winnow(t, "not-a-uuid\n", "tags", "add", dir, "bad", "--ids", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `line 1: "not-a-uuid" is not a sample id`)
	code, _, errs = winnow(t, "", "tags", "export", dir, "four", "--format", "xml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, `unknown --format "xml"`)
}

func TestQueryCommand(t *testing.T) {
	dir := relCopyFixture(t)
	assert.Equal(t, "2000 of 2000 samples match\n", ok(t, "query", dir))
	assert.Equal(t, "675\n", ok(t, "query", dir, "--where", `thickness == "bold"`, "--count"))
	ids := ok(t, "query", dir, "--where", `annotation(label == "0") and thickness == "bold"`, "--ids")
	n := ok(t, "query", dir, "--where", `annotation(label == "0") and thickness == "bold"`, "--count")
	assert.Equal(t, strings.TrimSpace(n), jsonNumber(float64(len(strings.Fields(ids)))))
	code, _, errs := winnow(t, "", "query", dir, "--where", "colour == 1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `colour`)
	code, _, _ = winnow(t, "", "query", dir, "--count", "--ids")
	assert.Equal(t, 2, code)
}
