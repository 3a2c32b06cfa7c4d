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
				Name:      "export",
				Usage:     "write the samples of a tag as ids, CSV, JSON or Parquet",
				ArgsUsage: "DIR TAG",
				Description: `Formats: ids (one sample id per line), csv and json (every samples
column of the tagged samples), parquet (those rows as a Parquet table;
needs --out). Example:

   winnow tags export testdata/mnist diverse-100 --format csv --out picks.csv`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Value: "ids", Usage: "ids, csv, json or parquet"},
					&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of stdout (replaced atomically)"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 2 {
						return usagef("export needs DIR and TAG: winnow tags export DIR TAG")
					}
					format := cmd.String("format")
					if !slices.Contains(tags.Formats, format) {
						return usagef("unknown --format %q; use one of %s", format, strings.Join(tags.Formats, ", "))
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
					return tags.WriteFile(out, func(w io.Writer) error {
						return ds.ExportTag(ctx, tag, format, w)
					}, nil, nil)
				},
			},
			{
				Name:      "add",
				Usage:     "add a tag from a list of sample ids",
				ArgsUsage: "DIR TAG",
				Description: `Reads sample ids, one per line, from --ids FILE (or - for stdin), and
stores them as a new tag. Every id must be in the dataset. Example:

   winnow tags export other-dataset reviewed | winnow tags add testdata/mnist reviewed --ids -`,
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
