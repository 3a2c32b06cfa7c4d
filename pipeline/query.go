package pipeline

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"winnow/columnar"
	"winnow/tags"
)

// Query narrows a dataset to the samples that match every expression
// given to Match. The zero-expression query matches every sample.
type Query struct {
	ds    *Dataset
	exprs []columnar.Expr
}

// Query starts a query over every sample of d.
func (d *Dataset) Query() *Query { return &Query{ds: d} }

// Match returns a query that also requires e. Queries are values: q itself
// is unchanged, so a base query can be refined in several ways.
func (q *Query) Match(e columnar.Expr) *Query {
	return &Query{ds: q.ds, exprs: append(q.exprs[:len(q.exprs):len(q.exprs)], e)}
}

// Expr is the query's predicate: the And of its expressions.
func (q *Query) Expr() columnar.Expr {
	if len(q.exprs) == 1 {
		return q.exprs[0]
	}
	return &columnar.And{Args: q.exprs}
}

// String is the query's text form; "" for the match-everything query.
func (q *Query) String() string {
	if len(q.exprs) == 0 {
		return ""
	}
	return columnar.Format(q.Expr())
}

// Rows evaluates the query and returns the matching samples as a bitmap
// over dataset rows. Names are checked against the dataset first, so a
// typo fails before any column is read.
func (q *Query) Rows(ctx context.Context) (*columnar.Bitmap, error) {
	if len(q.exprs) == 0 {
		return columnar.FullBitmap(q.ds.Len()), nil
	}
	e := q.Expr()
	if err := columnar.Check(e, q.ds.cd); err != nil {
		return nil, err
	}
	bm, err := columnar.Eval(ctx, e, q.ds.cd)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", q, err)
	}
	return bm, nil
}

// Count returns how many samples match.
func (q *Query) Count(ctx context.Context) (int, error) {
	bm, err := q.Rows(ctx)
	if err != nil {
		return 0, err
	}
	return bm.Count(), nil
}

// IDs returns the matching sample ids in dataset order.
func (q *Query) IDs(ctx context.Context) ([]uuid.UUID, error) {
	bm, err := q.Rows(ctx)
	if err != nil {
		return nil, err
	}
	all, err := q.ds.cd.IDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]uuid.UUID, 0, bm.Count())
	for _, r := range bm.Indexes() {
		out = append(out, all[r])
	}
	return out, nil
}

// AddTag stores the matching samples as a new tag and returns how many
// it holds. The name is checked before the query runs.
func (q *Query) AddTag(ctx context.Context, name string) (int, error) {
	if err := tags.CheckName(q.ds.cd, name); err != nil {
		return 0, err
	}
	bm, err := q.Rows(ctx)
	if err != nil {
		return 0, err
	}
	if err := tags.Add(ctx, q.ds.cd, name, bm); err != nil {
		return 0, err
	}
	return bm.Count(), nil
}

// Where returns a query that also requires the text predicate expr (the
// language of spec/query.md, as `winnow --where` takes it). Syntax errors
// name the line and column; names are checked when the query runs.
func (q *Query) Where(expr string) (*Query, error) {
	e, err := columnar.Parse(expr)
	if err != nil {
		return nil, err
	}
	return q.Match(e), nil
}
