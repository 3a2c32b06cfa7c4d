package strategies

import (
	"context"
	"fmt"
	"math"
)

// CoverageRadius returns the k-center cost of centers over points: the
// largest distance from any point to its nearest center (points and
// centers are row indexes of v). It is how far the least-covered point is
// from a selection, the number greedy k-center minimises, used to explain
// a diversity selection. It returns 0 when points is empty and +Inf when
// centers is empty. Nearest centers are found exactly (the tile kernel
// prunes, the float64 kernel decides) on workers goroutines (0: all
// cores). Memory beyond v is bounded: the points are searched in chunks.
func CoverageRadius(ctx context.Context, v Vectors, points, centers []int, workers int) (float64, error) {
	return coverageRadius(ctx, v, points, centers, workers, coverageChunk)
}

// coverageChunk is how many points search at once: each holds its query
// state and candidate list (about 0.5 KB) while it searches, which over a
// million points would double the memory of a 512-d float32 matrix.
const coverageChunk = 1 << 16

func coverageRadius(ctx context.Context, v Vectors, points, centers []int, workers, chunk int) (float64, error) {
	if len(points) == 0 {
		return 0, nil
	}
	if len(centers) == 0 {
		return math.Inf(1), nil
	}
	if err := v.checkShape(); err != nil {
		return 0, fmt.Errorf("coverage: %w", err)
	}
	n := v.Rows()
	for _, x := range append(append([]int(nil), points...), centers...) {
		if x < 0 || x >= n {
			return 0, fmt.Errorf("coverage: row %d outside 0..%d", x, n-1)
		}
	}
	workers = workerCount(workers)
	pts, cs := toInt32(points), toInt32(centers)
	var r float64
	if len(cs) <= fewCenters {
		r = fewCentersRadius(ctx, &v, pts, cs, workers, chunk)
	} else {
		r = tileRadius(ctx, &v, pts, cs, workers, chunk)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return math.Sqrt(r), nil
}

// tileRadius is the squared radius by the tile search of each point's
// nearest center.
func tileRadius(ctx context.Context, v *Vectors, pts, cs []int32, workers, chunk int) float64 {
	norms := make([]float64, v.Rows())
	for _, x := range append(append([]int32(nil), pts...), cs...) {
		norms[x] = float64(v.sqNorm32(int(x)))
	}
	tp := newTargetPanels(v, cs, norms)
	worst := make([]float64, len(pts))
	stop := func() bool { return ctx.Err() != nil }
	for lo := 0; lo < len(pts); lo += chunk {
		hi := min(lo+chunk, len(pts))
		tp.nearestRows(v, pts[lo:hi], norms, 1, false, workers, stop, func(int) {}, func(i int, nb []nbCand) { worst[lo+i] = nb[0].hi })
	}
	r := 0.0
	for _, w := range worst {
		r = max(r, w)
	}
	return r
}

// fewCenters is where the tile search stops paying for itself: below it,
// each point's distance to every center is computed directly.
const fewCenters = 8

// fewCentersRadius is the squared radius by direct exact distances: the
// same kernel (sqDistTo from the center's row to the point's float32 row)
// that resolves the tile search's nearest, so both give the same bits.
func fewCentersRadius(ctx context.Context, v *Vectors, pts, cs []int32, workers, chunk int) float64 {
	worst := make([]float64, chunks(len(pts), chunk))
	parallel(workerCount(workers), len(worst), func(task int) {
		if ctx.Err() != nil {
			return
		}
		buf := make([]float32, v.Dim)
		for _, p := range pts[task*chunk : min((task+1)*chunk, len(pts))] {
			row := v.Row(int(p), buf)
			near := math.Inf(1)
			for _, c := range cs {
				near = min(near, v.sqDistTo(int(c), row))
			}
			worst[task] = max(worst[task], near)
		}
	})
	r := 0.0
	for _, w := range worst {
		r = max(r, w)
	}
	return r
}

func toInt32(s []int) []int32 {
	out := make([]int32, len(s))
	for i, x := range s {
		out[i] = int32(x)
	}
	return out
}
