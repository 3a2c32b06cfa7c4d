package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/report"
)

func reportCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write a selection's report: one self-contained HTML page, or its plots as PNG files",
		ArgsUsage: "DIR TAG",
		Description: `Reads the selection record of TAG (selections/TAG.parquet) and the dataset,
and writes a page that shows how coverage grows with the budget (against a
random order), the class distributions, a 2-D map of the embeddings, nearest-
neighbour distances, weight distributions and the first 100 picks with
thumbnails when file_path names local PNG or JPEG files. The page needs no
network, script or font: attach it to a ticket or open it from disk. Large
datasets are sampled for the map and histograms, and the page says how.
Examples:

   winnow report /tmp/mnist diverse-100                      # report.html
   winnow report DIR TAG --out picks.html
   winnow report DIR TAG --format png --out plots/           # one PNG a plot`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "write to `PATH` (default report.html; with --format png the folder report/)"},
			&cli.StringFlag{Name: "format", Value: "html", Usage: "`FORMAT`: html (one self-contained page) or png (a folder of PNG plots)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 2 {
				return usagef("report needs a dataset folder and a tag: winnow report DIR TAG (got %d arguments)", cmd.Args().Len())
			}
			lowGCPercent() // it loads the selection's embeddings
			format := cmd.String("format")
			if format != "html" && format != "png" {
				return usagef("--format must be html or png, got %q", format)
			}
			out := cmd.String("out")
			if out == "" {
				out = map[string]string{"html": "report.html", "png": "report"}[format]
			}
			return writeReport(ctx, std, cmd.Args().Get(0), cmd.Args().Get(1), format, out, 0)
		},
	}
}

// writeReport builds the report of tag in dir and writes it to out as
// format; elapsed, when known, is how long the selection took.
func writeReport(ctx context.Context, std stdio, dir, tag, format, out string, elapsed time.Duration) error {
	in, err := report.Load(ctx, dir, tag)
	if err != nil {
		return err
	}
	if elapsed > 0 {
		in.Header.Elapsed = elapsed
	}
	if len(in.Header.Changed) > 0 {
		fmt.Fprintf(std.err, "warning: the dataset has changed since tag %q was selected: %s\n", tag, strings.Join(in.Header.Changed, "; "))
	}
	d, err := report.Build(ctx, in, report.Options{})
	if err != nil {
		return err
	}
	if format == "png" {
		files, err := report.WritePNGs(out, d)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Fprintln(std.out, f)
		}
		return nil
	}
	if err := report.WriteHTMLFile(out, d); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "report: %s (%.1f MB)\n", out, float64(st.Size())/1e6)
	return nil
}
