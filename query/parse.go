package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is an error about a place in a predicate: a syntax error
// from Parse, or a type error from Check. Its message names the line and
// column and, when the expression was parsed, quotes the line of text with
// a caret under the place.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	s := e.Pos.String() + ": " + e.Msg
	if e.Pos.src != nil {
		s += "\n" + caret(*e.Pos.src, e.Pos)
	}
	return s
}

// caretWidth is how much of a long line an error shows around its caret.
const caretWidth = 100

// caret returns the line of text that p is on and, below it, a caret
// under column p.Col. A line longer than caretWidth is cut to a window
// around the column, marked with "…", so a machine-generated query of
// thousands of characters still gives a short, readable error.
func caret(text string, p Pos) string {
	lines := strings.Split(text, "\n")
	if p.Line-1 >= len(lines) {
		return ""
	}
	line := []rune(lines[p.Line-1])
	col := p.Col - 1 // runes before the caret
	prefix, suffix := "", ""
	if len(line) > caretWidth {
		lo := max(0, min(col-caretWidth/2, len(line)-caretWidth))
		hi := min(len(line), lo+caretWidth)
		if lo > 0 {
			prefix = "…"
		}
		if hi < len(line) {
			suffix = "…"
		}
		line, col = line[lo:hi], col-lo
	}
	var pad strings.Builder
	if prefix != "" {
		pad.WriteByte(' ')
	}
	n := 0
	for _, r := range line {
		if n >= col {
			break
		}
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
		n++
	}
	for ; n < col; n++ {
		pad.WriteByte(' ')
	}
	return "  " + prefix + string(line) + suffix + "\n  " + pad.String() + "^"
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQuotedIdent
	tString
	tNumber
	tOp // < <= > >= == !=
	tLParen
	tRParen
	tComma
	tMinus
)

type token struct {
	kind tokKind
	text string // identifier name, unquoted string, number text or operator
	pos  Pos
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of text"
	case tString:
		return strconv.Quote(t.text)
	case tQuotedIdent:
		return "`" + t.text + "`"
	}
	return strconv.Quote(t.text)
}

// lexer turns the query text into tokens, tracking line and column.
type lexer struct {
	src       *string
	s         string
	off       int
	line, col int
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.col, src: lx.src} }

func (lx *lexer) peekRune() (rune, int) {
	if lx.off >= len(lx.s) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(lx.s[lx.off:])
}

func (lx *lexer) advance() rune {
	r, w := lx.peekRune()
	lx.off += w
	if r == '\n' {
		lx.line++
		lx.col = 1
	} else {
		lx.col++
	}
	return r
}

func (lx *lexer) errorf(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: "syntax error: " + fmt.Sprintf(format, args...)}
}

func (lx *lexer) next() (token, error) {
	for {
		r, _ := lx.peekRune()
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			lx.advance()
			continue
		}
		break
	}
	p := lx.pos()
	r, _ := lx.peekRune()
	switch {
	case r < 0:
		return token{kind: tEOF, pos: p}, nil
	case r == '(':
		lx.advance()
		return token{kind: tLParen, text: "(", pos: p}, nil
	case r == ')':
		lx.advance()
		return token{kind: tRParen, text: ")", pos: p}, nil
	case r == ',':
		lx.advance()
		return token{kind: tComma, text: ",", pos: p}, nil
	case r == '-':
		lx.advance()
		return token{kind: tMinus, text: "-", pos: p}, nil
	case r == '<' || r == '>' || r == '=' || r == '!':
		lx.advance()
		if n, _ := lx.peekRune(); n == '=' {
			lx.advance()
			return token{kind: tOp, text: string(r) + "=", pos: p}, nil
		}
		if r == '=' || r == '!' {
			return token{}, lx.errorf(p, "%q must be followed by \"=\" (use == or !=)", string(r))
		}
		return token{kind: tOp, text: string(r), pos: p}, nil
	case r == '"':
		return lx.stringLit(p)
	case r == '`':
		return lx.quotedIdent(p)
	case r >= '0' && r <= '9':
		return lx.number(p)
	case isIdentStart(r):
		start := lx.off
		for {
			r, _ := lx.peekRune()
			if r < 0 || !isIdentPart(r) {
				break
			}
			lx.advance()
		}
		return token{kind: tIdent, text: lx.s[start:lx.off], pos: p}, nil
	case r == utf8.RuneError:
		return token{}, lx.errorf(p, "invalid UTF-8 in query text")
	}
	return token{}, lx.errorf(p, "unexpected character %q", r)
}

func (lx *lexer) stringLit(p Pos) (token, error) {
	start := lx.off
	lx.advance() // opening quote
	for {
		r, _ := lx.peekRune()
		switch r {
		case -1, '\n':
			return token{}, lx.errorf(p, "string literal not terminated")
		case '\\':
			lx.advance()
			if r, _ := lx.peekRune(); r < 0 || r == '\n' {
				return token{}, lx.errorf(p, "string literal not terminated")
			}
			lx.advance()
		case '"':
			lx.advance()
			s, err := strconv.Unquote(lx.s[start:lx.off])
			if err != nil {
				return token{}, lx.errorf(p, "invalid string literal %s (escapes are those of Go: \\\" \\\\ \\n \\t \\uXXXX ...)", lx.s[start:lx.off])
			}
			return token{kind: tString, text: s, pos: p}, nil
		default:
			lx.advance()
		}
	}
}

func (lx *lexer) quotedIdent(p Pos) (token, error) {
	lx.advance()
	var b strings.Builder
	for {
		r, _ := lx.peekRune()
		switch r {
		case -1:
			return token{}, lx.errorf(p, "quoted column name not terminated")
		case '`':
			lx.advance()
			if n, _ := lx.peekRune(); n == '`' { // `` stands for one backquote
				lx.advance()
				b.WriteByte('`')
				continue
			}
			if b.Len() == 0 {
				return token{}, lx.errorf(p, "empty column name")
			}
			return token{kind: tQuotedIdent, text: b.String(), pos: p}, nil
		default:
			b.WriteRune(lx.advance())
		}
	}
}

func (lx *lexer) number(p Pos) (token, error) {
	start := lx.off
	digits := func() int {
		n := 0
		for {
			r, _ := lx.peekRune()
			if r < '0' || r > '9' {
				return n
			}
			lx.advance()
			n++
		}
	}
	digits()
	if r, _ := lx.peekRune(); r == '.' {
		lx.advance()
		if digits() == 0 {
			return token{}, lx.errorf(p, "malformed number %q: digits must follow the decimal point", lx.s[start:lx.off])
		}
	}
	if r, _ := lx.peekRune(); r == 'e' || r == 'E' {
		lx.advance()
		if r, _ := lx.peekRune(); r == '+' || r == '-' {
			lx.advance()
		}
		if digits() == 0 {
			return token{}, lx.errorf(p, "malformed number %q: exponent has no digits", lx.s[start:lx.off])
		}
	}
	if r, _ := lx.peekRune(); r >= 0 && isIdentPart(r) {
		return token{}, lx.errorf(p, "malformed number: unexpected %q after %q", r, lx.s[start:lx.off])
	}
	return token{kind: tNumber, text: lx.s[start:lx.off], pos: p}, nil
}

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	lx    lexer
	tok   token
	peek  *token
	depth int // nesting of parentheses, not and calls
}

// maxDepth bounds nesting so that hostile text cannot exhaust the stack.
const maxDepth = 1000

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.lx.errorf(p.tok.pos, "predicate nested more than %d levels deep", maxDepth)
	}
	return nil
}

// Parse reads a predicate in the text form of spec/query.md, e.g.
//
//	width < 256 and weather in ("rain", "snow") and not tagged("reviewed")
//
// Precedence is not > and > or; keywords are case-insensitive; "true"
// and "false" stand for the empty And and Or. Literals are strings in
// double quotes (Go escapes), integers, floats (with "." or an exponent)
// and true/false. Timestamps and dates are strings: "2024-01-31",
// "2024-01-31 12:00:00", "2024-01-31T12:00:00.5" (these three in UTC) or
// RFC 3339 with a zone. Column names that are not plain identifiers (or
// clash with a keyword) are written in backquotes, ` doubled inside.
//
// Parse checks syntax only; Check resolves names and types against a
// dataset. A syntax error is a *QueryError naming the line and column
// where parsing failed.
func Parse(text string) (Expr, error) {
	src := text
	p := &parser{lx: lexer{src: &src, s: text, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, p.lx.errorf(p.tok.pos, "empty predicate (write \"true\" to match every sample)")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.lx.errorf(p.tok.pos, "unexpected %s after a complete predicate (missing \"and\" or \"or\"?)", p.tok.describe())
	}
	return e, nil
}

func (p *parser) advance() error {
	if p.peek != nil {
		p.tok, p.peek = *p.peek, nil
		return nil
	}
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) lookahead() (token, error) {
	if p.peek == nil {
		t, err := p.lx.next()
		if err != nil {
			return token{}, err
		}
		p.peek = &t
	}
	return *p.peek, nil
}

// isKeyword reports whether the current token is the bare keyword kw
// (keywords are case-insensitive).
func (p *parser) isKeyword(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	if p.tok.kind != k {
		return token{}, p.lx.errorf(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
	}
	t := p.tok
	return t, p.advance()
}

func (p *parser) or() (Expr, error) {
	pos := p.tok.pos
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	if !p.isKeyword("or") {
		return first, nil
	}
	args := []Expr{first}
	for p.isKeyword("or") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return &OrExpr{Args: args, Pos: pos}, nil
}

func (p *parser) and() (Expr, error) {
	pos := p.tok.pos
	first, err := p.not()
	if err != nil {
		return nil, err
	}
	if !p.isKeyword("and") {
		return first, nil
	}
	args := []Expr{first}
	for p.isKeyword("and") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return &AndExpr{Args: args, Pos: pos}, nil
}

func (p *parser) not() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if !p.isKeyword("not") {
		return p.primary()
	}
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.not()
	if err != nil {
		return nil, err
	}
	return &NotExpr{Arg: e, Pos: pos}, nil
}

// isCall reports whether the current identifier is followed by "(",
// which makes tagged/annotation/count function calls rather than
// column names.
func (p *parser) isCall(name string) (bool, error) {
	if !p.isKeyword(name) {
		return false, nil
	}
	t, err := p.lookahead()
	return err == nil && t.kind == tLParen, err
}

func (p *parser) primary() (Expr, error) {
	pos := p.tok.pos
	switch {
	case p.tok.kind == tLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return e, nil
	case p.isKeyword("true"):
		return &AndExpr{Pos: pos}, p.advance()
	case p.isKeyword("false"):
		return &OrExpr{Pos: pos}, p.advance()
	}
	for _, fn := range []string{"tagged", "annotation", "count"} {
		call, err := p.isCall(fn)
		if err != nil {
			return nil, err
		}
		if call {
			return p.call(fn, pos)
		}
	}
	if p.tok.kind == tQuotedIdent || (p.tok.kind == tIdent && !keywords[strings.ToLower(p.tok.text)]) {
		return p.condition()
	}
	if p.tok.kind == tIdent {
		return nil, p.lx.errorf(pos, "expected a condition, found keyword %q (quote a column of that name in backquotes)", p.tok.text)
	}
	return nil, p.lx.errorf(pos, "expected a condition, found %s", p.tok.describe())
}

func (p *parser) call(fn string, pos Pos) (Expr, error) {
	if err := p.advance(); err != nil { // name
		return nil, err
	}
	if err := p.advance(); err != nil { // (
		return nil, err
	}
	switch fn {
	case "tagged":
		t, err := p.expect(tString, `a tag name in double quotes`)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return &TaggedExpr{Tag: t.text, Pos: pos}, nil
	case "annotation":
		a := &AnnotationExpr{Pos: pos}
		if p.tok.kind != tRParen {
			e, err := p.or()
			if err != nil {
				return nil, err
			}
			a.Where = e
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return a, nil
	}
	// count(annotation(...)) op N
	call, err := p.isCall("annotation")
	if err != nil {
		return nil, err
	}
	if !call {
		return nil, p.lx.errorf(p.tok.pos, "count takes annotation(...), found %s", p.tok.describe())
	}
	a, err := p.call("annotation", p.tok.pos)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen, `")"`); err != nil {
		return nil, err
	}
	opTok, err := p.expect(tOp, "a comparison (< <= > >= == !=) after count(...)")
	if err != nil {
		return nil, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if lit.Kind != IntLit {
		return nil, p.lx.errorf(lit.Pos, "count(...) compares with an integer, found %s", lit.String())
	}
	return &CountExpr{Of: a.(*AnnotationExpr), Op: parseOp(opTok.text), N: lit.Int, Pos: pos}, nil
}

func parseOp(s string) Op {
	for i, t := range opText {
		if t == s {
			return Op(i)
		}
	}
	panic("columnar: lexer produced unknown operator " + s)
}

// condition parses "column <predicate>".
func (p *parser) condition() (Expr, error) {
	col := p.tok
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == tOp:
		op := parseOp(p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return &CompareExpr{Column: col.text, Op: op, Value: lit, Pos: col.pos}, nil
	case p.isKeyword("in"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tLParen, `"(" after "in"`); err != nil {
			return nil, err
		}
		in := &InExpr{Column: col.text, Pos: col.pos, Values: []Literal{}}
		for p.tok.kind != tRParen {
			if len(in.Values) > 0 {
				if _, err := p.expect(tComma, `"," or ")" in the list`); err != nil {
					return nil, err
				}
			}
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			in.Values = append(in.Values, lit)
		}
		return in, p.advance()
	case p.isKeyword("is"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		n := &NullExpr{Column: col.text, Pos: col.pos}
		if p.isKeyword("not") {
			n.Negate = true
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if !p.isKeyword("null") {
			return nil, p.lx.errorf(p.tok.pos, `expected "null" after "is", found %s`, p.tok.describe())
		}
		return n, p.advance()
	case p.isKeyword("startswith"), p.isKeyword("contains"):
		kind := StartsWith
		if p.isKeyword("contains") {
			kind = Contains
		}
		kw := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tString {
			return nil, p.lx.errorf(p.tok.pos, "expected a string in double quotes after %q, found %s", kw, p.tok.describe())
		}
		lit := Literal{Kind: StringLit, Str: p.tok.text, Pos: p.tok.pos}
		return &TextMatchExpr{Column: col.text, Kind: kind, Value: lit, Pos: col.pos}, p.advance()
	}
	return nil, p.lx.errorf(p.tok.pos, "expected a comparison (< <= > >= == !=), in, is, startswith or contains after column %s, found %s", quoteIdent(col.text), p.tok.describe())
}

// literal parses a string, number (optionally negative) or boolean.
func (p *parser) literal() (Literal, error) {
	t := p.tok
	switch {
	case t.kind == tString:
		return Literal{Kind: StringLit, Str: t.text, Pos: t.pos}, p.advance()
	case p.isKeyword("true"), p.isKeyword("false"):
		return Literal{Kind: BoolLit, Bool: p.isKeyword("true"), Pos: t.pos}, p.advance()
	case t.kind == tMinus || t.kind == tNumber:
		neg := t.kind == tMinus
		if neg {
			if err := p.advance(); err != nil {
				return Literal{}, err
			}
			if p.tok.kind != tNumber {
				return Literal{}, p.lx.errorf(p.tok.pos, `expected a number after "-", found %s`, p.tok.describe())
			}
		}
		text := p.tok.text
		if neg {
			text = "-" + text
		}
		lit := Literal{Pos: t.pos}
		if !strings.ContainsAny(text, ".eE") {
			v, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return Literal{}, p.lx.errorf(t.pos, "integer %s out of range (64-bit)", text)
			}
			lit.Kind, lit.Int = IntLit, v
		} else {
			v, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return Literal{}, p.lx.errorf(t.pos, "number %s out of range", text)
			}
			lit.Kind, lit.Float = FloatLit, v
		}
		return lit, p.advance()
	case t.kind == tIdent && strings.EqualFold(t.text, "null"):
		return Literal{}, p.lx.errorf(t.pos, `null cannot be compared (comparisons with null are never true); use "is null" or "is not null"`)
	}
	return Literal{}, p.lx.errorf(t.pos, "expected a value (string, number, true or false), found %s", t.describe())
}
