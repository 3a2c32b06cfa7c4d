package strategies

import (
	"fmt"
	"math"
)

// SubpartDiversity is object-level diversity (spec §11, subpart_diversity):
// each row has objects (annotations, say object crops) with embeddings, and
// with B the objects of the rows in S,
//
//	objective(i | S) = max over objects a of i of min over b in B of ‖e_a − e_b‖
//
// the row whose most novel object is farthest from every selected object.
// It is 1 for every row with objects while B is empty, and 0 for a row
// without objects, always (a sample with nothing to add never wins over
// one with objects, not even the first pick; see the package doc).
//
// The engine keeps each candidate object's distance to B exactly as sample
// diversity keeps a candidate's distance to S, with the same grouping by
// nearest selected object, triangle-inequality skips and deferred batches;
// the objective is then a max over a row's few objects. Objectives only
// fall once B is non-empty, so with strength > 0 it runs on the lazy heaps.
type SubpartDiversity struct {
	start    []int
	objects  *Diversity
	strength float64
}

// NewSubpartDiversity returns object-level diversity. Row r's objects are
// rows start[r]..start[r+1]-1 of vectors (row-major, dim values an object):
// start has one entry per row and a last one, starts at 0, never decreases
// and ends at the number of object vectors. A row may have no object.
// Vectors must be finite; a *ValueError names the first bad object row.
func NewSubpartDiversity(start []int, vectors []float32, dim int, strength float64) (*SubpartDiversity, error) {
	d, err := newDiversity("subpart diversity", vectors, dim, strength)
	if err != nil {
		return nil, err
	}
	if len(start) == 0 || start[0] != 0 {
		return nil, fmt.Errorf("subpart diversity: object offsets must start at 0")
	}
	for r := 1; r < len(start); r++ {
		if start[r] < start[r-1] {
			return nil, fmt.Errorf("subpart diversity: object offsets decrease at row %d", r-1)
		}
	}
	if last := start[len(start)-1]; last != d.Rows() {
		return nil, fmt.Errorf("subpart diversity: object offsets end at %d, but there are %d object vectors", last, d.Rows())
	}
	return &SubpartDiversity{start: start, objects: d, strength: strength}, nil
}

// Strength returns the strategy's exponent.
func (sd *SubpartDiversity) Strength() float64 { return sd.strength }

// Rows returns the number of rows the objects are given for.
func (sd *SubpartDiversity) Rows() int { return len(sd.start) - 1 }

// Objects returns row r's object rows [lo, hi).
func (sd *SubpartDiversity) Objects(r int) (lo, hi int) { return sd.start[r], sd.start[r+1] }

// Start returns fresh state; it needs the objects of every row.
func (sd *SubpartDiversity) Start(rows, candidates int) (State, error) {
	if sd.Rows() < rows {
		return nil, fmt.Errorf("subpart diversity: objects for %d rows, need %d", sd.Rows(), rows)
	}
	// The candidates' objects are the first object rows: the candidates
	// are the first rows.
	st, err := sd.objects.Start(sd.objects.Rows(), sd.start[candidates])
	if err != nil {
		return nil, err
	}
	return &subState{sd: sd, div: st.(*divState), empty: true}, nil
}

// subState holds, in div, each candidate object's distance to B.
type subState struct {
	sd    *SubpartDiversity
	div   *divState
	empty bool // B is empty
}

// Objective is objective(i | S); calls for different candidates may run
// concurrently (each brings only its own objects up to date).
func (s *subState) Objective(i int) float64 {
	lo, hi := s.sd.start[i], s.sd.start[i+1]
	switch {
	case lo == hi:
		return 0
	case s.empty:
		return 1
	}
	m := 0.0
	for a := lo; a < hi; a++ {
		m = math.Max(m, s.div.current(a))
	}
	return m
}

func (s *subState) Eligible(int) bool { return true }

// Add appends row's objects to B.
func (s *subState) Add(row int) {
	for a := s.sd.start[row]; a < s.sd.start[row+1]; a++ {
		s.div.Add(a)
		s.empty = false
	}
}
