//go:build winnowtest || race

package testseam

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// Enabled reports whether seams and extra checks are compiled in: true in
// builds with the winnowtest tag or the race detector.
const Enabled = true

var (
	mu   sync.Mutex
	hook func(string)
)

// Set installs hook as the receiver of every point and returns a function
// that removes it again. Tests that install hooks must not run in parallel
// with each other.
func Set(h func(point string)) (restore func()) {
	mu.Lock()
	prev := hook
	hook = h
	mu.Unlock()
	return func() {
		mu.Lock()
		hook = prev
		mu.Unlock()
	}
}

// at passes point to the installed hook, then honours the environment:
// WINNOW_TEST_TRACE=1 prints "at POINT" on stderr, so a test that kills a
// child at random moments can tell where each kill landed, and
// WINNOW_TEST_PAUSE=POINT (or "all") prints "paused POINT" and sleeps, so
// the test can kill the child exactly there.
func at(point string) {
	mu.Lock()
	h := hook
	mu.Unlock()
	if h != nil {
		h(point)
	}
	if os.Getenv("WINNOW_TEST_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "at %s\n", point)
	}
	if p := os.Getenv("WINNOW_TEST_PAUSE"); p == point || p == "all" {
		fmt.Fprintf(os.Stderr, "paused %s\n", point)
		time.Sleep(time.Hour)
	}
}
