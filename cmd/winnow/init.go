package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/internal/atomicfile"
	"github.com/winnow-data/winnow/pipeline"
)

func initCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a manifest (winnow.yaml) mapping a folder's tables to winnow's roles",
		ArgsUsage: "DIR",
		Description: `Inspects the Parquet tables in DIR (files, folders of parts, partitioned
folders, embeddings/), guesses which is the samples table and its id
column, which columns hold vectors, which table holds annotations and its
label, box and confidence columns, and writes DIR/winnow.yaml. It prints
every guess and why; edit the file where a guess is wrong. It checks that
the manifest opens before writing it. Examples:

   winnow init /data/lake
   winnow init /data/lake --print     # show the manifest, write nothing`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "replace an existing winnow.yaml"},
			&cli.BoolFlag{Name: "print", Usage: "print the manifest on stdout instead of writing it"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, err := dirArg(cmd)
			if err != nil {
				return err
			}
			path := filepath.Join(dir, "winnow.yaml")
			if _, err := os.Stat(path); err == nil && !cmd.Bool("force") && !cmd.Bool("print") {
				return fmt.Errorf("%s exists; use --force to replace it", path)
			}
			text, guesses, err := pipeline.GuessManifest(ctx, dir)
			if err != nil {
				return err
			}
			if cmd.Bool("print") {
				_, err := std.out.Write(text)
				return err
			}
			tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ENTRY\tVALUE\tWHY")
			for _, g := range guesses {
				key := g.Key
				if key == "" {
					key = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", key, g.Value, g.Why)
			}
			tw.Flush()
			err = atomicfile.WriteFile(path, func(f *os.File) error {
				_, err := f.Write(text)
				return err
			}, atomicfile.Options{})
			if err != nil {
				return err
			}
			fmt.Fprintf(std.out, "wrote %s\n", path)
			return nil
		},
	}
}
