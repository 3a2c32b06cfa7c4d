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

	"winnow/benchmarks/datagen"
)

// relLongDataset generates a dataset on which `select diverse --n 3000`
// runs for several seconds: 50,000 samples × 64 dimensions make 3000
// greedy steps over 50,000 candidates (measured: about 3 s of CPU on the
// 2-core CI machine, 6 s of wall time under load).
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
	for _, tc := range []struct {
		sig   syscall.Signal
		after time.Duration
	}{
		{syscall.SIGINT, time.Second},            // in the greedy engine
		{syscall.SIGTERM, time.Second},           // batch schedulers stop jobs with SIGTERM
		{syscall.SIGINT, 150 * time.Millisecond}, // while the embeddings are read
	} {
		sig := tc.sig
		t.Run(sig.String()+"-after-"+tc.after.String(), func(t *testing.T) {
			c := relStart(t, nil, "select", "diverse", dir, "--n", "3000", "--tag", "long")
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
