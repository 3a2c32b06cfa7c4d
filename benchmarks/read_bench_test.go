package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/columnar"
)

// BenchmarkReadEmbeddings measures columnar.Dataset.ReadEmbeddings on an
// N×512 clustered-random float32 table (N from WINNOW_BENCH_N, default
// 100000) for each codec. b.SetBytes is the float32 matrix size, so MB/s
// is float32 delivered. peak-RSS/matrix is the process's peak resident
// set during the timed reads over the matrix size (the high-water mark is
// reset after the data is generated and opened). cpu-s/op and GB/cpu-s
// measure CPU time rather than wall time, which on a loaded machine says
// more about the reader than MB/s does.
//
// The tables are generated once with columnar.Writer and cached under
// benchmarks/data/ (gitignored), keyed by N, D and codec.
//
//	WINNOW_BENCH_N=1000000 go test ./benchmarks/ -run '^$' -bench ReadEmbeddings -benchtime 3x
func BenchmarkReadEmbeddings(b *testing.B) {
	n := 100000
	if s := os.Getenv("WINNOW_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("WINNOW_BENCH_N=%q: want a positive integer", s)
		}
		n = v
	}
	const dim = 512
	codecs := []struct {
		name  string
		codec compress.Compression
	}{
		{"zstd", compress.Codecs.Zstd},
		{"snappy", compress.Codecs.Snappy},
		{"uncompressed", compress.Codecs.Uncompressed},
	}
	for _, c := range codecs {
		b.Run(fmt.Sprintf("codec=%s/N=%d/D=%d", c.name, n, dim), func(b *testing.B) {
			dir := embeddingDataset(b, n, dim, c.name, c.codec)
			ctx := context.Background()
			d, err := columnar.Open(ctx, dir)
			if err != nil {
				b.Fatal(err)
			}
			matrixBytes := int64(n) * dim * 4
			b.SetBytes(matrixBytes)
			runtime.GC()
			debug.FreeOSMemory()
			resetPeakRSS()
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c0 := readCPUTime()
				m, err := d.ReadEmbeddings(ctx, "bench")
				cpu += readCPUTime() - c0
				if err != nil {
					b.Fatal(err)
				}
				if m.Present.Count() != n {
					b.Fatalf("read %d vectors, want %d", m.Present.Count(), n)
				}
				// Free the matrix before the next read, so that each read
				// is measured alone rather than next to its predecessor.
				b.StopTimer()
				m = nil
				runtime.GC()
				debug.FreeOSMemory()
				b.StartTimer()
			}
			b.StopTimer()
			// CPU time (user+system, all threads) per read: on a machine
			// shared with other jobs, matrix bytes per CPU second and the
			// core count bound what an idle machine would deliver.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(matrixBytes)*float64(b.N)/cpu.Seconds()/1e9, "GB/cpu-s")
			if peak := peakRSS(); peak > 0 {
				b.ReportMetric(float64(peak)/float64(matrixBytes), "peak-RSS/matrix")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

// embeddingDataset returns a cached dataset folder with a samples table
// and model "bench": n clustered-random vectors of dimension dim.
func embeddingDataset(b *testing.B, n, dim int, codecName string, codec compress.Compression) string {
	b.Helper()
	dir := filepath.Join("data", fmt.Sprintf("read-n%d-d%d-%s", n, dim, codecName))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	b.Logf("generating %s (once)", dir)
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	r := rand.New(rand.NewPCG(uint64(n), uint64(dim)))
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(r.Uint32())
		}
	}
	opts := columnar.WriterOptions{Compression: codec, Uncompressed: codec == compress.Codecs.Uncompressed}
	const rowGroup = 64 * 1024

	// samples: sample_id only.
	sschema := arrow.NewSchema([]arrow.Field{{Name: columnar.SampleIDColumn, Type: columnar.UUIDType()}}, nil)
	writeTable(b, filepath.Join(dir, "samples.parquet"), sschema, opts, n, rowGroup, func(bld *array.RecordBuilder, lo, hi int) {
		ub := bld.Field(0).(interface{ Append(uuid.UUID) })
		for _, id := range ids[lo:hi] {
			ub.Append(id)
		}
	})

	// embeddings: 64 Gaussian clusters, centres N(0,1), spread 0.3.
	const k = 64
	centres := make([]float32, k*dim)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	writeTable(b, filepath.Join(dir, "embeddings", "bench.parquet"), columnar.EmbeddingSchema(dim), opts, n, rowGroup, func(bld *array.RecordBuilder, lo, hi int) {
		ub := bld.Field(0).(interface{ Append(uuid.UUID) })
		lb := bld.Field(1).(*array.FixedSizeListBuilder)
		vb := lb.ValueBuilder().(*array.Float32Builder)
		vb.Reserve((hi - lo) * dim)
		for i := lo; i < hi; i++ {
			ub.Append(ids[i])
			lb.Append(true)
			c := centres[r.IntN(k)*dim:][:dim]
			for j := range dim {
				vb.UnsafeAppend(c[j] + float32(0.3*r.NormFloat64()))
			}
		}
	})
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// writeTable writes n rows in records of at most rowGroup rows, one row
// group each. Records are built fresh per row group rather than letting
// the writer slice one big record: pqarrow (arrow-go v18.8.0) ignores the
// offset of a sliced FixedSizeList array when writing it.
func writeTable(b *testing.B, path string, schema *arrow.Schema, opts columnar.WriterOptions, n, rowGroup int,
	fill func(bld *array.RecordBuilder, lo, hi int)) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	opts.RowGroupRows = int64(rowGroup)
	w, err := columnar.NewWriter(f, schema, opts)
	if err != nil {
		b.Fatal(err)
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	for lo := 0; lo < n; lo += rowGroup {
		hi := min(lo+rowGroup, n)
		fill(bld, lo, hi)
		rec := bld.NewRecordBatch()
		if lo > 0 {
			if err := w.NewRowGroup(); err != nil {
				b.Fatal(err)
			}
		}
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}

// readCPUTime is the user plus system CPU time of the process so far.
func readCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's resident-set high-water mark of this
// process (Linux; a no-op elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns the process's peak resident set in bytes (VmHWM), or 0
// where /proc is unavailable.
func peakRSS() int64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(s, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
