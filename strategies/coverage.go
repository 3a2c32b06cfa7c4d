package strategies

import (
	"context"
	"math"
)

// CoverageRadius returns the k-center cost of centers over points: the
// largest distance from any point to its nearest center (vectors row-major,
// dim floats a row; points and centers are row indexes). It is how far the
// least-covered point is from a selection, the number greedy k-center
// minimises, used to explain a diversity selection. It returns 0 when
// points is empty and +Inf when centers is empty.
func CoverageRadius(ctx context.Context, vectors []float32, dim int, points, centers []int, workers int) (float64, error) {
	if len(points) == 0 {
		return 0, nil
	}
	if len(centers) == 0 {
		return math.Inf(1), nil
	}
	const block = 256
	worst := make([]float64, chunks(len(points), block))
	parallel(workerCount(workers), len(worst), func(t int) {
		if ctx.Err() != nil {
			return
		}
		lo, hi := t*block, min((t+1)*block, len(points))
		w := 0.0
		for _, p := range points[lo:hi] {
			x := vectors[p*dim : (p+1)*dim]
			best := math.Inf(1)
			for _, c := range centers {
				if d := sqDist(x, vectors[c*dim:(c+1)*dim]); d < best {
					best = d
				}
			}
			w = max(w, best)
		}
		worst[t] = w
	})
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r := 0.0
	for _, w := range worst {
		r = max(r, w)
	}
	return math.Sqrt(r), nil
}
