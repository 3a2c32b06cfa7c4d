//go:build unix

// Command loadbench measures how fast winnow loads an embedding model
// (columnar.Dataset.ReadEmbeddings) and, with -duckdb, how fast DuckDB
// scans the same column of the same files, alternating run by run so that
// the ratio comes from one run of the program on one machine state.
//
//	go run ./benchmarks/cmd/gen -n 1000000 -dim 512 -clusters 1000 -no-annotations -out benchmarks/data/n1m-d512
//	(cd benchmarks/duckdb && npm install)
//	go run ./benchmarks/cmd/loadbench -dir benchmarks/data/n1m-d512 -duckdb benchmarks/duckdb -runs 5
//
// It prints each run and the medians: wall seconds, CPU seconds (user and
// system, of this process), MB/s of the matrix delivered (float32 or
// float16 values) and of the table's bytes on disk, peak RSS over the
// matrix size, and DuckDB's seconds for its query alone in an open
// instance (node's start-up excluded). -cpuprofile writes a profile of
// winnow's reads. -float16 reads with columnar.WithFloat16 (what
// --precision float16 does): the values rounded to float16 as they are
// decoded, whose peak RSS should be about the float16 matrix, half the
// float32 one:
//
//	go run ./benchmarks/cmd/loadbench -dir benchmarks/data/n1m-d768 -float16 -runs 1 -warm=false
//
// (under /usr/bin/time -v for the process's own peak). It runs on Unix systems (it reads the CPU time with
// getrusage and the peak RSS from /proc).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/winnow-data/winnow/columnar"
)

func main() {
	dir := flag.String("dir", "", "dataset folder (required)")
	model := flag.String("model", "", "embedding model (default: the dataset's only one)")
	runs := flag.Int("runs", 5, "reads of each")
	duck := flag.String("duckdb", "", "folder of the DuckDB peer (benchmarks/duckdb, after npm install); empty: no peer")
	mode := flag.String("duckdb-mode", "sum", "DuckDB's query: sum (decode and reduce every value) or materialize (copy the column into a temporary table)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of winnow's reads to this file")
	arrowZstd := flag.Bool("arrow-zstd", false, "also time each read with arrow-go's own zstd codec (A/B against winnow's)")
	half := flag.Bool("float16", false, "read with columnar.WithFloat16: values rounded to float16 as they are decoded")
	warm := flag.Bool("warm", true, "read once before the timed runs (page cache, ids); -warm=false: only the timed reads, for a process peak of one read")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: loadbench -dir DIR [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	// arrow-go's codec, taken before columnar registers its own.
	orig, _ := compress.GetCodec(compress.Codecs.Zstd)
	if !*arrowZstd {
		orig = nil
	}
	var opts []columnar.ReadOption
	if *half {
		opts = append(opts, columnar.WithFloat16())
	}
	if err := run(*dir, *model, *runs, *duck, *mode, *profile, orig, opts, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(dir, model string, runs int, duck, mode, profile string, arrowZstd compress.Codec, opts []columnar.ReadOption, warm bool) error {
	ctx := context.Background()
	ds, err := columnar.Open(ctx, dir)
	if err != nil {
		return err
	}
	if model == "" {
		ms := ds.Models()
		if len(ms) != 1 {
			return fmt.Errorf("the dataset has models %v: name one with -model", ms)
		}
		model = ms[0]
	}
	table := ds.TablePath("embeddings/" + model)
	st, err := columnar.Stat(table)
	if err != nil {
		return err
	}
	column := ""
	for _, m := range ds.Layout().Models {
		if m.Name == model {
			column = m.Vector
		}
	}
	// Warm the page cache and the ids, so that every timed read finds
	// what the next one finds.
	if warm {
		if _, err := ds.ReadEmbeddings(ctx, model, opts...); err != nil {
			return err
		}
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var wall, cpu, mbs, diskMBs, rss, peer, peerCPU, arrowWall, arrowCPU []float64
	ours, _ := compress.GetCodec(compress.Codecs.Zstd)
	for i := range runs {
		if arrowZstd != nil {
			compress.RegisterCodec(compress.Codecs.Zstd, arrowZstd)
			runtime.GC()
			debug.FreeOSMemory() // as for winnow's run: a fresh matrix faults in
			c0, t0 := cpuTime(), time.Now()
			_, err := ds.ReadEmbeddings(ctx, model, opts...)
			w, c := time.Since(t0).Seconds(), (cpuTime() - c0).Seconds()
			compress.RegisterCodec(compress.Codecs.Zstd, ours)
			if err != nil {
				return err
			}
			arrowWall, arrowCPU = append(arrowWall, w), append(arrowCPU, c)
			fmt.Printf("run %d: winnow with arrow-go's zstd codec %.3f s (cpu %.2f s)\n", i+1, w, c)
		}
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		c0, t0 := cpuTime(), time.Now()
		m, err := ds.ReadEmbeddings(ctx, model, opts...)
		w, c := time.Since(t0).Seconds(), (cpuTime() - c0).Seconds()
		if err != nil {
			return err
		}
		size := float64(len(m.Data))*4 + float64(len(m.F16))*2
		wall, cpu = append(wall, w), append(cpu, c)
		mbs, diskMBs = append(mbs, size/w/1e6), append(diskMBs, float64(st.Bytes)/w/1e6)
		rss = append(rss, float64(peakRSS())/size)
		line := fmt.Sprintf("run %d: winnow %.3f s (cpu %.2f s) %.0f MB/s of %.0f MB, %.0f MB/s of %.0f MB on disk, peak RSS %.0f MB = %.2f × matrix",
			i+1, w, c, size/w/1e6, size/1e6, float64(st.Bytes)/w/1e6, float64(st.Bytes)/1e6, float64(peakRSS())/1e6, rss[len(rss)-1])
		m = nil
		if duck != "" {
			s, c, err := duckScan(duck, table, column, mode)
			if err != nil {
				return err
			}
			peer, peerCPU = append(peer, s), append(peerCPU, c)
			line += fmt.Sprintf("; duckdb %.3f s (process cpu %.2f s)", s, c)
		}
		fmt.Println(line)
	}
	fmt.Printf("median: winnow %.3f s (cpu %.2f s), %.0f MB/s matrix, %.0f MB/s disk, peak RSS %.2f × matrix\n",
		median(wall), median(cpu), median(mbs), median(diskMBs), median(rss))
	if arrowZstd != nil {
		fmt.Printf("median: winnow with arrow-go's zstd codec %.3f s (cpu %.2f s)\n", median(arrowWall), median(arrowCPU))
	}
	if duck != "" {
		fmt.Printf("median: duckdb (%s) %.3f s (process cpu %.2f s, node's start-up included); winnow/duckdb ratio: time %.2f, cpu %.2f (below 1: winnow faster)\n",
			mode, median(peer), median(peerCPU), median(wall)/median(peer), median(cpu)/median(peerCPU))
	}
	return nil
}

var duckSeconds = regexp.MustCompile(`seconds=([0-9.]+)`)

// duckScan runs DuckDB's scan of column once and returns the seconds of
// its query and the CPU seconds of its process.
func duckScan(duck, table, column, mode string) (float64, float64, error) {
	src := table
	if st, err := os.Stat(table); err == nil && st.IsDir() {
		src = filepath.Join(table, "**", "*.parquet")
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command("node", "scan.mjs", abs, column, "1", mode)
	cmd.Dir = duck
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("duckdb: %v: %s", err, out)
	}
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := duckSeconds.FindStringSubmatch(sc.Text()); m != nil {
			s, err := strconv.ParseFloat(m[1], 64)
			return s, cpu, err
		}
	}
	return 0, 0, fmt.Errorf("duckdb printed no time: %s", out)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's high-water mark of resident memory
// (Linux: writing 5 to /proc/self/clear_refs).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's resident high-water mark in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
