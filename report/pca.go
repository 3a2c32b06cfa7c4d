package report

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// projection is a fitted two-axis PCA: the mean of the fitted rows and
// the two leading principal axes (unit vectors; a zero vector when the
// data has fewer directions of variance).
type projection struct {
	mean     []float64
	axes     [2][]float64
	variance [2]float64 // share of the fitted rows' total variance per axis
}

// pcaIterations and pcaBlock set the subspace iteration: a block of 8
// vectors refined 24 times finds the two leading axes to many digits
// unless the third variance is nearly the second, where any mix of the
// two is an equally faithful picture. It costs 2·24·8 multiply-adds per
// element of the fitted matrix, where a full eigendecomposition of the
// covariance costs D³ (seconds at D = 512, minutes at D = 4096).
const (
	pcaIterations = 24
	pcaBlock      = 8
)

// fitPCA fits the projection to rows of v by subspace iteration with
// gonum/mat: Q ← orth(XᵀX·Q) from a seeded random start, then the
// Rayleigh–Ritz step, an eigendecomposition of the small matrix
// (XQ)ᵀ(XQ). Each axis's sign is fixed so its largest coordinate is
// positive, so the picture does not flip between runs.
func fitPCA(v *Vectors, rows []int, seed uint64) projection {
	d := v.Dim
	pr := projection{mean: make([]float64, d)}
	pr.axes[0], pr.axes[1] = make([]float64, d), make([]float64, d)
	f := len(rows)
	if f == 0 || d == 0 {
		return pr
	}
	x := mat.NewDense(f, d, nil)
	for i, r := range rows {
		for k, val := range v.Row(r) {
			pr.mean[k] += float64(val)
			x.Set(i, k, float64(val))
		}
	}
	for k := range pr.mean {
		pr.mean[k] /= float64(f)
	}
	total := 0.0
	for i := 0; i < f; i++ {
		row := x.RawRowView(i)
		for k := range row {
			row[k] -= pr.mean[k]
			total += row[k] * row[k]
		}
	}
	if total == 0 {
		return pr
	}
	b := min(pcaBlock, d, f)
	rng := newRand(seed, streamPCA, f)
	q := mat.NewDense(d, b, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < b; j++ {
			q.Set(i, j, rng.NormFloat64())
		}
	}
	orthonormalize(q)
	var y mat.Dense
	var z mat.Dense
	for it := 0; it < pcaIterations; it++ {
		y.Mul(x, q)
		z.Mul(x.T(), &y)
		q.Copy(&z)
		orthonormalize(q)
	}
	y.Mul(x, q)
	var s mat.SymDense
	s.SymOuterK(1, y.T())
	var eig mat.EigenSym
	if !eig.Factorize(&s, true) {
		return pr
	}
	values := eig.Values(nil) // ascending
	var w mat.Dense
	eig.VectorsTo(&w)
	for a := 0; a < 2 && a < b; a++ {
		col := b - 1 - a
		if values[col] <= total*1e-12 {
			break
		}
		axis := pr.axes[a]
		for i := 0; i < d; i++ {
			sum := 0.0
			for j := 0; j < b; j++ {
				sum += q.At(i, j) * w.At(j, col)
			}
			axis[i] = sum
		}
		normalize(axis)
		fixSign(axis)
		pr.variance[a] = values[col] / total
	}
	return pr
}

// project returns row's coordinates on the two axes.
func (pr projection) project(row []float32) (x, y float64) {
	for k, val := range row {
		c := float64(val) - pr.mean[k]
		x += c * pr.axes[0][k]
		y += c * pr.axes[1][k]
	}
	return x, y
}

// orthonormalize makes the columns of m orthonormal in place (modified
// Gram–Schmidt, twice for stability). A column that depends on the ones
// before it becomes zero.
func orthonormalize(m *mat.Dense) {
	r, c := m.Dims()
	col := make([]float64, r)
	other := make([]float64, r)
	for j := 0; j < c; j++ {
		mat.Col(col, j, m)
		for pass := 0; pass < 2; pass++ {
			for k := 0; k < j; k++ {
				mat.Col(other, k, m)
				dot := 0.0
				for i := range col {
					dot += col[i] * other[i]
				}
				for i := range col {
					col[i] -= dot * other[i]
				}
			}
		}
		normalize(col)
		m.SetCol(j, col)
	}
}

// normalize scales v to unit length, or to zero when it is (nearly) zero.
func normalize(v []float64) {
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		if n < 1e-300 {
			v[i] = 0
		} else {
			v[i] /= n
		}
	}
}

// fixSign flips v so that its coordinate of largest magnitude (the first
// of equal ones) is positive.
func fixSign(v []float64) {
	best := 0
	for i, x := range v {
		if math.Abs(x) > math.Abs(v[best]) {
			best = i
		}
	}
	if len(v) > 0 && v[best] < 0 {
		for i := range v {
			v[i] = -v[i]
		}
	}
}
