package query

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const benchRows = 10_000_000

// benchSource builds the benchmark dataset in memory: width int64,
// weather as a dictionary (dict true) or plain string column, and a
// "reviewed" tag on about half the samples, in chunks of 64 Ki rows as a
// Parquet reader would return them.
func benchSource(b *testing.B, dict bool) *qSource {
	b.Helper()
	mem := memory.DefaultAllocator
	r := rand.New(rand.NewPCG(7, 7))
	weathers := []string{"clear", "rain", "snow", "fog", "cloudy"}
	wb := array.NewInt64Builder(mem)
	defer wb.Release()
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	reviewed := bitmap.New(benchRows)
	for i := range benchRows {
		wb.Append(int64(r.IntN(1024)))
		k := r.IntN(len(weathers))
		if dict {
			ib.Append(int32(k))
		} else {
			sb.Append(weathers[k])
		}
		if r.IntN(2) == 0 {
			reviewed.Set(i)
		}
	}
	width := wb.NewArray()
	var weather arrow.Array
	wt := arrow.DataType(arrow.BinaryTypes.String)
	if dict {
		sb.AppendValues(weathers, nil)
		values := sb.NewArray()
		idx := ib.NewArray()
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		weather = array.NewDictionaryArray(dt, idx, values)
		wt = dt
	} else {
		weather = sb.NewArray()
	}
	fields := []arrow.Field{{Name: "width", Type: arrow.PrimitiveTypes.Int64}, {Name: "weather", Type: wt}}
	var cuts []int
	for c := 1 << 16; c < benchRows; c += 1 << 16 {
		cuts = append(cuts, c)
	}
	return &qSource{
		samples:  qTable(fields, []arrow.Array{width, weather}, cuts...),
		tags:     map[string]*bitmap.Bitmap{"reviewed": reviewed},
		tagOrder: []string{"reviewed"},
	}
}

func benchEval(b *testing.B, src *qSource, query string) {
	e := mustParse(b, query)
	ctx := context.Background()
	var matched int
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		got, err := Eval(ctx, e, src)
		if err != nil {
			b.Fatal(err)
		}
		matched = got.Count()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// The machine is shared: CPU time spent by this process is a steadier
	// measure than wall time when other jobs compete for the cores.
	b.ReportMetric(float64(benchRows)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(matched), "matched")
}

const benchQuery = `width < 256 and weather in ("rain", "snow") and not tagged("reviewed")`

// BenchmarkEvalDict evaluates the spec's example predicate over 10M rows
// with weather dictionary-encoded (as Parquet readers return repetitive
// strings when asked to).
func BenchmarkEvalDict(b *testing.B) { benchEval(b, benchSource(b, true), benchQuery) }

// BenchmarkEvalString is the same over a plain string column.
func BenchmarkEvalString(b *testing.B) { benchEval(b, benchSource(b, false), benchQuery) }

// BenchmarkEvalInt is the integer comparison alone.
func BenchmarkEvalInt(b *testing.B) { benchEval(b, benchSource(b, true), `width < 256`) }

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
