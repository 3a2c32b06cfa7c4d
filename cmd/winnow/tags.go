package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"winnow/pipeline"
	"winnow/tags"
)

func tagsCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:  "tags",
		Usage: "list, show, export and add tags",
		Commands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the dataset's tags with their sizes",
				ArgsUsage: "DIR",
				Flags:     []cli.Flag{jsonFlag},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					ds, err := openArg(ctx, cmd)
					if err != nil {
						return err
					}
					list, err := ds.Tags()
					if err != nil {
						return err
					}
					if cmd.Bool("json") {
						if list == nil {
							list = []tags.Info{}
						}
						return printJSON(std.out, list)
					}
					tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "TAG\tSAMPLES")
					for _, t := range list {
						fmt.Fprintf(tw, "%s\t%d\n", t.Name, t.Samples)
					}
					return tw.Flush()
				},
			},
			{
				Name:      "show",
				Usage:     "summarise how a selection tag was made, from its selection record",
				ArgsUsage: "DIR TAG",
				Flags:     []cli.Flag{jsonFlag, &cli.IntFlag{Name: "picks", Value: 10, Usage: "show the first `K` picks"}},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 2 {
						return usagef("show needs DIR and TAG: winnow tags show DIR TAG")
					}
					ds, err := pipeline.OpenContext(ctx, cmd.Args().Get(0))
					if err != nil {
						return err
					}
					rec, err := ds.ReadRecord(ctx, cmd.Args().Get(1))
					if err != nil {
						return err
					}
					if cmd.Bool("json") {
						return printJSON(std.out, rec)
					}
					printRecord(std.out, rec, int(cmd.Int("picks")))
					return nil
				},
			},
			{
				Name:      "export",
				Usage:     "write the samples of a tag as ids, CSV, JSON or Parquet",
				ArgsUsage: "DIR TAG",
				Description: `Formats: ids (one sample id per line), csv and json (every samples
column of the tagged samples), parquet (those rows as a Parquet table;
needs --out). Example:

   winnow tags export /tmp/mnist diverse-100 --format csv --out picks.csv`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Value: "ids", Usage: "ids, csv, json or parquet"},
					&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of stdout (replaced atomically)"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 2 {
						return usagef("export needs DIR and TAG: winnow tags export DIR TAG")
					}
					format := cmd.String("format")
					if !slices.Contains(pipeline.ExportFormats(), format) {
						return usagef("unknown --format %q; use one of %s", format, strings.Join(pipeline.ExportFormats(), ", "))
					}
					ds, err := pipeline.OpenContext(ctx, cmd.Args().Get(0))
					if err != nil {
						return err
					}
					tag := cmd.Args().Get(1)
					out := cmd.String("out")
					if out == "" {
						if format == "parquet" && isTerminal(std.out) {
							return usagef("--format parquet writes binary data: give --out FILE or redirect stdout")
						}
						return ds.ExportTag(ctx, tag, format, std.out)
					}
					return ds.ExportTagFile(ctx, tag, format, out)
				},
			},
			{
				Name:      "add",
				Usage:     "add a tag from a list of sample ids",
				ArgsUsage: "DIR TAG",
				Description: `Reads sample ids, one per line, from --ids FILE (or - for stdin), and
stores them as a new tag. Every id must be in the dataset. Example:

   winnow tags export other-dataset reviewed | winnow tags add /tmp/mnist reviewed --ids -`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "ids", Usage: "read sample ids from `FILE` (- for stdin)", Required: true},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 2 {
						return usagef("add needs DIR and TAG: winnow tags add DIR TAG --ids FILE")
					}
					ds, err := pipeline.OpenContext(ctx, cmd.Args().Get(0))
					if err != nil {
						return err
					}
					var r io.Reader = std.in
					if p := cmd.String("ids"); p != "-" {
						f, err := os.Open(p)
						if err != nil {
							return err
						}
						defer f.Close()
						r = f
					}
					tag := cmd.Args().Get(1)
					n, err := ds.AddTagFromIDs(ctx, tag, r)
					if err != nil {
						return err
					}
					fmt.Fprintf(std.out, "added tag %q with %d samples\n", tag, n)
					return nil
				},
			},
		},
	}
}

func openArg(ctx context.Context, cmd *cli.Command) (*pipeline.Dataset, error) {
	dir, err := dirArg(cmd)
	if err != nil {
		return nil, err
	}
	return pipeline.OpenContext(ctx, dir)
}

func printRecord(w io.Writer, rec *pipeline.Record, k int) {
	h := rec.Header
	fmt.Fprintf(w, "tag %q: %d selected of %d candidates (%d requested), %d preselected\n", h.Tag, h.Selected, h.Candidates, h.Requested, h.Preselected)
	fmt.Fprintf(w, "  made %s by winnow %s\n", h.Time.Format("2006-01-02 15:04:05 MST"), h.Version)
	if h.Query != "" {
		fmt.Fprintf(w, "  candidates: %s\n", h.Query)
	}
	if h.PreTag != "" {
		fmt.Fprintf(w, "  preselected tag: %s\n", h.PreTag)
	}
	for _, s := range h.Reports {
		printStrategy(w, s)
	}
	for _, warn := range h.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if k <= 0 || len(rec.Picks) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tSAMPLE\tSCORE\tOBJECTIVES")
	for _, p := range rec.Picks[:min(k, len(rec.Picks))] {
		if p.Preselected {
			fmt.Fprintf(tw, "%d\t%s\tpreselected\t\n", p.Rank, p.SampleID)
			continue
		}
		score := fmt.Sprintf("%.6g", p.Score)
		if p.InfFactors != 0 {
			score = fmt.Sprintf("%+d·inf %s", p.InfFactors, score)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", p.Rank, p.SampleID, score, fmt.Sprintf("%.6g", p.Objectives))
	}
	tw.Flush()
	if len(rec.Picks) > k {
		fmt.Fprintf(w, "… %d more (--picks K, or --json)\n", len(rec.Picks)-k)
	}
}
