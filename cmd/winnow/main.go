// Command winnow selects the samples worth keeping from large ML datasets:
// diverse in embedding space, weighted by metadata, balanced across
// classes, similar to a tag or free of near-duplicates. Datasets are
// folders of Parquet tables; results are stored as tags.
//
// Run `winnow --help` for the commands. Exit status: 0 on success, 1 on an
// error in the data or the request (one line on stderr), 2 on a usage
// error (bad flags or arguments).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// A selection holds one large, pointer-free matrix for its whole run.
	// Go's default GOGC of 100 lets garbage grow to the size of the live
	// heap before it collects, which made the peak memory of a selection
	// up to 1.6 times its matrix (1M × 512: 3.6 GB for a 2 GB matrix);
	// 25 keeps it near 1.3 times. Collections stay cheap: the matrix has
	// no pointers to scan. GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
