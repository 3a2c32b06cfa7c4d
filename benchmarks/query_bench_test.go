package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/winnow-data/winnow/benchmarks/datagen"
	"github.com/winnow-data/winnow/pipeline"
)

// benchQuery is the query of the match issue's performance target.
const benchQuery = `width < 256 and weather in ("rain", "snow") and not tagged("reviewed")`

// BenchmarkQuery measures that query end to end in one process: Open the
// dataset, then Count the matches, on an N-row generated samples table
// (N from WINNOW_BENCH_QUERY_N, default 1,000,000) with a tags table.
// "sealed" opens it as winnow wrote it; "unsealed" opens a copy whose
// tags table's seal no longer matches (as when another program wrote it),
// so Open validates every id again. rows/s is N over the whole time.
// DuckDB's time for the same query is benchmarks/query.sh's job.
//
//	WINNOW_BENCH_QUERY_N=10000000 go test ./benchmarks -run '^$' -bench Query -count 5 | benchstat -
func BenchmarkQuery(b *testing.B) {
	n := 1000000
	if s := os.Getenv("WINNOW_BENCH_QUERY_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("WINNOW_BENCH_QUERY_N=%q: want a positive integer", s)
		}
		n = v
	}
	sealed := queryDataset(b, n)
	unsealed := unsealedCopy(b, sealed)
	for _, c := range []struct{ name, dir string }{{"sealed", sealed}, {"unsealed", unsealed}} {
		b.Run(fmt.Sprintf("%s/N=%d", c.name, n), func(b *testing.B) {
			ctx := context.Background()
			want := -1
			for i := 0; i < b.N; i++ {
				ds, err := pipeline.OpenContext(ctx, c.dir)
				if err != nil {
					b.Fatal(err)
				}
				q, err := ds.Query().Where(benchQuery)
				if err != nil {
					b.Fatal(err)
				}
				got, err := q.Count(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if want >= 0 && got != want {
					b.Fatalf("count %d, then %d", want, got)
				}
				want = got
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// queryDataset generates (once, cached under data/) an n-row dataset of
// samples and tags.
func queryDataset(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join("data", fmt.Sprintf("query-n%d", n))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	b.Logf("generating %s (once)", dir)
	// The rows of `go run ./benchmarks/cmd/gen -n N -no-embeddings
	// -no-annotations`, the dataset benchmarks/query.sh compares on.
	cfg := datagen.Config{N: n, Dim: 768, Clusters: 100, Seed: 1, Model: "synthetic", RowGroupRows: 64 * 1024,
		NoEmbeddings: true, NoAnnotations: true, Overwrite: true}
	if _, err := datagen.Generate(context.Background(), dir, cfg); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// unsealedCopy returns a copy of dataset dir (samples linked, not
// copied) whose tags table has its seal's value zeroed: the file reads
// the same, but its seal vouches for nothing.
func unsealedCopy(b *testing.B, dir string) string {
	b.Helper()
	out := dir + "-unsealed"
	if err := os.RemoveAll(out); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "samples.parquet"), filepath.Join(out, "samples.parquet")); err != nil {
		b.Fatal(err)
	}
	tags, err := os.ReadFile(filepath.Join(dir, "tags.parquet"))
	if err != nil {
		b.Fatal(err)
	}
	key := []byte("winnow.seal.v1")
	k := bytes.LastIndex(tags, key)
	if k < 0 {
		b.Fatal("tags.parquet has no seal")
	}
	v := k + len(key) + 2 // the value follows its Thrift field header and length
	copy(tags[v:v+64], bytes.Repeat([]byte{'0'}, 64))
	if err := os.WriteFile(filepath.Join(out, "tags.parquet"), tags, 0o644); err != nil {
		b.Fatal(err)
	}
	return out
}
