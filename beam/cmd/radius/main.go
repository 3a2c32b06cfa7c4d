// Command radius measures the coverage radius of selections over a large
// Parquet table without holding the table: the largest distance from any
// of M evenly spaced rows (every (N/M)-th, as winnow select's summary
// spaces them) to its nearest pick. It reads the table one row group at a
// time and keeps only those rows' and the picks' vectors, so a 10M × 768
// table costs M rows of float32 and a row group. Each selection is a text
// file of sample ids, one a line (winnow query --ids), or a selection
// file (.parquet, as winnow-beam writes it); a random subset of the
// same size, seeded, is measured alongside for reference.
//
//	go run ./cmd/radius -input T.parquet -points 1000000 single.txt picks.parquet
//
// It compares the Beam pipeline's selection with winnow select's on the
// same table (README, "Scale on one machine").
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/winnow-data/winnow/beam/beamselect"
	"github.com/winnow-data/winnow/beam/rowgroups"
	"github.com/winnow-data/winnow/strategies"
)

func main() {
	input := flag.String("input", "", "the table's Parquet file (required)")
	idCol := flag.String("id_column", "sample_id", "id column (UUID, string or binary)")
	vecCol := flag.String("vector_column", "embedding", "embedding column")
	points := flag.Int("points", 200000, "evenly spaced rows the radius is measured over")
	flag.Parse()
	if *input == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: radius -input T.parquet [-points M] IDS.txt ...")
		os.Exit(2)
	}
	if err := run(*input, *idCol, *vecCol, *points, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "radius:", err)
		os.Exit(1)
	}
}

func run(input, idCol, vecCol string, m int, files []string) error {
	ctx := context.Background()
	sets := make([]map[string]int, len(files)) // id -> position in the set
	for k, f := range files {
		ids, err := readIDs(f)
		if err != nil {
			return err
		}
		sets[k] = ids
	}
	fs := rowgroups.LocalFS{}
	plan, err := rowgroups.Plan(ctx, fs, []string{input}, 1) // a row group at a time
	if err != nil {
		return err
	}
	var n int64
	for _, sh := range plan {
		n += sh.Rows
	}
	m = int(min(int64(m), n))
	size := len(sets[0])
	rng := rand.New(rand.NewPCG(7, uint64(size)))
	random := map[int64]bool{}
	for len(random) < size {
		random[rng.Int64N(n)] = true
	}
	// Rows kept, in table order, with what each is.
	var vec []float32
	dim := 0
	var point []int                   // kept positions of the measured rows
	pick := make([][]int, len(files)) // kept positions of each set's picks
	var rnd []int
	start := time.Now()
	nextPoint := 0
	for _, sh := range plan {
		recs, _, _, err := rowgroups.Read(ctx, fs, sh, []string{idCol, vecCol})
		if err != nil {
			return err
		}
		row := sh.FirstRow
		for _, rec := range recs {
			ids, err := rowgroups.FixedBytes(rowgroups.Column(rec, idCol), row)
			if err != nil {
				return err
			}
			var keep []int64
			var what [][]int // per kept row: the sets (len(files) = point, +1 = random)
			for i, raw := range ids {
				r := row + int64(i)
				var tags []int
				for nextPoint < m && int64(nextPoint)*n/int64(m) < r {
					nextPoint++
				}
				if nextPoint < m && int64(nextPoint)*n/int64(m) == r {
					tags = append(tags, -1)
					nextPoint++
				}
				id := rowgroups.IDText(raw)
				for k, s := range sets {
					if _, ok := s[id]; ok {
						tags = append(tags, k)
					}
				}
				if random[r] {
					tags = append(tags, len(files))
				}
				if tags != nil {
					keep = append(keep, r)
					what = append(what, tags)
				}
			}
			if len(keep) > 0 {
				a := rowgroups.Column(rec, vecCol)
				if dim == 0 {
					one := array.NewSlice(a, 0, 1)
					_, d, err := rowgroups.Float32Rows(one, row)
					one.Release()
					if err != nil {
						return err
					}
					dim = d
				}
				if vec == nil {
					// Every measured row, pick and random row once: one
					// allocation, not append's doublings of the largest
					// slice.
					picks := 0
					for _, set := range sets {
						picks += len(set)
					}
					vec = make([]float32, 0, (m+picks+size)*dim)
				}
				at := len(vec)
				vec = append(vec, make([]float32, len(keep)*dim)...)
				if _, err := rowgroups.CopyRows(a, row, keep, vec[at:]); err != nil {
					return err
				}
				for j, tags := range what {
					pos := at/dim + j
					for _, k := range tags {
						switch {
						case k < 0:
							point = append(point, pos)
						case k == len(files):
							rnd = append(rnd, pos)
						default:
							pick[k] = append(pick[k], pos)
						}
					}
				}
			}
			row += rec.NumRows()
			rec.Release()
		}
		fmt.Fprintf(os.Stderr, "\rread %d of %d rows (%v)", row, n, time.Since(start).Round(time.Second))
	}
	fmt.Fprintln(os.Stderr)
	v := strategies.Vectors{Dim: dim, F32: vec}
	fmt.Printf("table %s: %d rows, radius over %d evenly spaced rows\n", input, n, len(point))
	for k, f := range files {
		if len(pick[k]) != len(sets[k]) {
			return fmt.Errorf("%s: %d ids, %d found in the table", f, len(sets[k]), len(pick[k]))
		}
		r, err := strategies.CoverageRadius(ctx, v, point, pick[k], 0)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d picks, coverage radius %.6f\n", f, len(pick[k]), r)
	}
	r, err := strategies.CoverageRadius(ctx, v, point, rnd, 0)
	if err != nil {
		return err
	}
	fmt.Printf("random subset of %d rows (seeded): coverage radius %.6f\n", len(rnd), r)
	return nil
}

func readIDs(path string) (map[string]int, error) {
	if strings.HasSuffix(path, ".parquet") {
		list, _, _, _, err := beamselect.ReadSelection(context.Background(), path)
		if err != nil {
			return nil, err
		}
		ids := map[string]int{}
		for _, id := range list {
			ids[id] = len(ids)
		}
		return ids, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids[id] = len(ids)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no ids", path)
	}
	return ids, nil
}
