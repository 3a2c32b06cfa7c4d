// Command winnow-beam runs a winnow selection as an Apache Beam pipeline:
// the table's row groups are cut into shards that pick candidates in
// parallel, and one merge step selects from their union (see package
// winnow/beam/beamselect). The same command runs on Prism (in-process, the
// default), on Flink or Spark through their portable job servers, and on
// Google Dataflow; only Prism is tested.
//
//	winnow-beam select --input 'data/embeddings/*.parquet' --n 1000 \
//	    --strategy diversity --shards 32 --output picks.parquet
//
// With --dataset DIR it selects from a winnow dataset through the core
// library instead (every strategy of winnow select multi, --where,
// --preselected, --max_per_group), writing a selection file that
// `winnow tags add DIR TAG --record FILE` commits:
//
//	winnow-beam select --dataset data --where 'split == "train"' --n 1000 \
//	    --strategy diversity --strategy balance:target=uniform --shards 16 --output picks.parquet
//
// Beam's own flags pass through unchanged (--runner, --endpoint,
// --environment_type, --environment_config, --job_name, Dataflow's
// --project, --region, --staging_location, ...), because the command
// parses them with Go's flag package like any Beam Go program. The word
// "select" is optional, so the binary also starts as a Beam worker when a
// runner launches it with worker flags.
//
// The selection is written by the pipeline (--output, any Beam file
// system); stdout gets its path and a summary, stderr the progress.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	// File systems a job can name: local, memfs (beamselect), gs, s3.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"

	// Runners, registered for --runner: prism (the default), flink,
	// spark, universal (any job service), dataflow.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/winnow-data/winnow/beam/beamselect"
	"github.com/winnow-data/winnow/pipeline"
)

// options are the command's own flags.
type options struct {
	input      string
	output     string
	id         string
	vector     string
	weight     string
	label      string
	strategies strategyList
	n          int
	shards     int
	oversample float64
	workers    int
	atOnce     int
	// dataset jobs
	dataset     string
	where       string
	preselected string
	dropMissing bool
	tag         string
	quotas      quotaList
}

// strategyList collects repeated --strategy flags, read as the table
// job's kinds (ParseStrategy) or, with --dataset, as winnow select
// multi's strategies (pipeline.ParseStrategy).
type strategyList []string

func (l *strategyList) String() string { return fmt.Sprint(len(*l), " strategies") }

func (l *strategyList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// quotaList collects repeated --max_per_group COLUMN=MAX flags.
type quotaList []pipeline.Quota

func (l *quotaList) String() string { return fmt.Sprint(len(*l), " quotas") }

func (l *quotaList) Set(v string) error {
	col, n, ok := strings.Cut(v, "=")
	m, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || strings.TrimSpace(col) == "" || err != nil || m < 1 {
		return fmt.Errorf("--max_per_group %q: want COLUMN=MAX with MAX >= 1", v)
	}
	*l = append(*l, pipeline.Quota{Column: strings.TrimSpace(col), Max: m})
	return nil
}

// ParseStrategy reads KIND[:KEY=VALUE,...]: diversity, deduplication
// (min_distance=D), weights, balance (target=uniform|input, or class=ratio
// entries for an explicit target); every kind takes strength=S (default 1).
func ParseStrategy(v string) (beamselect.Strategy, error) {
	kind, rest, _ := strings.Cut(v, ":")
	s := beamselect.Strategy{Kind: strings.TrimSpace(kind), Strength: 1}
	switch s.Kind {
	case "diversity", "deduplication", "weights", "balance":
	default:
		return s, fmt.Errorf("strategy %q: unknown kind %q (diversity, deduplication, weights, balance)", v, s.Kind)
	}
	if s.Kind == "balance" {
		s.Target = "uniform"
	}
	if rest == "" {
		return s, nil
	}
	for _, kv := range strings.Split(rest, ",") {
		key, val, ok := strings.Cut(kv, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" {
			return s, fmt.Errorf("strategy %q: %q is not KEY=VALUE", v, kv)
		}
		num := func() (float64, error) {
			x, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return 0, fmt.Errorf("strategy %q: %s=%q is not a number", v, key, val)
			}
			return x, nil
		}
		var err error
		switch {
		case key == "strength":
			s.Strength, err = num()
		case key == "min_distance" && s.Kind == "deduplication":
			s.MinDistance, err = num()
		case key == "target" && s.Kind == "balance":
			if val != "uniform" && val != "input" {
				return s, fmt.Errorf("strategy %q: target %q (uniform, input, or class=ratio entries)", v, val)
			}
			s.Target = val
		case s.Kind == "balance":
			var r float64
			if r, err = num(); err == nil {
				if s.Ratios == nil {
					s.Ratios = map[string]float64{}
				}
				s.Ratios[key], s.Target = r, "ratios"
			}
		default:
			return s, fmt.Errorf("strategy %q: %s takes no %q", v, s.Kind, key)
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// define registers the command's flags on fs.
func define(fs *flag.FlagSet) *options {
	o := &options{}
	fs.StringVar(&o.input, "input", "", "Parquet files of the table: a glob or a comma-separated list, on any Beam file system (required)")
	fs.StringVar(&o.output, "output", "", "where the pipeline writes the selection as Parquet (required)")
	fs.StringVar(&o.id, "id_column", "sample_id", "id column")
	fs.StringVar(&o.vector, "vector_column", "embedding", "embedding column (diversity, deduplication)")
	fs.StringVar(&o.weight, "weight_column", "", "numeric column (weights)")
	fs.StringVar(&o.label, "label_column", "", "categorical column (balance)")
	fs.Var(&o.strategies, "strategy", "a strategy, KIND[:KEY=VALUE,...], repeatable (diversity, deduplication:min_distance=D, weights, balance:target=uniform)")
	fs.IntVar(&o.n, "n", 0, "number of samples to select (required)")
	fs.IntVar(&o.shards, "shards", 8, "about how many shards to cut the table into (whole row groups)")
	fs.Float64Var(&o.oversample, "oversample", 0, "local candidates per pick on each shard, >= 1 (0: the default, 2)")
	fs.IntVar(&o.workers, "select_workers", 0, "goroutines of each engine run (0: all cores)")
	fs.IntVar(&o.atOnce, "shards_at_once", 1, "shards one worker process reads and selects at the same time (bounds its memory)")
	fs.StringVar(&o.dataset, "dataset", "", "a winnow dataset folder or manifest, at this path on every worker: select through the core library "+
		"(then --strategy takes winnow select multi's strategies, and --input and the column flags do not apply)")
	fs.StringVar(&o.where, "where", "", "with --dataset: the query narrowing the candidates")
	fs.StringVar(&o.preselected, "preselected", "", "with --dataset: a tag whose samples count as already selected")
	fs.BoolVar(&o.dropMissing, "drop_missing", false, "with --dataset: drop candidates without an embedding instead of failing")
	fs.StringVar(&o.tag, "tag", "beam", "with --dataset: the selection's name in its record (the tag is made by winnow tags add DIR TAG --record OUTPUT)")
	fs.Var(&o.quotas, "max_per_group", "with --dataset: at most MAX picks share a value of COLUMN, COLUMN=MAX, repeatable")
	return o
}

func main() {
	o := define(flag.CommandLine)
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "select" {
		args = args[1:]
	}
	if err := flag.CommandLine.Parse(args); err != nil {
		os.Exit(2)
	}
	beam.Init() // in worker mode this runs the harness and never returns
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	runner := *runners.Runner
	if runner == "" {
		runner = "prism"
	}
	if err := run(ctx, o, runner, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "winnow-beam:", err)
		os.Exit(1)
	}
}

// job turns the flags into a job, expanding the input.
func (o *options) job(ctx context.Context) (beamselect.Job, error) {
	j := beamselect.Job{ID: o.id, Vector: o.vector, Weight: o.weight, Label: o.label,
		N: o.n, Oversample: o.oversample, Output: o.output, Workers: o.workers, ShardsAtOnce: o.atOnce}
	for _, v := range o.strategies {
		s, err := ParseStrategy(v)
		if err != nil {
			return j, err
		}
		j.Strategies = append(j.Strategies, s)
	}
	if o.input == "" {
		return j, errors.New("--input is required")
	}
	if o.output == "" {
		return j, errors.New("--output is required")
	}
	if o.shards < 1 {
		return j, fmt.Errorf("--shards %d must be at least 1", o.shards)
	}
	files, err := expand(ctx, o.input)
	if err != nil {
		return j, err
	}
	j.Files = files
	return j, j.Check()
}

// expand lists the files of a comma-separated list of paths or globs, in
// lexical order within each glob (a table's file order).
func expand(ctx context.Context, input string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(input, ",") {
		p = strings.TrimSpace(p)
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
			continue
		}
		fs, err := filesystem.New(ctx, p)
		if err != nil {
			return nil, err
		}
		m, err := fs.List(ctx, p)
		fs.Close()
		if err != nil {
			return nil, fmt.Errorf("--input %s: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("--input %s: no files match", p)
		}
		slices.Sort(m)
		out = append(out, m...)
	}
	return out, nil
}

// datasetJob turns the flags into a dataset job and its strategies.
func (o *options) datasetJob() (beamselect.DatasetJob, []pipeline.Strategy, error) {
	j := beamselect.DatasetJob{Dataset: o.dataset, Where: o.where, N: o.n, Oversample: o.oversample,
		Preselected: o.preselected, DropMissing: o.dropMissing, MaxPerGroup: o.quotas, Workers: o.workers,
		Tag: o.tag, Output: o.output, ShardsAtOnce: o.atOnce}
	if o.input != "" {
		return j, nil, errors.New("--dataset and --input exclude each other")
	}
	if o.output == "" {
		return j, nil, errors.New("--output is required")
	}
	if o.shards < 1 {
		return j, nil, fmt.Errorf("--shards %d must be at least 1", o.shards)
	}
	if len(o.strategies) == 0 {
		return j, nil, errors.New("--strategy is required")
	}
	var list []pipeline.Strategy
	for _, v := range o.strategies {
		s, err := pipeline.ParseStrategy(v)
		if err != nil {
			return j, nil, err
		}
		list = append(list, s)
	}
	return j, list, nil
}

// runDataset runs a dataset job.
func runDataset(ctx context.Context, o *options, runner string, stdout, stderr io.Writer) error {
	job, list, err := o.datasetJob()
	if err != nil {
		return err
	}
	start := time.Now()
	plan, err := beamselect.PrepareDataset(ctx, &job, list, o.shards)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "planned %d shards of %s in %v; running on %s\n", len(plan), job.Dataset, time.Since(start).Round(time.Millisecond), runner)
	p, s := beam.NewPipelineWithRoot()
	beamselect.BuildDataset(s, job, plan)
	if _, err := beam.Run(ctx, runner, p); err != nil {
		return fmt.Errorf("run on %s: %w", runner, err)
	}
	fmt.Fprintf(stderr, "done in %v\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "%s: selection of %d shards; commit it with: winnow tags add %s %s --record %s\n", job.Output, len(plan), job.Dataset, job.Tag, job.Output)
	return nil
}

func run(ctx context.Context, o *options, runner string, stdout, stderr io.Writer) error {
	if o.dataset != "" {
		return runDataset(ctx, o, runner, stdout, stderr)
	}
	job, err := o.job(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	plan, err := beamselect.Plan(ctx, job, o.shards)
	if err != nil {
		return err
	}
	var rows int64
	for _, s := range plan {
		rows += s.Rows
	}
	fmt.Fprintf(stderr, "planned %d shards of %d rows from %d files in %v; running on %s\n", len(plan), rows, len(job.Files), time.Since(start).Round(time.Millisecond), runner)
	p, s := beam.NewPipelineWithRoot()
	beamselect.Build(s, job, plan)
	if _, err := beam.Run(ctx, runner, p); err != nil {
		return fmt.Errorf("run on %s: %w", runner, err)
	}
	fmt.Fprintf(stderr, "done in %v\n", time.Since(start).Round(time.Millisecond))
	ids, _, _, meta, err := beamselect.ReadSelection(ctx, job.Output)
	if err != nil {
		// A remote runner may write where the launcher cannot read.
		fmt.Fprintf(stdout, "%s\n", job.Output)
		fmt.Fprintf(stderr, "could not read the selection back: %v\n", err)
		return nil
	}
	fmt.Fprintf(stdout, "%s: %d samples from %s candidates of %d rows on %s shards", job.Output, len(ids), meta[beamselect.MetaCandidates], rows, meta[beamselect.MetaShards])
	if b := meta[beamselect.MetaBound]; b != "" {
		fmt.Fprintf(stdout, "; k-center bound %s", b)
	}
	fmt.Fprintln(stdout)
	return nil
}
