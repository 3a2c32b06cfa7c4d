package report

import (
	"context"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Distances are computed as |a|² + |b|² − 2a·b with the dot products of a
// block of points against a block of centres in one matrix product
// (gonum's blas32.Gemm, several times faster here than a loop of dot
// products). The float32 products lose a few digits against the direct
// difference; the report only draws these numbers, and the tests compare
// them with the direct computation within 1e-4.

// block is how many centres one matrix product takes.
const block = 256

// gathered is a set of rows copied into one contiguous matrix, with the
// squared norm of each.
type gathered struct {
	dim   int
	data  []float32
	norms []float32
}

// gather copies rows of v, less centre (nil for none): distances do not
// change, and centring both sides on the points' mean keeps the norms
// small, so the norm trick loses fewer digits to cancellation.
func gather(v *Vectors, rows []int, centre []float32) *gathered {
	g := &gathered{dim: v.Dim, data: make([]float32, len(rows)*v.Dim), norms: make([]float32, len(rows))}
	for i, r := range rows {
		dst := g.data[i*v.Dim : (i+1)*v.Dim]
		copy(dst, v.Row(r))
		var s float32
		for k := range dst {
			if centre != nil {
				dst[k] -= centre[k]
			}
			s += dst[k] * dst[k]
		}
		g.norms[i] = s
	}
	return g
}

// meanOf is the mean vector of rows of v (nil for no rows).
func meanOf(v *Vectors, rows []int) []float32 {
	if len(rows) == 0 {
		return nil
	}
	sum := make([]float64, v.Dim)
	for _, r := range rows {
		for k, x := range v.Row(r) {
			sum[k] += float64(x)
		}
	}
	out := make([]float32, v.Dim)
	for k, s := range sum {
		out[k] = float32(s / float64(len(rows)))
	}
	return out
}

func (g *gathered) rows() int { return len(g.norms) }

func (g *gathered) general(lo, hi int) blas32.General {
	return blas32.General{Rows: hi - lo, Cols: g.dim, Stride: g.dim, Data: g.data[lo*g.dim : hi*g.dim]}
}

// squaredDistances calls visit for each block of centres c[lo:hi] with
// d2[i*(hi-lo)+j], the squared distance from point i to centre lo+j
// (clamped at 0).
func squaredDistances(ctx context.Context, p, c *gathered, visit func(lo, hi int, d2 []float32)) error {
	if p.rows() == 0 || c.rows() == 0 {
		return nil
	}
	buf := make([]float32, p.rows()*block)
	for lo := 0; lo < c.rows(); lo += block {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+block, c.rows())
		w := hi - lo
		out := blas32.General{Rows: p.rows(), Cols: w, Stride: w, Data: buf[:p.rows()*w]}
		if p.dim > 0 {
			blas32.Gemm(blas.NoTrans, blas.Trans, -2, p.general(0, p.rows()), c.general(lo, hi), 0, out)
		} else {
			clear(out.Data)
		}
		for i := 0; i < p.rows(); i++ {
			row := out.Data[i*w : (i+1)*w]
			for j := range row {
				row[j] = max(0, row[j]+p.norms[i]+c.norms[lo+j])
			}
		}
		visit(lo, hi, out.Data)
	}
	return nil
}

// radiusCurve returns the coverage radius over points after each centre
// of order is added to pre: out[k] is the largest distance from a point
// to its nearest member of pre ∪ order[:k], for k = 0..len(order); NaN
// for an empty set.
func radiusCurve(ctx context.Context, v *Vectors, points, pre, order []int) ([]float64, error) {
	out := make([]float64, len(order)+1)
	centre := meanOf(v, points)
	p := gather(v, points, centre)
	mind := make([]float32, p.rows())
	for i := range mind {
		mind[i] = float32(math.Inf(1))
	}
	radius := func() float64 {
		if len(points) == 0 {
			return math.NaN()
		}
		var r float32
		for _, d := range mind {
			r = max(r, d)
		}
		return math.Sqrt(float64(r))
	}
	err := squaredDistances(ctx, p, gather(v, pre, centre), func(lo, hi int, d2 []float32) {
		w := hi - lo
		for i := range mind {
			for _, d := range d2[i*w : (i+1)*w] {
				mind[i] = min(mind[i], d)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out[0] = math.NaN()
	if len(pre) > 0 {
		out[0] = radius()
	}
	err = squaredDistances(ctx, p, gather(v, order, centre), func(lo, hi int, d2 []float32) {
		w := hi - lo
		for j := 0; j < w; j++ {
			for i := range mind {
				mind[i] = min(mind[i], d2[i*w+j])
			}
			out[lo+j+1] = radius()
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nearestDistances returns, for each of the first q rows of ref, the
// distance to its nearest other row of ref. The nearest row is found with
// the matrix product; its distance is then computed directly, because the
// norm trick's rounding, harmless for large distances, turns an exact
// duplicate's 0 into sqrt(ε·|x|²), and near-duplicates are what these
// histograms are read for.
func nearestDistances(ctx context.Context, v *Vectors, ref []int, q int) ([]float64, error) {
	q = min(q, len(ref))
	if len(ref) < 2 {
		return nil, nil
	}
	centre := meanOf(v, ref[:q])
	p := gather(v, ref[:q], centre)
	mind := make([]float32, q)
	arg := make([]int, q)
	for i := range mind {
		mind[i] = float32(math.Inf(1))
	}
	err := squaredDistances(ctx, p, gather(v, ref, centre), func(lo, hi int, d2 []float32) {
		w := hi - lo
		for i := range mind {
			for j, d := range d2[i*w : (i+1)*w] {
				if lo+j != i && d < mind[i] {
					mind[i], arg[i] = d, lo+j
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, q)
	for i := range out {
		out[i] = exactDistance(v.Row(ref[i]), v.Row(ref[arg[i]]))
	}
	return out, nil
}

// exactDistance is the Euclidean distance of a and b, summed in float64.
func exactDistance(a, b []float32) float64 {
	s := 0.0
	for k := range a {
		d := float64(a[k]) - float64(b[k])
		s += d * d
	}
	return math.Sqrt(s)
}
