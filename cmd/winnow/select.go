package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"winnow/pipeline"
)

// Flags shared by every select subcommand.
func commonSelectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "n", Usage: "number of new samples to select (at least 1)"},
		&cli.StringFlag{Name: "tag", Usage: "store the result as this new `TAG`"},
		&cli.StringFlag{Name: "where", Usage: "choose only among samples matching `EXPR`, e.g. 'width < 256 and not tagged(\"reviewed\")'"},
		&cli.StringFlag{Name: "preselected", Usage: "samples of `TAG` count as already selected (and stay in the result)"},
		&cli.BoolFlag{Name: "drop-missing", Usage: "skip candidates without an embedding instead of failing"},
		&cli.BoolFlag{Name: "dry-run", Usage: "select and print the summary, write nothing"},
		&cli.IntFlag{Name: "workers", Usage: "goroutines to use (0: all cores); picks never depend on it"},
		&cli.StringFlag{Name: "report", Usage: "also write the selection's HTML report to `FILE` (see winnow report)"},
		jsonFlag,
	}
}

var (
	modelFlag    = &cli.StringFlag{Name: "model", Usage: "embedding `MODEL` (default: the dataset's only model)"}
	strengthFlag = &cli.FloatFlag{Name: "strength", Value: 1, Usage: "strength of the strategy (only matters combined with others; negative inverts)"}
	keyFlag      = &cli.StringFlag{Name: "metadata-key", Usage: "metadata `COLUMN` of the samples table"}
	targetFlag   = &cli.StringFlag{Name: "target", Value: "uniform", Usage: "class target: uniform, input, or ratios like 'cat=0.5,dog=0.3'"}
	sourceFlag   = &cli.StringFlag{Name: "source", Usage: "count only annotations of this `SOURCE` (e.g. ground_truth)"}
)

func selectCommand(std stdio) *cli.Command {
	one := func(name, usage, desc string, flags []cli.Flag, build func(*cli.Command) (pipeline.Strategy, error)) *cli.Command {
		return &cli.Command{
			Name:        name,
			Usage:       usage,
			ArgsUsage:   "DIR",
			Description: desc,
			Flags:       append(commonSelectFlags(), flags...),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				s, err := build(cmd)
				if err != nil {
					return err
				}
				return runSelect(ctx, cmd, std, []pipeline.Strategy{s}, 0, "")
			},
		}
	}
	strength := func(cmd *cli.Command) *float64 { return pipeline.Strength(cmd.Float("strength")) }
	target := func(cmd *cli.Command) (pipeline.Target, error) {
		t, err := pipeline.ParseTarget(cmd.String("target"))
		if err != nil {
			return t, usageError{err}
		}
		return t, nil
	}
	required := func(cmd *cli.Command, flag string) (string, error) {
		v := cmd.String(flag)
		if v == "" {
			return "", usagef("%s needs --%s", cmd.Name, flag)
		}
		return v, nil
	}
	return &cli.Command{
		Name:  "select",
		Usage: "select samples with one strategy, or several combined (multi)",
		Description: `Every select command chooses --n new samples among the candidates (all
samples, or those matching --where), stores them as the new --tag, and
writes a record of every pick to selections/TAG.parquet.

   winnow select diverse testdata/mnist --n 100 --tag diverse-100
   winnow select balanced testdata/mnist --n 50 --tag even --target uniform
   winnow select multi testdata/mnist --n 100 --tag mix \
       --strategy diversity --strategy 'balance:target=uniform'`,
		Commands: []*cli.Command{
			one("diverse", "samples far apart in embedding space (greedy k-center)",
				"Picks each next sample as far as possible from those already selected.",
				[]cli.Flag{modelFlag, strengthFlag},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					return pipeline.EmbeddingDiversity{Model: cmd.String("model"), Strength: strength(cmd)}, nil
				}),
			one("dedup", "diverse samples, none closer than --min-distance to another",
				"Like diverse, but a sample closer than --min-distance to a selected one is never picked,\nso the run may select fewer than --n.",
				[]cli.Flag{modelFlag, strengthFlag, &cli.FloatFlag{Name: "min-distance", Value: math.NaN(), Usage: "minimum Euclidean distance `D` between selected samples"}},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					d := cmd.Float("min-distance")
					if math.IsNaN(d) {
						return nil, usagef("dedup needs --min-distance")
					}
					return pipeline.Deduplication{Model: cmd.String("model"), MinDistance: d, Strength: strength(cmd)}, nil
				}),
			one("weighted", "samples with the largest values of a numeric metadata column",
				"Alone it returns the top --n by --metadata-key; combined, it weights the other strategies.",
				[]cli.Flag{keyFlag, strengthFlag},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					k, err := required(cmd, "metadata-key")
					return pipeline.MetadataWeighting{Key: k, Strength: strength(cmd)}, err
				}),
			one("balanced", "samples whose annotation labels follow a target distribution",
				"Counts annotation labels per sample (only --source's, when given) and steers the\nselection's label counts toward --target.",
				[]cli.Flag{targetFlag, sourceFlag, strengthFlag},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					t, err := target(cmd)
					return pipeline.AnnotationBalancing{Target: t, Source: cmd.String("source"), Strength: strength(cmd)}, err
				}),
			one("metadata-balanced", "samples whose categorical metadata values follow a target",
				"Steers the values of --metadata-key (string, boolean or integer) toward --target.",
				[]cli.Flag{keyFlag, targetFlag, strengthFlag},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					k, err := required(cmd, "metadata-key")
					if err != nil {
						return nil, err
					}
					t, err := target(cmd)
					return pipeline.MetadataBalancing{Key: k, Target: t, Strength: strength(cmd)}, err
				}),
			one("similar", "samples close to those of a query tag",
				"Prefers samples near the samples tagged --query-tag (negative --strength: far from them).",
				[]cli.Flag{modelFlag, strengthFlag, &cli.StringFlag{Name: "query-tag", Usage: "`TAG` whose samples are the query"}},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					q, err := required(cmd, "query-tag")
					return pipeline.Similarity{QueryTag: q, Model: cmd.String("model"), Strength: strength(cmd)}, err
				}),
			one("typical", "samples in dense regions of the embedding space",
				"Scores each candidate by its closeness to its 20 nearest neighbours.",
				[]cli.Flag{modelFlag, strengthFlag},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					return pipeline.Typicality{Model: cmd.String("model"), Strength: strength(cmd)}, nil
				}),
			one("outliers", "samples in sparse regions of the embedding space",
				"Typicality inverted: prefers candidates far from their nearest neighbours.",
				[]cli.Flag{modelFlag, strengthFlag},
				func(cmd *cli.Command) (pipeline.Strategy, error) {
					return pipeline.Outliers{Model: cmd.String("model"), Strength: strength(cmd)}, nil
				}),
			multiCommand(std),
		},
	}
}

func multiCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "multi",
		Usage:     "combine several strategies, from a LightlyStudio-style JSON config or --strategy flags",
		ArgsUsage: "DIR",
		Description: `The config file uses LightlyStudio's sampling request format:

   {"n_samples_to_select": 100, "sampling_result_tag_name": "mix",
    "strategies": [
      {"strategy_name": "diversity", "embedding_model_name": "pixels", "strength": 1.0},
      {"strategy_name": "balance", "target_distribution": "uniform", "annotation_source": "ground_truth"},
      {"strategy_name": "weights", "metadata_key": "ink_fraction", "strength": 0.5}]}

Strategy names: diversity, deduplication, weights, balance, metadata_balance,
similarity, typicality, outliers. --n and --tag override the file's values.
The same strategies as flags (repeat --strategy):

   --strategy 'diversity:model=pixels' --strategy 'balance:target=uniform,source=ground_truth'
   --strategy 'weights:key=ink_fraction,strength=0.5'`,
		Flags: append(commonSelectFlags(),
			&cli.StringFlag{Name: "config", Usage: "JSON request `FILE` (- for stdin)"},
			&cli.StringSliceFlag{Name: "strategy", Usage: "one strategy as NAME:key=value,... (repeatable)"},
		),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			var list []pipeline.Strategy
			n, tag := 0, ""
			if path := cmd.String("config"); path != "" {
				data, err := readInput(path, std.in)
				if err != nil {
					return err
				}
				req, err := pipeline.ParseRequest(data)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				list, n, tag = req.Strategies, req.N, req.Tag
			}
			for _, text := range cmd.StringSlice("strategy") {
				s, err := pipeline.ParseStrategy(text)
				if err != nil {
					return usageError{err}
				}
				list = append(list, s)
			}
			if len(list) == 0 {
				return usagef("multi needs --config FILE or at least one --strategy")
			}
			return runSelect(ctx, cmd, std, list, n, tag)
		},
	}
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// runSelect runs a selection with the common flags; n and tag from a
// config file apply when the flags are not given.
func runSelect(ctx context.Context, cmd *cli.Command, std stdio, list []pipeline.Strategy, n int, tag string) error {
	dir, err := dirArg(cmd)
	if err != nil {
		return err
	}
	if w := cmd.Int("workers"); w < 0 {
		return usagef("--workers must be 0 (all cores) or more, got %d", w)
	}
	if cmd.IsSet("n") {
		n = int(cmd.Int("n"))
	}
	if cmd.String("tag") != "" {
		tag = cmd.String("tag")
	}
	if !cmd.IsSet("n") && n == 0 {
		return usagef("%s needs --n, the number of samples to select", cmd.Name)
	}
	if tag == "" {
		return usagef("%s needs --tag, the name of the new tag", cmd.Name)
	}
	if cmd.String("report") != "" && cmd.Bool("dry-run") {
		return usagef("--report reads the stored selection; it cannot be combined with --dry-run")
	}
	ds, err := pipeline.OpenContext(ctx, dir)
	if err != nil {
		return err
	}
	q, err := whereQuery(ds, cmd)
	if err != nil {
		return err
	}
	sel, err := q.SelectionContext(ctx)
	if err != nil {
		return err
	}
	sel.Options = pipeline.Options{
		Preselected: cmd.String("preselected"),
		DropMissing: cmd.Bool("drop-missing"),
		DryRun:      cmd.Bool("dry-run"),
		Workers:     int(cmd.Int("workers")),
		Hook:        testHook(),
	}
	if isTerminal(std.err) {
		p := newProgress(std.err, "selecting")
		sel.Options.Progress = p.update
		defer p.done()
	}
	start := time.Now()
	res, err := sel.MultiStrategies(ctx, n, tag, list)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	for _, w := range res.Warnings {
		fmt.Fprintf(std.err, "warning: %s\n", w)
	}
	if cmd.Bool("json") {
		err = printJSON(std.out, res)
	} else {
		printResult(std.out, res)
	}
	if path := cmd.String("report"); path != "" && err == nil {
		if err := writeReport(ctx, stdio{out: std.err, err: std.err}, dir, res.Tag, "html", path, elapsed); err != nil {
			return fmt.Errorf("tag %q is stored, but its report failed: %w", res.Tag, err)
		}
	}
	return err
}

func printResult(w io.Writer, res *pipeline.Result) {
	verb := "selected"
	if res.DryRun {
		verb = "dry run: would select"
	}
	fmt.Fprintf(w, "%s %d of %d candidates", verb, res.Selected, res.Candidates)
	if res.Preselected > 0 {
		fmt.Fprintf(w, " (plus %d preselected)", res.Preselected)
	}
	fmt.Fprintf(w, " into tag %q\n", res.Tag)
	if res.Query != "" {
		fmt.Fprintf(w, "  candidates: %s\n", res.Query)
	}
	for _, s := range res.Strategies {
		printStrategy(w, s)
	}
	if res.Record != "" {
		fmt.Fprintf(w, "record: %s\n", res.Record)
	}
	if res.DryRun {
		fmt.Fprintln(w, "nothing was written")
	}
}

func printStrategy(w io.Writer, s pipeline.StrategyReport) {
	head := s.Name
	if s.Model != "" {
		head += " (" + s.Model + ")"
	}
	fmt.Fprintf(w, "  %s, strength %g\n", head, s.Strength)
	switch {
	case s.Coverage != nil:
		c := s.Coverage
		fmt.Fprintf(w, "    coverage radius %.4g (random subset of the same size: %.4g)", c.Selection, c.Random)
		if c.Random > 0 {
			fmt.Fprintf(w, ", %.0f%% of random", 100*c.Selection/c.Random)
		}
		fmt.Fprintf(w, "; measured over %d candidates\n", c.Measured)
	case s.Weights != nil:
		fmt.Fprintf(w, "    mean weight: candidates %.4g, selection %.4g\n", s.Weights.Candidates, s.Weights.Selection)
	case s.Balance != nil:
		b := s.Balance
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "    class\tcandidates\ttarget\tselection\t")
		for i, c := range b.Classes {
			fmt.Fprintf(tw, "    %s\t%.1f%%\t%.1f%%\t%.1f%%\t\n", c, 100*b.Candidates[i], 100*b.Target[i], 100*b.Selection[i])
		}
		tw.Flush()
	}
}

// testHook lets the crash-safety tests pause a child process at a named
// point of the tag write: WINNOW_TEST_PAUSE=POINT makes it print
// "paused POINT" on stderr and sleep, so the test can kill it there.
// WINNOW_TEST_TRACE=1 prints "at POINT" at every point, so a test that
// kills at random moments can tell where each kill landed.
func testHook() func(string) {
	point := os.Getenv("WINNOW_TEST_PAUSE")
	trace := os.Getenv("WINNOW_TEST_TRACE") != ""
	if point == "" && !trace {
		return nil
	}
	return func(p string) {
		if trace {
			fmt.Fprintf(os.Stderr, "at %s\n", p)
		}
		if p == point || point == "all" {
			fmt.Fprintf(os.Stderr, "paused %s\n", p)
			time.Sleep(time.Hour)
		}
	}
}
