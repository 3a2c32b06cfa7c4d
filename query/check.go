package query

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/google/uuid"
)

// category is how a column's values are compared.
type category uint8

const (
	catOther  category = iota // only is null / is not null
	catInt                    // signed and unsigned integers
	catFloat                  // float32, float64
	catBool                   // boolean
	catString                 // string, large string
	catTime                   // timestamp, date32, date64: integers in a unit
	catUUID                   // the UUID extension type
)

// columnCategory classifies t; dictionaries take their values' category.
func columnCategory(t arrow.DataType) category {
	if d, ok := t.(*arrow.DictionaryType); ok {
		return columnCategory(d.ValueType)
	}
	if _, ok := t.(*extensions.UUIDType); ok {
		return catUUID
	}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return catInt
	case arrow.FLOAT32, arrow.FLOAT64:
		return catFloat
	case arrow.BOOL:
		return catBool
	case arrow.STRING, arrow.LARGE_STRING:
		return catString
	case arrow.TIMESTAMP, arrow.DATE32, arrow.DATE64:
		return catTime
	}
	return catOther
}

// typeName names a column type in the user's terms: "string" rather
// than Arrow's "utf8", a dictionary by its values.
func typeName(t arrow.DataType) string {
	if d, ok := t.(*arrow.DictionaryType); ok {
		return typeName(d.ValueType)
	}
	if _, ok := t.(*extensions.UUIDType); ok {
		return "uuid"
	}
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING:
		return "string"
	case arrow.BOOL:
		return "boolean"
	}
	return t.String()
}

// plan is a checked expression, ready to evaluate: literals converted to
// the column's type, columns resolved to their scope.
type plan interface{}

type (
	planAnd   struct{ args []plan }
	planOr    struct{ args []plan }
	planNot   struct{ arg plan }
	planTag   struct{ name string }
	planAnn   struct{ where plan } // nil where: any annotation
	planCount struct {
		ann *planAnn
		op  Op
		n   int64
	}
)

// leaf is a condition on one column.
type leaf struct {
	col  string
	cat  category
	kind leafKind
	op   Op

	spans []ispan // catInt, catTime: the matching integers (several for in)
	// time unit conversion happened at compile time, so spans are in the
	// column's own unit.
	floats []float64 // catFloat: the literal (compare) or the set (in)
	b      bool      // catBool
	strs   []string  // catString, catUUID (16-byte strings): literal or set
}

type leafKind uint8

const (
	leafCompare leafKind = iota
	leafIn
	leafIsNull
	leafNotNull
	leafStartsWith
	leafContains
)

// ispan is a set of integers: [lo, hi] (either end may be unbounded),
// complemented when neg.
type ispan struct {
	lo, hi       int64
	loInf, hiInf bool
	empty, neg   bool
}

// spanFor returns the integers x with "x op lit", where lit = v when
// exact and v < lit < v+1 otherwise.
func spanFor(op Op, v int64, exact bool) ispan {
	switch op {
	case Lt:
		if exact {
			if v == math.MinInt64 {
				return ispan{empty: true}
			}
			v--
		}
		return ispan{loInf: true, hi: v}
	case Le:
		return ispan{loInf: true, hi: v}
	case Gt, Ge:
		if op == Gt || !exact {
			if v == math.MaxInt64 {
				return ispan{empty: true}
			}
			v++
		}
		return ispan{lo: v, hiInf: true}
	case Eq:
		if !exact {
			return ispan{empty: true}
		}
		return ispan{lo: v, hi: v}
	}
	if !exact { // Ne with a value no integer equals
		return ispan{loInf: true, hiInf: true}
	}
	return ispan{lo: v, hi: v, neg: true}
}

// compiler checks an expression against a Source and builds its plan,
// collecting the columns evaluation will read.
type compiler struct {
	src        Source
	samples    *arrow.Schema
	anns       *arrow.Schema
	tags       []string
	sampleCols []string
	annCols    []string
	needAnns   bool
	root       plan
}

// Check reports whether e can be evaluated over src: every column exists
// in its scope (samples columns outside annotation(...), annotations
// columns inside), every literal fits its column's type, and every tag
// exists. Errors about parsed expressions are *QueryError values naming
// the position in the text.
func Check(e Expr, src Source) error {
	_, err := compile(e, src)
	return err
}

func compile(e Expr, src Source) (*compiler, error) {
	c := &compiler{src: src, samples: src.SampleSchema(), anns: src.AnnotationSchema(), tags: src.TagNames()}
	if c.samples == nil {
		return nil, fmt.Errorf("check predicate: the dataset has no samples schema")
	}
	p, err := c.build(e, false)
	if err != nil {
		return nil, err
	}
	c.root = p
	return c, nil
}

func (c *compiler) errorf(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// build compiles e; inAnn says whether e is inside annotation(...).
func (c *compiler) build(e Expr, inAnn bool) (plan, error) {
	switch e := e.(type) {
	case nil:
		return nil, fmt.Errorf("nil expression")
	case *AndExpr:
		p := &planAnd{}
		for _, a := range e.Args {
			q, err := c.build(a, inAnn)
			if err != nil {
				return nil, err
			}
			p.args = append(p.args, q)
		}
		return p, nil
	case *OrExpr:
		p := &planOr{}
		for _, a := range e.Args {
			q, err := c.build(a, inAnn)
			if err != nil {
				return nil, err
			}
			p.args = append(p.args, q)
		}
		return p, nil
	case *NotExpr:
		q, err := c.build(e.Arg, inAnn)
		if err != nil {
			return nil, err
		}
		return &planNot{arg: q}, nil
	case *TaggedExpr:
		if inAnn {
			return nil, c.errorf(e.Pos, "tagged(%q) inside annotation(...): tags belong to samples, not annotations", e.Tag)
		}
		if !slices.Contains(c.tags, e.Tag) {
			if len(c.tags) == 0 {
				return nil, c.errorf(e.Pos, "unknown tag %q: the dataset has no tags", e.Tag)
			}
			known := slices.Clone(c.tags)
			slices.Sort(known)
			return nil, c.errorf(e.Pos, "unknown tag %q; the dataset's tags are: %s", e.Tag, strings.Join(known, ", "))
		}
		return &planTag{name: e.Tag}, nil
	case *AnnotationExpr:
		return c.annotation(e, inAnn, "annotation(...)")
	case *CountExpr:
		if e.Of == nil {
			return nil, c.errorf(e.Pos, "count(...) without annotation(...)")
		}
		a, err := c.annotation(e.Of, inAnn, "count(annotation(...))")
		if err != nil {
			return nil, err
		}
		return &planCount{ann: a, op: e.Op, n: e.N}, nil
	case *CompareExpr:
		return c.leaf(e.Column, e.Pos, inAnn, leafCompare, e.Op, []Literal{e.Value})
	case *InExpr:
		return c.leaf(e.Column, e.Pos, inAnn, leafIn, Eq, e.Values)
	case *NullExpr:
		k := leafIsNull
		if e.Negate {
			k = leafNotNull
		}
		return c.leaf(e.Column, e.Pos, inAnn, k, Eq, nil)
	case *TextMatchExpr:
		k := leafStartsWith
		if e.Kind == Contains {
			k = leafContains
		}
		return c.leaf(e.Column, e.Pos, inAnn, k, Eq, []Literal{e.Value})
	}
	return nil, fmt.Errorf("unsupported expression %T", e)
}

func (c *compiler) annotation(e *AnnotationExpr, inAnn bool, what string) (*planAnn, error) {
	if inAnn {
		return nil, c.errorf(e.Pos, "%s cannot be nested inside annotation(...)", what)
	}
	c.needAnns = true
	p := &planAnn{}
	if e.Where != nil {
		q, err := c.build(e.Where, true)
		if err != nil {
			return nil, err
		}
		p.where = q
	}
	return p, nil
}

func columnNames(s *arrow.Schema) string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// resolve finds a column in the scope, or explains why it is not there.
func (c *compiler) resolve(name string, p Pos, inAnn bool) (arrow.Field, error) {
	scope, other := c.samples, c.anns
	if inAnn {
		scope, other = c.anns, c.samples
	}
	if scope != nil {
		if i := scope.FieldIndices(name); len(i) > 0 {
			return scope.Field(i[0]), nil
		}
	}
	inOther := other != nil && len(other.FieldIndices(name)) > 0
	switch {
	case inAnn && scope == nil:
		return arrow.Field{}, c.errorf(p, "unknown annotation column %q: the dataset has no annotations table", name)
	case inAnn && inOther:
		return arrow.Field{}, c.errorf(p, "column %q is a samples column, which cannot be used inside annotation(...); annotation columns are: %s", name, columnNames(scope))
	case inAnn:
		return arrow.Field{}, c.errorf(p, "unknown annotation column %q; annotation columns are: %s", name, columnNames(scope))
	case inOther:
		return arrow.Field{}, c.errorf(p, "column %q is an annotations column; conditions on annotations go inside annotation(...)", name)
	}
	return arrow.Field{}, c.errorf(p, "unknown column %q; samples columns are: %s", name, columnNames(scope))
}

func (c *compiler) use(name string, inAnn bool) {
	if inAnn {
		if !slices.Contains(c.annCols, name) {
			c.annCols = append(c.annCols, name)
		}
	} else if !slices.Contains(c.sampleCols, name) {
		c.sampleCols = append(c.sampleCols, name)
	}
}

func (c *compiler) leaf(col string, p Pos, inAnn bool, kind leafKind, op Op, lits []Literal) (plan, error) {
	f, err := c.resolve(col, p, inAnn)
	if err != nil {
		return nil, err
	}
	c.use(col, inAnn)
	l := &leaf{col: col, cat: columnCategory(f.Type), kind: kind, op: op}
	if kind == leafIsNull || kind == leafNotNull {
		return l, nil
	}
	mismatch := func(lit Literal, want string) error {
		at := lit.Pos
		if !at.IsValid() {
			at = p
		}
		if lit.Kind == InvalidLit {
			return c.errorf(at, "column %q (%s): unsupported value: %s", col, typeName(f.Type), lit.Str)
		}
		return c.errorf(at, "column %q has type %s, but %s is %s; %s", col, typeName(f.Type), lit.String(), lit.describe(), want)
	}
	if kind == leafStartsWith || kind == leafContains {
		what := "startswith"
		if kind == leafContains {
			what = "contains"
		}
		if l.cat != catString {
			return nil, c.errorf(p, "column %q has type %s; %s needs a string column", col, typeName(f.Type), what)
		}
		if lits[0].Kind != StringLit {
			return nil, mismatch(lits[0], what+" needs a string")
		}
		l.strs = []string{lits[0].Str}
		return l, nil
	}
	for _, lit := range lits {
		switch l.cat {
		case catInt:
			switch lit.Kind {
			case IntLit:
				l.spans = append(l.spans, spanFor(op, lit.Int, true))
			case FloatLit:
				l.spans = append(l.spans, floatSpan(op, lit.Float))
			default:
				return nil, mismatch(lit, "compare it with a number")
			}
		case catFloat:
			switch lit.Kind {
			case IntLit:
				l.floats = append(l.floats, float64(lit.Int))
			case FloatLit:
				l.floats = append(l.floats, lit.Float)
			default:
				return nil, mismatch(lit, "compare it with a number")
			}
		case catBool:
			if lit.Kind != BoolLit {
				return nil, mismatch(lit, "compare it with true or false")
			}
			l.b = lit.Bool
			if kind == leafIn { // a set of booleans: keep as 0/1 spans
				l.spans = append(l.spans, spanFor(Eq, b2i(lit.Bool), true))
			}
		case catString:
			if lit.Kind != StringLit {
				return nil, mismatch(lit, "compare it with a string in double quotes")
			}
			l.strs = append(l.strs, lit.Str)
		case catUUID:
			if lit.Kind != StringLit {
				return nil, mismatch(lit, `compare it with a UUID in double quotes`)
			}
			u, err := uuid.Parse(lit.Str)
			if err != nil {
				return nil, mismatch(lit, "that is not a UUID")
			}
			l.strs = append(l.strs, string(u[:]))
		case catTime:
			if lit.Kind != StringLit {
				return nil, mismatch(lit, `compare it with a date or time in double quotes, e.g. "2024-01-31" or "2024-01-31T12:00:00Z"`)
			}
			v, exact, err := timeValue(f.Type, lit.Str)
			if err != nil {
				return nil, c.errorf(orPos(lit.Pos, p), "column %q has type %s, but %s %v", col, typeName(f.Type), lit.String(), err)
			}
			l.spans = append(l.spans, spanFor(op, v, exact))
		default:
			return nil, c.errorf(p, "column %q has type %s, which queries can only test with \"is null\" or \"is not null\"", col, typeName(f.Type))
		}
	}
	return l, nil
}

func orPos(a, b Pos) Pos {
	if a.IsValid() {
		return a
	}
	return b
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// floatSpan is spanFor for a float literal compared with integers.
func floatSpan(op Op, f float64) ispan {
	switch {
	case math.IsNaN(f):
		if op == Ne {
			return ispan{loInf: true, hiInf: true}
		}
		return ispan{empty: true}
	case f >= math.MaxInt64: // 2^63: above every int64
		if op == Lt || op == Le || op == Ne {
			return ispan{loInf: true, hiInf: true}
		}
		return ispan{empty: true}
	case f < math.MinInt64:
		if op == Gt || op == Ge || op == Ne {
			return ispan{loInf: true, hiInf: true}
		}
		return ispan{empty: true}
	}
	fl := math.Floor(f)
	return spanFor(op, int64(fl), fl == f)
}

// timeLayouts are the forms a timestamp literal may take. Those without
// a zone are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf(`is not a valid date or time (write "2024-01-31", "2024-01-31 12:00:00" or RFC 3339 such as "2024-01-31T12:00:00Z")`)
}

// timeValue converts a timestamp literal to the column's integer unit:
// v is the floor and exact says whether the instant falls on a unit.
func timeValue(t arrow.DataType, s string) (v int64, exact bool, err error) {
	tm, err := parseTime(s)
	if err != nil {
		return 0, false, err
	}
	sec, ns := tm.Unix(), int64(tm.Nanosecond())
	var per int64 // units per second, or 0 for days
	switch t := t.(type) {
	case *arrow.TimestampType:
		per = int64(time.Second / t.Unit.Multiplier())
	case *arrow.Date64Type:
		per = 1000
	case *arrow.Date32Type:
		days := sec / 86400
		if sec%86400 < 0 {
			days--
		}
		return days, sec-days*86400 == 0 && ns == 0, nil
	}
	if sec > math.MaxInt64/per-1 || sec < math.MinInt64/per+1 {
		return 0, false, fmt.Errorf("is out of range for a %s column", t)
	}
	nsPer := int64(time.Second) / per
	return sec*per + ns/nsPer, ns%nsPer == 0, nil
}
