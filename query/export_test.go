package query

// Bridges for the external tests (dataset_test.go), which evaluate over
// package columnar's Dataset and so cannot live in package query.

import (
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/winnow-data/winnow/bitmap"
)

// DiffCase is one random table of the differential test, with its
// predicate generator and reference evaluator.
type DiffCase struct {
	N           int
	Samples     arrow.Table
	Annotations arrow.Table
	AnnOf       []int32
	Tags        map[string]*bitmap.Bitmap
	d           *diffData
	g           diffGen
}

// NewDiffCase makes a random table from r.
func NewDiffCase(r *rand.Rand) *DiffCase {
	d := newDiffData(r)
	return &DiffCase{N: d.n, Samples: d.src.samples, Annotations: d.src.anns, AnnOf: d.annOf, Tags: d.tags, d: d, g: diffGen{r: r}}
}

// RandomExpr returns a random predicate over the table.
func (c *DiffCase) RandomExpr() Expr { return c.g.expr(4, false) }

// Matches evaluates e with the reference evaluator.
func (c *DiffCase) Matches(e Expr) []int { return c.d.matches(e) }

// MemColumn builds an array of type t from Go values; nil is null.
func MemColumn(t arrow.DataType, vals ...any) arrow.Array { return qCol(t, vals...) }

// MemSource is an in-memory Source over the given samples columns.
func MemSource(fields []arrow.Field, cols []arrow.Array) Source {
	return &qSource{samples: qTable(fields, cols)}
}
