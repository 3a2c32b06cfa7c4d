package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"winnow/benchmarks/datagen"
	"winnow/importers"
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
