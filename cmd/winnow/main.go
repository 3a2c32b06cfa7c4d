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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
