package main

// The CLI's contract (issue 12): usage errors, help texts, JSON output,
// completion and version.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/pipeline"
)

// TestUsageErrors: mistakes in how winnow is called exit 2 with a message
// and the usage hint. Before, a bare select or tags printed help and
// exited 0, --n -5 exited 1, --picks -1 was accepted, a second --where
// silently replaced the first, and --min-distance NaN said it was missing.
func TestUsageErrors(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "diverse", dir, "--n", "3", "--tag", "three")
	pred := filepath.Join(t.TempDir(), "pred.txt")
	require.NoError(t, os.WriteFile(pred, []byte(`width > 1`), 0o644))
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"bare select", []string{"select"}, 2, "select needs a command: winnow select COMMAND, one of diverse, dedup, weighted"},
		{"bare tags", []string{"tags"}, 2, "tags needs a command: winnow tags COMMAND, one of list, show, export, add, delete, rename"},
		{"n negative", []string{"select", "diverse", dir, "--n", "-5", "--tag", "x"}, 2, "--n must be at least 1, got -5"},
		{"picks negative", []string{"tags", "show", dir, "three", "--picks", "-1"}, 2, "--picks must be 0 or more, got -1"},
		{"where twice", []string{"select", "diverse", dir, "--n", "3", "--tag", "x", "--where", "width > 1", "--where", "height > 1"}, 2,
			"--where is given more than once; give one predicate (join conditions with and), or put a long one in a file (--where-file FILE)"},
		{"tag twice", []string{"select", "diverse", dir, "--n", "3", "--tag", "x", "--tag", "y"}, 2, "--tag is given more than once; give it once"},
		{"where and where-file", []string{"query", dir, "--where", "width > 1", "--where-file", pred}, 2, "give the predicate once: --where EXPR or --where-file FILE, not both"},
		{"where @ without file", []string{"query", dir, "--where", "@"}, 2, "--where @FILE needs a file name after the @"},
		{"where-file missing", []string{"query", dir, "--where-file", "/nonexistent/pred.txt"}, 1, "read the predicate: open /nonexistent/pred.txt: no such file or directory"},
		{"min-distance NaN", []string{"select", "dedup", dir, "--n", "3", "--tag", "x", "--min-distance", "NaN"}, 1, "strategy deduplication: minimum distance must be a finite number >= 0, got NaN"},
		{"min-distance missing", []string{"select", "dedup", dir, "--n", "3", "--tag", "x"}, 2, "dedup needs --min-distance D"},
		{"bare completion", []string{"completion"}, 2, "completion needs a command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := winnow(t, "", c.args...)
			assert.Equal(t, c.code, code, errs)
			assert.Contains(t, errs, c.msg)
			if c.code == 2 {
				assert.Contains(t, errs, "--help' for usage.")
			}
		})
	}
}

// TestHelpTexts: every command's --help has an example; a required flag
// shows no default; --strategy's help lists every strategy's keys.
func TestHelpTexts(t *testing.T) {
	paths := append(helpPaths(newApp(stdio{}), nil), []string{"completion"}, []string{"completion", "bash"})
	for _, p := range paths {
		h := helpOf(t, p)
		if !strings.Contains(h, "Example") {
			t.Errorf("winnow %s --help has no example:\n%s", strings.Join(p, " "), h)
		}
	}
	h := helpOf(t, []string{"select", "diverse"})
	assert.Regexp(t, `(?m)^\s+-n int\s+number of new samples to select \(required, at least 1\)$`, h, "no (default: 0) on the required -n")
	assert.NotContains(t, helpOf(t, []string{"select", "dedup"}), "NaN")
	multi := helpOf(t, []string{"select", "multi"})
	for _, s := range pipeline.Strategies() {
		for _, f := range s.Fields {
			assert.Regexp(t, regexp.MustCompile(regexp.QuoteMeta(s.Name)+`\s.*\(keys: [^)]*\b`+regexp.QuoteMeta(f.Key)+`\b`), multi, "%s key %s", s.Name, f.Key)
		}
	}
	assert.Contains(t, helpOf(t, []string{"query"}), "docs/query.md")
}

// TestCompletionAndVersion: winnow completion prints a script for each
// shell; --version names the commit when the build recorded one.
func TestCompletionAndVersion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out := ok(t, "completion", sh)
		assert.Contains(t, out, "winnow", sh)
		assert.Greater(t, len(out), 200, sh)
	}
	// A test binary carries no version control stamp: the version says so.
	v := ok(t, "--version")
	assert.Regexp(t, `^winnow version `+regexp.QuoteMeta(pipeline.Version)+` \(commit unknown: built without version control information\), go1\.`, v)

	// What the toolchain stamps into a build, and what --version makes of it.
	setting := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, c := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "winnow", Version: "(devel)"}, Settings: setting("vcs", "git", "vcs.revision", "739afb2453e4", "vcs.modified", "false")},
			pipeline.Version + " (commit 739afb2453e4), go1.26.8"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Settings: setting("vcs.revision", "739afb2453e4", "vcs.modified", "true")},
			pipeline.Version + " (commit 739afb2453e4, with uncommitted changes), go1.26.8"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/winnow-data/winnow", Version: "v0.1.0"}},
			pipeline.Version + " (module github.com/winnow-data/winnow v0.1.0), go1.26.8"},
	} {
		assert.Equal(t, c.want, versionOf(&c.bi))
	}
}

// snakeKeys reports every object key in JSON document doc that is not
// snake_case.
func snakeKeys(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v), doc)
	var bad []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				for _, r := range k {
					if unicode.IsUpper(r) || r == '-' || r == ' ' {
						bad = append(bad, k)
						break
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return bad
}

// TestJSONEverywhere: every --json output is snake_case with numbers as
// numbers; select includes the picks, tags show honours --picks, query
// has --json, and errors under --json are a JSON object on stderr. Before,
// tags show --json wrote Header/Picks and ignored --picks, inspect wrote
// coverage as "100.0%", select left the picks out and query had no --json.
func TestJSONEverywhere(t *testing.T) {
	dir := relCopyFixture(t)
	sel := ok(t, "select", "multi", dir, "--n", "5", "--tag", "five", "--strategy", "diversity", "--strategy", "weights:key=ink_fraction", "--json")
	show := ok(t, "tags", "show", dir, "five", "--json", "--picks", "2")
	docs := map[string]string{
		"select":    sel,
		"tags show": show,
		"inspect":   ok(t, "inspect", "--json", dir),
		"query":     ok(t, "query", dir, "--where", `thickness == "bold"`, "--json"),
		"query ids": ok(t, "query", dir, "--where", `thickness == "bold"`, "--ids", "--json"),
		"tags list": ok(t, "tags", "list", dir, "--json"),
		"explain":   ok(t, "tags", "show", dir, "five", "--json", "--sample", firstID(t, dir, "five")),
	}
	for name, doc := range docs {
		assert.Empty(t, snakeKeys(t, doc), "%s: keys not in snake_case", name)
	}
	var res struct {
		Picks []struct {
			SampleID   string    `json:"sample_id"`
			Rank       int       `json:"rank"`
			Objectives []float64 `json:"objectives"`
		} `json:"picks"`
	}
	require.NoError(t, json.Unmarshal([]byte(sel), &res))
	require.Len(t, res.Picks, 5)
	assert.NotEmpty(t, res.Picks[0].SampleID)
	assert.Len(t, res.Picks[0].Objectives, 2)

	var rec struct {
		Header     map[string]any   `json:"header"`
		Picks      []map[string]any `json:"picks"`
		PicksTotal int              `json:"picks_total"`
	}
	require.NoError(t, json.Unmarshal([]byte(show), &rec))
	assert.Len(t, rec.Picks, 2, "--picks 2")
	assert.Equal(t, 5, rec.PicksTotal)
	assert.Equal(t, "five", rec.Header["tag"])

	var ins struct {
		Models []struct {
			Coverage any `json:"coverage"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal([]byte(docs["inspect"]), &ins))
	assert.Equal(t, 1.0, ins.Models[0].Coverage)

	var q queryResult
	require.NoError(t, json.Unmarshal([]byte(docs["query"]), &q))
	assert.Equal(t, queryResult{Query: `thickness == "bold"`, Samples: 2000, Matches: 675}, q)
	require.NoError(t, json.Unmarshal([]byte(docs["query ids"]), &q))
	assert.Len(t, q.IDs, 675)

	// Errors: one JSON object on stderr, nothing on stdout.
	for _, c := range []struct {
		args []string
		want jsonError
	}{
		{[]string{"select", "diverse", dir, "--n", "0", "--tag", "x", "--json"}, jsonError{Error: "--n must be at least 1, got 0", ExitStatus: 2, Help: "winnow select diverse --help"}},
		{[]string{"select", "diverse", dir, "--n", "2", "--tag", "five", "--json"}, jsonError{Error: `tag "five": tag already exists in ` + filepath.Join(dir, "tags.parquet") + "; choose a new name (or overwrite it with --replace)", ExitStatus: 1}},
		{[]string{"query", "--json", dir, "--where", "width >"}, jsonError{ExitStatus: 1}},
	} {
		code, out, errs := winnow(t, "", c.args...)
		assert.Equal(t, c.want.ExitStatus, code)
		assert.Empty(t, out)
		var got jsonError
		require.NoError(t, json.Unmarshal([]byte(errs), &got), "stderr is one JSON object: %q", errs)
		if c.want.Error == "" {
			assert.Contains(t, got.Error, "1:8: syntax error")
			got.Error = ""
		}
		assert.Equal(t, c.want, got)
	}
}

// firstID returns the first sample id of tag.
func firstID(t *testing.T, dir, tag string) string {
	t.Helper()
	return strings.Fields(ok(t, "tags", "export", dir, tag))[0]
}

// TestNamedObjectives: text output names what each strategy scored by,
// and tags show labels the score and each objective column. Before, tags
// show printed an unlabelled SCORE and objectives as [13.46 0.04].
func TestNamedObjectives(t *testing.T) {
	dir := relCopyFixture(t)
	out := ok(t, "select", "multi", dir, "--n", "5", "--tag", "mix", "--strategy", "diversity", "--strategy", "weights:key=ink_fraction", "--strategy", "balance")
	assert.Contains(t, out, "    objective: distance to the nearest sample already selected\n")
	assert.Contains(t, out, "    objective: the sample's value of the metadata column\n")
	assert.Contains(t, out, "    objective: exp(-imbalance)")
	show := ok(t, "tags", "show", dir, "mix")
	assert.Contains(t, show, "SCORE is the combined score when picked: the sum over strategies of strength × ln(objective).")
	assert.Regexp(t, `(?m)^RANK\s+SAMPLE\s+SCORE\s+DISTANCE \(DIVERSITY\)\s+WEIGHT \(WEIGHTS\)\s+BALANCE \(BALANCE\)$`, show)
	assert.NotContains(t, show, "[")
}
