// Command gen writes a synthetic winnow dataset of any size: clustered
// embeddings, skewed metadata with nulls, object-detection annotations and
// a reviewed tag (see datagen.Generate). It streams one row group at a
// time, so 10,000,000 × 768 fits in a few hundred MB of memory.
//
//	go run ./benchmarks/cmd/gen -n 1000000 -dim 512 -out benchmarks/data/n1m-d512
//
// Progress goes to stderr when it is a terminal, or with -progress.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/term"

	"github.com/winnow-data/winnow/benchmarks/datagen"
)

func main() {
	var (
		cfg      datagen.Config
		out      string
		progress bool
	)
	flag.IntVar(&cfg.N, "n", 100000, "number of samples")
	flag.IntVar(&cfg.Dim, "dim", 768, "embedding dimension")
	flag.IntVar(&cfg.Clusters, "clusters", 100, "number of embedding clusters (Zipf-sized)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "random seed; the same flags give the same rows")
	flag.StringVar(&cfg.Model, "model", "synthetic", "embedding model name (embeddings/MODEL.parquet)")
	flag.StringVar(&cfg.IDType, "id-type", "uuid", "type of the sample ids: uuid, string (the UUIDs' text) or int64 (row numbers)")
	flag.BoolVar(&cfg.Float16, "float16", false, "store the vectors as float16")
	flag.StringVar(&cfg.Compression, "compression", "zstd", "Parquet compression: zstd, snappy or none")
	flag.IntVar(&cfg.RowGroupRows, "rowgroup", 64*1024, "samples per row group")
	flag.IntVar(&cfg.Parts, "parts", 1, "write each table (but tags) as a folder of this many part files")
	flag.Float64Var(&cfg.MissingEmbeddings, "missing-embeddings", 0, "share of samples without a vector")
	flag.BoolVar(&cfg.NoEmbeddings, "no-embeddings", false, "write no embeddings table")
	flag.BoolVar(&cfg.NoAnnotations, "no-annotations", false, "write no annotations table")
	flag.BoolVar(&cfg.NoTags, "no-tags", false, "write no tags.parquet")
	flag.BoolVar(&cfg.Overwrite, "force", false, "replace the tables of an earlier run in -out")
	flag.StringVar(&out, "out", "", "dataset folder to write (required)")
	flag.BoolVar(&progress, "progress", term.IsTerminal(int(os.Stderr.Fd())), "report progress on stderr")
	flag.Parse()
	if out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -out DIR [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if progress {
		cfg.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := datagen.Generate(ctx, out, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	report(os.Stdout, out, cfg, sum)
}

func report(w io.Writer, out string, cfg datagen.Config, s *datagen.Summary) {
	fmt.Fprintf(w, "%s: %d samples, %d embeddings (dim %d), %d annotations, %d reviewed; %.1f MB in %s\n",
		out, s.Samples, s.Embeddings, cfg.Dim, s.Annotations, s.Tagged, float64(s.Bytes)/1e6, s.Elapsed.Round(1e6))
}
