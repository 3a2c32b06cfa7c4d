package strategies

import (
	"math"
	"unsafe"
)

// An 8-bit copy of a diversity matrix, used only to prove that a new
// center cannot come closer to a candidate than its current distance.
//
// Row x is stored as codes q_x (int8) and a scale s_x with x ≈ s_x·q_x,
// together with eps_x >= ‖x − s_x·q_x‖. By the triangle inequality
//
//	d(x, c) >= ‖s_x·q_x − s_c·q_c‖ − eps_x − eps_c,
//
// and the middle term comes from an exact integer dot product:
// ‖s_x·q_x − s_c·q_c‖² = s_x²‖q_x‖² + s_c²‖q_c‖² − 2·s_x·s_c·⟨q_x, q_c⟩. When
// that lower bound (less a margin for float64 rounding) reaches the
// candidate's current distance, the exact distance would not change it,
// so it is not computed. Every distance that is computed still goes
// through the float32 kernel, so the picks are bit-identical to the
// straightforward scan's; only the amount of float32 data read shrinks
// (a code row is a quarter of a float32 row).
//
// Before the k-center has a sample in every cluster of the data, about
// half the candidates need a distance per pick and almost none of them
// move (measured: 1M×512, ~2% of those distances change anything); the
// 8-bit bound settles all but a few percent of them. In that phase the
// centers are also applied in batches (deferred.go), so each candidate's
// codes are read once per batch rather than once per pick.
type quant struct {
	dim   int
	codes []int8
	rows  []qrow
}

// qrow is what the bound needs of a row besides its codes, kept together
// so that one cache line brings all of it.
type qrow struct {
	scale float64 // s_x
	sq    float64 // ‖s_x·q_x‖²
	eps   float64 // >= ‖x − s_x·q_x‖
}

// maxQuantDim keeps the int32 sums of dotInt8 exact: 127²·dim < 2^31.
const maxQuantDim = 1 << 17

// newQuant quantizes rows of vectors on workers goroutines.
func newQuant(vectors []float32, dim, rows, workers int) *quant {
	q := &quant{dim: dim, codes: make([]int8, rows*dim), rows: make([]qrow, rows)}
	const size = 1024
	parallel(workers, chunks(rows, size), func(t int) {
		for i := t * size; i < min((t+1)*size, rows); i++ {
			q.quantize(i, vectors[i*dim:(i+1)*dim])
		}
	})
	return q
}

func (q *quant) quantize(i int, x []float32) {
	var m0, m1 float32
	j := 0
	for ; j+1 < len(x); j += 2 {
		m0 = max(m0, x[j], -x[j])
		m1 = max(m1, x[j+1], -x[j+1])
	}
	if j < len(x) {
		m0 = max(m0, x[j], -x[j])
	}
	m := max(m0, m1)
	if m == 0 {
		return // zero row: codes 0, scale 0, exact
	}
	s, inv := float64(m)/127, 127/float64(m)
	codes := q.codes[i*q.dim : (i+1)*q.dim]
	codes = codes[:len(x)]
	// Two sets of sums (shorter dependency chains). Codes are rounded
	// half up; |v·inv| <= 127 keeps them in int8. Any rounding would do:
	// eps is measured on the codes chosen.
	var ea, eb, na, nb float64
	var ca, cb int64
	j = 0
	for ; j+1 < len(x); j += 2 {
		f, g := float64(x[j]), float64(x[j+1])
		c, e := math.Floor(f*inv+0.5), math.Floor(g*inv+0.5)
		codes[j], codes[j+1] = int8(c), int8(e)
		d, h := f-c*s, g-e*s
		ea, eb = ea+d*d, eb+h*h
		na, nb = na+f*f, nb+g*g
		ca, cb = ca+int64(c)*int64(c), cb+int64(e)*int64(e)
	}
	if j < len(x) {
		f := float64(x[j])
		c := math.Floor(f*inv + 0.5)
		codes[j] = int8(c)
		d := f - c*s
		ea, na, ca = ea+d*d, na+f*f, ca+int64(c)*int64(c)
	}
	// Generous for the rounding of the sums above (relative ~dim·2^-53).
	q.rows[i] = qrow{scale: s, sq: s * s * float64(ca+cb), eps: math.Sqrt(ea+eb)*(1+1e-9) + 1e-10*math.Sqrt(na+nb)}
}

func (q *quant) row(i int) []int8 { return q.codes[i*q.dim : (i+1)*q.dim] }

// prefetch hints row i's codes into the cache.
func (q *quant) prefetch(i int) {
	if q.dim >= 4 {
		prefetchImpl(unsafe.Slice((*float32)(unsafe.Pointer(&q.codes[i*q.dim])), q.dim/4))
	}
}

// lower returns a lower bound on d(x, c), where c's codes are qc.
func (q *quant) lower(x, c int, qc []int8) float64 {
	return lowerRows(q.row(x), &q.rows[x], qc, &q.rows[c])
}

// lowerRows is the bound of lower for rows given by their codes and the
// rest (the centers' codes are kept apart from the matrix's).
func lowerRows(xc []int8, rx *qrow, qc []int8, rc *qrow) float64 {
	dot := float64(dotInt8Impl(xc, qc))
	sum := rx.sq + rc.sq
	// Each float64 operation here is off by at most a few units of 2^-53
	// of sum (|2·s_x·s_c·dot| <= sum); 1e-12·sum covers them.
	d2 := sum - 2*rx.scale*rc.scale*dot - 1e-12*sum
	if d2 <= 0 {
		return 0
	}
	return math.Sqrt(d2)*(1-1e-15) - rx.eps - rc.eps
}

// cannotMove reports whether the bound proves that candidate x, at
// current distance dx, keeps it against center c.
func (q *quant) cannotMove(x, c int, qc []int8, dx float64) bool {
	return farEnough(q.row(x), &q.rows[x], qc, &q.rows[c], dx)
}

// farEnough reports whether the 8-bit bound proves d(x, c) >=
// dx·skipMargin for rows with codes xc, qc and the rest rx, rc. It
// compares lower's bound in squares (no square root; the factor 1-1e-14
// covers the rounding of both squares).
func farEnough(xc []int8, rx *qrow, qc []int8, rc *qrow, dx float64) bool {
	dot := float64(dotInt8Impl(xc, qc))
	sum := rx.sq + rc.sq
	d2 := (sum - 2*rx.scale*rc.scale*dot - 1e-12*sum) * (1 - 1e-14)
	t := dx*skipMargin + rx.eps + rc.eps
	return d2 >= t*t
}

// centers keeps the codes of the group centers one after another, in
// group order, so the per-pick pass over thousands of centers reads them
// in order instead of one scattered row each.
type centers struct {
	codes []int8
	rows  []qrow
}

// add appends row i's codes (a zero row for the center-less first group).
func (cs *centers) add(q *quant, i int) {
	if i < 0 {
		cs.codes = append(cs.codes, make([]int8, q.dim)...)
		cs.rows = append(cs.rows, qrow{eps: math.Inf(1)})
		return
	}
	cs.codes = append(cs.codes, q.row(i)...)
	cs.rows = append(cs.rows, q.rows[i])
}

func (cs *centers) row(g, dim int) []int8 { return cs.codes[g*dim : (g+1)*dim] }

func dotInt8Go(a, b []int8) int32 {
	var s int32
	b = b[:len(a)]
	for i, v := range a {
		s += int32(v) * int32(b[i])
	}
	return s
}

// dotInt8Impl is the integer dot product of int8 codes (len(b) >= len(a)).
var dotInt8Impl = dotInt8Go
