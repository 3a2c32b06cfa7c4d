package pipeline

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"winnow/columnar"
)

// Expr is a match predicate (spec/query.md). It is the columnar type
// itself, so expressions built here, parsed by Where, or built directly
// with package columnar mix freely.
type Expr = columnar.Expr

// Column names a column in a predicate: a samples column (Field) outside
// Annotation(...), an annotations column (AnnotationField, Label) inside.
// Its methods make the conditions on it.
type Column struct {
	name string
}

// Field names a samples column, metadata included: Field("width").Lt(256).
func Field(name string) Column { return Column{name: name} }

// AnnotationField names an annotations column, for use inside
// Annotation(...): AnnotationField("confidence").Gt(0.5).
func AnnotationField(name string) Column { return Column{name: name} }

// Label is the annotations' label column.
func Label() Column { return Column{name: columnar.LabelColumn} }

// Name is the column's name.
func (c Column) Name() string { return c.name }

func (c Column) cmp(op columnar.Op, v any) Expr {
	return &columnar.Compare{Column: c.name, Op: op, Value: literal(v)}
}

// Lt is "column < v". v may be any Go integer, float, string, bool or
// time.Time (compared with timestamp columns); the type is checked
// against the column when the predicate is evaluated.
func (c Column) Lt(v any) Expr { return c.cmp(columnar.Lt, v) }

// Le is "column <= v".
func (c Column) Le(v any) Expr { return c.cmp(columnar.Le, v) }

// Gt is "column > v".
func (c Column) Gt(v any) Expr { return c.cmp(columnar.Gt, v) }

// Ge is "column >= v".
func (c Column) Ge(v any) Expr { return c.cmp(columnar.Ge, v) }

// Eq is "column == v".
func (c Column) Eq(v any) Expr { return c.cmp(columnar.Eq, v) }

// Ne is "column != v". Null values match neither Eq nor Ne.
func (c Column) Ne(v any) Expr { return c.cmp(columnar.Ne, v) }

// In is "column in (vs...)". A slice argument is spread, so
// In([]string{"rain", "snow"}) equals In("rain", "snow").
func (c Column) In(vs ...any) Expr {
	in := &columnar.In{Column: c.name, Values: []columnar.Literal{}}
	for _, v := range vs {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
			for i := range rv.Len() {
				in.Values = append(in.Values, literal(rv.Index(i).Interface()))
			}
			continue
		}
		in.Values = append(in.Values, literal(v))
	}
	return in
}

// IsNull is "column is null".
func (c Column) IsNull() Expr { return &columnar.IsNull{Column: c.name} }

// IsNotNull is "column is not null".
func (c Column) IsNotNull() Expr { return &columnar.IsNull{Column: c.name, Negate: true} }

// StartsWith is "column startswith prefix", for string columns.
func (c Column) StartsWith(prefix string) Expr {
	return &columnar.TextMatch{Column: c.name, Kind: columnar.StartsWith, Value: literal(prefix)}
}

// Contains is "column contains text", for string columns.
func (c Column) Contains(text string) Expr {
	return &columnar.TextMatch{Column: c.name, Kind: columnar.Contains, Value: literal(text)}
}

// literal converts a Go value to a columnar literal. Values it cannot
// represent become invalid literals, reported by Check with the column's
// name rather than panicking at the call site.
func literal(v any) columnar.Literal {
	switch v := v.(type) {
	case nil:
		return columnar.Literal{Kind: columnar.InvalidLit, Str: "nil (comparisons with null are never true; use IsNull or IsNotNull)"}
	case string:
		return columnar.Literal{Kind: columnar.StringLit, Str: v}
	case bool:
		return columnar.Literal{Kind: columnar.BoolLit, Bool: v}
	case time.Time:
		return columnar.Literal{Kind: columnar.StringLit, Str: v.Format(time.RFC3339Nano)}
	case float32:
		return floatLiteral(float64(v))
	case float64:
		return floatLiteral(v)
	case fmt.Stringer: // e.g. uuid.UUID for sample_id
		return columnar.Literal{Kind: columnar.StringLit, Str: v.String()}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return columnar.Literal{Kind: columnar.IntLit, Int: rv.Int()}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return columnar.Literal{Kind: columnar.IntLit, Int: int64(u)}
		}
		return columnar.Literal{Kind: columnar.InvalidLit, Str: fmt.Sprintf("%d exceeds the int64 range", rv.Uint())}
	}
	return columnar.Literal{Kind: columnar.InvalidLit, Str: fmt.Sprintf("Go value %v of type %T", v, v)}
}

// floatLiteral rejects NaN and infinities, which the text form cannot
// write, so that every built predicate prints as text Where reads back.
func floatLiteral(f float64) columnar.Literal {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return columnar.Literal{Kind: columnar.InvalidLit, Str: fmt.Sprintf("%v (NaN and infinities cannot be compared)", f)}
	}
	return columnar.Literal{Kind: columnar.FloatLit, Float: f}
}

// And holds when every argument holds; And() is true. A single argument
// is returned as is.
func And(args ...Expr) Expr {
	if len(args) == 1 {
		return args[0]
	}
	return &columnar.And{Args: args}
}

// Or holds when some argument holds; Or() is false. A single argument is
// returned as is.
func Or(args ...Expr) Expr {
	if len(args) == 1 {
		return args[0]
	}
	return &columnar.Or{Args: args}
}

// Not negates e. A sample whose e is unknown (it compares a null) stays
// excluded, as in SQL.
func Not(e Expr) Expr { return &columnar.Not{Arg: e} }

// Tagged holds for samples carrying the tag.
func Tagged(name string) Expr { return &columnar.Tagged{Tag: name} }

// Annotation holds for samples with some single annotation satisfying
// every condition, which name annotations columns (Label,
// AnnotationField). Annotation() holds for samples with any annotation.
func Annotation(conds ...Expr) *columnar.Annotation {
	switch len(conds) {
	case 0:
		return &columnar.Annotation{}
	case 1:
		return &columnar.Annotation{Where: conds[0]}
	}
	return &columnar.Annotation{Where: &columnar.And{Args: conds}}
}

// AnnotationCount is the number of a sample's annotations matching an
// Annotation(...); its methods compare it with a number.
type AnnotationCount struct {
	of *columnar.Annotation
}

// Count counts, per sample, the annotations that satisfy a's
// conditions: Count(Annotation(Label().Eq("person"))).Ge(3).
//
// (It is not named Count because this package's Count is the value/count
// pair of inspection reports.)
func Count(a *columnar.Annotation) AnnotationCount { return AnnotationCount{of: a} }

func (c AnnotationCount) cmp(op columnar.Op, n int64) Expr {
	return &columnar.Count{Of: c.of, Op: op, N: n}
}

// Lt is "count(...) < n".
func (c AnnotationCount) Lt(n int64) Expr { return c.cmp(columnar.Lt, n) }

// Le is "count(...) <= n".
func (c AnnotationCount) Le(n int64) Expr { return c.cmp(columnar.Le, n) }

// Gt is "count(...) > n".
func (c AnnotationCount) Gt(n int64) Expr { return c.cmp(columnar.Gt, n) }

// Ge is "count(...) >= n".
func (c AnnotationCount) Ge(n int64) Expr { return c.cmp(columnar.Ge, n) }

// Eq is "count(...) == n".
func (c AnnotationCount) Eq(n int64) Expr { return c.cmp(columnar.Eq, n) }

// Ne is "count(...) != n".
func (c AnnotationCount) Ne(n int64) Expr { return c.cmp(columnar.Ne, n) }

// Where parses a predicate in the text form (spec/query.md), the language
// of `winnow --where`. A syntax error names the line and column and
// quotes the text with a caret; names and types are checked when the
// predicate is evaluated against a dataset.
func Where(text string) (Expr, error) { return columnar.Parse(text) }
