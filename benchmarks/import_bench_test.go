package benchmarks

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/winnow-data/winnow/benchmarks/datagen"
	"github.com/winnow-data/winnow/importers"
)

// BenchmarkImportCOCO imports a generated COCO instances file of the COCO
// 2017 val shape (5,000 images, 36,781 annotations, about 1 % crowd, 80
// categories, polygons and RLE counts, 19.5 MB), or of the train shape
// (118,287 images, 860,001 annotations, about 450 MB) with
// WINNOW_BENCH_COCO=train: parse, check, and write the dataset.
// peak-RSS-MB is the process's peak resident set during the timed imports
// (the high-water mark is reset after the file is generated), which
// includes the Go runtime and the test binary. cpu-s/op is the CPU time
// of an import, which on a loaded machine says more than ns/op.
//
// The file is generated once and cached under benchmarks/data/.
//
//	go test ./benchmarks -run '^$' -bench ImportCOCO -benchtime 5x
//	WINNOW_BENCH_COCO=train go test ./benchmarks -run '^$' -bench ImportCOCO -benchtime 1x
func BenchmarkImportCOCO(b *testing.B) {
	name, shape := "val", datagen.COCOVal2017
	if os.Getenv("WINNOW_BENCH_COCO") == "train" {
		name, shape = "train", datagen.COCOTrain2017
	}
	path := filepath.Join("data", "coco-"+name+"2017.json")
	if _, err := os.Stat(path); err != nil {
		b.Logf("generating %s (once)", path)
		if err := os.MkdirAll("data", 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(path + ".tmp")
		if err != nil {
			b.Fatal(err)
		}
		if err := datagen.WriteCOCO(f, shape, 1); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			b.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("shape="+name, func(b *testing.B) {
		b.SetBytes(fi.Size())
		ctx := context.Background()
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		var cpu time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			out := filepath.Join(b.TempDir(), "ds")
			b.StartTimer()
			c0 := readCPUTime()
			res, err := importers.COCO(ctx, path, out, importers.COCOOptions{})
			cpu += readCPUTime() - c0
			if err != nil {
				b.Fatal(err)
			}
			if res.Annotations != shape.Annotations {
				b.Fatalf("imported %d annotations, want %d", res.Annotations, shape.Annotations)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
}

// BenchmarkImportEmbeddings imports an N x 512 float32 .npy (N from
// WINNOW_BENCH_EMB_N, default 100000) into a dataset of N samples, ids
// matched by file name: read, convert, match, write in dataset order.
// peak-RSS/matrix is the peak resident set during the timed imports over
// the float32 matrix's size.
//
//	go test ./benchmarks -run '^$' -bench ImportEmbeddings -benchtime 3x
func BenchmarkImportEmbeddings(b *testing.B) {
	n := 100000
	if s := os.Getenv("WINNOW_BENCH_EMB_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("WINNOW_BENCH_EMB_N=%q: want a positive integer", s)
		}
		n = v
	}
	const dim = 512
	ctx := context.Background()
	dir := filepath.Join("data", fmt.Sprintf("import-emb-n%d", n))
	npy, ids, ds := filepath.Join(dir, "e.npy"), filepath.Join(dir, "ids.txt"), filepath.Join(dir, "ds")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		b.Logf("generating %s (once)", dir)
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		coco := filepath.Join(dir, "images.json")
		f, err := os.Create(coco)
		if err != nil {
			b.Fatal(err)
		}
		if err := datagen.WriteCOCO(f, datagen.COCOShape{Images: n}, 1); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if _, err := importers.COCO(ctx, coco, ds, importers.COCOOptions{}); err != nil {
			b.Fatal(err)
		}
		var names strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&names, "%012d.jpg\n", 1000+7*((i*7919)%n)) // a permutation of the samples
		}
		if err := os.WriteFile(ids, []byte(names.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := writeNPY(npy, n, dim); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	matrix := int64(n) * dim * 4
	b.Run(fmt.Sprintf("N=%d/D=%d", n, dim), func(b *testing.B) {
		b.SetBytes(matrix)
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		var cpu time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c0 := readCPUTime()
			res, err := importers.Embeddings(ctx, npy, ds, importers.EmbeddingsOptions{Model: "bench", IDs: ids, Match: "file_name", Force: true})
			cpu += readCPUTime() - c0
			if err != nil {
				b.Fatal(err)
			}
			if res.Vectors != n {
				b.Fatalf("imported %d vectors, want %d", res.Vectors, n)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(peakRSS())/float64(matrix), "peak-RSS/matrix")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
}

// writeNPY writes an n x dim float32 .npy (format 1.0) of random normals.
func writeNPY(path string, n, dim int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, dim)
	pad := 64 - (10+len(dict)+1)%64
	header := dict + strings.Repeat(" ", pad%64) + "\n"
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	r := rand.New(rand.NewPCG(uint64(n), uint64(dim)))
	var b [4]byte
	for i := 0; i < n*dim; i++ {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(float32(r.NormFloat64())))
		w.Write(b[:])
	}
	return w.Flush()
}
