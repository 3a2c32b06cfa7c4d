package main

// Cancellation: Ctrl-C (SIGINT) or SIGTERM during a long selection must
// stop winnow within a second, write nothing, and exit 130 saying so.

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/winnow-data/winnow/benchmarks/datagen"
)

// relLongDataset generates a dataset on which `select diverse --n 12000`
// runs for several seconds: 50,000 samples × 64 dimensions make 12,000
// greedy steps over 50,000 candidates (3000 took about 3 s of CPU on the
// 2-core CI machine before the tile kernel, and under a second after).
func relLongDataset(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "long")
	_, err := datagen.Generate(context.Background(), dir, datagen.Config{
		N: 50000, Dim: 64, Clusters: 50, Seed: 7, NoAnnotations: true, Compression: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCancelLongSelection(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 50,000-sample dataset and runs a multi-second selection")
	}
	dir := relLongDataset(t)
	before := relSnapshot(t, dir)
	relBuild(t) // build outside the timed part
	// 12,000 picks: the first phase's tile kernel made 3000 finish
	// within the second on a quiet machine.
	diverse := []string{"diverse", "--n", "12000"}
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		after time.Duration
		cmd   []string // select subcommand and flags
	}{
		{"diverse", syscall.SIGINT, time.Second, diverse},            // in the greedy engine
		{"diverse", syscall.SIGTERM, time.Second, diverse},           // batch schedulers stop jobs with SIGTERM
		{"diverse", syscall.SIGINT, 150 * time.Millisecond, diverse}, // while the embeddings are read
		{"typical", syscall.SIGINT, time.Second, []string{"typical", "--n", "3000"}},
		// Similarity to ~5,000 samples tagged reviewed: the nearest-query
		// search (it ignored cancellation before) now takes a fraction of
		// a second on the tile kernel, so diversity keeps the selection
		// running past the signal; the search's own cancellation is
		// tested in strategies (TestSimilarityCancelled).
		{"similar", syscall.SIGINT, time.Second, []string{"multi", "--n", "12000",
			"--strategy", "similarity:query_tag=reviewed", "--strategy", "diversity"}},
		// Metadata columns of more than one chunk (over 32k rows) crashed
		// weighting and balancing before.
		{"multi", syscall.SIGINT, time.Second, []string{"multi", "--n", "12000",
			"--strategy", "diversity", "--strategy", "weights:key=width", "--strategy", "metadata_balance:key=weather"}},
	} {
		sig := tc.sig
		t.Run(tc.name+"-"+sig.String()+"-after-"+tc.after.String(), func(t *testing.T) {
			args := append([]string{"select", tc.cmd[0], dir, "--tag", "long"}, tc.cmd[1:]...)
			c := relStart(t, nil, args...)
			time.Sleep(tc.after)
			select {
			case <-c.done:
				code, stderr := c.wait(t, time.Second)
				t.Fatalf("selection finished within a second (exit %d: %s); the dataset is too small to test cancellation", code, stderr)
			default:
			}
			sent := time.Now()
			if err := c.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code, stderr := c.wait(t, 30*time.Second)
			took := time.Since(sent)
			t.Logf("%s: exited %s after the signal", sig, took.Round(time.Millisecond))
			if took > time.Second {
				t.Errorf("winnow took %s to stop after %s, want at most 1s", took.Round(time.Millisecond), sig)
			}
			if code != 130 {
				t.Errorf("exit code %d after %s, want 130; stderr: %s", code, sig, stderr)
			}
			if want := "winnow: interrupted; nothing was written"; !strings.Contains(stderr, want) {
				t.Errorf("stderr %q does not say %q", stderr, want)
			}
			if d := relSameSnapshot(before, relSnapshot(t, dir)); d != "" {
				t.Errorf("interrupted run changed the dataset: %s", d)
			}
		})
	}
}
