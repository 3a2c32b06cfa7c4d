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

	"github.com/winnow-data/winnow/pipeline"
	"github.com/winnow-data/winnow/tags"
)

// twoArgs returns the two arguments of a command, DIR and NAME, or a
// usage error showing the command's form.
func twoArgs(cmd *cli.Command, form string) (string, string, error) {
	if cmd.Args().Len() != 2 {
		return "", "", usagef("%s needs %s: %s %s", cmd.Name, form, cmd.FullName(), form)
	}
	return cmd.Args().Get(0), cmd.Args().Get(1), nil
}

func tagsCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:  "tags",
		Usage: "list, show, export, add, delete and rename tags",
		Description: `A tag is a set of samples, stored as a boolean column of tags.parquet;
a tag made by winnow select also has a selection record. Every change is
one crash-safe commit of the tags table and the records together.
Examples:

   winnow tags list testdata/mnist
   winnow tags show /tmp/mnist diverse-100 --picks 20
   winnow tags rename /tmp/mnist diverse-100 round-1`,
		Commands: []*cli.Command{
			tagsListCommand(std),
			tagsShowCommand(std),
			tagsExportCommand(std),
			tagsAddCommand(std),
			tagsDeleteCommand(std),
			tagsRenameCommand(std),
		},
	}
}

func tagsListCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "list the dataset's tags with their sizes",
		ArgsUsage: "DIR",
		Description: `Example:

   winnow tags list /tmp/mnist --json`,
		Flags: []cli.Flag{jsonFlag()},
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
	}
}

// shownRecord is tags show's --json output: the record with the first
// --picks picks.
type shownRecord struct {
	*pipeline.Record
	PicksTotal int `json:"picks_total"` // picks in the record; "picks" holds the first --picks
}

func tagsShowCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "summarise how a selection tag was made, from its selection record",
		ArgsUsage: "DIR TAG",
		Description: `Prints the request, what each strategy achieved, and the first --picks
picks with their rank, combined score and each strategy's objective.
--sample ID explains one sample instead: its rank, score and objectives
if it was picked, or what kept it out (not a candidate of the query, or
ranked below the cut). Examples:

   winnow tags show /tmp/mnist diverse-100
   winnow tags show /tmp/mnist diverse-100 --picks 0 --json
   winnow tags show /tmp/mnist diverse-100 --sample 2e9b6a5c-...`,
		Flags: []cli.Flag{
			jsonFlag(),
			&cli.IntFlag{Name: "picks", Value: 10, OnlyOnce: true, Usage: "show the first `K` picks (0: none)"},
			&cli.StringFlag{Name: "sample", OnlyOnce: true, Usage: "explain the sample with this `ID` instead"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, tag, err := twoArgs(cmd, "DIR and TAG")
			if err != nil {
				return err
			}
			k := int(cmd.Int("picks"))
			if k < 0 {
				return usagef("--picks must be 0 or more, got %d", k)
			}
			ds, err := pipeline.OpenContext(ctx, dir)
			if err != nil {
				return err
			}
			if id := cmd.String("sample"); id != "" {
				ex, err := ds.ExplainSample(ctx, tag, id)
				if err != nil {
					return err
				}
				if cmd.Bool("json") {
					return printJSON(std.out, ex)
				}
				printExplanation(std.out, ex)
				return nil
			}
			rec, err := ds.ReadRecord(ctx, tag)
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				out := shownRecord{Record: rec, PicksTotal: len(rec.Picks)}
				shown := *rec
				shown.Picks = rec.Picks[:min(k, len(rec.Picks))]
				if shown.Picks == nil {
					shown.Picks = []pipeline.Pick{}
				}
				out.Record = &shown
				return printJSON(std.out, out)
			}
			printRecord(std.out, rec, k)
			return nil
		},
	}
}

func tagsExportCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the samples of a tag as ids, CSV, JSON or Parquet",
		ArgsUsage: "DIR TAG",
		Description: `Formats: ids (one sample id per line), csv and json (every samples
column of the tagged samples), parquet (those rows as a Parquet table;
needs --out). Example:

   winnow tags export /tmp/mnist diverse-100 --format csv --out picks.csv`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "ids", OnlyOnce: true, Usage: "ids, csv, json or parquet"},
			&cli.StringFlag{Name: "out", OnlyOnce: true, TakesFile: true, Usage: "write to `FILE` instead of stdout (replaced atomically)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, tag, err := twoArgs(cmd, "DIR and TAG")
			if err != nil {
				return err
			}
			format := cmd.String("format")
			if !slices.Contains(pipeline.ExportFormats(), format) {
				return usagef("unknown --format %q; use one of %s", format, strings.Join(pipeline.ExportFormats(), ", "))
			}
			ds, err := pipeline.OpenContext(ctx, dir)
			if err != nil {
				return err
			}
			out := cmd.String("out")
			if out == "" {
				if format == "parquet" && isTerminal(std.out) {
					return usagef("--format parquet writes binary data: give --out FILE or redirect stdout")
				}
				return ds.ExportTag(ctx, tag, format, std.out)
			}
			return ds.ExportTagFile(ctx, tag, format, out)
		},
	}
}

func tagsAddCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "add a tag from a list of samples (ids, a CSV column, or a selection file)",
		ArgsUsage: "DIR TAG",
		Description: `Reads the samples from --ids FILE (- for stdin): one sample id per line,
or, with --column NAME, a CSV file with a header row whose column NAME
names them. --by COLUMN names samples by another samples column instead
of sample_id, such as file_name; each value must single out one sample.
--record FILE instead commits a selection file (what winnow-beam writes
from a dataset): its samples become the tag and its rows the tag's
selection record, in the same crash-safe commit as winnow select.
Examples:

   winnow tags export other-dataset reviewed | winnow tags add /tmp/mnist reviewed --ids -
   winnow tags add /tmp/mnist hard --ids review.csv --column image --by file_name
   winnow tags add /tmp/mnist diverse-beam --record picks.parquet`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ids", OnlyOnce: true, TakesFile: true, Usage: "read the samples from `FILE` (- for stdin)"},
			&cli.StringFlag{Name: "record", OnlyOnce: true, TakesFile: true, Usage: "commit the selection file `FILE` (winnow-beam's output) with its selection record"},
			&cli.StringFlag{Name: "column", OnlyOnce: true, Usage: "the file is CSV with a header; take the samples from its column `NAME`"},
			&cli.StringFlag{Name: "by", OnlyOnce: true, Usage: "the values name samples by this samples `COLUMN` (default sample_id), e.g. file_name"},
			&cli.BoolFlag{Name: "replace", Usage: "overwrite the tag if it exists, in the same crash-safe commit"},
			jsonFlag(),
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, tag, err := twoArgs(cmd, "DIR and TAG")
			if err != nil {
				return err
			}
			if (cmd.String("ids") == "") == (cmd.String("record") == "") {
				return usagef("%s needs one of --ids FILE and --record FILE", cmd.FullName())
			}
			if cmd.String("record") != "" && (cmd.String("column") != "" || cmd.String("by") != "") {
				return usagef("--record takes no --column or --by: a selection file names samples by sample_id")
			}
			ds, err := pipeline.OpenContext(ctx, dir)
			if err != nil {
				return err
			}
			if p := cmd.String("record"); p != "" {
				n, err := ds.AddTagFromRecord(ctx, tag, p, cmd.Bool("replace"))
				if err != nil {
					return err
				}
				if cmd.Bool("json") {
					return printJSON(std.out, tags.Info{Name: tag, Samples: n})
				}
				fmt.Fprintf(std.out, "added tag %q with %d samples and their selection record\n", tag, n)
				return nil
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
			list := pipeline.TagList{Column: cmd.String("column"), By: cmd.String("by")}
			n, err := ds.AddTagFromList(ctx, tag, r, list, cmd.Bool("replace"))
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				return printJSON(std.out, tags.Info{Name: tag, Samples: n})
			}
			fmt.Fprintf(std.out, "added tag %q with %d samples\n", tag, n)
			return nil
		},
	}
}

func tagsDeleteCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete a tag and its selection record",
		ArgsUsage: "DIR TAG",
		Description: `Removes the tag's column from tags.parquet and its selection record, in
one crash-safe commit. Example:

   winnow tags delete /tmp/mnist diverse-100`,
		Flags: []cli.Flag{jsonFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, tag, err := twoArgs(cmd, "DIR and TAG")
			if err != nil {
				return err
			}
			ds, err := pipeline.OpenContext(ctx, dir)
			if err != nil {
				return err
			}
			n, err := ds.DeleteTag(ctx, tag)
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				return printJSON(std.out, tags.Info{Name: tag, Samples: n})
			}
			fmt.Fprintf(std.out, "deleted tag %q (%d samples) and its selection record, if it had one\n", tag, n)
			return nil
		},
	}
}

func tagsRenameCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "rename a tag, with its selection record",
		ArgsUsage: "DIR OLD NEW",
		Description: `Renames the tag's column and its selection record, in one crash-safe
commit. NEW must be a new name, and not differ from another tag only in
case. Example:

   winnow tags rename /tmp/mnist diverse-100 round-1`,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 3 {
				return usagef("rename needs DIR, OLD and NEW: %s DIR OLD NEW", cmd.FullName())
			}
			ds, err := pipeline.OpenContext(ctx, cmd.Args().Get(0))
			if err != nil {
				return err
			}
			from, to := cmd.Args().Get(1), cmd.Args().Get(2)
			if err := ds.RenameTag(ctx, from, to); err != nil {
				return err
			}
			fmt.Fprintf(std.out, "renamed tag %q to %q\n", from, to)
			return nil
		},
	}
}

// objectiveNames heads the objective columns of a record: the objective
// each strategy scored by, with the strategy's name.
func objectiveNames(h pipeline.RecordHeader) []string {
	names := make([]string, len(h.Reports))
	for i, r := range h.Reports {
		o := r.Objective
		if o == "" { // a record written before objectives were named
			o = pipeline.ObjectiveOf(r.Name)
		}
		names[i] = fmt.Sprintf("%s (%s)", o, r.Name)
	}
	return names
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
	if rec.Missing > 0 {
		fmt.Fprintf(w, "  %d picked samples are no longer in the dataset\n", rec.Missing)
	}
	if k <= 0 || len(rec.Picks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSCORE is the combined score when picked: the sum over strategies of strength × ln(objective).")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "RANK\tSAMPLE\tSCORE\t%s\n", strings.ToUpper(strings.Join(objectiveNames(h), "\t")))
	for _, p := range rec.Picks[:min(k, len(rec.Picks))] {
		if p.Preselected {
			fmt.Fprintf(tw, "%d\t%s\tpreselected\t\n", p.Rank, p.SampleID)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s", p.Rank, p.SampleID, p.ScoreText())
		for _, o := range p.Objectives {
			fmt.Fprintf(tw, "\t%.6g", o)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(rec.Picks) > k {
		fmt.Fprintf(w, "… %d more (--picks K, or --json)\n", len(rec.Picks)-k)
	}
}

func printExplanation(w io.Writer, ex *pipeline.Explanation) {
	in := "is not in"
	if ex.InTag {
		in = "is in"
	}
	fmt.Fprintf(w, "sample %s %s tag %q: %s\n", ex.SampleID, in, ex.Tag, ex.Reason)
	if ex.Pick != nil && !ex.Pick.Preselected {
		fmt.Fprintf(w, "  score %s (the sum over strategies of strength × ln(objective))\n", ex.Pick.ScoreText())
	}
	at := ""
	if !ex.InTag {
		at = " (at the last pick)"
	}
	for _, o := range ex.Objectives {
		fmt.Fprintf(w, "  %s: %s %.6g%s\n", o.Strategy, o.Objective, o.Value, at)
	}
	for _, o := range ex.Recomputed {
		fmt.Fprintf(w, "  %s: %s %.6g (computed now)\n", o.Strategy, o.Objective, o.Value)
	}
	for _, s := range ex.NotRecomputed {
		fmt.Fprintf(w, "  %s: not recomputed (its objective depends on the run: the samples selected before, or all candidates)\n", s)
	}
}
