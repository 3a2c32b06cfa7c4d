package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/pipeline"
)

func inspectCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe a dataset: tables, embedding models, annotations, tags",
		ArgsUsage: "DIR",
		Description: `Reads only table footers, annotation labels and tags, so it is quick
even on large datasets. Example:

   winnow inspect testdata/mnist
   winnow inspect --json testdata/mnist | jq .models`,
		Flags: []cli.Flag{jsonFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, err := dirArg(cmd)
			if err != nil {
				return err
			}
			// A damaged optional table is shown in its row and fails the
			// command after the rest is printed.
			r, err := pipeline.InspectDir(ctx, dir)
			if r == nil {
				return err
			}
			if cmd.Bool("json") {
				if perr := printJSON(std.out, r); perr != nil {
					return perr
				}
				return err
			}
			printReport(std.out, r)
			return err
		},
	}
}

func printReport(w io.Writer, r *pipeline.Report) {
	fmt.Fprintf(w, "dataset %s: %d samples\n\n", r.Dir, r.Samples)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tPARTS\tSIZE\tCOLUMNS")
	for _, t := range r.Tables {
		if t.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\terror: %s\n", t.Name, oneLine(t.Error))
			continue
		}
		cols := ""
		for i, c := range t.Columns {
			if i > 0 {
				cols += ", "
			}
			cols += c.Name + " " + c.Type
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", t.Name, t.Rows, t.Parts, humanBytes(t.Bytes), cols)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(r.Models) == 0 {
		fmt.Fprintln(w, "embedding models: none")
	} else {
		fmt.Fprintln(tw, "MODEL\tDIM\tVECTORS\tCOVERAGE")
		for _, m := range r.Models {
			if m.Error != "" {
				fmt.Fprintf(tw, "%s\t-\t-\t-\terror: %s\n", m.Name, oneLine(m.Error))
				continue
			}
			dim := fmt.Sprint(m.Dim)
			if m.Dim == 0 {
				dim = "none"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f%%\n", m.Name, dim, m.Vectors, 100*m.Coverage)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	switch {
	case r.Annotations == nil:
		fmt.Fprintln(w, "annotations: none")
	case r.Annotations.Error != "":
		fmt.Fprintf(w, "annotations: error: %s\n", oneLine(r.Annotations.Error))
	default:
		a := r.Annotations
		fmt.Fprintf(w, "annotations: %d\n", a.Rows)
		if len(a.Sources) > 0 {
			fmt.Fprintf(w, "  sources: %s\n", counts(a.Sources, 10))
		}
		fmt.Fprintf(w, "  labels (%d): %s\n", len(a.Labels), counts(a.Labels, 20))
	}
	fmt.Fprintln(w)
	for _, t := range r.Tables {
		if t.Name == "tags" && t.Error != "" {
			fmt.Fprintln(w, "tags: unreadable (the tags table's error is above)")
			return
		}
	}
	if len(r.Tags) == 0 {
		fmt.Fprintln(w, "tags: none")
		return
	}
	fmt.Fprintln(tw, "TAG\tSAMPLES")
	for _, t := range r.Tags {
		fmt.Fprintf(tw, "%s\t%d\n", t.Name, t.Samples)
	}
	tw.Flush()
}

// counts lists values with their counts, the most frequent first. The
// null entry reads (null); a value that could be mistaken for it or for
// the list's punctuation (empty, "(null)", spaces, commas) is quoted.
func counts(cs []pipeline.ValueCount, most int) string {
	s := ""
	for i, c := range cs {
		if i == most {
			s += fmt.Sprintf(", … %d more", len(cs)-most)
			break
		}
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", valueText(c), c.Count)
	}
	return s
}

func valueText(c pipeline.ValueCount) string {
	if c.Null {
		return "(null)"
	}
	v := c.Value
	if v == "" || strings.HasPrefix(v, "(") || strings.HasPrefix(v, "\"") || strings.ContainsAny(v, " ,\t\n…") || !strconv.CanBackquote(v) {
		return strconv.Quote(v)
	}
	return v
}

// oneLine keeps a table's error on its row: later lines (rare) follow
// after a semicolon.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
