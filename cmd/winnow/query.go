package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/pipeline"
)

// queryResult is query's --json output.
type queryResult struct {
	Query   string   `json:"query"`   // the predicate, "" for every sample
	Samples int      `json:"samples"` // samples in the dataset
	Matches int      `json:"matches"`
	IDs     []string `json:"ids,omitempty"` // with --ids
	Tag     string   `json:"tag,omitempty"` // with --tag: the tag stored
}

func queryCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "count, list or tag the samples matching an expression",
		ArgsUsage: "DIR",
		Description: `The expression language (docs/query.md in the repository):

   width < 256 and weather in ("rain", "snow")
   file_path startswith "s3://bucket/cam2/" or difficulty is null
   tagged("reviewed") and not annotation(label == "cat" and confidence > 0.5)
   count(annotation(label == "person")) >= 3

Examples:

   winnow query testdata/mnist --where 'thickness == "bold"'
   winnow query testdata/mnist --where 'annotation(label == "7")' --ids
   winnow query testdata/mnist --where-file long-predicate.txt --count --json
   winnow query /tmp/mnist --where 'ink_fraction > 0.2' --tag inky   # on a copy: cp -r testdata/mnist /tmp/mnist`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "where", OnlyOnce: true, Usage: "the predicate `EXPR` (default: every sample); @FILE reads it from FILE"},
			whereFileFlag(),
			&cli.BoolFlag{Name: "count", Usage: "print only the number of matches"},
			&cli.BoolFlag{Name: "ids", Usage: "print the matching sample ids, one per line"},
			&cli.StringFlag{Name: "tag", OnlyOnce: true, Usage: "store the matches as the new tag `NAME`"},
			&cli.BoolFlag{Name: "replace", Usage: "with --tag: overwrite the tag if it exists, in the same crash-safe commit"},
			jsonFlag(),
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			modes := 0
			for _, f := range []string{"count", "ids", "tag"} {
				if cmd.IsSet(f) {
					modes++
				}
			}
			if modes > 1 {
				return usagef("use only one of --count, --ids and --tag")
			}
			if cmd.Bool("replace") && !cmd.IsSet("tag") {
				return usagef("--replace goes with --tag NAME")
			}
			where, err := whereText(cmd, std.in)
			if err != nil {
				return err
			}
			ds, err := openArg(ctx, cmd)
			if err != nil {
				return err
			}
			q := ds.Query()
			if where != "" {
				if q, err = q.Where(where); err != nil {
					return err
				}
			}
			res := queryResult{Query: q.String(), Samples: ds.Len()}
			switch {
			case cmd.IsSet("tag"):
				res.Tag = cmd.String("tag")
				put := q.AddTag
				if cmd.Bool("replace") {
					put = q.ReplaceTag
				}
				if res.Matches, err = put(ctx, res.Tag); err != nil {
					return err
				}
			case cmd.Bool("ids"):
				if res.IDs, err = q.IDs(ctx); err != nil {
					return err
				}
				res.Matches = len(res.IDs)
				if res.IDs == nil {
					res.IDs = []string{}
				}
			default:
				if res.Matches, err = q.Count(ctx); err != nil {
					return err
				}
			}
			if cmd.Bool("json") {
				return printJSON(std.out, res)
			}
			switch {
			case cmd.IsSet("tag"):
				fmt.Fprintf(std.out, "added tag %q with %d samples\n", res.Tag, res.Matches)
			case cmd.Bool("ids"):
				for _, id := range res.IDs {
					fmt.Fprintln(std.out, id)
				}
			case cmd.Bool("count"):
				fmt.Fprintln(std.out, res.Matches)
			default:
				fmt.Fprintf(std.out, "%d of %d samples match\n", res.Matches, res.Samples)
			}
			return nil
		},
	}
}

// openArg opens the dataset named by the command's single DIR argument.
func openArg(ctx context.Context, cmd *cli.Command) (*pipeline.Dataset, error) {
	dir, err := dirArg(cmd)
	if err != nil {
		return nil, err
	}
	return pipeline.OpenContext(ctx, dir)
}
