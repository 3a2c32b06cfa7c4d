package query

import (
	"errors"
	"strings"
	"testing"
)

func str(s string) Literal                         { return Literal{Kind: StringLit, Str: s} }
func num(i int64) Literal                          { return Literal{Kind: IntLit, Int: i} }
func flt(f float64) Literal                        { return Literal{Kind: FloatLit, Float: f} }
func cmpE(c string, op Op, v Literal) *CompareExpr { return &CompareExpr{Column: c, Op: op, Value: v} }

func TestParse(t *testing.T) {
	a, b, c := cmpE("a", Lt, num(1)), cmpE("b", Lt, num(2)), cmpE("c", Lt, num(3))
	tests := []struct {
		text  string
		want  Expr
		print string // Format of the result; "" means text itself
	}{
		{`width < 256`, cmpE("width", Lt, num(256)), ""},
		{`width<=-3`, cmpE("width", Le, num(-3)), "width <= -3"},
		{`x > 2.5`, cmpE("x", Gt, flt(2.5)), ""},
		{`x >= 1e3`, cmpE("x", Ge, flt(1000)), "x >= 1000.0"},
		{`x == - 0.25`, cmpE("x", Eq, flt(-0.25)), "x == -0.25"},
		{`created_at >= "2024-01-01"`, cmpE("created_at", Ge, str("2024-01-01")), ""},
		{`file_name == "a \"b\"\n"`, cmpE("file_name", Eq, str("a \"b\"\n")), ""},
		{`flag != true`, cmpE("flag", Ne, Literal{Kind: BoolLit, Bool: true}), ""},
		{`flag == FALSE`, cmpE("flag", Eq, Literal{Kind: BoolLit}), "flag == false"},
		{`weather in ("rain", "snow")`, &InExpr{Column: "weather", Values: []Literal{str("rain"), str("snow")}}, ""},
		{`n in (1,2.5)`, &InExpr{Column: "n", Values: []Literal{num(1), flt(2.5)}}, "n in (1, 2.5)"},
		{`n in ()`, &InExpr{Column: "n", Values: []Literal{}}, ""},
		{`difficulty is null`, &NullExpr{Column: "difficulty"}, ""},
		{`difficulty IS NOT NULL`, &NullExpr{Column: "difficulty", Negate: true}, "difficulty is not null"},
		{`file_path startswith "s3://bucket/cam2/"`, &TextMatchExpr{Column: "file_path", Value: str("s3://bucket/cam2/")}, ""},
		{`file_name contains "night"`, &TextMatchExpr{Column: "file_name", Kind: Contains, Value: str("night")}, ""},
		{`tagged("reviewed")`, &TaggedExpr{Tag: "reviewed"}, ""},
		{`annotation()`, &AnnotationExpr{}, ""},
		{`annotation(label == "cat" and confidence > 0.5)`, &AnnotationExpr{Where: &AndExpr{Args: []Expr{
			cmpE("label", Eq, str("cat")), cmpE("confidence", Gt, flt(0.5))}}}, ""},
		{`count(annotation(label == "person")) >= 3`, &CountExpr{Of: &AnnotationExpr{Where: cmpE("label", Eq, str("person"))}, Op: Ge, N: 3}, ""},
		{`count( annotation( ) ) != -1`, &CountExpr{Of: &AnnotationExpr{}, Op: Ne, N: -1}, "count(annotation()) != -1"},
		{`true`, &AndExpr{}, ""},
		{`false`, &OrExpr{}, ""},
		// precedence: not > and > or
		{`a < 1 or b < 2 and not c < 3`, &OrExpr{Args: []Expr{a, &AndExpr{Args: []Expr{b, &NotExpr{Arg: c}}}}}, ""},
		{`a < 1 AND b < 2 Or c < 3`, &OrExpr{Args: []Expr{&AndExpr{Args: []Expr{a, b}}, c}}, "a < 1 and b < 2 or c < 3"},
		{`(a < 1 or b < 2) and c < 3`, &AndExpr{Args: []Expr{&OrExpr{Args: []Expr{a, b}}, c}}, ""},
		{`not (a < 1 and b < 2)`, &NotExpr{Arg: &AndExpr{Args: []Expr{a, b}}}, ""},
		{`not not a < 1`, &NotExpr{Arg: &NotExpr{Arg: a}}, ""},
		{`a < 1 and b < 2 and c < 3`, &AndExpr{Args: []Expr{a, b, c}}, ""},
		{`(a < 1 and b < 2) and c < 3`, &AndExpr{Args: []Expr{&AndExpr{Args: []Expr{a, b}}, c}}, ""},
		{`((a < 1))`, a, "a < 1"},
		// column names: keywords and odd names in backquotes; calls need "("
		{"`and` == 1", cmpE("and", Eq, num(1)), ""},
		{"`my col` == 1", cmpE("my col", Eq, num(1)), ""},
		{"`a``b` == 1", cmpE("a`b", Eq, num(1)), ""},
		{"`width` == 1", cmpE("width", Eq, num(1)), "width == 1"},
		{"`tagged` == 1", cmpE("tagged", Eq, num(1)), ""},
		{"größe_2 > 1", cmpE("größe_2", Gt, num(1)), ""},
		{"a < 1\n\tand\r\nb < 2", &AndExpr{Args: []Expr{a, b}}, "a < 1 and b < 2"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if !Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %s, want %s", tt.text, got, tt.want)
		}
		want := tt.print
		if want == "" {
			want = tt.text
		}
		if s := got.String(); s != want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.text, s, want)
		}
		assertRoundTrip(t, got)
	}
}

func TestParsePositions(t *testing.T) {
	e := mustParse(t, "a < 1 and\n  annotation(label == \"x\")")
	and := e.(*AndExpr)
	if p := and.Args[0].(*CompareExpr).Pos; p.Line != 1 || p.Col != 1 {
		t.Errorf("a at %v, want 1:1", p)
	}
	if p := and.Args[0].(*CompareExpr).Value.Pos; p.String() != "1:5" {
		t.Errorf("1 at %v, want 1:5", p)
	}
	ann := and.Args[1].(*AnnotationExpr)
	if ann.Pos.String() != "2:3" || ann.Where.(*CompareExpr).Pos.String() != "2:14" {
		t.Errorf("annotation at %v, label at %v; want 2:3, 2:14", ann.Pos, ann.Where.(*CompareExpr).Pos)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{``, `1:1: syntax error: empty predicate (write "true" to match every sample)`},
		{`width <`, `1:8: syntax error: expected a value (string, number, true or false), found end of text`},
		{`width < 3 and`, `1:14: syntax error: expected a condition, found end of text`},
		{`(width < 3`, `1:11: syntax error: expected ")", found end of text`},
		{`width = 3`, `1:7: syntax error: "=" must be followed by "=" (use == or !=)`},
		{`width ! 3`, `1:7: syntax error: "!" must be followed by "=" (use == or !=)`},
		{`width < 3 height > 2`, `1:11: syntax error: unexpected "height" after a complete predicate (missing "and" or "or"?)`},
		{`name == "abc`, `1:9: syntax error: string literal not terminated`},
		{`name == "a\qb"`, `1:9: syntax error: invalid string literal "a\qb" (escapes are those of Go: \" \\ \n \t \uXXXX ...)`},
		{"`name == 1", "1:1: syntax error: quoted column name not terminated"},
		{"`` == 1", "1:1: syntax error: empty column name"},
		{`count(annotation()) >= 2.5`, `1:24: syntax error: count(...) compares with an integer, found 2.5`},
		{`count(width) > 1`, `1:7: syntax error: count takes annotation(...), found "width"`},
		{`count(annotation()) 3`, `1:21: syntax error: expected a comparison (< <= > >= == !=) after count(...), found "3"`},
		{`width == null`, `1:10: syntax error: null cannot be compared (comparisons with null are never true); use "is null" or "is not null"`},
		{`and < 3`, `1:1: syntax error: expected a condition, found keyword "and" (quote a column of that name in backquotes)`},
		{`width is nul`, `1:10: syntax error: expected "null" after "is", found "nul"`},
		{`width`, `1:6: syntax error: expected a comparison (< <= > >= == !=), in, is, startswith or contains after column width, found end of text`},
		{`w in (1 2)`, `1:9: syntax error: expected "," or ")" in the list, found "2"`},
		{`w in 1`, `1:6: syntax error: expected "(" after "in", found "1"`},
		{`w startswith 1`, `1:14: syntax error: expected a string in double quotes after "startswith", found "1"`},
		{`tagged(reviewed)`, `1:8: syntax error: expected a tag name in double quotes, found "reviewed"`},
		{`w < 99999999999999999999`, `1:5: syntax error: integer 99999999999999999999 out of range (64-bit)`},
		{`w < 1e999`, `1:5: syntax error: number 1e999 out of range`},
		{`w < 1.`, `1:5: syntax error: malformed number "1.": digits must follow the decimal point`},
		{`w < 1e`, `1:5: syntax error: malformed number "1e": exponent has no digits`},
		{`w < 12abc`, `1:5: syntax error: malformed number: unexpected 'a' after "12"`},
		{`w < -x`, `1:6: syntax error: expected a number after "-", found "x"`},
		{`w < 1 ; x`, `1:7: syntax error: unexpected character ';'`},
		{"w < 1 and \xff", "1:11: syntax error: invalid UTF-8 in query text"},
		{`)`, `1:1: syntax error: expected a condition, found ")"`},
		{strings.Repeat("(", 1001) + "a < 1" + strings.Repeat(")", 1001), `1:1001: syntax error: predicate nested more than 1000 levels deep`},
		{strings.Repeat("not ", 1001) + "a < 1", `1:4001: syntax error: predicate nested more than 1000 levels deep`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.text)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q) error %v, want a *QueryError", tt.text, err)
			continue
		}
		if got, _, _ := strings.Cut(err.Error(), "\n"); got != tt.want {
			t.Errorf("Parse(%q) error\n got: %s\nwant: %s", tt.text, got, tt.want)
		}
	}
}

func TestParseErrorCaret(t *testing.T) {
	_, err := Parse("width < 256\n\tand weather in (\"rain\" \"snow\")")
	want := "2:25: syntax error: expected \",\" or \")\" in the list, found \"snow\"\n" +
		"  \tand weather in (\"rain\" \"snow\")\n" +
		"  \t                       ^"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestFormatBuilt(t *testing.T) {
	a, b := cmpE("a", Lt, num(1)), cmpE("b", Lt, num(2))
	tests := []struct {
		e    Expr
		want string
	}{
		{&AndExpr{Args: []Expr{a}}, "a < 1"},
		{&OrExpr{Args: []Expr{&AndExpr{Args: []Expr{a, b}}}}, "a < 1 and b < 2"},
		{&AndExpr{Args: []Expr{&OrExpr{Args: []Expr{a, b}}, &OrExpr{}}}, "(a < 1 or b < 2) and false"},
		{&OrExpr{Args: []Expr{&OrExpr{Args: []Expr{a, b}}, a}}, "(a < 1 or b < 2) or a < 1"},
		{&NotExpr{Arg: &OrExpr{Args: []Expr{a}}}, "not a < 1"},
		{&NotExpr{Arg: &AndExpr{Args: []Expr{a, b}}}, "not (a < 1 and b < 2)"},
		{cmpE("x", Eq, flt(2)), "x == 2.0"},
		{cmpE("x", Eq, flt(1e21)), "x == 1e+21"},
		{cmpE("x", Eq, flt(0)), "x == 0.0"},
		{cmpE("x", Eq, str("tab\there")), `x == "tab\there"`},
		{cmpE("", Eq, num(1)), "`` == 1"},
		{cmpE("1x", Eq, num(1)), "`1x` == 1"},
		{&AnnotationExpr{Where: &AndExpr{}}, "annotation(true)"},
		{&CountExpr{Of: &AnnotationExpr{}, Op: Lt, N: 2}, "count(annotation()) < 2"},
	}
	for _, tt := range tests {
		if got := Format(tt.e); got != tt.want {
			t.Errorf("Format = %q, want %q", got, tt.want)
		}
		if tt.want != "`` == 1" {
			assertRoundTrip(t, tt.e)
		}
	}
}

// assertRoundTrip checks that Parse(Format(e)) is equivalent to e: equal
// after collapsing single-argument And/Or, which print as their argument.
func assertRoundTrip(t testing.TB, e Expr) {
	t.Helper()
	s := Format(e)
	back, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(Format(e)) of %q: %v", s, err)
	}
	if !Equal(back, collapse(e)) {
		t.Fatalf("round trip of %q gave %q", s, Format(back))
	}
	if s2 := Format(back); s2 != s {
		t.Fatalf("Format not stable: %q then %q", s, s2)
	}
}

// collapse replaces single-argument And/Or by the argument.
func collapse(e Expr) Expr {
	switch e := e.(type) {
	case *AndExpr:
		if len(e.Args) == 1 {
			return collapse(e.Args[0])
		}
		args := make([]Expr, len(e.Args))
		for i, a := range e.Args {
			args[i] = collapse(a)
		}
		return &AndExpr{Args: args}
	case *OrExpr:
		if len(e.Args) == 1 {
			return collapse(e.Args[0])
		}
		args := make([]Expr, len(e.Args))
		for i, a := range e.Args {
			args[i] = collapse(a)
		}
		return &OrExpr{Args: args}
	case *NotExpr:
		return &NotExpr{Arg: collapse(e.Arg)}
	case *AnnotationExpr:
		if e.Where == nil {
			return e
		}
		return &AnnotationExpr{Where: collapse(e.Where)}
	case *CountExpr:
		return &CountExpr{Of: collapse(e.Of).(*AnnotationExpr), Op: e.Op, N: e.N}
	}
	return e
}

// FuzzParse checks that the parser never panics, that every error is a
// positioned *QueryError, and that whatever parses prints to text that
// parses back to an equal expression.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`width < 256 and weather in ("rain", "snow") and not tagged("reviewed")`,
		`created_at >= "2024-01-01" or file_name == "a.jpg"`,
		`difficulty is null or difficulty is not null`,
		`file_path startswith "s3://bucket/cam2/" and file_name contains "night"`,
		`annotation(label == "cat" and confidence > 0.5)`,
		`count(annotation(label == "person")) >= 3`,
		`not (a < 1 or b > -2.5e3) and (c == true or d != false)`,
		"`odd name` in () and `and` == 1",
		`annotation()`,
		`true and false or true`,
		"x == \"\\u00e9\\n\\x00\"",
		"a < 1\n and b < 2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || !qe.Pos.IsValid() {
				t.Fatalf("Parse(%q) error without a position: %v", s, err)
			}
			return
		}
		assertRoundTrip(t, e)
	})
}

// TestCaretLongLine: an error in a very long query shows a window of the
// line around the caret, not the whole line.
func TestCaretLongLine(t *testing.T) {
	q := "width < 1 and " + strings.Repeat("width < 1 and ", 500) + "width <"
	_, err := Parse(q)
	if err == nil {
		t.Fatal("want a syntax error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("error has %d lines: %q", len(lines), err)
	}
	text, mark := lines[1], lines[2]
	if n := len([]rune(text)); n > caretWidth+4 {
		t.Fatalf("shown line has %d characters, want at most %d", n, caretWidth+4)
	}
	if !strings.HasPrefix(text, "  …") || !strings.HasSuffix(text, "width <") {
		t.Fatalf("window %q should start with … and end at the query's end", text)
	}
	// The caret sits under the end of the text, where the operand is missing.
	if got, want := len([]rune(mark)), len([]rune(text))+1; got != want && got != want-1 {
		t.Fatalf("caret at column %d of %q, want about %d", got, mark, want)
	}
	short := "width <"
	_, err = Parse(short)
	if !strings.Contains(err.Error(), "\n  width <\n") {
		t.Fatalf("short lines are shown whole: %q", err)
	}
}
