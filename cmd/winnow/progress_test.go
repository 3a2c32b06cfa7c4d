package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/winnow-data/winnow/pipeline"
)

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func TestProgressJSONThrottlesAndEstimates(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0), step: 300 * time.Millisecond}
	p := &progress{w: &buf, mode: progressJSON, now: clk.now}
	for i := int64(0); i <= 10; i++ {
		p.report(pipeline.Progress{Phase: pipeline.PhaseSelect, Done: i, Total: 10, Unit: "picks"})
	}
	p.report(pipeline.Progress{Phase: pipeline.PhaseWrite, Item: "t", Done: 0, Total: 1, Unit: "steps"})
	var lines []progressLine
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var l progressLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		lines = append(lines, l)
	}
	// 11 reports 0.3 s apart: the first, then one a second or more apart
	// (every fourth), and the last; then the write phase's first.
	require.Len(t, lines, 5, "%+v", lines)
	require.Equal(t, int64(0), lines[0].Done)
	require.Nil(t, lines[0].Estimate, "no estimate before anything is done")
	require.Equal(t, int64(4), lines[1].Done)
	require.InDelta(t, 1.2, lines[1].Elapsed, 1e-9)
	require.InDelta(t, 1.8, *lines[1].Estimate, 1e-9, "1.2 s for 4 of 10 leaves 1.8 s")
	require.Equal(t, int64(10), lines[3].Done)
	require.InDelta(t, 0, *lines[3].Estimate, 1e-9)
	require.Equal(t, pipeline.PhaseWrite, pipeline.Phase(lines[4].Phase))
	require.Equal(t, "t", lines[4].Item)
	require.InDelta(t, 0, lines[4].Elapsed, 1e-9, "a new phase starts its own clock")
}

func TestProgressBarWaitsASecondAndShowsTimeLeft(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0), step: 500 * time.Millisecond}
	p := &progress{w: &buf, mode: progressBar, now: clk.now}
	p.report(pipeline.Progress{Phase: pipeline.PhaseLoad, Item: "clip", Done: 0, Total: 4e9, Unit: "bytes"})
	require.Empty(t, buf.String(), "nothing drawn in the first second")
	p.report(pipeline.Progress{Phase: pipeline.PhaseLoad, Item: "clip", Done: 1e9, Total: 4e9, Unit: "bytes"})
	p.report(pipeline.Progress{Phase: pipeline.PhaseLoad, Item: "clip", Done: 2e9, Total: 4e9, Unit: "bytes"})
	out := buf.String()
	require.Contains(t, out, "load clip [===============               ] 2.0/4.0 GB 1s, 1s left")
	p.done()
	require.True(t, strings.HasSuffix(buf.String(), "\r\033[K"), "done clears the line")
	require.Equal(t, "3.0/12.0 billion pairs", amount(3e9, 12e9, "pairs"))
	require.Equal(t, "2.5/40.0 million pairs", amount(2.5e6, 4e7, "pairs"))
	require.Equal(t, "7/10 picks", amount(7, 10, "picks"))
}

func TestSelectProgressJSON(t *testing.T) {
	dir := relCopyFixture(t)
	code, out, errs := winnow(t, "", "select", "diverse", dir, "--n", "5", "--tag", "p", "--progress", "json")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "p")
	seen := map[string]progressLine{}
	for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
		var l progressLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), "stderr line %q", line)
		seen[l.Phase] = l
	}
	for _, phase := range []string{"load", "select", "write"} {
		l, ok := seen[phase]
		require.True(t, ok, "no %s phase in %s", phase, errs)
		require.Equal(t, l.Total, l.Done, "phase %s ends at its total", phase)
	}
	require.Equal(t, int64(5), seen["select"].Done)

	code, _, errs = winnow(t, "", "select", "diverse", dir, "--n", "5", "--tag", "q", "--progress", "loud")
	require.Equal(t, 2, code)
	require.Contains(t, errs, `--progress must be auto, bar, json or none, got "loud"`)
}
