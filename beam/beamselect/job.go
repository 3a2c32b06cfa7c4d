// Package beamselect runs a winnow selection as an Apache Beam pipeline:
// shards of a Parquet table (runs of row groups, package rowgroups) pick
// local candidates in parallel DoFns and one merge step selects from their
// union (package shardselect), so the same job runs on Prism here and on
// Flink, Spark or Dataflow through their job services.
//
// The pipeline, for a table of files F and a Job J:
//
//	Create(shards) ─ Reshuffle ─┬─ classes (balancing only) ─ gather ─┐ side input
//	                            └─ local candidates (reads its row groups) ─ gather ─ merge ─ write
//
// Shards are planned on the launcher from the files' footers
// (rowgroups.PlanShards) and fixed before the pipeline runs. The DoFns are
// plain, not splittable: a runner that split a shard dynamically would
// change which rows compete on a shard and so the picks, and the package
// promises the same picks on every runner and worker count.
//
// This is the thin, replaceable part of the Beam module: it reads one
// table with the columns named in the Job (an id, an embedding, a numeric
// weight, a categorical label) and keys every row by its position in the
// table. Once the core library can resolve strategies for a subset of a
// dataset's rows (query, annotations, preselected tags, similarity), the
// local DoFn should call that instead of reading columns itself.
package beamselect

import (
	"errors"
	"fmt"
	"math"

	"github.com/winnow-data/winnow/beam/shardselect"
	"github.com/winnow-data/winnow/strategies"
)

// Strategy is one strategy of a Job, in the terms of spec/selection.md.
type Strategy struct {
	// Kind is "diversity", "deduplication", "weights" or "balance".
	Kind string
	// Strength is the exponent; a Strategy read by ParseStrategy
	// defaults it to 1.
	Strength    float64
	MinDistance float64 // deduplication
	// Target is balancing's target: "uniform", "input" or "ratios"
	// (then Ratios).
	Target string
	Ratios map[string]float64
}

// Job is one selection over a Parquet table.
type Job struct {
	// Files are the table's Parquet files in table order, on any
	// registered Beam file system (local paths, memfs://, gs://, s3://).
	Files []string
	// Column names: ID is required; Vector is needed by diversity and
	// deduplication (a fixed_size_list or list of float32 or float16), Weight by
	// weights (numeric), Label by balancing (string; null labels are not
	// candidates while balancing, spec §7).
	ID, Vector, Weight, Label string
	Strategies                []Strategy
	// N is the number of picks, Oversample shardselect's k'/n (0: its
	// default).
	N          int
	Oversample float64
	// Output, when set, is where the pipeline writes the selection as a
	// Parquet file (any registered Beam file system).
	Output string
	// Workers bounds each engine run's goroutines (0: all cores).
	Workers int
	// ShardsAtOnce bounds how many shards one worker process reads and
	// selects at the same time (0: one), which bounds its memory to about
	// that many shards' columns; each engine run already uses Workers
	// cores. The first job of a process fixes it.
	ShardsAtOnce int
}

// Check reports the first problem of a job.
func (j *Job) Check() error {
	if len(j.Files) == 0 {
		return errors.New("job: no input files")
	}
	if j.ID == "" {
		return errors.New("job: no id column")
	}
	if j.N < 1 {
		return fmt.Errorf("job: n = %d, must be at least 1", j.N)
	}
	if len(j.Strategies) == 0 {
		return errors.New("job: no strategy")
	}
	for k, s := range j.Strategies {
		if math.IsNaN(s.Strength) || math.IsInf(s.Strength, 0) {
			return fmt.Errorf("job: strategy %d (%s): strength %v must be finite", k, s.Kind, s.Strength)
		}
		switch s.Kind {
		case "diversity", "deduplication":
			if j.Vector == "" {
				return fmt.Errorf("job: strategy %d (%s) needs a vector column", k, s.Kind)
			}
		case "weights":
			if j.Weight == "" {
				return fmt.Errorf("job: strategy %d (weights) needs a weight column", k)
			}
		case "balance":
			if j.Label == "" {
				return fmt.Errorf("job: strategy %d (balance) needs a label column", k)
			}
			if _, err := s.targetSpec(); err != nil {
				return fmt.Errorf("job: strategy %d (balance): %w", k, err)
			}
		default:
			return fmt.Errorf("job: strategy %d: unknown kind %q (diversity, deduplication, weights, balance)", k, s.Kind)
		}
	}
	return nil
}

func (s *Strategy) targetSpec() (strategies.TargetSpec, error) {
	switch s.Target {
	case "", "uniform":
		return strategies.TargetSpec{Kind: strategies.Uniform}, nil
	case "input":
		return strategies.TargetSpec{Kind: strategies.Input}, nil
	case "ratios":
		return strategies.TargetSpec{Kind: strategies.Explicit, Ratios: s.Ratios}, nil
	}
	return strategies.TargetSpec{}, fmt.Errorf("unknown target %q (uniform, input, ratios)", s.Target)
}

// balancing reports whether a balancing strategy with a non-zero strength
// is present (then unlabelled rows are not candidates).
func (j *Job) balancing() bool {
	for _, s := range j.Strategies {
		if s.Kind == "balance" && s.Strength != 0 {
			return true
		}
	}
	return false
}

// needsLabels reports whether any strategy reads the label column.
func (j *Job) needsLabels() bool {
	for _, s := range j.Strategies {
		if s.Kind == "balance" {
			return true
		}
	}
	return false
}

// columns lists the columns a shard reads.
func (j *Job) columns() []string {
	cols := []string{j.ID}
	need := map[string]bool{}
	for _, s := range j.Strategies {
		switch s.Kind {
		case "diversity", "deduplication":
			need[j.Vector] = true
		case "weights":
			need[j.Weight] = true
		case "balance":
			need[j.Label] = true
		}
	}
	for _, c := range []string{j.Vector, j.Weight, j.Label} {
		if c != "" && need[c] && c != j.ID {
			cols = append(cols, c)
			need[c] = false
		}
	}
	return cols
}

// Classes are the label classes of the whole table in first-seen order
// (dataset order) with their counts among the candidates.
type Classes struct {
	Names  []string
	Counts []float64
}

// config returns the shardselect configuration with balancing targets
// resolved against the table's classes; target is nil without balancing.
// Inputs: vectors 0, weights 0, counts 0.
func (j *Job) config(cl Classes) (shardselect.Config, *strategies.Target, error) {
	cfg := shardselect.Config{Picks: j.N, Oversample: j.Oversample, Workers: j.Workers}
	var target *strategies.Target
	for k, s := range j.Strategies {
		sp := shardselect.Spec{Strength: s.Strength}
		switch s.Kind {
		case "diversity":
			sp.Kind = shardselect.Diversity
		case "deduplication":
			sp.Kind, sp.MinDistance = shardselect.Deduplication, s.MinDistance
		case "weights":
			sp.Kind = shardselect.Weights
		case "balance":
			spec, err := s.targetSpec()
			if err != nil {
				return cfg, nil, err
			}
			t, err := strategies.ResolveTarget(cl.Names, cl.Counts, spec)
			if err != nil {
				return cfg, nil, fmt.Errorf("strategy %d (balance): %w", k, err)
			}
			if target != nil && !sameTarget(target, t) {
				return cfg, nil, fmt.Errorf("strategy %d (balance): only one balancing target per job is supported", k)
			}
			target = t
			sp.Kind, sp.Target, sp.MeanRowSum = shardselect.Balance, t.Ratio, 1
		}
		cfg.Specs = append(cfg.Specs, sp)
	}
	return cfg, target, nil
}

func sameTarget(a, b *strategies.Target) bool {
	if len(a.Ratio) != len(b.Ratio) {
		return false
	}
	for c := range a.Ratio {
		if a.Ratio[c] != b.Ratio[c] || a.Classes[c] != b.Classes[c] {
			return false
		}
	}
	return true
}
