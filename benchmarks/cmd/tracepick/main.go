// Command tracepick times the phases of an exact diversity selection on a
// dataset's embeddings, loaded once and selected -runs times in the same
// process: the picks before the first deferred pass (1..63, where stale
// heap tops are re-scored by the thousand), the picks that end in a pass
// (every 64th), and the rest. It also writes the picks (row and distance,
// one a line) for comparing two builds bit for bit.
//
//	go run ./benchmarks/cmd/tracepick -dir benchmarks/data/n1m-d512 -n 1000
//	go run ./benchmarks/cmd/tracepick -dir DIR -runs 1 -picks /tmp/picks.txt
//
// It drives the strategies package directly, so it measures the engine
// without the CLI's summary and exit; the figures go to stderr.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
)

func main() {
	dir := flag.String("dir", "", "dataset folder (required); its only embedding model is used")
	n := flag.Int("n", 1000, "picks")
	runs := flag.Int("runs", 3, "selections after the one load")
	picks := flag.String("picks", "", "write the last run's picks to this file")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: tracepick -dir DIR [-n N] [-runs R] [-picks FILE]")
		os.Exit(2)
	}
	if err := run(*dir, *n, *runs, *picks); err != nil {
		fmt.Fprintln(os.Stderr, "tracepick:", err)
		os.Exit(1)
	}
}

func run(dir string, n, runs int, picks string) error {
	ctx := context.Background()
	ds, err := columnar.Open(ctx, dir)
	if err != nil {
		return err
	}
	if len(ds.Models()) != 1 {
		return fmt.Errorf("%s has models %v; tracepick takes one", dir, ds.Models())
	}
	t0 := time.Now()
	m, err := ds.ReadEmbeddings(ctx, ds.Models()[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "load %.3f s\n", time.Since(t0).Seconds())
	v := strategies.Vectors{Dim: m.Dim, F32: m.Data, F16: m.F16, Finite: true}
	d, err := strategies.NewDiversity(v, 1)
	if err != nil {
		return err
	}
	rows := v.Rows()
	var res *strategies.Result
	for range runs {
		var times []time.Duration
		start := time.Now()
		last := start
		res, err = strategies.Select(ctx, strategies.Problem{Rows: rows, Candidates: rows, Picks: n,
			Strategies: []strategies.Strategy{d},
			Progress: func(done, total int) {
				now := time.Now()
				times = append(times, now.Sub(last))
				last = now
			}})
		if err != nil {
			return err
		}
		var first, passes, rest time.Duration
		for i, t := range times {
			switch {
			case (i+1)%64 == 0:
				passes += t
			case i < 63:
				first += t
			default:
				rest += t
			}
		}
		fmt.Fprintf(os.Stderr, "select %.3f s: picks 1-63 %.3f s, picks ending in a pass %.3f s, the rest %.3f s\n",
			time.Since(start).Seconds(), first.Seconds(), passes.Seconds(), rest.Seconds())
	}
	if picks == "" {
		return nil
	}
	f, err := os.Create(picks)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, pk := range res.Picks {
		fmt.Fprintln(w, pk.Row, pk.Objectives[0])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
