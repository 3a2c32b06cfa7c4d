package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportCommand(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "select", "multi", dir, "--n", "30", "--tag", "mix", "--strategy", "diversity", "--strategy", "balance:target=uniform")
	out := t.TempDir()

	page := filepath.Join(out, "mix.html")
	stdout := ok(t, "report", dir, "mix", "--out", page)
	assert.Contains(t, stdout, "report: "+page)
	data, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(data), "<title>Selection report: mix</title>")
	assert.NotContains(t, string(data), "<script")

	plots := filepath.Join(out, "plots")
	stdout = ok(t, "report", dir, "mix", "--format", "png", "--out", plots)
	files := strings.Fields(stdout)
	want := []string{"coverage-1", "classes-2", "map", "distances"}
	require.Len(t, files, len(want), stdout)
	for i, f := range files {
		assert.Equal(t, filepath.Join(plots, want[i]+".png"), f)
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")), "%s is not a PNG", f)
	}

	// The default is report.html in the working directory.
	t.Chdir(out)
	ok(t, "report", dir, "mix")
	_, err = os.Stat(filepath.Join(out, "report.html"))
	assert.NoError(t, err)
}

func TestReportErrors(t *testing.T) {
	dir := relCopyFixture(t)
	ok(t, "query", dir, "--where", "index < 5", "--tag", "manual")
	out := filepath.Join(t.TempDir(), "r.html")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", dir}, 2, "report needs a dataset folder and a tag"},
		{[]string{"report", dir, "a", "b"}, 2, "got 3 arguments"},
		{[]string{"report", dir, "manual", "--format", "pdf"}, 2, `--format must be html or png, got "pdf"`},
		{[]string{"report", dir, "nope", "--out", out}, 1, `unknown tag "nope"`},
		{[]string{"report", dir, "manual", "--out", out}, 1, `tag "manual" has no selection record`},
		{[]string{"select", "diverse", dir, "--n", "5", "--tag", "x", "--dry-run", "--report", out}, 2, "cannot be combined with --dry-run"},
	}
	for _, c := range cases {
		code, _, stderr := winnow(t, "", c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.want, "%v", c.args)
	}
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "a failed report wrote %s", out)
}

// select --report writes the report of the selection it made, with the
// time it took, and keeps stdout for the selection's own output.
func TestSelectReport(t *testing.T) {
	dir := relCopyFixture(t)
	page := filepath.Join(t.TempDir(), "picks.html")
	code, stdout, stderr := winnow(t, "", "select", "diverse", dir, "--n", "12", "--tag", "d12", "--report", page, "--json")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(stdout), "{"), "stdout is not only the JSON result: %s", stdout)
	assert.Contains(t, stderr, "report: "+page)
	data, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(data), "Selection report: d12")
	assert.NotContains(t, string(data), "not recorded", "select --report knows the time taken")
}
