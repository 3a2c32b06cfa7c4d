package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/winnow-data/winnow/pipeline"
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

// jsonError is how an error reads on stderr under --json.
type jsonError struct {
	Error      string `json:"error"`
	ExitStatus int    `json:"exit_status"`
	// Help is the command that explains the usage, for usage errors.
	Help string `json:"help,omitempty"`
}

// run executes winnow with args (args[0] is the program name) and returns
// the exit status.
func run(ctx context.Context, args []string, std stdio) int {
	app := newApp(std)
	err := app.Run(ctx, args)
	if err == nil {
		return 0
	}
	code, msg, help := 1, err.Error()+flagHint(err, commandAt(app, args)), ""
	var ue usageError
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		code, msg = 130, "interrupted; nothing was written"
	case errors.As(err, &ue):
		code = 2
		help = strings.TrimSpace("winnow "+commandPath(app, args)) + " --help"
	}
	if jsonRequested(args) {
		enc := json.NewEncoder(std.err)
		enc.Encode(jsonError{Error: msg, ExitStatus: code, Help: help})
		return code
	}
	// A message's later lines (a query error's text and caret) are
	// indented under the first, so they stay aligned and no line of
	// stderr but the first starts with "winnow:".
	lines := strings.Split(msg, "\n")
	fmt.Fprintf(std.err, "winnow: %s\n", lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(std.err, "  %s\n", l)
	}
	if help != "" {
		fmt.Fprintf(std.err, "Run '%s' for usage.\n", help)
	}
	return code
}

// jsonRequested reports whether args ask for JSON output (--json before
// any "--"), so that even a usage error is written as JSON.
func jsonRequested(args []string) bool {
	for _, a := range args[1:] {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// flagHint is what the CLI adds to an error of the Go API, whose messages
// speak the API's terms: the flag of cmd (the command that failed) that
// fixes it.
func flagHint(err error, cmd *cli.Command) string {
	var amb *pipeline.AmbiguousModelError
	var miss *pipeline.MissingEmbeddingsError
	var pred *pipeline.PredictionError
	switch {
	case errors.As(err, &amb):
		return " with --model"
	case errors.As(err, &miss), errors.As(err, &pred):
		return "; use --drop-missing to skip them"
	case errors.Is(err, pipeline.ErrTagExists) && hasFlag(cmd, "replace"):
		return " (or overwrite it with --replace)"
	}
	return ""
}

func hasFlag(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
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

// commandAt is the command that commandPath names.
func commandAt(app *cli.Command, args []string) *cli.Command {
	cmd := app
	for _, a := range args[1:] {
		next := cmd.Command(a)
		if next == nil {
			break
		}
		cmd = next
	}
	return cmd
}

// version is winnow's version with the commit it was built from, as the
// Go toolchain stamps it (go build in a git checkout; go install of a
// module version records that version instead).
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	v := pipeline.Version
	if bi == nil {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	switch {
	case rev != "":
		v += " (commit " + rev
		if modified == "true" {
			v += ", with uncommitted changes"
		}
		v += ")"
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		v += " (module " + bi.Main.Path + " " + bi.Main.Version + ")"
	default:
		v += " (commit unknown: built without version control information)"
	}
	return v + ", " + bi.GoVersion
}

const rootDescription = `winnow reads a dataset folder of Parquet tables (samples.parquet,
embeddings/MODEL.parquet, annotations.parquet, tags.parquet), narrows it
with a query (--where), selects a subset that is diverse, weighted,
balanced or deduplicated, and stores the result as a tag with a record of
every pick. Reference: docs/selection.md, docs/datasets.md, docs/query.md
and docs/configs.md in the repository.

Examples, on a copy of the bundled dataset (a selection writes a tag into
the dataset folder, so leave the checkout's testdata/ as it is):

   cp -r testdata/mnist /tmp/mnist
   winnow inspect /tmp/mnist
   winnow select diverse /tmp/mnist --n 100 --tag diverse-100
   winnow tags show /tmp/mnist diverse-100`

func newApp(std stdio) *cli.Command {
	onUsage := func(ctx context.Context, cmd *cli.Command, err error, isSub bool) error {
		return usageError{plainFlagError(err)}
	}
	app := &cli.Command{
		Name:         "winnow",
		Usage:        "pick the samples worth labelling from large ML datasets",
		Description:  rootDescription,
		Version:      version(),
		Reader:       std.in,
		Writer:       std.out,
		ErrWriter:    std.err,
		OnUsageError: onUsage,
		// Errors are printed once, by run, with the right exit status.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		CommandNotFound: func(ctx context.Context, cmd *cli.Command, name string) {
			fmt.Fprintf(std.err, "winnow: unknown command %q\n", name)
		},
		EnableShellCompletion: true,
		ConfigureShellCompletionCommand: func(c *cli.Command) {
			c.Hidden = false
			c.Usage = "print a shell completion script for bash, zsh, fish or pwsh"
			c.Description = `Prints a script that makes the shell complete winnow's commands and
flags. Examples:

   source <(winnow completion bash)                      # in ~/.bashrc
   source <(winnow completion zsh)                       # in ~/.zshrc
   winnow completion fish > ~/.config/fish/completions/winnow.fish`
			for _, sh := range c.Commands {
				sh.Description = fmt.Sprintf("Example:\n\n   winnow completion %s", sh.Name)
				sh.OnUsageError = onUsage
			}
			c.OnUsageError = onUsage
			c.Action = groupAction
		},
		Commands: []*cli.Command{
			inspectCommand(std),
			initCommand(std),
			tagsCommand(std),
			queryCommand(std),
			selectCommand(std),
			importCommand(std),
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

// duplicateFlag matches urfave/cli's error for a flag given twice.
var duplicateFlag = regexp.MustCompile(`for flag -{1,2}([A-Za-z0-9-]+): can't duplicate this flag`)

// plainFlagError rewords the flag parser's errors that would puzzle: a
// flag given twice (the parser would otherwise keep the last value).
func plainFlagError(err error) error {
	if m := duplicateFlag.FindStringSubmatch(err.Error()); m != nil {
		if m[1] == "where" {
			return fmt.Errorf("--where is given more than once; give one predicate (join conditions with and), or put a long one in a file (--where-file FILE)")
		}
		return fmt.Errorf("--%s is given more than once; give it once", m[1])
	}
	return err
}

// groupAction is the action of a command that only holds subcommands: it
// needs one, so a bare call is a usage error naming the choices.
func groupAction(ctx context.Context, cmd *cli.Command) error {
	var names []string
	for _, c := range cmd.Commands {
		if !c.Hidden && c.Name != "help" {
			names = append(names, c.Name)
		}
	}
	if cmd.Args().Len() == 0 {
		return usagef("%s needs a command: %s COMMAND, one of %s", cmd.Name, cmd.FullName(), strings.Join(names, ", "))
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

// jsonFlag is --json. Flags are made afresh for every command: a flag
// value counts how often it was set.
func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON on stdout (errors as JSON on stderr)"}
}

// printJSON writes v as indented JSON. Every JSON output of winnow uses
// snake_case keys and plain numbers.
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
