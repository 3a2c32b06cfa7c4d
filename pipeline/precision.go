package pipeline

import (
	"fmt"
	"runtime"
	"sync"

	"winnow/columnar"
	"winnow/strategies"
)

// Precision is the number format the engine computes on.
type Precision string

const (
	// PrecisionStored keeps every model's vectors as the dataset stores
	// them (float32 or float16); the engine is exact on both.
	PrecisionStored Precision = ""
	// PrecisionFloat16 rounds float32 vectors to float16 (nearest, ties
	// to even) as they are loaded, halving the working set. It is
	// approximate: each value keeps 11 significant bits (a relative error
	// up to 2^-11), so distances, and so picks and coverage radii, can
	// differ from those of the stored values; the result and its record
	// say so. Vectors already stored as float16 are unchanged.
	PrecisionFloat16 Precision = "float16"
)

// ParsePrecision reads a precision name: "float16", or "stored" (or "")
// for the stored precision.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "stored":
		return PrecisionStored, nil
	case "float16":
		return PrecisionFloat16, nil
	}
	return "", fmt.Errorf("precision %q: want float16 or stored", s)
}

// Approximate reports whether the precision changes the vectors.
func (p Precision) Approximate() bool { return p == PrecisionFloat16 }

// PrecisionError reports vectors that float16 cannot hold: values beyond
// ±65504 round to ±Inf.
type PrecisionError struct {
	Model string
	Count int     // vectors affected
	First string  // the first affected sample (or annotation), by id
	Value float32 // its first value out of range
}

func (e *PrecisionError) Error() string {
	return fmt.Sprintf("precision float16: model %q: %d vectors have values beyond float16's range of ±65504 (first: %s, value %g); select at the stored precision",
		e.Model, e.Count, e.First, e.Value)
}

// toFloat16 converts m's float32 values to float16 in place of them (m.Data
// is dropped for the collector), on workers goroutines. A value that
// float16 cannot hold is a *PrecisionError naming the first affected row
// with name; m is then unchanged. The conversion keeps the invariant of
// matrixVectors: finite values in, finite values out.
func toFloat16(m *columnar.Matrix, model string, workers int, name func(row int) string) error {
	if m.F16 != nil || m.Dim <= 0 {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rows := m.Rows()
	h := make([]uint16, len(m.Data))
	const chunk = 8192 // rows a task
	tasks := (rows + chunk - 1) / chunk
	bad := make([]int, tasks) // per task: vectors out of range
	first := make([]int, tasks)
	var wg sync.WaitGroup
	next := make(chan int, tasks)
	for t := range tasks {
		next <- t
	}
	close(next)
	for range min(workers, max(tasks, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				lo, hi := t*chunk*m.Dim, min((t+1)*chunk, rows)*m.Dim
				strategies.EncodeFloat16(h[lo:hi], m.Data[lo:hi])
				first[t] = -1
				for r := t * chunk; r < min((t+1)*chunk, rows); r++ {
					for _, x := range h[r*m.Dim : (r+1)*m.Dim] {
						if x&0x7c00 == 0x7c00 { // ±Inf: the value overflowed
							if bad[t]++; first[t] < 0 {
								first[t] = r
							}
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	e := &PrecisionError{Model: model}
	fr := -1
	for t := range tasks {
		e.Count += bad[t]
		if fr < 0 && first[t] >= 0 {
			fr = first[t]
		}
	}
	if e.Count > 0 {
		for _, x := range m.Row(fr) {
			if strategies.ToFloat16(x)&0x7c00 == 0x7c00 {
				e.Value = x
				break
			}
		}
		e.First = name(fr)
		return e
	}
	m.Data, m.F16 = nil, h
	return nil
}
