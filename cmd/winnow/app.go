package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"winnow/pipeline"
)

// stdio is where a run reads and writes; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// usageError marks a mistake in how winnow was called (exit status 2), as
// opposed to a problem with the data or the request (exit status 1).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run executes winnow with args (args[0] is the program name) and returns
// the exit status.
func run(ctx context.Context, args []string, std stdio) int {
	app := newApp(std)
	err := app.Run(ctx, args)
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(std.err, "winnow: interrupted; nothing was written")
		return 130
	}
	// A message's later lines (a query error's text and caret) are
	// indented under the first, so they stay aligned and no line of
	// stderr but the first starts with "winnow:".
	lines := strings.Split(err.Error(), "\n")
	fmt.Fprintf(std.err, "winnow: %s\n", lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(std.err, "  %s\n", l)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(std.err, "Run '%s --help' for usage.\n", strings.TrimSpace("winnow "+commandPath(app, args)))
		return 2
	}
	return 1
}

// commandPath is the (sub)command named in args, for the usage hint:
// the longest run of leading words that name existing commands.
func commandPath(app *cli.Command, args []string) string {
	var words []string
	cmd := app
	for _, a := range args[1:] {
		next := cmd.Command(a)
		if next == nil {
			break
		}
		words, cmd = append(words, a), next
	}
	return strings.Join(words, " ")
}

func newApp(std stdio) *cli.Command {
	onUsage := func(ctx context.Context, cmd *cli.Command, err error, isSub bool) error {
		return usageError{err}
	}
	app := &cli.Command{
		Name:  "winnow",
		Usage: "pick the samples worth labelling from large ML datasets",
		Description: `winnow reads a dataset folder of Parquet tables (samples.parquet,
embeddings/MODEL.parquet, annotations.parquet, tags.parquet), narrows it
with a query (--where), selects a subset that is diverse, weighted,
balanced or deduplicated, and stores the result as a tag.

Start with:   winnow inspect testdata/mnist
Then select:  winnow select diverse testdata/mnist --n 100 --tag diverse-100`,
		Version:      pipeline.Version,
		Reader:       std.in,
		Writer:       std.out,
		ErrWriter:    std.err,
		OnUsageError: onUsage,
		// Errors are printed once, by run, with the right exit status.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		CommandNotFound: func(ctx context.Context, cmd *cli.Command, name string) {
			fmt.Fprintf(std.err, "winnow: unknown command %q\n", name)
		},
		Commands: []*cli.Command{
			inspectCommand(std),
			tagsCommand(std),
			queryCommand(std),
			selectCommand(std),
			reportCommand(std),
		},
	}
	app.Action = func(ctx context.Context, cmd *cli.Command) error {
		if cmd.Args().Len() > 0 {
			return usagef("unknown command %q", cmd.Args().First())
		}
		return cli.ShowRootCommandHelp(cmd)
	}
	setUsage(app, onUsage)
	return app
}

// groupAction is the action of a command that only holds subcommands:
// help when called bare, a usage error naming the choices otherwise.
func groupAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() == 0 {
		return cli.ShowSubcommandHelp(cmd)
	}
	var names []string
	for _, c := range cmd.Commands {
		if !c.Hidden && c.Name != "help" {
			names = append(names, c.Name)
		}
	}
	return usagef("unknown %s command %q; use one of %s", cmd.Name, cmd.Args().First(), strings.Join(names, ", "))
}

// setUsage makes every subcommand report flag errors as usage errors, and
// keeps repeated flags whole: --strategy values hold commas of their own.
func setUsage(cmd *cli.Command, f cli.OnUsageErrorFunc) {
	for _, c := range cmd.Commands {
		c.OnUsageError = f
		c.DisableSliceFlagSeparator = true
		if c.Action == nil && len(c.Commands) > 0 {
			c.Action = groupAction
		}
		setUsage(c, f)
	}
}

// dirArg returns the single DIR argument of a command.
func dirArg(cmd *cli.Command) (string, error) {
	switch cmd.Args().Len() {
	case 0:
		return "", usagef("%s needs a dataset folder: %s DIR", cmd.Name, cmd.FullName())
	case 1:
		return cmd.Args().First(), nil
	}
	return "", usagef("%s takes one dataset folder, got %d arguments: %s", cmd.Name, cmd.Args().Len(), strings.Join(cmd.Args().Slice(), " "))
}

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON on stdout"}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is an interactive terminal, so progress
// bars stay out of logs and pipes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
