package main

// Concurrency: several `winnow select` processes writing tags to one
// dataset at the same time. Different tags must all survive (or a run
// fails with a message saying why, never a silent loss); one tag name
// must be won by exactly one run, whose selection record is the one kept.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/winnow-data/winnow/columnar"
)

// relConcurrentRounds is how many times each race is repeated: the
// interleavings differ from round to round.
func relConcurrentRounds() int {
	if testing.Short() {
		return 1
	}
	return 2
}

// TestConcurrentDifferentTags runs six writers of one dataset at once:
// four selections, a query storing its matches, and `tags add` from a
// list of ids, each adding its own tag. Every tag must survive with
// exactly the rows a run alone stores.
func TestConcurrentDifferentTags(t *testing.T) {
	const procs = 6
	base := relCopyFixture(t)
	ids := strings.Fields(relRun(t, nil, "query", base, "--ids", "--where", "ink_fraction > 0.2").stdout)
	if len(ids) < 10 {
		t.Fatalf("query --ids listed %d samples", len(ids))
	}
	idFile := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(idFile, []byte(strings.Join(ids[:7], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each run's picks, from runs alone on their own copies: selections
	// do not depend on other tags, so a concurrent run must store exactly
	// these rows.
	args := func(dir string, i int) []string {
		tag := fmt.Sprintf("t%d", i)
		switch i {
		case 4:
			return []string{"query", dir, "--where", "ink_fraction > 0.2", "--tag", tag}
		case 5:
			return []string{"tags", "add", dir, tag, "--ids", idFile}
		}
		return []string{"select", "diverse", dir, "--n", fmt.Sprint(10 + i), "--tag", tag}
	}
	want := make([][]int, procs)
	for i := range procs {
		ref := filepath.Join(t.TempDir(), "ref")
		relCopyDir(t, base, ref)
		if r := relRun(t, nil, args(ref, i)...); r.code != 0 {
			t.Fatalf("reference run %d: exit %d: %s", i, r.code, r.stderr)
		}
		want[i] = relTags(t, ref)[fmt.Sprintf("t%d", i)]
	}
	for round := range relConcurrentRounds() {
		dir := filepath.Join(t.TempDir(), "ds")
		relCopyDir(t, base, dir)
		children := make([]*relChild, procs)
		for i := range procs {
			children[i] = relStart(t, nil, args(dir, i)...)
		}
		codes := make([]int, procs)
		stderrs := make([]string, procs)
		for i, c := range children {
			codes[i], stderrs[i] = c.wait(t, 2*time.Minute)
		}
		got := relTags(t, dir)
		for i := range procs {
			name := fmt.Sprintf("t%d", i)
			rows, ok := got[name]
			switch {
			case codes[i] == 0 && !ok:
				t.Errorf("round %d: run %d succeeded but tag %s is missing (silent loss); tags: %v", round, i, name, relTagSizes(got))
			case codes[i] == 0 && !slices.Equal(rows, want[i]):
				t.Errorf("round %d: tag %s holds %d samples, differing from a run alone (%d)", round, name, len(rows), len(want[i]))
			case codes[i] != 0 && ok:
				t.Errorf("round %d: run %d failed (exit %d: %s) but its tag was stored", round, i, codes[i], stderrs[i])
			case codes[i] != 0 && !strings.HasPrefix(stderrs[i], "winnow: ") && !strings.Contains(stderrs[i], "\nwinnow: "):
				t.Errorf("round %d: run %d failed (exit %d) without an error message: %q", round, i, codes[i], stderrs[i])
			}
			if codes[i] != 0 {
				t.Logf("round %d: run %d failed cleanly: %s", round, i, strings.TrimSpace(stderrs[i]))
			}
		}
		if len(got) != procs {
			t.Errorf("round %d: dataset has tags %v, want t0..t%d", round, relTagSizes(got), procs-1)
		}
	}
}

func TestConcurrentSameTag(t *testing.T) {
	const procs = 4
	base := relCopyFixture(t)
	for round := range relConcurrentRounds() {
		dir := filepath.Join(t.TempDir(), "ds")
		relCopyDir(t, base, dir)
		children := make([]*relChild, procs)
		for i := range procs {
			// A different n per run tells the runs' results apart.
			children[i] = relStart(t, nil, "select", "diverse", dir, "--n", fmt.Sprint(10+i), "--tag", "same")
		}
		winner := -1
		for i, c := range children {
			code, stderr := c.wait(t, 2*time.Minute)
			switch {
			case code == 0 && winner >= 0:
				t.Errorf("round %d: runs %d and %d both succeeded in adding tag \"same\"", round, winner, i)
			case code == 0:
				winner = i
			case code != 1 || !strings.Contains(stderr, `tag "same": tag already exists`):
				t.Errorf("round %d: losing run %d: exit %d, stderr %q; want exit 1 saying the tag exists", round, i, code, stderr)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no run succeeded", round)
		}
		tags := relTags(t, dir)
		if n := len(tags["same"]); n != 10+winner {
			t.Errorf("round %d: tag holds %d samples, want the winner's %d", round, n, 10+winner)
		}
		// The winner's selection record must survive the losers: they
		// must neither overwrite nor delete it.
		rec, err := columnar.ReadTable(context.Background(), filepath.Join(dir, "selections", "same.parquet"), nil)
		if err != nil {
			t.Errorf("round %d: winner's selection record: %v", round, err)
			continue
		}
		if n := rec.NumRows(); n != int64(10+winner) {
			t.Errorf("round %d: selection record has %d rows, want the winner's %d", round, n, 10+winner)
		}
		rec.Release()
	}
}
