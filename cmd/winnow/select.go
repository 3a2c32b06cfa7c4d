package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/pipeline"
	"github.com/winnow-data/winnow/query"
)

// lowGCPercent sets Go's GC percent to 25 for a command that holds a
// large matrix, unless GOGC is set. A selection keeps one pointer-free
// matrix for its whole run, and the default of 100 lets garbage grow to
// the live heap's size before a collection: select diverse --n 1 on
// 1M × 512 peaked at 3.6 GB for a 2 GB matrix, 2.5 GB with 25; the
// collections stay cheap, as the matrix has no pointers to scan. Commands
// with a small heap (query, tags) keep the default, where 25 would make
// collections frequent (query --count at 10M rows: 0.33 s against 0.54).
func lowGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
}

// includeUnlabeledFlag keeps candidates without a class eligible for
// balancing (docs/selection.md).
func includeUnlabeledFlag() cli.Flag {
	return &cli.BoolFlag{Name: "include-unlabeled", Usage: "keep candidates without a class to count (no annotation, a null value) eligible; they are left out by default"}
}

// Flags shared by every select subcommand.
func commonSelectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "n", HideDefault: true, OnlyOnce: true, Usage: "number of new samples to select (required, at least 1)"},
		&cli.StringFlag{Name: "tag", OnlyOnce: true, Usage: "store the result as the tag `NAME` (a new name, or an existing one with --replace)"},
		&cli.BoolFlag{Name: "replace", Usage: "overwrite the tag if it exists, with its selection record, in the same crash-safe commit"},
		whereFlag(), whereFileFlag(),
		&cli.StringFlag{Name: "preselected", OnlyOnce: true, Usage: "samples of `TAG` count as already selected (and stay in the result)"},
		&cli.BoolFlag{Name: "drop-missing", Usage: "skip candidates without an embedding instead of failing"},
		&cli.BoolFlag{Name: "dry-run", Usage: "select and print the summary, write nothing"},
		&cli.IntFlag{Name: "workers", HideDefault: true, OnlyOnce: true, Usage: "goroutines to use (default 0: all cores); picks never depend on it"},
		&cli.StringFlag{Name: "precision", OnlyOnce: true, Usage: "`P`: float16 rounds float32 embeddings to float16 at load (half the memory; approximate), stored (default) keeps them"},
		&cli.StringSliceFlag{Name: "max-per-group", Usage: "at most M samples (units with --group-by) per value of `COLUMN=M`, e.g. video_id=3 (repeatable)"},
		&cli.StringFlag{Name: "exclude-near", OnlyOnce: true, Usage: "pick nothing within distance D of the samples of a tag: `TAG:D[:MODEL]`, e.g. test:0.1"},
		&cli.StringFlag{Name: "group-by", OnlyOnce: true, Usage: "select groups of samples, one per value of `COLUMN` (e.g. video_id)"},
		&cli.StringFlag{Name: "order-by", OnlyOnce: true, Usage: "order a group's samples by `COLUMN` (e.g. frame_number) for --sequence-length"},
		&cli.IntFlag{Name: "sequence-length", HideDefault: true, OnlyOnce: true, Usage: "with --group-by: select runs of `L` consecutive samples (video clips) instead of whole groups"},
		&cli.StringFlag{Name: "report", OnlyOnce: true, TakesFile: true, Usage: "also write the selection's HTML report to `FILE` (see winnow report)"},
		progressFlag(),
		jsonFlag(),
	}
}

// rulesOptions reads the constraint and group flags into opts, over what
// the config file req said.
func rulesOptions(cmd *cli.Command, req *pipeline.Request, opts *pipeline.Options) error {
	opts.MaxPerGroup = req.MaxPerGroup
	for _, text := range cmd.StringSlice("max-per-group") {
		col, m, ok := strings.Cut(text, "=")
		k, err := strconv.Atoi(strings.TrimSpace(m))
		if !ok || strings.TrimSpace(col) == "" || err != nil || k < 1 {
			return usagef("--max-per-group %q: want COLUMN=M with M a whole number >= 1, e.g. video_id=3", text)
		}
		opts.MaxPerGroup = append(opts.MaxPerGroup, pipeline.Quota{Column: strings.TrimSpace(col), Max: k})
	}
	opts.ExcludeNear = req.ExcludeNear
	if text := cmd.String("exclude-near"); text != "" {
		parts := strings.Split(text, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
			return usagef("--exclude-near %q: want TAG:D or TAG:D:MODEL, e.g. test:0.1", text)
		}
		d, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return usagef("--exclude-near %q: the distance %q is not a number", text, parts[1])
		}
		x := &pipeline.ExcludeNear{Tag: parts[0], MinDistance: d}
		if len(parts) == 3 {
			x.Model = parts[2]
		}
		opts.ExcludeNear = x
	}
	g := pipeline.Groups{By: req.GroupBy, OrderBy: req.OrderBy, SequenceLength: req.SequenceLength}
	if cmd.IsSet("group-by") {
		g.By = cmd.String("group-by")
	}
	if cmd.IsSet("order-by") {
		g.OrderBy = cmd.String("order-by")
	}
	if cmd.IsSet("sequence-length") {
		if g.SequenceLength = int(cmd.Int("sequence-length")); g.SequenceLength < 2 {
			return usagef("--sequence-length must be at least 2, got %d", g.SequenceLength)
		}
	}
	switch {
	case g.By != "":
		opts.Groups = &g
	case g.SequenceLength > 0 && !cmd.IsSet("sequence-length"):
		return fmt.Errorf("selected_sequence_length %d needs the column that groups samples into sequences: set group_by in the config or --group-by COLUMN (and order_by / --order-by COLUMN for their order)", g.SequenceLength)
	case g.SequenceLength > 0:
		return usagef("--sequence-length %d needs the column that groups samples into sequences: --group-by COLUMN (and --order-by COLUMN for their order)", g.SequenceLength)
	case g.OrderBy != "":
		return usagef("--order-by %s needs --group-by and --sequence-length", g.OrderBy)
	}
	return nil
}

func whereFlag() cli.Flag {
	return &cli.StringFlag{Name: "where", OnlyOnce: true,
		Usage: "choose only among samples matching `EXPR` (docs/query.md), e.g. 'width < 256 and not tagged(\"reviewed\")'; @FILE reads it from FILE"}
}

func whereFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "where-file", OnlyOnce: true, TakesFile: true, Usage: "read the --where predicate from `FILE` (- for stdin), for predicates too long for a shell"}
}

// neighboursFlag chooses typicality's neighbour search.
func neighboursFlag() cli.Flag {
	return &cli.StringFlag{Name: "neighbours", OnlyOnce: true,
		Usage: "nearest-neighbour search `MODE`: auto (default: exact unless estimated above a minute, then approximate with measured recall), exact or approximate"}
}

// neighbours reads --neighbours, refusing unknown modes before any work.
func neighbours(cmd *cli.Command) (string, error) {
	switch nb := cmd.String("neighbours"); nb {
	case "", "auto", "exact", "approximate":
		return nb, nil
	default:
		return "", usagef("--neighbours %q: want auto, exact or approximate", nb)
	}
}

func modelFlag() cli.Flag {
	return &cli.StringFlag{Name: "model", OnlyOnce: true, Usage: "embedding `MODEL` (default: the dataset's only model)"}
}

func strengthFlag() cli.Flag {
	return &cli.FloatFlag{Name: "strength", Value: 1, OnlyOnce: true, Usage: "strength of the strategy (only matters combined with others; negative inverts)"}
}

func keyFlag() cli.Flag {
	return &cli.StringFlag{Name: "metadata-key", OnlyOnce: true, Usage: "metadata `COLUMN` of the samples table"}
}

func targetFlag() cli.Flag {
	return &cli.StringFlag{Name: "target", Value: "uniform", OnlyOnce: true, Usage: "class target: uniform, input, or ratios like 'cat=0.5,dog=0.3'"}
}

func sourceFlag() cli.Flag {
	return &cli.StringFlag{Name: "source", OnlyOnce: true, Usage: "count only annotations of this `SOURCE` (e.g. ground_truth)"}
}

// one is a select subcommand with a single strategy. build returns the
// strategy and any condition the command adds to the candidates' query,
// with a line saying so.
type one struct {
	name, usage, desc string
	flags             []cli.Flag
	build             func(*cli.Command) (pipeline.Strategy, *narrowing, error)
}

// narrowing is a condition a command adds to the candidates' query, and
// the line of output that says so.
type narrowing struct {
	expr query.Expr
	note string
}

func selectCommand(std stdio) *cli.Command {
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
	ones := []one{
		{"diverse", "samples far apart in embedding space (greedy k-center)",
			"Picks each next sample as far as possible from those already selected.\n\nExample:\n\n   winnow select diverse /tmp/mnist --n 100 --tag diverse-100",
			[]cli.Flag{modelFlag(), strengthFlag()},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				return pipeline.EmbeddingDiversity{Model: cmd.String("model"), Strength: strength(cmd)}, nil, nil
			}},
		{"dedup", "diverse samples, none closer than --min-distance to another",
			"Like diverse, but a sample closer than --min-distance to a selected one is never picked,\nso the run may select fewer than --n.\n\nExample:\n\n   winnow select dedup /tmp/mnist --n 500 --tag distinct --min-distance 8",
			[]cli.Flag{modelFlag(), strengthFlag(), &cli.FloatFlag{Name: "min-distance", HideDefault: true, OnlyOnce: true, Usage: "minimum Euclidean distance `D` between selected samples (required)"}},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				if !cmd.IsSet("min-distance") {
					return nil, nil, usagef("dedup needs --min-distance D")
				}
				return pipeline.Deduplication{Model: cmd.String("model"), MinDistance: cmd.Float("min-distance"), Strength: strength(cmd)}, nil, nil
			}},
		{"weighted", "samples with the largest values of a numeric metadata column",
			"Alone it returns the top --n by --metadata-key; combined, it weights the other strategies.\n\nExample:\n\n   winnow select weighted /tmp/mnist --n 10 --tag inkiest --metadata-key ink_fraction",
			[]cli.Flag{keyFlag(), strengthFlag()},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				k, err := required(cmd, "metadata-key")
				return pipeline.MetadataWeighting{Key: k, Strength: strength(cmd)}, nil, err
			}},
		{"balanced", "samples whose annotation labels follow a target distribution",
			"Counts annotation labels per sample (only --source's, when given) and steers the\nselection's label counts toward --target.\n\nExample:\n\n   winnow select balanced /tmp/mnist --n 50 --tag even --target uniform --source ground_truth",
			[]cli.Flag{targetFlag(), sourceFlag(), includeUnlabeledFlag(), strengthFlag()},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				t, err := target(cmd)
				return pipeline.AnnotationBalancing{Target: t, Source: cmd.String("source"), IncludeUnlabeled: cmd.Bool("include-unlabeled"), Strength: strength(cmd)}, nil, err
			}},
		{"metadata-balanced", "samples whose categorical metadata values follow a target",
			"Steers the values of --metadata-key (string, boolean or integer) toward --target.\n\nExample:\n\n   winnow select metadata-balanced /tmp/mnist --n 30 --tag strokes --metadata-key thickness",
			[]cli.Flag{keyFlag(), targetFlag(), includeUnlabeledFlag(), strengthFlag()},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				k, err := required(cmd, "metadata-key")
				if err != nil {
					return nil, nil, err
				}
				t, err := target(cmd)
				return pipeline.MetadataBalancing{Key: k, Target: t, IncludeUnlabeled: cmd.Bool("include-unlabeled"), Strength: strength(cmd)}, nil, err
			}},
		{"similar", "samples close to those of a query tag",
			`Prefers samples near the samples tagged --query-tag (negative --strength: far from them).
The query tag's own samples are not candidates (they would come first);
--include-query-tag keeps them.

Example:

   winnow query /tmp/mnist --where 'annotation(label == "7")' --tag sevens
   winnow select similar /tmp/mnist --n 20 --tag like-sevens --query-tag sevens`,
			[]cli.Flag{modelFlag(), strengthFlag(),
				&cli.StringFlag{Name: "query-tag", OnlyOnce: true, Usage: "`TAG` whose samples are the query"},
				&cli.BoolFlag{Name: "include-query-tag", Usage: "keep the query tag's own samples among the candidates"}},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				q, err := required(cmd, "query-tag")
				if err != nil {
					return nil, nil, err
				}
				s := pipeline.Similarity{QueryTag: q, Model: cmd.String("model"), Strength: strength(cmd)}
				if cmd.Bool("include-query-tag") {
					return s, nil, nil
				}
				return s, &narrowing{expr: query.Not(query.Tagged(q)),
					note: fmt.Sprintf("the samples of the query tag %q are not candidates (--include-query-tag keeps them)", q)}, nil
			}},
		{"uncertain", "samples a model's predictions are unsure about (active learning)",
			`Scores each candidate by the uncertainty of the predictions of annotation
--source: for classification 1 - max p (--method least_confidence), 1 - the
margin of the two largest (margin) or the normalised entropy (entropy); for
object detection each object's 1 - confidence, the most uncertain object
(--aggregate max) or the mean, --empty-score for a sample without
predicted objects. Combine with diversity (select multi) for LightlyOne's
active-learning selection.

Example:

   winnow select uncertain DIR --n 100 --tag to-label --source model_v3 --method margin`,
			[]cli.Flag{strengthFlag(),
				&cli.StringFlag{Name: "source", OnlyOnce: true, Usage: "the predictions' annotation `SOURCE` (required)"},
				&cli.StringFlag{Name: "method", Value: "least_confidence", OnlyOnce: true, Usage: "least_confidence, margin or entropy (classification)"},
				&cli.StringFlag{Name: "task", OnlyOnce: true, Usage: "classification or object_detection (default: from the annotations' type)"},
				&cli.StringFlag{Name: "aggregate", Value: "max", OnlyOnce: true, Usage: "max or mean over a sample's predicted objects (detection)"},
				&cli.FloatFlag{Name: "empty-score", OnlyOnce: true, HideDefault: true, Usage: "score of a sample without predicted objects, in [0, 1] (default 0)"}},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				src, err := required(cmd, "source")
				if err != nil {
					return nil, nil, err
				}
				return pipeline.Uncertainty{Source: src, Method: cmd.String("method"), Task: cmd.String("task"),
					Aggregate: cmd.String("aggregate"), EmptyScore: cmd.Float("empty-score"), Strength: strength(cmd)}, nil, nil
			}},
		{"typical", "samples in dense regions of the embedding space",
			"Scores each candidate by its closeness to its 20 nearest neighbours.\n\nExample:\n\n   winnow select typical /tmp/mnist --n 10 --tag typical",
			[]cli.Flag{modelFlag(), strengthFlag(), neighboursFlag()},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				nb, err := neighbours(cmd)
				return pipeline.Typicality{Model: cmd.String("model"), Strength: strength(cmd), Neighbours: nb}, nil, err
			}},
		{"outliers", "samples in sparse regions of the embedding space",
			"Typicality inverted: prefers candidates far from their nearest neighbours.\n\nExample:\n\n   winnow select outliers /tmp/mnist --n 10 --tag odd-ones",
			[]cli.Flag{modelFlag(), strengthFlag(), neighboursFlag()},
			func(cmd *cli.Command) (pipeline.Strategy, *narrowing, error) {
				nb, err := neighbours(cmd)
				return pipeline.Outliers{Model: cmd.String("model"), Strength: strength(cmd), Neighbours: nb}, nil, err
			}},
	}
	var cmds []*cli.Command
	for _, o := range ones {
		cmds = append(cmds, &cli.Command{
			Name:        o.name,
			Usage:       o.usage,
			ArgsUsage:   "DIR",
			Description: o.desc,
			Flags:       append(commonSelectFlags(), o.flags...),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				s, nar, err := o.build(cmd)
				if err != nil {
					return err
				}
				return runSelect(ctx, cmd, std, []pipeline.Strategy{s}, &pipeline.Request{}, nar)
			},
		})
	}
	return &cli.Command{
		Name:  "select",
		Usage: "select samples with one strategy, or several combined (multi)",
		Description: `Every select command chooses --n new samples among the candidates (all
samples, or those matching --where), stores them as --tag, and writes a
record of every pick to selections/TAG.parquet (see winnow tags show).
The selection semantics are in docs/selection.md. Examples, on a copy of
the bundled dataset (cp -r testdata/mnist /tmp/mnist):

   winnow select diverse /tmp/mnist --n 100 --tag diverse-100
   winnow select balanced /tmp/mnist --n 50 --tag even --target uniform
   winnow select multi /tmp/mnist --n 100 --tag mix \
       --strategy diversity --strategy 'balance:target=uniform'`,
		Commands: append(cmds, multiCommand(std)),
	}
}

// strategyTable lists every strategy kind with its --strategy keys, for
// the multi command's help.
func strategyTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, s := range pipeline.Strategies() {
		var keys []string
		for _, f := range s.Fields {
			keys = append(keys, f.Key)
		}
		fmt.Fprintf(tw, "   %s\t%s\t(keys: %s)\n", s.Name, s.Help, strings.Join(keys, ", "))
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// strategyKeys lists the strategy names and their keys on one line, for
// the --strategy flag's usage.
func strategyKeys() string {
	var parts []string
	for _, s := range pipeline.Strategies() {
		var keys []string
		for _, f := range s.Fields {
			keys = append(keys, f.Key)
		}
		parts = append(parts, s.Name+" ("+strings.Join(keys, ", ")+")")
	}
	return strings.Join(parts, "; ")
}

func multiCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "multi",
		Usage:     "combine several strategies, from a LightlyStudio config or --strategy flags",
		ArgsUsage: "DIR",
		Description: `A config file in LightlyStudio's formats (its Python SelectionConfig or
SamplingConfig, or the body of its REST sampling request; docs/configs.md
and the examples in docs/examples/):

   {"n_samples_to_select": 100, "sampling_result_tag_name": "mix",
    "strategies": [
      {"strategy_name": "diversity", "embedding_model_name": "pixels", "strength": 1.0},
      {"strategy_name": "balance", "target_distribution": "uniform", "annotation_source": "ground_truth"},
      {"strategy_name": "weights", "metadata_key": "ink_fraction", "strength": 0.5}]}

--n, --tag, --preselected and --where override or narrow the file's values.
The same strategies as flags (repeat --strategy NAME:key=value,...):

` + strategyTable() + `

Examples:

   winnow select multi /tmp/mnist --config docs/examples/selection_config.json
   winnow select multi /tmp/mnist --n 100 --tag mix --strategy 'diversity:model=pixels' \
       --strategy 'balance:target=uniform,source=ground_truth' --strategy 'weights:key=ink_fraction,strength=0.5'`,
		Flags: append(commonSelectFlags(),
			&cli.StringFlag{Name: "config", OnlyOnce: true, TakesFile: true, Usage: "JSON request `FILE` (- for stdin)"},
			&cli.StringSliceFlag{Name: "strategy", Usage: "one strategy as `NAME:key=value,...` (repeatable); names and keys: " + strategyKeys()},
		),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			var list []pipeline.Strategy
			req := &pipeline.Request{}
			if path := cmd.String("config"); path != "" {
				data, err := readInput(path, std.in)
				if err != nil {
					return err
				}
				if req, err = pipeline.ParseRequest(data); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				list = req.Strategies
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
			return runSelect(ctx, cmd, std, list, req, nil)
		},
	}
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// runSelect runs a selection with the common flags. req holds what a
// config file said (n, tag, preselected tag, filter, notes), which the
// flags override or narrow; nar, when set, narrows the candidates further.
func runSelect(ctx context.Context, cmd *cli.Command, std stdio, list []pipeline.Strategy, req *pipeline.Request, nar *narrowing) error {
	dir, err := dirArg(cmd)
	if err != nil {
		return err
	}
	if w := cmd.Int("workers"); w < 0 {
		return usagef("--workers must be 0 (all cores) or more, got %d", w)
	}
	p, err := newReporter(cmd, std)
	if err != nil {
		return err
	}
	lowGCPercent()
	n, tag, pre := req.N, req.Tag, req.Preselected
	if cmd.IsSet("n") {
		if n = int(cmd.Int("n")); n < 1 {
			return usagef("--n must be at least 1, got %d", n)
		}
	}
	if cmd.IsSet("tag") {
		tag = cmd.String("tag")
	}
	if cmd.IsSet("preselected") {
		pre = cmd.String("preselected")
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
	var opts pipeline.Options
	if err := rulesOptions(cmd, req, &opts); err != nil {
		return err
	}
	where, err := whereText(cmd, std.in)
	if err != nil {
		return err
	}
	for _, note := range req.Notes {
		fmt.Fprintf(std.err, "note: %s\n", note)
	}
	ds, err := pipeline.OpenContext(ctx, dir)
	if err != nil {
		return err
	}
	q := ds.Query()
	for _, w := range []string{req.Where, where} {
		if w != "" {
			if q, err = q.Where(w); err != nil {
				return err
			}
		}
	}
	var notes []string
	if nar != nil {
		q = q.Match(nar.expr)
		notes = append(notes, nar.note)
	}
	sel, err := q.SelectionContext(ctx)
	if err != nil {
		return err
	}
	opts.Preselected = pre
	opts.DropMissing = cmd.Bool("drop-missing")
	opts.DryRun = cmd.Bool("dry-run")
	opts.Replace = cmd.Bool("replace")
	opts.Workers = int(cmd.Int("workers"))
	if opts.Precision, err = pipeline.ParsePrecision(cmd.String("precision")); err != nil {
		return usagef("--%s", err)
	}
	sel.Options = opts
	if p != nil {
		sel.Options.Progress = p.report
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
		printResult(std.out, res, notes)
	}
	if path := cmd.String("report"); path != "" && err == nil {
		if err := writeReport(ctx, stdio{out: std.err, err: std.err}, dir, res.Tag, "html", path, elapsed); err != nil {
			return fmt.Errorf("tag %q is stored, but its report failed: %w", res.Tag, err)
		}
	}
	return err
}

// whereText is the command's predicate: --where EXPR, --where @FILE or
// --where-file FILE ("-" reads stdin); "" when none is given.
func whereText(cmd *cli.Command, stdin io.Reader) (string, error) {
	w, file := cmd.String("where"), cmd.String("where-file")
	if cmd.IsSet("where") && cmd.IsSet("where-file") {
		return "", usagef("give the predicate once: --where EXPR or --where-file FILE, not both")
	}
	if rest, ok := strings.CutPrefix(w, "@"); ok {
		if rest == "" {
			return "", usagef("--where @FILE needs a file name after the @")
		}
		file = rest
	}
	if file == "" {
		return w, nil
	}
	data, err := readInput(file, stdin)
	if err != nil {
		return "", fmt.Errorf("read the predicate: %w", err)
	}
	// Trailing space only: positions in errors stay those of the file.
	text := strings.TrimRightFunc(string(data), unicode.IsSpace)
	if strings.TrimSpace(text) == "" {
		return "", fmt.Errorf("read the predicate: %s is empty", file)
	}
	return text, nil
}

func printResult(w io.Writer, res *pipeline.Result, notes []string) {
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
	for _, n := range notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	for _, s := range res.Strategies {
		printStrategy(w, s)
	}
	for _, r := range res.Rules {
		printRule(w, r)
	}
	if res.Precision.Approximate() {
		fmt.Fprintf(w, "  precision: %s (float32 embeddings rounded at load): approximate, distances and picks may differ from the stored values\n", res.Precision)
	}
	if res.Record != "" {
		fmt.Fprintf(w, "record: %s\n", res.Record)
	}
	if res.DryRun {
		fmt.Fprintln(w, "nothing was written")
	}
}

// printRule prints what a constraint or the group selection did.
func printRule(w io.Writer, r pipeline.RuleReport) {
	switch r.Rule {
	case "max_per_group":
		fmt.Fprintf(w, "  max_per_group %s=%d: the result holds %d groups, %d of them full\n", r.Column, r.Max, r.Groups, r.FullGroups)
	case "exclude_near":
		fmt.Fprintf(w, "  exclude_near %q (min distance %g): kept away from %d vectors, %d candidates of the tag left out", r.Tag, r.MinDistance, r.Excluded, r.InTag)
		if r.Excluded > 0 {
			fmt.Fprintf(w, "; nearest pick at %.4g", r.Nearest)
		}
		fmt.Fprintln(w)
	case "groups":
		fmt.Fprintf(w, "  groups: %d units selected of %d, %d samples tagged\n", r.UnitsSelected, r.Units, r.Samples)
	}
}

// objectiveHelp says what strategy name scores candidates by.
func objectiveHelp(name string) string {
	for _, s := range pipeline.Strategies() {
		if s.Name == name {
			return s.ObjectiveHelp
		}
	}
	return ""
}

func printStrategy(w io.Writer, s pipeline.StrategyReport) {
	head := s.Name
	if s.Model != "" {
		head += " (" + s.Model + ")"
	}
	fmt.Fprintf(w, "  %s, strength %g\n", head, s.Strength)
	if o := objectiveHelp(s.Name); o != "" {
		fmt.Fprintf(w, "    objective: %s\n", o)
	}
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
		printNeighbours(w, s.Neighbours)
	case s.Objects != nil:
		fmt.Fprintf(w, "    objects: %d among the candidates, %d in the selection\n", s.Objects.Candidates, s.Objects.Selection)
	case s.Balance != nil:
		b := s.Balance
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		if b.Unlabeled > 0 {
			fmt.Fprintf(w, "    %d candidates without an annotation of these classes were left out (include_unlabeled keeps them)\n", b.Unlabeled)
		}
		fmt.Fprintln(tw, "    class\tcandidates\ttarget\tselection\t")
		for i, c := range b.Classes {
			fmt.Fprintf(tw, "    %s\t%.1f%%\t%.1f%%\t%.1f%%\t\n", c, 100*b.Candidates[i], 100*b.Target[i], 100*b.Selection[i])
		}
		tw.Flush()
	}
}

// printNeighbours says how typicality searched neighbours; an approximate
// search gives its measured recall and its IVF parameters.
func printNeighbours(w io.Writer, nb *pipeline.NeighbourReport) {
	switch {
	case nb == nil:
	case nb.Search == "approximate":
		fmt.Fprintf(w, "    neighbours: approximate (IVF: %d lists, probe %d", nb.Lists, nb.Probe)
		if nb.TargetRecall > 0 {
			fmt.Fprintf(w, " tuned for recall %.2f", nb.TargetRecall)
		}
		fmt.Fprintf(w, ", k-means on %d rows, %d iterations), ", nb.TrainRows, nb.Iterations)
		if nb.RecallQueries > 0 {
			fmt.Fprintf(w, "measured recall@%d %.4f on %d queries\n", nb.K, nb.Recall, nb.RecallQueries)
		} else {
			fmt.Fprintln(w, "recall not measured")
		}
	default:
		fmt.Fprintf(w, "    neighbours: exact, %d nearest of %d candidates\n", nb.K, nb.Rows)
	}
}
