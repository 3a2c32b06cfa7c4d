package main

// Managing tags (delete, rename, --replace, adding from CSV or by file
// name), predicates from files, select similar's candidates and tags show
// --sample.

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/pipeline"
)

func tagNames(t *testing.T, dir string) []string {
	t.Helper()
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	return ds.Columnar().TagNames()
}

func recordTag(t *testing.T, dir, tag string) string {
	t.Helper()
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	rec, err := ds.ReadRecord(context.Background(), tag)
	require.NoError(t, err)
	return rec.Header.Tag
}

// TestTagsDeleteRenameReplace: tags delete and rename, and select
// --replace, each in one commit that takes the selection record along.
// None of them existed before.
func TestTagsDeleteRenameReplace(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "diverse", dir, "--n", "4", "--tag", "four")
	ok(t, "query", dir, "--where", `thickness == "bold"`, "--tag", "bold")
	rec := filepath.Join(dir, "selections", "four.parquet")
	require.FileExists(t, rec)

	assert.Equal(t, "renamed tag \"four\" to \"round-1\"\n", ok(t, "tags", "rename", dir, "four", "round-1"))
	assert.Equal(t, []string{"round-1", "bold"}, tagNames(t, dir))
	assert.NoFileExists(t, rec)
	assert.FileExists(t, filepath.Join(dir, "selections", "round-1.parquet"))
	assert.Equal(t, "round-1", recordTag(t, dir, "round-1"), "the record names the tag by its new name")
	assert.Contains(t, ok(t, "tags", "show", dir, "round-1"), `tag "round-1": 4 selected`)

	// --replace overwrites on purpose; without it the name is refused.
	code, _, errs := winnow(t, "", "select", "diverse", dir, "--n", "6", "--tag", "round-1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `tag "round-1": tag already exists in `+filepath.Join(dir, "tags.parquet")+"; choose a new name (or overwrite it with --replace)")
	ok(t, "select", "diverse", dir, "--n", "6", "--tag", "round-1", "--replace")
	assert.Equal(t, 6, tagCount(t, dir, "round-1"))
	assert.Contains(t, ok(t, "tags", "show", dir, "round-1"), `tag "round-1": 6 selected`)
	// A tag grows by preselecting itself.
	ok(t, "select", "diverse", dir, "--n", "2", "--tag", "round-1", "--preselected", "round-1", "--replace")
	assert.Equal(t, 8, tagCount(t, dir, "round-1"))
	// query --tag --replace overwrites too; rename has no --replace, so its
	// error does not suggest one.
	ok(t, "query", dir, "--where", `thickness == "thin"`, "--tag", "thin")
	code, _, errs = winnow(t, "", "query", dir, "--where", `thickness == "thin"`, "--tag", "thin")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "choose a new name (or overwrite it with --replace)")
	ok(t, "query", dir, "--where", `thickness == "thin" and index < 10`, "--tag", "thin", "--replace")
	assert.Less(t, tagCount(t, dir, "thin"), 10)
	code, _, errs = winnow(t, "", "tags", "rename", dir, "thin", "round-1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `tag "round-1": tag already exists in `)
	assert.NotContains(t, errs, "--replace")
	ok(t, "tags", "delete", dir, "thin")
	code, _, errs = winnow(t, "", "query", dir, "--replace")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "--replace goes with --tag NAME")
	// A tag made by a query has no record; --replace gives it one.
	ok(t, "select", "weighted", dir, "--n", "3", "--tag", "bold", "--metadata-key", "ink_fraction", "--replace")
	assert.Equal(t, "bold", recordTag(t, dir, "bold"))

	assert.Equal(t, "deleted tag \"round-1\" (8 samples) and its selection record, if it had one\n", ok(t, "tags", "delete", dir, "round-1"))
	assert.Equal(t, []string{"bold"}, tagNames(t, dir))
	assert.NoFileExists(t, filepath.Join(dir, "selections", "round-1.parquet"))

	// Errors change nothing.
	before := relSnapshot(t, dir)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tags", "delete", dir, "nope"}, 1, `unknown tag "nope" (tags: bold)`},
		{[]string{"tags", "rename", dir, "nope", "x"}, 1, `unknown tag "nope" (tags: bold)`},
		{[]string{"tags", "rename", dir, "bold", "bold"}, 1, `rename tag "bold": the new name is the same`},
		{[]string{"tags", "rename", dir, "bold", "Bold"}, 1, `tag "Bold" differs from the existing tag "bold" only in case; choose a new name`},
		{[]string{"tags", "rename", dir, "bold", "sample_id"}, 1, `tag name "sample_id" is reserved for the sample id column`},
		{[]string{"tags", "rename", dir, "bold"}, 2, "rename needs DIR, OLD and NEW"},
		{[]string{"tags", "delete", dir}, 2, "delete needs DIR and TAG"},
		{[]string{"select", "diverse", dir, "--n", "2", "--tag", "BOLD"}, 1, `tag "BOLD" differs from the existing tag "bold" only in case; choose a new name`},
		{[]string{"select", "diverse", dir, "--n", "2", "--tag", "BOLD", "--replace"}, 1, `tag "BOLD" differs from the existing tag "bold" only in case`},
		{[]string{"query", dir, "--where", "width > 1", "--tag", "Bold"}, 1, `differs from the existing tag "bold" only in case`},
	} {
		code, _, errs := winnow(t, "", c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errs)
		assert.Contains(t, errs, c.msg, c.args)
	}
	assert.Empty(t, relSameSnapshot(before, relSnapshot(t, dir)), "failed runs change nothing")
}

// TestTagsAddFromCSV: tags add reads a CSV column (--column) and names
// samples by a samples column (--by file_name). Before, only a list of ids
// was read.
func TestTagsAddFromCSV(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "diverse", dir, "--n", "5", "--tag", "five")
	csvFile := filepath.Join(t.TempDir(), "five.csv")
	require.NoError(t, os.WriteFile(csvFile, []byte(ok(t, "tags", "export", dir, "five", "--format", "csv")), 0o644))
	want := ok(t, "tags", "export", dir, "five")

	assert.Equal(t, "added tag \"by-id\" with 5 samples\n", ok(t, "tags", "add", dir, "by-id", "--ids", csvFile, "--column", "sample_id"))
	assert.Equal(t, want, ok(t, "tags", "export", dir, "by-id"))
	ok(t, "tags", "add", dir, "by-name", "--ids", csvFile, "--column", "file_name", "--by", "file_name")
	assert.Equal(t, want, ok(t, "tags", "export", dir, "by-name"))
	// One file name per line, from a spreadsheet with other columns.
	code, out, errs := winnow(t, "t10k-00000.png\nt10k-00001.png\n\nt10k-00002.png\n", "tags", "add", dir, "names", "--ids", "-", "--by", "file_name")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "added tag \"names\" with 3 samples\n", out)
	sheet := "\ufeffimage,verdict\n\"t10k-00003.png\",hard\nt10k-00004.png,hard\n"
	code, _, errs = winnow(t, sheet, "tags", "add", dir, "sheet", "--ids", "-", "--column", "image", "--by", "file_name")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, 2, tagCount(t, dir, "sheet"))
	// --replace overwrites.
	code, _, errs = winnow(t, "t10k-00005.png\n", "tags", "add", dir, "sheet", "--ids", "-", "--by", "file_name", "--replace")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, 1, tagCount(t, dir, "sheet"))

	before := relSnapshot(t, dir)
	for _, c := range []struct {
		stdin string
		args  []string
		msg   string
	}{
		{"a,b\n1,2\n", []string{"--column", "image"}, `tag "x": read CSV: no column "image" in the header (columns: a, b)`},
		{"", []string{"--column", "image"}, `tag "x": read CSV: the file is empty; expected a header row`},
		{"image\nnope.png\n", []string{"--column", "image", "--by", "file_name"}, `tag "x": line 2: no sample has file_name "nope.png"`},
		{"image\n\n,\n", []string{"--column", "image", "--by", "file_name"}, `tag "x": line 3: column "image" is empty`},
		{"bold\n", []string{"--by", "thickness"}, `tag "x": line 1: thickness "bold" is shared by several samples (`},
		{"x\n", []string{"--by", "nope"}, `tag "x": --by nope: read samples: ` + filepath.Join(dir, "samples.parquet") + `: unknown column "nope" (columns: sample_id, file_name,`},
		{"x\n", []string{"--by", "ink_fraction"}, `tag "x": --by ink_fraction: the column is float64; samples are named by a string or integer column`},
		{"t10k-00000.png\n", []string{"--by", "file_name", "--column", "c"}, `tag "x": read CSV: no column "c" in the header (columns: t10k-00000.png)`},
	} {
		code, _, errs := winnow(t, c.stdin, append([]string{"tags", "add", dir, "x", "--ids", "-"}, c.args...)...)
		assert.Equal(t, 1, code, errs)
		assert.Contains(t, errs, c.msg)
	}
	assert.Empty(t, relSameSnapshot(before, relSnapshot(t, dir)))
}

// TestWhereFromFile: --where-file FILE and --where @FILE read the
// predicate from a file (- for stdin), as --where EXPR would take it.
// Neither existed before.
func TestWhereFromFile(t *testing.T) {
	dir := relCopyFixture(t)
	expr := "thickness == \"bold\"\n  and ink_fraction > 0.25\n"
	file := filepath.Join(t.TempDir(), "pred.txt")
	require.NoError(t, os.WriteFile(file, []byte(expr), 0o644))
	want := ok(t, "query", dir, "--where", expr, "--count")
	assert.NotEqual(t, "0\n", want)
	assert.Equal(t, want, ok(t, "query", dir, "--where-file", file, "--count"))
	assert.Equal(t, want, ok(t, "query", dir, "--where", "@"+file, "--count"))
	code, out, errs := winnow(t, expr, "query", dir, "--where-file", "-", "--count")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, want, out)
	ok(t, "select", "diverse", dir, "--n", "3", "--tag", "from-file", "--where-file", file)
	assert.Contains(t, ok(t, "tags", "show", dir, "from-file"), `candidates: thickness == "bold" and ink_fraction > 0.25`)
	// A syntax error points into the file's text.
	require.NoError(t, os.WriteFile(file, []byte("width > 1\n  and\n"), 0o644))
	code, _, errs = winnow(t, "", "query", dir, "--where-file", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "winnow: 2:6: syntax error: expected a condition, found end of text\n      and\n         ^\n")
	require.NoError(t, os.WriteFile(file, []byte(" \n"), 0o644))
	code, _, errs = winnow(t, "", "query", dir, "--where-file", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "read the predicate: "+file+" is empty")
}

// TestSelectSimilarExcludesQueryTag: the query tag's own samples are not
// candidates unless --include-query-tag, and the output says so. Before,
// they were candidates and came first.
func TestSelectSimilarExcludesQueryTag(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "query", dir, "--where", `annotation(label == "3")`, "--tag", "threes")
	threes := tagCount(t, dir, "threes")
	out := ok(t, "select", "similar", dir, "--n", "10", "--tag", "like-threes", "--query-tag", "threes")
	assert.Contains(t, out, "selected 10 of 1793 candidates")
	assert.Contains(t, out, `  candidates: not tagged("threes")`+"\n")
	assert.Contains(t, out, `  the samples of the query tag "threes" are not candidates (--include-query-tag keeps them)`)
	assert.Equal(t, "0\n", ok(t, "query", dir, "--where", `tagged("like-threes") and tagged("threes")`, "--count"))
	assert.Equal(t, 2000-threes, 1793)

	out = ok(t, "select", "similar", dir, "--n", "10", "--tag", "with-threes", "--query-tag", "threes", "--include-query-tag")
	assert.Contains(t, out, "selected 10 of 2000 candidates")
	assert.Equal(t, "10\n", ok(t, "query", dir, "--where", `tagged("with-threes") and tagged("threes")`, "--count"),
		"kept, the query's own samples are the most similar")
	// Narrowed by --where as well: both conditions hold.
	out = ok(t, "select", "similar", dir, "--n", "5", "--tag", "bold-like", "--query-tag", "threes", "--where", `thickness == "bold"`)
	assert.Contains(t, out, `candidates: thickness == "bold" and not tagged("threes")`)
}

// TestTagsShowSample: tags show --sample explains one sample: rank, score
// and named objectives when picked; otherwise whether it was a candidate,
// with the objectives that can be computed now. It did not exist before.
func TestTagsShowSample(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "multi", dir, "--n", "5", "--tag", "mix", "--where", `thickness == "bold"`,
		"--strategy", "diversity", "--strategy", "weights:key=ink_fraction,strength=0.5")
	picked := strings.Fields(ok(t, "tags", "export", dir, "mix"))
	out := ok(t, "tags", "show", dir, "mix", "--sample", picked[1])
	assert.Contains(t, out, "sample "+picked[1]+" is in tag \"mix\": picked at rank ")
	assert.Regexp(t, `(?m)^  score -?[0-9.e+-]+ \(the sum over strategies of strength × ln\(objective\)\)$`, out)
	assert.Regexp(t, `(?m)^  diversity: distance [0-9.e+-]+$`, out)
	assert.Regexp(t, `(?m)^  weights: weight [0-9.e+-]+$`, out)

	// A thin digit is no candidate of the bold query.
	thin := strings.Fields(ok(t, "query", dir, "--where", `thickness == "thin"`, "--ids"))[0]
	out = ok(t, "tags", "show", dir, "mix", "--sample", thin)
	assert.Equal(t, "sample "+thin+" is not in tag \"mix\": not a candidate: it does not match the selection's query thickness == \"bold\" (as the dataset is now)\n", out)

	// A bold digit that was not picked ranked below the cut: the replay
	// gives its objectives and score at the last pick, below that pick's;
	// its weight equals its ink_fraction.
	rest := strings.Fields(ok(t, "query", dir, "--where", `thickness == "bold" and not tagged("mix")`, "--ids"))[0]
	out = ok(t, "tags", "show", dir, "mix", "--sample", rest)
	assert.Regexp(t, `^sample `+rest+` is not in tag "mix": a candidate, not picked: eligible to the end, it ranked below the cut: score [0-9.e+-]+ at the last pick against [0-9.e+-]+ of that pick \(sample [0-9a-f-]+\)\n`, out)
	assert.Regexp(t, `(?m)^  diversity: distance [0-9.e+-]+ \(at the last pick\)$`, out)
	assert.Regexp(t, `(?m)^  weights: weight [0-9.e+-]+ \(at the last pick\)$`, out)
	var ex pipeline.Explanation
	require.NoError(t, json.Unmarshal([]byte(ok(t, "tags", "show", dir, "mix", "--sample", rest, "--json")), &ex))
	require.Len(t, ex.Objectives, 2)
	assert.Equal(t, "ranked below the cut", ex.Outcome)
	assert.True(t, ex.Candidate)
	assert.False(t, ex.InTag)
	require.NotNil(t, ex.Score)
	assert.LessOrEqual(t, *ex.Score, *ex.Cut)
	assert.Contains(t, picked, ex.CutSampleID)
	assert.InDelta(t, math.Log(ex.Objectives[0].Value)+0.5*math.Log(ex.Objectives[1].Value), *ex.Score, 1e-9, "score = Σ strength × ln(objective)")
	ds, err := pipeline.Open(dir)
	require.NoError(t, err)
	ink, err := ds.Columnar().NumericColumn(context.Background(), "ink_fraction")
	require.NoError(t, err)
	assert.Equal(t, ink.Values[ex.Row], ex.Objectives[1].Value)

	// Deduplication that ran out of eligible candidates: the replay names
	// the pick within the minimum distance.
	ok(t, "select", "dedup", dir, "--n", "500", "--tag", "far", "--min-distance", "11")
	farIDs := strings.Fields(ok(t, "tags", "export", dir, "far"))
	outside := strings.Fields(ok(t, "query", dir, "--where", `not tagged("far")`, "--ids"))[0]
	out = ok(t, "tags", "show", dir, "far", "--sample", outside)
	assert.Regexp(t, `^sample `+outside+` is not in tag "far": a candidate, not picked: ineligible at the end of the run: deduplication: at distance [0-9.]+ of sample [0-9a-f-]+ \(rank [0-9]+\), within the minimum distance 11\n`, out)
	require.NoError(t, json.Unmarshal([]byte(ok(t, "tags", "show", dir, "far", "--sample", outside, "--json")), &ex))
	require.Len(t, ex.Because, 1)
	assert.Contains(t, farIDs, ex.Because[0].By)
	assert.Less(t, ex.Because[0].Distance, 11.0)

	// A preselected sample counted as selected before the first pick.
	ok(t, "select", "diverse", dir, "--n", "2", "--tag", "more", "--preselected", "mix")
	out = ok(t, "tags", "show", dir, "more", "--sample", picked[0])
	assert.Equal(t, "sample "+picked[0]+" is in tag \"more\": preselected (tag \"mix\"): it counted as selected before the first pick\n", out)

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"tags", "show", dir, "mix", "--sample", "00000000-0000-4000-8000-000000000000"}, "sample id 00000000-0000-4000-8000-000000000000 is not in the dataset"},
		{[]string{"tags", "show", dir, "mix", "--sample", "nope"}, `"nope" is not a sample id (UUID)`},
	} {
		code, _, errs := winnow(t, "", c.args...)
		assert.Equal(t, 1, code)
		assert.Contains(t, errs, c.msg)
	}
}
