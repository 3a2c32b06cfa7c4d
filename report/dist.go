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

// Tiles of the distance computation: a block of centres against a chunk
// of points, 256 × 2048 floats (2 MB) of output, whatever the sizes.
const (
	centreBlock = 256
	pointChunk  = 2048
)

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

// tiles calls visit for every tile of centres c[clo:chi] × points
// p[plo:phi] with d2[j*(phi-plo)+i] the squared distance from centre
// clo+j to point plo+i (clamped at 0): each centre's distances are one
// contiguous row. All tiles of one block of centres come before the next
// block, points in order within a block.
func tiles(ctx context.Context, p, c *gathered, visit func(clo, chi, plo, phi int, d2 []float32)) error {
	if p.rows() == 0 || c.rows() == 0 {
		return nil
	}
	buf := make([]float32, centreBlock*min(pointChunk, p.rows()))
	for clo := 0; clo < c.rows(); clo += centreBlock {
		chi := min(clo+centreBlock, c.rows())
		for plo := 0; plo < p.rows(); plo += pointChunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			phi := min(plo+pointChunk, p.rows())
			w, h := chi-clo, phi-plo
			out := blas32.General{Rows: w, Cols: h, Stride: h, Data: buf[:w*h]}
			blas32.Gemm(blas.NoTrans, blas.Trans, -2, c.general(clo, chi), p.general(plo, phi), 0, out)
			for j := 0; j < w; j++ {
				row, cn := out.Data[j*h:(j+1)*h], c.norms[clo+j]
				for i, pn := range p.norms[plo:phi] {
					row[i] = max(0, row[i]+pn+cn)
				}
			}
			visit(clo, chi, plo, phi, out.Data)
		}
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
	err := tiles(ctx, p, gather(v, pre, centre), func(clo, chi, plo, phi int, d2 []float32) {
		h := phi - plo
		for j := 0; j < chi-clo; j++ {
			m := mind[plo:phi]
			for i, d := range d2[j*h : (j+1)*h] {
				m[i] = min(m[i], d)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out[0] = math.NaN()
	if len(pre) > 0 && len(points) > 0 {
		var r float32
		for _, d := range mind {
			r = max(r, d)
		}
		out[0] = math.Sqrt(float64(r))
	}
	// The radius after centre j is the largest of the chunks' largest
	// distances after it: each chunk's points take their minimum over
	// the centres up to j, independently of the other chunks.
	sq := make([]float32, centreBlock)
	err = tiles(ctx, p, gather(v, order, centre), func(clo, chi, plo, phi int, d2 []float32) {
		h := phi - plo
		if plo == 0 {
			clear(sq)
		}
		m := mind[plo:phi]
		for j := 0; j < chi-clo; j++ {
			var r float32
			for i, d := range d2[j*h : (j+1)*h] {
				x := min(m[i], d)
				m[i] = x
				r = max(r, x)
			}
			sq[j] = max(sq[j], r)
		}
		if phi == p.rows() {
			for j := 0; j < chi-clo; j++ {
				out[clo+j+1] = math.Sqrt(float64(sq[j]))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if len(points) == 0 {
		for k := range out {
			out[k] = math.NaN()
		}
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
	queries, all := gather(v, ref[:q], centre), gather(v, ref, centre)
	mind := make([]float32, q)
	arg := make([]int, q)
	for i := range mind {
		mind[i] = float32(math.Inf(1))
	}
	err := tiles(ctx, all, queries, func(clo, chi, plo, phi int, d2 []float32) {
		h := phi - plo
		for j := 0; j < chi-clo; j++ {
			qi := clo + j
			for i, d := range d2[j*h : (j+1)*h] {
				if plo+i != qi && d < mind[qi] {
					mind[qi], arg[qi] = d, plo+i
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
