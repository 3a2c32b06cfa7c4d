package query

import (
	"fmt"
	"math"
	"reflect"
	"time"
)

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
func Label() Column { return Column{name: "label"} }

// Name is the column's name.
func (c Column) Name() string { return c.name }

func (c Column) cmp(op Op, v any) Expr {
	return &CompareExpr{Column: c.name, Op: op, Value: literal(v)}
}

// Lt is "column < v". v may be any Go integer, float, string, bool or
// time.Time (compared with timestamp columns); the type is checked
// against the column when the predicate is evaluated.
func (c Column) Lt(v any) Expr { return c.cmp(Lt, v) }

// Le is "column <= v".
func (c Column) Le(v any) Expr { return c.cmp(Le, v) }

// Gt is "column > v".
func (c Column) Gt(v any) Expr { return c.cmp(Gt, v) }

// Ge is "column >= v".
func (c Column) Ge(v any) Expr { return c.cmp(Ge, v) }

// Eq is "column == v".
func (c Column) Eq(v any) Expr { return c.cmp(Eq, v) }

// Ne is "column != v". Null values match neither Eq nor Ne.
func (c Column) Ne(v any) Expr { return c.cmp(Ne, v) }

// In is "column in (vs...)". A slice argument is spread, so
// In([]string{"rain", "snow"}) equals In("rain", "snow").
func (c Column) In(vs ...any) Expr {
	in := &InExpr{Column: c.name, Values: []Literal{}}
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
func (c Column) IsNull() Expr { return &NullExpr{Column: c.name} }

// IsNotNull is "column is not null".
func (c Column) IsNotNull() Expr { return &NullExpr{Column: c.name, Negate: true} }

// StartsWith is "column startswith prefix", for string columns.
func (c Column) StartsWith(prefix string) Expr {
	return &TextMatchExpr{Column: c.name, Kind: StartsWith, Value: literal(prefix)}
}

// Contains is "column contains text", for string columns.
func (c Column) Contains(text string) Expr {
	return &TextMatchExpr{Column: c.name, Kind: Contains, Value: literal(text)}
}

// literal converts a Go value to a columnar literal. Values it cannot
// represent become invalid literals, reported by Check with the column's
// name rather than panicking at the call site.
func literal(v any) Literal {
	switch v := v.(type) {
	case nil:
		return Literal{Kind: InvalidLit, Str: "nil (comparisons with null are never true; use IsNull or IsNotNull)"}
	case string:
		return Literal{Kind: StringLit, Str: v}
	case bool:
		return Literal{Kind: BoolLit, Bool: v}
	case time.Time:
		return Literal{Kind: StringLit, Str: v.Format(time.RFC3339Nano)}
	case float32:
		return floatLiteral(float64(v))
	case float64:
		return floatLiteral(v)
	case fmt.Stringer: // e.g. uuid.UUID for sample_id
		return Literal{Kind: StringLit, Str: v.String()}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Literal{Kind: IntLit, Int: rv.Int()}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return Literal{Kind: IntLit, Int: int64(u)}
		}
		return Literal{Kind: InvalidLit, Str: fmt.Sprintf("%d exceeds the int64 range", rv.Uint())}
	}
	return Literal{Kind: InvalidLit, Str: fmt.Sprintf("Go value %v of type %T", v, v)}
}

// floatLiteral rejects NaN and infinities, which the text form cannot
// write, so that every built predicate prints as text Where reads back.
func floatLiteral(f float64) Literal {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Literal{Kind: InvalidLit, Str: fmt.Sprintf("%v (NaN and infinities cannot be compared)", f)}
	}
	return Literal{Kind: FloatLit, Float: f}
}

// And holds when every argument holds; And() is true. A single argument
// is returned as is.
func And(args ...Expr) Expr {
	if len(args) == 1 {
		return args[0]
	}
	return &AndExpr{Args: args}
}

// Or holds when some argument holds; Or() is false. A single argument is
// returned as is.
func Or(args ...Expr) Expr {
	if len(args) == 1 {
		return args[0]
	}
	return &OrExpr{Args: args}
}

// Not negates e. A sample whose e is unknown (it compares a null) stays
// excluded, as in SQL.
func Not(e Expr) Expr { return &NotExpr{Arg: e} }

// Tagged holds for samples carrying the tag.
func Tagged(name string) Expr { return &TaggedExpr{Tag: name} }

// Annotation holds for samples with some single annotation satisfying
// every condition, which name annotations columns (Label,
// AnnotationField). Annotation() holds for samples with any annotation.
func Annotation(conds ...Expr) *AnnotationExpr {
	switch len(conds) {
	case 0:
		return &AnnotationExpr{}
	case 1:
		return &AnnotationExpr{Where: conds[0]}
	}
	return &AnnotationExpr{Where: &AndExpr{Args: conds}}
}

// AnnotationCount is the number of a sample's annotations matching an
// Annotation(...); its methods compare it with a number.
type AnnotationCount struct {
	of *AnnotationExpr
}

// Count counts, per sample, the annotations that satisfy a's
// conditions: Count(Annotation(Label().Eq("person"))).Ge(3).
//
// (It is not named Count because this package's Count is the value/count
// pair of inspection reports.)
func Count(a *AnnotationExpr) AnnotationCount { return AnnotationCount{of: a} }

func (c AnnotationCount) cmp(op Op, n int64) Expr {
	return &CountExpr{Of: c.of, Op: op, N: n}
}

// Lt is "count(...) < n".
func (c AnnotationCount) Lt(n int64) Expr { return c.cmp(Lt, n) }

// Le is "count(...) <= n".
func (c AnnotationCount) Le(n int64) Expr { return c.cmp(Le, n) }

// Gt is "count(...) > n".
func (c AnnotationCount) Gt(n int64) Expr { return c.cmp(Gt, n) }

// Ge is "count(...) >= n".
func (c AnnotationCount) Ge(n int64) Expr { return c.cmp(Ge, n) }

// Eq is "count(...) == n".
func (c AnnotationCount) Eq(n int64) Expr { return c.cmp(Eq, n) }

// Ne is "count(...) != n".
func (c AnnotationCount) Ne(n int64) Expr { return c.cmp(Ne, n) }
