package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v3"
)

// helpPaths lists the command paths of app ("select diverse", "tags add",
// ...), the root first.
func helpPaths(cmd *cli.Command, prefix []string) [][]string {
	out := [][]string{prefix}
	for _, c := range cmd.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		out = append(out, helpPaths(c, append(prefix[:len(prefix):len(prefix)], c.Name))...)
	}
	return out
}

// helpOf returns the --help text of the command at path.
func helpOf(t *testing.T, path []string) string {
	t.Helper()
	code, out, errs := winnow(t, "", append(append([]string{}, path...), "--help")...)
	if code != 0 {
		t.Fatalf("winnow %s --help: exit %d: %s", strings.Join(path, " "), code, errs)
	}
	return out
}

// TestHelpExamplesLeaveTestdataAlone: an example that writes (a selection,
// a tag made by a query, a tag added, deleted or renamed) names a copy of
// the bundled dataset, never testdata/ itself: running it from the help
// text must not change the checkout.
func TestHelpExamplesLeaveTestdataAlone(t *testing.T) {
	writes := []string{"select ", "--tag", "tags add", "tags delete", "tags rename", "--replace"}
	for _, path := range helpPaths(newApp(stdio{}), nil) {
		for _, line := range strings.Split(helpOf(t, path), "\n") {
			if !strings.Contains(line, "testdata/") || strings.Contains(line, "cp -r testdata/") {
				continue
			}
			for _, w := range writes {
				if strings.Contains(line, w) {
					t.Errorf("winnow %s --help: example writes into testdata/: %q", strings.Join(path, " "), strings.TrimSpace(line))
				}
			}
		}
	}
}
