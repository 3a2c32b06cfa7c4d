package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/winnow-data/winnow/benchmarks/datagen"
	"github.com/winnow-data/winnow/pipeline"
	"github.com/winnow-data/winnow/report"
)

// BenchmarkReport measures `winnow report` in one process: Load (open
// the dataset, read the record, run the query again, read the vectors and
// the columns the page needs), Build (the curves, map, histograms) and
// WriteHTML (the plots and the page), on a generated dataset of N samples
// × D dimensions and a stored selection of K: diversity alone (the curve
// from the record), diversity with weighting by a column (the weights read
// for every candidate) and annotation balancing alone (the coverage curve
// measured, every annotation read for the classes). Sizes come from the
// environment:
//
//	WINNOW_BENCH_REPORT_N            samples (default 100000)
//	WINNOW_BENCH_REPORT_D            dimension (default 128)
//	WINNOW_BENCH_REPORT_K            picks (default 1000)
//	WINNOW_BENCH_REPORT_COMPRESSION  zstd (default), snappy or none
//
// The dataset and its selections are made once and cached under data/
// (gitignored); making 1,000,000 × 512 and its selections of 10,000 takes
// a few minutes on a quiet machine. The target, under 10 s and
// 5 MB:
//
//	WINNOW_BENCH_REPORT_N=1000000 WINNOW_BENCH_REPORT_D=512 WINNOW_BENCH_REPORT_K=10000 \
//	  go test ./benchmarks -run '^$' -bench Report -benchtime 3x -timeout 60m
//
// load-s, build-s and html-s split the time of one op; cpu-s is its CPU
// time (on a shared machine a steadier figure than the wall time);
// page-MB is the page's size; peak-RSS-GB the process's peak resident set
// during the ops.
func BenchmarkReport(b *testing.B) {
	n := engineEnv("WINNOW_BENCH_REPORT_N", 100000)
	dim := engineEnv("WINNOW_BENCH_REPORT_D", 128)
	k := engineEnv("WINNOW_BENCH_REPORT_K", 1000)
	codec := os.Getenv("WINNOW_BENCH_REPORT_COMPRESSION")
	if codec == "" {
		codec = "zstd"
	}
	dir := reportDataset(b, n, dim, codec)
	cases := []struct {
		tag  string
		list []pipeline.Strategy
	}{
		{fmt.Sprintf("diversity-%d", k), []pipeline.Strategy{pipeline.EmbeddingDiversity{}}},
		{fmt.Sprintf("diversity-weights-%d", k), []pipeline.Strategy{pipeline.EmbeddingDiversity{}, pipeline.MetadataWeighting{Key: "width"}}},
		{fmt.Sprintf("balance-%d", k), []pipeline.Strategy{pipeline.AnnotationBalancing{Target: pipeline.Uniform}}},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/N=%d/D=%d/%s", c.tag, n, dim, codec), func(b *testing.B) {
			reportSelection(b, dir, c.tag, k, c.list)
			var load, build, html, cpu time.Duration
			size := 0
			resetPeakRSS()
			for i := 0; i < b.N; i++ {
				// The last op's matrix is garbage by now; collect it so
				// the peak is one report's, not two.
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				c0 := readCPUTime()
				t0 := time.Now()
				in, err := report.Load(ctx, dir, c.tag)
				if err != nil {
					b.Fatal(err)
				}
				if len(in.Header.Changed) > 0 {
					b.Fatalf("dataset reported as changed: %v", in.Header.Changed)
				}
				t1 := time.Now()
				d, err := report.Build(ctx, in, report.Options{})
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				var page bytes.Buffer
				if err := report.WriteHTML(&page, d); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				cpu += readCPUTime() - c0
				load, build, html = load+t1.Sub(t0), build+t2.Sub(t1), html+t3.Sub(t2)
				size = page.Len()
			}
			ops := float64(b.N)
			b.ReportMetric(load.Seconds()/ops, "load-s")
			b.ReportMetric(build.Seconds()/ops, "build-s")
			b.ReportMetric(html.Seconds()/ops, "html-s")
			b.ReportMetric(cpu.Seconds()/ops, "cpu-s")
			b.ReportMetric(float64(size)/1e6, "page-MB")
			if peak := peakRSS(); peak > 0 {
				b.ReportMetric(float64(peak)/1e9, "peak-RSS-GB")
			}
		})
	}
}

// reportDataset generates (once, cached under data/) the dataset of
// `go run ./benchmarks/cmd/gen -n N -dim D -compression C`.
func reportDataset(b *testing.B, n, dim int, codec string) string {
	b.Helper()
	dir := filepath.Join("data", fmt.Sprintf("report-n%d-d%d-%s", n, dim, codec))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	b.Logf("generating %s (once)", dir)
	cfg := datagen.Config{N: n, Dim: dim, Clusters: 100, Seed: 1, Model: "synthetic", Compression: codec, Overwrite: true}
	if _, err := datagen.Generate(context.Background(), dir, cfg); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// reportSelection stores the selection tag of k samples in dir unless a
// previous run did.
func reportSelection(b *testing.B, dir, tag string, k int, list []pipeline.Strategy) {
	b.Helper()
	ds, err := pipeline.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	names, err := ds.Tags()
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range names {
		if t.Name == tag {
			return
		}
	}
	b.Logf("selecting %s in %s (once)", tag, dir)
	sel, err := ds.Query().Selection()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := sel.MultiStrategies(context.Background(), k, tag, list); err != nil {
		b.Fatal(err)
	}
	b.Logf("selected %s in %v", tag, time.Since(start).Round(time.Millisecond))
}
