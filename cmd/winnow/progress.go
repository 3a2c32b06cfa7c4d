package main

import (
	"fmt"
	"io"
	"time"
)

// progress draws a one-line progress bar on a terminal, only once work has
// run for a second, at most ten times a second.
type progress struct {
	w     io.Writer
	label string
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, start: time.Now()}
}

// update is the engine's Progress callback.
func (p *progress) update(done, total int) {
	now := time.Now()
	if now.Sub(p.start) < time.Second || (now.Sub(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last = now
	const width = 30
	fill := 0
	if total > 0 {
		fill = done * width / total
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < fill {
			bar[i] = '='
		}
	}
	elapsed := now.Sub(p.start).Round(100 * time.Millisecond)
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d %s", p.label, bar, done, total, elapsed)
	p.drawn = true
}

// done clears the bar's line.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
