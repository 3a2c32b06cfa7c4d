package main

// Shared helpers of the reliability tests (crash, concurrency, cancel and
// bad-input tests). They run the real winnow binary as a child process, so
// a SIGKILL or SIGINT hits a whole process the way it would in a batch job.
// Names carry the prefix rel so they cannot clash with cli_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/fixture"
)

var (
	relBuildOnce sync.Once
	relBinPath   string
	relBuildErr  error
)

// relBuild builds the winnow binary once per test binary and returns its
// path. It is built into a fixed per-user folder and renamed into place,
// so repeated test runs reuse one file instead of leaving binaries behind,
// and two concurrent runs never see a half-written binary.
func relBuild(t testing.TB) string {
	t.Helper()
	relBuildOnce.Do(func() {
		// One folder per checkout: two checkouts tested at once must not
		// run each other's binary.
		wd, _ := os.Getwd()
		sum := sha256.Sum256([]byte(wd))
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("winnow-reltest-%s-%x", strings.ReplaceAll(os.Getenv("USER"), "/", "_"), sum[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			relBuildErr = err
			return
		}
		tmp, err := os.CreateTemp(dir, "build-*")
		if err != nil {
			relBuildErr = err
			return
		}
		tmp.Close()
		// The test seams (internal/testseam) let the crash tests pause the
		// binary at named points of a commit; release builds have none.
		cmd := exec.Command("go", "build", "-tags", "winnowtest", "-o", tmp.Name(), ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp.Name())
			relBuildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
			return
		}
		relBinPath = filepath.Join(dir, "winnow")
		relBuildErr = os.Rename(tmp.Name(), relBinPath)
	})
	if relBuildErr != nil {
		t.Fatalf("build winnow: %v", relBuildErr)
	}
	return relBinPath
}

// relCopyFixture copies the tables of testdata/mnist (not what a run may
// have left there) into a fresh temporary folder and returns the copy's
// path; tests write only to copies.
func relCopyFixture(t testing.TB) string {
	t.Helper()
	dst, err := fixture.CopyMNIST(filepath.Join(t.TempDir(), "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// relCopyDir copies the tree src to dst.
func relCopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// relResult is what a finished child process left behind.
type relResult struct {
	code           int
	stdout, stderr string
}

// relRun runs winnow with args (without the program name) and extra
// environment variables, failing the test if it does not end in time.
func relRun(t testing.TB, env []string, args ...string) relResult {
	t.Helper()
	return relRunWith(t, env, "", args...)
}

// relRunWith is relRun with stdin.
func relRunWith(t testing.TB, env []string, stdin string, args ...string) relResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, relBuild(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("winnow %s: did not finish within 2 minutes; stderr: %s", strings.Join(args, " "), errb.String())
	}
	res := relResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("winnow %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// relChild is a running winnow process whose stderr is watched line by line.
type relChild struct {
	cmd   *exec.Cmd
	lines chan string // stderr lines; closed at EOF
	mu    sync.Mutex
	all   strings.Builder // every stderr line seen so far
	done  chan struct{}   // closed when the process has been waited for
	err   error           // Wait's result, valid after done
	out   bytes.Buffer
}

// relStart starts winnow with args and extra environment variables.
func relStart(t testing.TB, env []string, args ...string) *relChild {
	t.Helper()
	cmd := exec.Command(relBuild(t), args...)
	cmd.Env = append(os.Environ(), env...)
	c := &relChild{cmd: cmd, lines: make(chan string, 64), done: make(chan struct{})}
	cmd.Stdout = &c.out
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start winnow: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			c.mu.Lock()
			c.all.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default: // nobody is waiting for lines; keep draining
			}
		}
		close(c.lines)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// waitLine waits until the child prints a stderr line containing want,
// and reports whether it did before the timeout and before exiting.
func (c *relChild) waitLine(want string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return false
			}
			if strings.Contains(l, want) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// wait waits for the child to exit and returns its exit code (-1 when a
// signal killed it) and its whole stderr.
func (c *relChild) wait(t testing.TB, timeout time.Duration) (int, string) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("winnow did not exit within %s; stderr: %s", timeout, c.stderr())
	}
	return c.cmd.ProcessState.ExitCode(), c.stderr()
}

func (c *relChild) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.all.String()
}

// relSnapshot returns every regular file under dir with its bytes, keyed
// by path relative to dir. The lock file is left out: winnow creates it
// empty and never reads its content.
func relSnapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".tags.lock" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		snap[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// relSameSnapshot reports how two snapshots differ, or "" if they do not.
func relSameSnapshot(before, after map[string]string) string {
	var diffs []string
	for k, v := range before {
		w, ok := after[k]
		switch {
		case !ok:
			diffs = append(diffs, k+" was removed")
		case v != w:
			diffs = append(diffs, k+" changed")
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, k+" appeared")
		}
	}
	return strings.Join(diffs, "; ")
}

// relReadFile returns the bytes of path, or nil if it does not exist.
func relReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// relTags opens the dataset the way every winnow command does and returns
// its tags with their samples' rows: this proves tags.parquet readable.
func relTags(t testing.TB, dir string) map[string][]int {
	t.Helper()
	ds, err := columnar.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	out := map[string][]int{}
	for _, name := range ds.TagNames() {
		bm, err := ds.Tag(name)
		if err != nil {
			t.Fatalf("tag %q: %v", name, err)
		}
		out[name] = bm.Indexes()
	}
	return out
}

// relWriteJSON writes a Parquet table at path whose rows are given as a
// JSON array of objects (arrow's JSON form: UUIDs as strings, floats may be
// "NaN" or "Inf", lists as arrays).
func relWriteJSON(t testing.TB, path string, schema *arrow.Schema, rows string) {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("build %s: %v", path, err)
	}
	defer rec.Release()
	relWriteRecord(t, path, rec)
}

// relWriteRecord writes rec as a one-file Parquet table at path.
func relWriteRecord(t testing.TB, path string, rec arrow.RecordBatch) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := columnar.NewWriter(&buf, rec.Schema(), columnar.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
