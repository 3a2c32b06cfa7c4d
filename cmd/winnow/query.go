package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"winnow/pipeline"
)

func queryCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "count, list or tag the samples matching an expression",
		ArgsUsage: "DIR",
		Description: `The expression language (see shared/spec/query.md):

   width < 256 and weather in ("rain", "snow")
   file_path startswith "s3://bucket/cam2/" or difficulty is null
   tagged("reviewed") and not annotation(label == "cat" and confidence > 0.5)
   count(annotation(label == "person")) >= 3

Examples:

   winnow query testdata/mnist --where 'thickness == "bold"'
   winnow query testdata/mnist --where 'annotation(label == "7")' --ids
   winnow query /tmp/mnist --where 'ink_fraction > 0.2' --tag inky   # on a copy: cp -r testdata/mnist /tmp/mnist`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "where", Usage: "the predicate `EXPR` (default: every sample)"},
			&cli.BoolFlag{Name: "count", Usage: "print only the number of matches"},
			&cli.BoolFlag{Name: "ids", Usage: "print the matching sample ids, one per line"},
			&cli.StringFlag{Name: "tag", Usage: "store the matches as the new tag `NAME`"},
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
			ds, err := openArg(ctx, cmd)
			if err != nil {
				return err
			}
			q, err := whereQuery(ds, cmd)
			if err != nil {
				return err
			}
			switch {
			case cmd.IsSet("tag"):
				n, err := q.AddTag(ctx, cmd.String("tag"))
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "added tag %q with %d samples\n", cmd.String("tag"), n)
			case cmd.Bool("ids"):
				ids, err := q.IDs(ctx)
				if err != nil {
					return err
				}
				for _, id := range ids {
					fmt.Fprintln(std.out, id)
				}
			default:
				n, err := q.Count(ctx)
				if err != nil {
					return err
				}
				if cmd.Bool("count") {
					fmt.Fprintln(std.out, n)
					return nil
				}
				fmt.Fprintf(std.out, "%d of %d samples match\n", n, ds.Len())
			}
			return nil
		},
	}
}

// whereQuery is the dataset's query narrowed by the command's --where.
func whereQuery(ds *pipeline.Dataset, cmd *cli.Command) (*pipeline.Query, error) {
	if w := cmd.String("where"); w != "" {
		return ds.Query().Where(w)
	}
	return ds.Query(), nil
}
