package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/winnow-data/winnow/beam/beamselect"
	"github.com/winnow-data/winnow/internal/fixture"
	"github.com/winnow-data/winnow/pipeline"
)

func TestMain(m *testing.M) {
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	beam.Init()
	os.Exit(m.Run())
}

// TestFlagsDoNotCollide: the command's flags live beside every flag the
// imported runners and file systems define (a collision panics).
func TestFlagsDoNotCollide(t *testing.T) {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	flag.CommandLine.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("flags collide: %v", r)
		}
	}()
	define(fs)
	for _, name := range []string{"runner", "endpoint", "environment_type", "project", "staging_location"} {
		if fs.Lookup(name) == nil {
			t.Errorf("Beam flag --%s is not defined", name)
		}
	}
}

// TestSelectOnPrism runs the command on the MNIST fixture's embeddings.
func TestSelectOnPrism(t *testing.T) {
	fs := flag.NewFlagSet("winnow-beam", flag.ContinueOnError)
	o := define(fs)
	out := filepath.Join(t.TempDir(), "picks.parquet")
	input, err := filepath.Abs("../../../testdata/mnist/embeddings/*.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--input", input, "--output", out, "--n", "12", "--strategy", "diversity", "--shards", "2"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), o, "prism", &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	ids, rows, _, _, err := beamselect.ReadSelection(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 12 || rows[0] != 0 {
		t.Fatalf("%d picks starting at row %d, want 12 from row 0 (diversity starts at index 0)", len(ids), rows[0])
	}
	if !strings.HasPrefix(stdout.String(), out+": 12 samples from ") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestParseStrategy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want beamselect.Strategy
		err  string
	}{
		{in: "diversity", want: beamselect.Strategy{Kind: "diversity", Strength: 1}},
		{in: "weights:strength=-0.5", want: beamselect.Strategy{Kind: "weights", Strength: -0.5}},
		{in: "deduplication:min_distance=0.25", want: beamselect.Strategy{Kind: "deduplication", Strength: 1, MinDistance: 0.25}},
		{in: "balance", want: beamselect.Strategy{Kind: "balance", Strength: 1, Target: "uniform"}},
		{in: "balance:target=input,strength=2", want: beamselect.Strategy{Kind: "balance", Strength: 2, Target: "input"}},
		{in: "balance:cat=0.5,dog=0.25", want: beamselect.Strategy{Kind: "balance", Strength: 1, Target: "ratios", Ratios: map[string]float64{"cat": 0.5, "dog": 0.25}}},
		{in: "magic", err: `strategy "magic": unknown kind "magic" (diversity, deduplication, weights, balance)`},
		{in: "diversity:strength", err: `strategy "diversity:strength": "strength" is not KEY=VALUE`},
		{in: "diversity:strength=x", err: `strategy "diversity:strength=x": strength="x" is not a number`},
		{in: "diversity:min_distance=1", err: `strategy "diversity:min_distance=1": diversity takes no "min_distance"`},
		{in: "balance:target=even", err: `strategy "balance:target=even": target "even" (uniform, input, or class=ratio entries)`},
	} {
		got, err := ParseStrategy(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--output", "x", "--n", "1", "--strategy", "diversity"}, "--input is required"},
		{[]string{"--input", "x", "--n", "1", "--strategy", "diversity"}, "--output is required"},
		{[]string{"--input", "x", "--output", "y", "--n", "1", "--strategy", "diversity", "--shards", "0"}, "--shards 0 must be at least 1"},
		{[]string{"--input", "/nonexistent/*.parquet", "--output", "y", "--n", "1", "--strategy", "diversity"}, "--input /nonexistent/*.parquet: no files match"},
		{[]string{"--input", "x", "--output", "y", "--strategy", "diversity"}, "job: n = 0, must be at least 1"},
		{[]string{"--input", "x", "--output", "y", "--n", "1", "--strategy", "weights"}, "job: strategy 0 (weights) needs a weight column"},
	} {
		fs := flag.NewFlagSet("winnow-beam", flag.ContinueOnError)
		o := define(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := o.job(ctx)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestDatasetOnPrism runs the command on the MNIST fixture as a dataset
// job and commits its output as a tag with its selection record, as
// `winnow tags add DIR TAG --record FILE` does.
func TestDatasetOnPrism(t *testing.T) {
	ctx := context.Background()
	dir, err := fixture.CopyMNIST(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("winnow-beam", flag.ContinueOnError)
	o := define(fs)
	out := filepath.Join(t.TempDir(), "picks.parquet")
	if err := fs.Parse([]string{"--dataset", dir, "--where", "index >= 100", "--output", out, "--n", "12",
		"--strategy", "diversity", "--strategy", "balance:target=uniform", "--max_per_group", "thickness=5", "--shards", "3"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(ctx, o, "prism", &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if want := out + ": selection of 3 shards; commit it with: winnow tags add " + dir + " beam --record " + out + "\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ds.AddTagFromRecord(ctx, "beam", out, false)
	if err != nil || n != 12 {
		t.Fatalf("%d samples, %v", n, err)
	}
	if ds, err = pipeline.Open(dir); err != nil {
		t.Fatal(err)
	}
	rec, err := ds.ReadRecord(ctx, "beam")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Header.Tag != "beam" || rec.Header.Query != "index >= 100" || len(rec.Header.Strategies) != 2 || len(rec.Picks) != 12 || rec.Header.Shards != 3 {
		t.Fatalf("record %+v", rec.Header)
	}
	for _, p := range rec.Picks {
		if p.Row < 100 {
			t.Fatalf("pick %+v is not a candidate of the query", p)
		}
	}
}

func TestDatasetOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dataset", "d", "--input", "x", "--output", "y", "--n", "1", "--strategy", "diversity"}, "--dataset and --input exclude each other"},
		{[]string{"--dataset", "d", "--n", "1", "--strategy", "diversity"}, "--output is required"},
		{[]string{"--dataset", "d", "--output", "y", "--n", "1"}, "--strategy is required"},
		{[]string{"--dataset", "d", "--output", "y", "--n", "1", "--strategy", "magic"}, `unknown strategy_name "magic"`},
	} {
		fs := flag.NewFlagSet("winnow-beam", flag.ContinueOnError)
		o := define(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, _, err := o.datasetJob()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	fs := flag.NewFlagSet("winnow-beam", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	define(fs)
	if err := fs.Parse([]string{"--max_per_group", "thickness"}); err == nil || !strings.Contains(err.Error(), `--max_per_group "thickness": want COLUMN=MAX with MAX >= 1`) {
		t.Errorf("--max_per_group thickness: %v", err)
	}
}

// TestTableJobCommits: a table job over a dataset's embeddings table
// writes a selection file that winnow's tags commit takes, with the picks
// in order and a record naming the strategies.
func TestTableJobCommits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mnist")
	if err := os.CopyFS(dir, os.DirFS("../../../testdata/mnist")); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("select", flag.ContinueOnError)
	o := define(fs)
	out := filepath.Join(t.TempDir(), "picks.parquet")
	if err := fs.Parse([]string{"--input", filepath.Join(dir, "embeddings", "pixels.parquet"), "--output", out, "--n", "9", "--strategy", "diversity", "--shards", "1"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), o, "prism", &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	ids, _, _, _, err := beamselect.ReadSelection(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ds.AddTagFromRecord(context.Background(), "beam", out, false); err != nil || n != 9 {
		t.Fatalf("commit: %d samples, %v", n, err)
	}
	ds, err = pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ds.ReadRecord(context.Background(), "beam")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rec.Picks {
		got = append(got, p.SampleID)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("record picks %v, file %v", got, ids)
	}
	// One shard is winnow select: the same samples in the same order.
	sel, err := ds.Query().Selection()
	if err != nil {
		t.Fatal(err)
	}
	sel.Options.DryRun = true
	want, err := sel.MultiStrategies(context.Background(), 9, "x", []pipeline.Strategy{pipeline.EmbeddingDiversity{}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range want.Picks {
		if p.SampleID != ids[i] {
			t.Fatalf("pick %d: %s, winnow select %s", i, ids[i], p.SampleID)
		}
	}
	if s := rec.Header.Strategies; len(s) != 1 || !strings.Contains(string(s[0]), `"embedding_model_name":"pixels"`) {
		t.Fatalf("record strategies %s", s)
	}
	if rec.Header.Shards != 1 {
		t.Fatalf("record of a one-shard table job says %d shards", rec.Header.Shards)
	}
}
