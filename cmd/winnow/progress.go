package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/pipeline"
)

// progressFlag is --progress: how long work reports itself on stderr.
func progressFlag() cli.Flag {
	return &cli.StringFlag{Name: "progress", Value: "auto", OnlyOnce: true,
		Usage: "report long phases on stderr: `MODE` auto (a bar with the time left when stderr is a terminal), bar, json (one JSON object a line, for batch logs) or none"}
}

// progressMode is how progress is shown.
type progressMode int

const (
	progressNone progressMode = iota
	progressBar
	progressJSON
)

// newReporter reads --progress and returns the reporter it asks for, or
// nil for none (also what auto means when stderr is not a terminal).
func newReporter(cmd *cli.Command, std stdio) (*progress, error) {
	mode := progressNone
	switch v := cmd.String("progress"); v {
	case "", "auto":
		if isTerminal(std.err) {
			mode = progressBar
		}
	case "bar":
		mode = progressBar
	case "json":
		mode = progressJSON
	case "none":
	default:
		return nil, usagef("--progress must be auto, bar, json or none, got %q", v)
	}
	if mode == progressNone {
		return nil, nil
	}
	return &progress{w: std.err, mode: mode, now: time.Now}, nil
}

// progress shows the advance of a command's phases, one at a time: on a
// terminal a one-line bar with the estimated time left, drawn once a phase
// has run for a second and at most ten times a second; as JSON lines at
// most once a second per phase, plus each phase's first and last report.
type progress struct {
	w    io.Writer
	mode progressMode
	now  func() time.Time

	mu    sync.Mutex
	cur   string    // the phase (and item) being shown
	start time.Time // when cur began
	last  time.Time // when cur was last shown
	drawn bool      // a bar is on the line
}

// progressLine is one JSON line of --progress=json.
type progressLine struct {
	Phase    string   `json:"phase"`
	Item     string   `json:"item,omitempty"`
	Done     int64    `json:"done"`
	Total    int64    `json:"total"`
	Unit     string   `json:"unit"`
	Elapsed  float64  `json:"elapsed_s"`
	Estimate *float64 `json:"eta_s,omitempty"`
}

// report is pipeline.Options.Progress.
func (p *progress) report(e pipeline.Progress) {
	p.show(string(e.Phase), e.Item, e.Unit, e.Done, e.Total)
}

// phase returns a callback counting in int for one phase (importers).
func (p *progress) phase(name, unit string) func(done, total int) {
	return func(done, total int) { p.show(name, "", unit, int64(done), int64(total)) }
}

func (p *progress) show(phase, item, unit string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	key := phase + "\x00" + item
	first := key != p.cur
	if first {
		p.clear()
		p.cur, p.start, p.last = key, now, time.Time{}
	}
	final := done >= total
	elapsed := now.Sub(p.start)
	switch p.mode {
	case progressJSON:
		if !first && !final && now.Sub(p.last) < time.Second {
			return
		}
		line := progressLine{Phase: phase, Item: item, Done: done, Total: total, Unit: unit, Elapsed: round3(elapsed.Seconds())}
		if eta, ok := estimate(done, total, elapsed); ok {
			s := round3(eta.Seconds())
			line.Estimate = &s
		}
		b, _ := json.Marshal(line)
		fmt.Fprintf(p.w, "%s\n", b)
	case progressBar:
		if elapsed < time.Second || (!final && now.Sub(p.last) < 100*time.Millisecond) {
			return
		}
		fmt.Fprintf(p.w, "\r\033[K%s", barLine(phase, item, unit, done, total, elapsed))
		p.drawn = true
	}
	p.last = now
}

// done clears a bar from its line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// estimate is the time left at the phase's average rate so far.
func estimate(done, total int64, elapsed time.Duration) (time.Duration, bool) {
	if done <= 0 || elapsed <= 0 || total < done {
		return 0, false
	}
	return time.Duration(float64(elapsed) * float64(total-done) / float64(done)), true
}

// barLine is one drawing of the bar: "load clip [=====     ] 1.2/3.4 GB 2.0s, 3.6s left".
func barLine(phase, item, unit string, done, total int64, elapsed time.Duration) string {
	const width = 30
	fill := 0
	if total > 0 {
		fill = int(min(done, total) * width / total)
	}
	label := phase
	if item != "" {
		label += " " + item
	}
	s := fmt.Sprintf("%s [%s%s] %s %s", label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		amount(done, total, unit), elapsed.Round(100*time.Millisecond))
	if eta, ok := estimate(done, total, elapsed); ok && done < total {
		s += fmt.Sprintf(", %s left", eta.Round(time.Second))
	}
	return s
}

// amount writes done of total in the unit, large counts in decimal
// multiples (bytes in MB or GB, pairs of vectors in millions or billions).
func amount(done, total int64, unit string) string {
	div, suffix := 1.0, ""
	switch {
	case unit == "bytes" && total >= 1e9:
		div, suffix, unit = 1e9, "", "GB"
	case unit == "bytes":
		div, suffix, unit = 1e6, "", "MB"
	case total >= 1e9:
		div, suffix = 1e9, " billion"
	case total >= 1e7:
		div, suffix = 1e6, " million"
	}
	if div == 1 {
		return fmt.Sprintf("%d/%d %s", done, total, unit)
	}
	return fmt.Sprintf("%.1f/%.1f%s %s", float64(done)/div, float64(total)/div, suffix, unit)
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
