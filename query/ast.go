package query

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Expr is a match predicate over the samples of a dataset (spec/query.md).
// The concrete node types are *Compare, *In, *IsNull, *TextMatch,
// *Tagged, *Annotation, *Count, *And, *Or and *Not. An Expr comes from
// Parse or is built in code (package pipeline has a builder); either way
// Check validates it against a dataset and Eval evaluates it.
//
// String returns the text form, which Parse reads back to an equal
// expression (see Equal).
type Expr interface {
	String() string
	node()
}

// Pos is a position in the query text: Line and Col count from 1 (Col in
// characters). The zero Pos means "not from parsed text", e.g. for
// expressions built in code.
type Pos struct {
	Line, Col int
	src       *string // the whole query text, to quote it in error messages
}

// IsValid reports whether p refers to a place in parsed text.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Op is a comparison operator.
type Op uint8

// The comparison operators.
const (
	Lt Op = iota // <
	Le           // <=
	Gt           // >
	Ge           // >=
	Eq           // ==
	Ne           // !=
)

var opText = [...]string{Lt: "<", Le: "<=", Gt: ">", Ge: ">=", Eq: "==", Ne: "!="}

func (o Op) String() string {
	if int(o) < len(opText) {
		return opText[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// holds reports whether "a o b" holds given c = cmp(a, b) in {-1, 0, 1}.
func (o Op) holds(c int) bool {
	switch o {
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	}
	return false
}

// LitKind is the kind of a Literal.
type LitKind uint8

// The literal kinds. Timestamps are written as strings ("2024-01-01",
// RFC 3339) and converted when the expression is checked against a
// timestamp column.
const (
	InvalidLit LitKind = iota // a value the builder could not represent; Str says why
	StringLit
	IntLit
	FloatLit
	BoolLit
)

// Literal is a constant in a predicate. Only the field matching Kind is
// meaningful.
type Literal struct {
	Kind  LitKind
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Pos   Pos
}

// String returns the literal as it is written in query text.
func (l Literal) String() string {
	switch l.Kind {
	case StringLit:
		return strconv.Quote(l.Str)
	case IntLit:
		return strconv.FormatInt(l.Int, 10)
	case FloatLit:
		s := strconv.FormatFloat(l.Float, 'g', -1, 64)
		if math.IsInf(l.Float, 0) || math.IsNaN(l.Float) {
			return s
		}
		// Keep a float a float when read back: "2" would parse as an integer.
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case BoolLit:
		return strconv.FormatBool(l.Bool)
	}
	return "<invalid: " + l.Str + ">"
}

// describe names the literal's kind for error messages.
func (l Literal) describe() string {
	switch l.Kind {
	case StringLit:
		return "a string"
	case IntLit:
		return "an integer"
	case FloatLit:
		return "a float"
	case BoolLit:
		return "a boolean"
	}
	return "an invalid value"
}

// CompareExpr is "Column Op Value", e.g. width < 256.
type CompareExpr struct {
	Column string
	Op     Op
	Value  Literal
	Pos    Pos
}

// InExpr is "Column in (Values...)".
type InExpr struct {
	Column string
	Values []Literal
	Pos    Pos
}

// NullExpr is "Column is null", or "Column is not null" when Negate.
type NullExpr struct {
	Column string
	Negate bool
	Pos    Pos
}

// MatchKind says how a TextMatch compares text.
type MatchKind uint8

// The text match kinds.
const (
	StartsWith MatchKind = iota // the value begins with the text
	Contains                    // the text occurs in the value
)

func (k MatchKind) String() string {
	if k == Contains {
		return "contains"
	}
	return "startswith"
}

// TextMatchExpr is "Column startswith Value" or "Column contains Value".
type TextMatchExpr struct {
	Column string
	Kind   MatchKind
	Value  Literal
	Pos    Pos
}

// TaggedExpr is tagged("Tag"): the sample carries the tag.
type TaggedExpr struct {
	Tag string
	Pos Pos
}

// AnnotationExpr is annotation(Where): some single annotation of the sample
// satisfies Where, which may name annotation columns only. A nil Where
// means the sample has any annotation.
type AnnotationExpr struct {
	Where Expr
	Pos   Pos
}

// CountExpr is "count(Of) Op N": the number of the sample's annotations that
// satisfy Of.Where, compared with N.
type CountExpr struct {
	Of  *AnnotationExpr
	Op  Op
	N   int64
	Pos Pos
}

// AndExpr holds when every argument holds; an empty AndExpr is true (written
// "true").
type AndExpr struct {
	Args []Expr
	Pos  Pos
}

// OrExpr holds when some argument holds; an empty OrExpr is false (written
// "false").
type OrExpr struct {
	Args []Expr
	Pos  Pos
}

// NotExpr negates Arg. As in SQL, not of an unknown (null) result is still
// unknown, so the sample does not match.
type NotExpr struct {
	Arg Expr
	Pos Pos
}

func (*CompareExpr) node()    {}
func (*InExpr) node()         {}
func (*NullExpr) node()       {}
func (*TextMatchExpr) node()  {}
func (*TaggedExpr) node()     {}
func (*AnnotationExpr) node() {}
func (*CountExpr) node()      {}
func (*AndExpr) node()        {}
func (*OrExpr) node()         {}
func (*NotExpr) node()        {}

func (e *CompareExpr) String() string    { return Format(e) }
func (e *InExpr) String() string         { return Format(e) }
func (e *NullExpr) String() string       { return Format(e) }
func (e *TextMatchExpr) String() string  { return Format(e) }
func (e *TaggedExpr) String() string     { return Format(e) }
func (e *AnnotationExpr) String() string { return Format(e) }
func (e *CountExpr) String() string      { return Format(e) }
func (e *AndExpr) String() string        { return Format(e) }
func (e *OrExpr) String() string         { return Format(e) }
func (e *NotExpr) String() string        { return Format(e) }

// Format returns the text form of e, which Parse reads back to an
// expression Equal to e. (An And or Or of a single argument prints as
// that argument, so it reads back as the argument itself.)
func Format(e Expr) string {
	var b strings.Builder
	format(&b, e)
	return b.String()
}

// precedence levels for deciding on parentheses.
const (
	precOr = iota + 1
	precAnd
	precNot
	precAtom
)

func prec(e Expr) int {
	switch e := e.(type) {
	case *OrExpr:
		if len(e.Args) == 1 {
			return prec(e.Args[0])
		}
		if len(e.Args) == 0 {
			return precAtom
		}
		return precOr
	case *AndExpr:
		if len(e.Args) == 1 {
			return prec(e.Args[0])
		}
		if len(e.Args) == 0 {
			return precAtom
		}
		return precAnd
	case *NotExpr:
		return precNot
	}
	return precAtom
}

// formatChild writes e, in parentheses unless it binds tighter than
// parent. Equal precedence gets parentheses too, so that nesting built
// in code (an And inside an And) survives a round trip.
func formatChild(b *strings.Builder, e Expr, parent int) {
	if p := prec(e); p <= parent && p != precNot {
		b.WriteByte('(')
		format(b, e)
		b.WriteByte(')')
		return
	}
	format(b, e)
}

func format(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case nil:
		b.WriteString("<nil>")
	case *CompareExpr:
		b.WriteString(quoteIdent(e.Column))
		b.WriteString(" " + e.Op.String() + " ")
		b.WriteString(e.Value.String())
	case *InExpr:
		b.WriteString(quoteIdent(e.Column))
		b.WriteString(" in (")
		for i, v := range e.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte(')')
	case *NullExpr:
		b.WriteString(quoteIdent(e.Column))
		if e.Negate {
			b.WriteString(" is not null")
		} else {
			b.WriteString(" is null")
		}
	case *TextMatchExpr:
		b.WriteString(quoteIdent(e.Column))
		b.WriteString(" " + e.Kind.String() + " ")
		b.WriteString(e.Value.String())
	case *TaggedExpr:
		b.WriteString("tagged(" + strconv.Quote(e.Tag) + ")")
	case *AnnotationExpr:
		b.WriteString("annotation(")
		if e.Where != nil {
			format(b, e.Where)
		}
		b.WriteByte(')')
	case *CountExpr:
		b.WriteString("count(")
		if e.Of == nil {
			b.WriteString("<nil>")
		} else {
			format(b, e.Of)
		}
		b.WriteString(") " + e.Op.String() + " " + strconv.FormatInt(e.N, 10))
	case *AndExpr:
		formatList(b, e.Args, " and ", "true", precAnd)
	case *OrExpr:
		formatList(b, e.Args, " or ", "false", precOr)
	case *NotExpr:
		b.WriteString("not ")
		formatChild(b, e.Arg, precNot)
	default:
		b.WriteString("<unknown>")
	}
}

func formatList(b *strings.Builder, args []Expr, sep, empty string, p int) {
	switch len(args) {
	case 0:
		b.WriteString(empty)
	case 1:
		format(b, args[0])
	default:
		for i, a := range args {
			if i > 0 {
				b.WriteString(sep)
			}
			formatChild(b, a, p)
		}
	}
}

// keywords may not be used as bare column names; Format quotes them.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "null": true,
	"true": true, "false": true, "startswith": true, "contains": true,
	"tagged": true, "annotation": true, "count": true,
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// quoteIdent writes a column name so that Parse reads it back: bare when
// it is a plain identifier, else in backquotes with ` doubled.
func quoteIdent(s string) string {
	plain := s != "" && !keywords[strings.ToLower(s)]
	for i, r := range s {
		if (i == 0 && !isIdentStart(r)) || !isIdentPart(r) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// Equal reports whether a and b are the same expression, ignoring
// positions.
func Equal(a, b Expr) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case *CompareExpr:
		b, ok := b.(*CompareExpr)
		return ok && a.Column == b.Column && a.Op == b.Op && litEqual(a.Value, b.Value)
	case *InExpr:
		b, ok := b.(*InExpr)
		if !ok || a.Column != b.Column || len(a.Values) != len(b.Values) {
			return false
		}
		for i := range a.Values {
			if !litEqual(a.Values[i], b.Values[i]) {
				return false
			}
		}
		return true
	case *NullExpr:
		b, ok := b.(*NullExpr)
		return ok && a.Column == b.Column && a.Negate == b.Negate
	case *TextMatchExpr:
		b, ok := b.(*TextMatchExpr)
		return ok && a.Column == b.Column && a.Kind == b.Kind && litEqual(a.Value, b.Value)
	case *TaggedExpr:
		b, ok := b.(*TaggedExpr)
		return ok && a.Tag == b.Tag
	case *AnnotationExpr:
		b, ok := b.(*AnnotationExpr)
		return ok && (a == nil) == (b == nil) && (a == nil || Equal(a.Where, b.Where))
	case *CountExpr:
		b, ok := b.(*CountExpr)
		return ok && a.Op == b.Op && a.N == b.N && Equal(exprOrNil(a.Of), exprOrNil(b.Of))
	case *AndExpr:
		b, ok := b.(*AndExpr)
		return ok && listEqual(a.Args, b.Args)
	case *OrExpr:
		b, ok := b.(*OrExpr)
		return ok && listEqual(a.Args, b.Args)
	case *NotExpr:
		b, ok := b.(*NotExpr)
		return ok && Equal(a.Arg, b.Arg)
	}
	return false
}

// exprOrNil keeps a nil *Annotation a nil Expr.
func exprOrNil(a *AnnotationExpr) Expr {
	if a == nil {
		return nil
	}
	return a
}

func listEqual(a, b []Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func litEqual(a, b Literal) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case StringLit, InvalidLit:
		return a.Str == b.Str
	case IntLit:
		return a.Int == b.Int
	case FloatLit:
		return a.Float == b.Float || (math.IsNaN(a.Float) && math.IsNaN(b.Float))
	case BoolLit:
		return a.Bool == b.Bool
	}
	return true
}
