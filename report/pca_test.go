package report

import (
	"gonum.org/v1/gonum/mat"
)

// exactPCA is the reference projection: the leading right singular
// vectors of the centred matrix (gonum's SVD), signs fixed like fitPCA's.
func exactPCA(v *Vectors, rows []int) projection {
	d := v.Dim
	pr := projection{mean: make([]float64, d)}
	x := mat.NewDense(len(rows), d, nil)
	for i, r := range rows {
		for k, val := range v.Row(r) {
			x.Set(i, k, float64(val))
			pr.mean[k] += float64(val) / float64(len(rows))
		}
	}
	total := 0.0
	for i := range rows {
		for k := 0; k < d; k++ {
			c := x.At(i, k) - pr.mean[k]
			x.Set(i, k, c)
			total += c * c
		}
	}
	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThin) {
		panic("svd failed")
	}
	var vt mat.Dense
	svd.VTo(&vt)
	s := svd.Values(nil)
	for a := 0; a < 2; a++ {
		pr.axes[a] = mat.Col(nil, a, &vt)
		fixSign(pr.axes[a])
		pr.variance[a] = s[a] * s[a] / total
	}
	return pr
}
