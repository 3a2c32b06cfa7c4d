package main

// Crash safety of the tag write: `winnow select` is killed with SIGKILL at
// every named point of the tags.parquet replacement and at random moments
// of whole runs, and after every kill tags.parquet must be byte for byte
// either the file from before the run or the complete new one, and the
// dataset must still open with every tag readable.

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/winnow-data/winnow/pipeline"
)

// relCrashArgs is the selection every crash test runs on a dataset copy.
func relCrashArgs(dir string) []string {
	return []string{"select", "diverse", dir, "--n", "40", "--tag", "picked"}
}

// relCrashBase is one starting state of a crash test: a dataset folder
// (never written to; tests copy it), its tags.parquet before the run (nil
// when absent), and the tags.parquet and tags an uninterrupted run makes.
type relCrashBase struct {
	name     string
	dir      string
	old, new []byte
	oldTags  map[string][]int
	newTags  map[string][]int
}

// relCrashBases prepares the starting states: a dataset without
// tags.parquet, and one that already holds a tag (so "old file" means a
// real file whose tag must survive).
func relCrashBases(t *testing.T) []relCrashBase {
	t.Helper()
	fresh := relCopyFixture(t)
	tagged := relCopyFixture(t)
	if r := relRun(t, nil, "select", "weighted", tagged, "--n", "25", "--tag", "earlier", "--metadata-key", "ink_fraction"); r.code != 0 {
		t.Fatalf("preparing a tagged dataset: exit %d: %s", r.code, r.stderr)
	}
	var bases []relCrashBase
	for _, b := range []struct{ name, dir string }{{"no-tags-file", fresh}, {"one-tag", tagged}} {
		base := relCrashBase{name: b.name, dir: b.dir}
		base.old = relReadFile(t, filepath.Join(b.dir, "tags.parquet"))
		base.oldTags = relTags(t, b.dir)
		ref := filepath.Join(t.TempDir(), "ref")
		relCopyDir(t, b.dir, ref)
		if r := relRun(t, nil, relCrashArgs(ref)...); r.code != 0 {
			t.Fatalf("reference run: exit %d: %s", r.code, r.stderr)
		}
		base.new = relReadFile(t, filepath.Join(ref, "tags.parquet"))
		base.newTags = relTags(t, ref)
		if len(base.newTags["picked"]) != 40 {
			t.Fatalf("reference run tagged %d samples, want 40", len(base.newTags["picked"]))
		}
		bases = append(bases, base)
	}
	return bases
}

// relCheckCrashState checks that dir's tags.parquet is the old or the new
// file, byte for byte, and that the dataset opens with the matching tags.
// It returns "old" or "new".
func relCheckCrashState(t *testing.T, base relCrashBase, dir string) string {
	t.Helper()
	got := relReadFile(t, filepath.Join(dir, "tags.parquet"))
	tagsNow := relTags(t, dir) // columnar.Open + Tag: the file must be readable
	switch {
	case bytes.Equal(got, base.old) && (got == nil) == (base.old == nil):
		if !relSameTags(tagsNow, base.oldTags) {
			t.Errorf("tags.parquet is the old file but reads as %v", relTagSizes(tagsNow))
		}
		return "old"
	case bytes.Equal(got, base.new):
		if !relSameTags(tagsNow, base.newTags) {
			t.Errorf("tags.parquet is the new file but reads as %v", relTagSizes(tagsNow))
		}
		return "new"
	}
	t.Fatalf("tags.parquet (%d bytes) is neither the old file (%d bytes) nor the new one (%d bytes)", len(got), len(base.old), len(base.new))
	return ""
}

func relSameTags(a, b map[string][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

func relTagSizes(m map[string][]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

// relTempFiles lists the temporary files of a tag or record write left
// in dir.
func relTempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".tags.parquet.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := filepath.Glob(filepath.Join(dir, "selections", ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return append(m, r...)
}

// TestCrashKillAtWritePoints pauses the child at each named point of the
// commit (the seams of internal/testseam: the selection record's staging
// write, then the tags table's replacement), kills it there with SIGKILL,
// and checks the exact file left behind: before the table's rename the
// old file, from the rename on the new one. A second run must then complete the job (or,
// when the first run got as far as the rename, refuse the now existing
// tag), so a crash never wedges a dataset.
func TestCrashKillAtWritePoints(t *testing.T) {
	bases := relCrashBases(t)
	points := []struct {
		point string
		want  string // "old" or "new"
	}{
		{"record:temp-written", "old"},
		{"record:renamed", "old"},
		{"table:temp-written", "old"},
		{"table:temp-synced", "old"},
		{"table:renamed", "new"},
	}
	for _, base := range bases {
		for _, p := range points {
			t.Run(base.name+"/"+p.point, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "ds")
				relCopyDir(t, base.dir, dir)
				c := relStart(t, []string{"WINNOW_TEST_PAUSE=" + p.point}, relCrashArgs(dir)...)
				if !c.waitLine("paused "+p.point, time.Minute) {
					code, stderr := c.wait(t, time.Minute)
					t.Fatalf("child never reached %s (exit %d): %s", p.point, code, stderr)
				}
				if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				if code, _ := c.wait(t, time.Minute); code != -1 {
					t.Fatalf("child exit code %d after SIGKILL, want -1 (killed)", code)
				}
				if got := relCheckCrashState(t, base, dir); got != p.want {
					t.Fatalf("after a kill at %s tags.parquet is the %s file, want the %s one", p.point, got, p.want)
				}

				// A run killed while writing its selection record leaves a
				// temporary file in selections/ too; plant one.
				os.MkdirAll(filepath.Join(dir, "selections"), 0o755)
				if err := os.WriteFile(filepath.Join(dir, "selections", ".other.parquet.tmp-1-1"), []byte("half"), 0o600); err != nil {
					t.Fatal(err)
				}

				// Run again: the crash must not block the dataset.
				r := relRun(t, nil, relCrashArgs(dir)...)
				if p.want == "old" {
					if r.code != 0 {
						t.Fatalf("rerun after a kill at %s: exit %d: %s", p.point, r.code, r.stderr)
					}
				} else if r.code != 1 || !strings.Contains(r.stderr, `tag "picked": tag already exists`) {
					t.Fatalf("rerun after a kill at %s: exit %d, stderr %q; want exit 1 saying the tag exists", p.point, r.code, r.stderr)
				}
				if got := relCheckCrashState(t, base, dir); got != "new" {
					t.Fatalf("after the rerun tags.parquet is the %s file, want the new one", got)
				}
				if left := relTempFiles(t, dir); len(left) > 0 && p.want == "old" {
					t.Errorf("temporary files left after the rerun: %v", left)
				}
				// The record belongs to the tag whichever run committed it
				// (a kill after the table's rename leaves it staged).
				ds, err := pipeline.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				if rec, err := ds.ReadRecord(context.Background(), "picked"); err != nil || len(rec.Picks) != 40 {
					t.Errorf("selection record after the rerun: %v", err)
				}
			})
		}
	}
}

// relTrace is the environment that makes the child print "at POINT" at
// every point of the tag write.
var relTrace = []string{"WINNOW_TEST_TRACE=1"}

// relLastPoint is the last tag-write point a traced child reported.
func relLastPoint(stderr string) string {
	last := "before the tag write"
	for _, l := range strings.Split(stderr, "\n") {
		if p, ok := strings.CutPrefix(l, "at "); ok {
			last = p
		}
	}
	return last
}

// TestCrashKillAtRandomTimes kills whole runs with SIGKILL at random
// moments, so kills land while the dataset is read, while the engine runs,
// while the record and the tag are written and after exit. The child
// traces the points of the tag write, so each outcome is checked against
// where the kill landed: before the rename the old file, after it the new
// one (a kill just after "temp-synced" may land either side of the
// rename), always byte for byte. A third of the kills land at random
// within 3 ms after the child reports the tag's temporary file written.
func TestCrashKillAtRandomTimes(t *testing.T) {
	// A dozen kills per starting state keep `go test ./...` fast; set
	// WINNOW_CRASH_RUNS to run many more (the soak run of the report).
	runs := 12
	if testing.Short() {
		runs = 4
	}
	if s := os.Getenv("WINNOW_CRASH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WINNOW_CRASH_RUNS=%q: want a positive number", s)
		}
		runs = n
	}
	bases := relCrashBases(t)
	rng := rand.New(rand.NewPCG(1, 2)) // fixed seed: the same delays each run
	for _, base := range bases {
		// Time a traced run to know where to aim.
		probe := filepath.Join(t.TempDir(), "probe")
		relCopyDir(t, base.dir, probe)
		start := time.Now()
		c := relStart(t, relTrace, relCrashArgs(probe)...)
		if !c.waitLine("at table:temp-written", time.Minute) {
			code, stderr := c.wait(t, time.Minute)
			t.Fatalf("probe run never wrote the tag (exit %d): %s", code, stderr)
		}
		write := time.Since(start)
		if code, stderr := c.wait(t, time.Minute); code != 0 {
			t.Fatalf("probe run: exit %d: %s", code, stderr)
		}
		full := time.Since(start)
		counts := map[string]int{}
		for i := range runs {
			dir := filepath.Join(t.TempDir(), "ds")
			relCopyDir(t, base.dir, dir)
			c := relStart(t, relTrace, relCrashArgs(dir)...)
			var delay time.Duration
			switch i % 3 {
			case 0: // anywhere in the run
				delay = time.Duration(rng.Int64N(int64(full) * 11 / 10))
				time.Sleep(delay)
			case 1: // the last third: record and tag writes
				delay = full*2/3 + time.Duration(rng.Int64N(int64(full)/2))
				time.Sleep(delay)
			case 2: // up to 3 ms after the tag's temporary file is written:
				// during its fsync, the check, the rename, the folder sync
				delay = time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
				c.waitLine("at table:temp-written", time.Minute)
				time.Sleep(delay)
			}
			c.cmd.Process.Signal(syscall.SIGKILL)
			code, stderr := c.wait(t, time.Minute)
			if code != -1 && code != 0 {
				t.Fatalf("run %d (kill after %s): exit %d: %s", i, delay, code, stderr)
			}
			state := relCheckCrashState(t, base, dir)
			where := relLastPoint(stderr)
			if code == 0 {
				where = "after exit"
			}
			want := map[string]string{"before the tag write": "old", "record:temp-written": "old", "record:temp-synced": "old",
				"record:renamed": "old", "table:temp-written": "old", "table:renamed": "new", "after exit": "new"}[where]
			if want != "" && state != want {
				t.Fatalf("run %d: killed %s (after %s), tags.parquet is the %s file, want the %s one", i, where, delay, state, want)
			}
			counts[where+": "+state]++
			// The dataset must accept the same selection again unless the
			// tag was committed.
			if state == "old" {
				if r := relRun(t, nil, relCrashArgs(dir)...); r.code != 0 {
					t.Fatalf("run %d: rerun after kill after %s: exit %d: %s", i, delay, r.code, r.stderr)
				}
				if got := relCheckCrashState(t, base, dir); got != "new" {
					t.Fatalf("run %d: rerun left the %s file", i, got)
				}
				if left := relTempFiles(t, dir); len(left) > 0 {
					t.Fatalf("run %d: temporary files left after the rerun: %v", i, left)
				}
			}
		}
		t.Logf("%s: %d kills over a %s run (tag written at %s); where they landed and the file left: %v",
			base.name, runs, full.Round(time.Millisecond), write.Round(time.Millisecond), counts)
	}
}
