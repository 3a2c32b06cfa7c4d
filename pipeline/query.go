package pipeline

import (
	"context"
	"fmt"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/query"
	"github.com/winnow-data/winnow/tags"
)

// Query narrows a dataset to the samples that match every expression
// given to Match. The zero-expression query matches every sample.
type Query struct {
	ds    *Dataset
	exprs []query.Expr
}

// Query starts a query over every sample of d.
func (d *Dataset) Query() *Query { return &Query{ds: d} }

// Match returns a query that also requires e (built with package query's
// Field, Label, Tagged, Annotation, ... or parsed with query.Parse).
// Queries are values: q itself is unchanged, so a base query can be
// refined in several ways.
func (q *Query) Match(e query.Expr) *Query {
	return &Query{ds: q.ds, exprs: append(q.exprs[:len(q.exprs):len(q.exprs)], e)}
}

// Where returns a query that also requires the text predicate expr (the
// language of docs/query.md, as `winnow --where` takes it). Syntax errors
// are *query.Error values naming the line and column; names are checked
// when the query runs.
func (q *Query) Where(expr string) (*Query, error) {
	e, err := query.Parse(expr)
	if err != nil {
		return nil, err
	}
	return q.Match(e), nil
}

// Expr is the query's predicate: the And of its expressions.
func (q *Query) Expr() query.Expr { return query.And(q.exprs...) }

// String is the query's text form; "" for the match-everything query.
func (q *Query) String() string {
	if len(q.exprs) == 0 {
		return ""
	}
	return query.Format(q.Expr())
}

// Rows evaluates the query and returns the matching samples as a bitmap
// over dataset rows. Names are checked against the dataset first, so a
// typo fails before any column is read.
func (q *Query) Rows(ctx context.Context) (*bitmap.Bitmap, error) {
	if len(q.exprs) == 0 {
		return bitmap.Full(q.ds.Len()), nil
	}
	e := q.Expr()
	if err := query.Check(e, q.ds.cd); err != nil {
		return nil, err
	}
	bm, err := query.Eval(ctx, e, q.ds.cd)
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

// IDs returns the matching sample ids in dataset order, as text.
func (q *Query) IDs(ctx context.Context) ([]string, error) {
	bm, err := q.Rows(ctx)
	if err != nil {
		return nil, err
	}
	return q.ds.cd.IDStrings(ctx, bm.Indexes())
}

// AddTag stores the matching samples as a new tag and returns how many
// it holds. The name is checked before the query runs.
func (q *Query) AddTag(ctx context.Context, name string) (int, error) {
	return q.putTag(ctx, name, tags.CheckName, tags.Add)
}

// ReplaceTag stores the matching samples as tag name whether or not it
// exists (an existing tag's selection record goes), in one commit, and
// returns how many it holds.
func (q *Query) ReplaceTag(ctx context.Context, name string) (int, error) {
	return q.putTag(ctx, name, tags.CheckReplace, tags.Replace)
}

func (q *Query) putTag(ctx context.Context, name string, check func(*columnar.Dataset, string) error,
	commit func(context.Context, *columnar.Dataset, string, *bitmap.Bitmap, *tags.Record, ...tags.Option) error) (int, error) {
	if err := check(q.ds.cd, name); err != nil {
		return 0, err
	}
	bm, err := q.Rows(ctx)
	if err != nil {
		return 0, err
	}
	if err := commit(ctx, q.ds.cd, name, bm, nil); err != nil {
		return 0, err
	}
	return bm.Count(), nil
}
