package query

import (
	"fmt"
	"testing"
)

func ExampleParse() {
	e, err := Parse(`width < 256 AND weather in ("rain", "snow") and not tagged("reviewed")`)
	if err != nil {
		fmt.Println(err)
		return
	}
	and := e.(*AndExpr)
	fmt.Println(len(and.Args), "conditions")
	fmt.Println(e)
	// Output:
	// 3 conditions
	// width < 256 and weather in ("rain", "snow") and not tagged("reviewed")
}

func ExampleParse_syntaxError() {
	_, err := Parse("width < 256 and\nweather in (\"rain\", )")
	fmt.Println(err)
	// Output:
	// 2:21: syntax error: expected a value (string, number, true or false), found ")"
	//   weather in ("rain", )
	//                       ^
}

func ExampleFormat() {
	e := &OrExpr{Args: []Expr{
		&AndExpr{Args: []Expr{
			&CompareExpr{Column: "width", Op: Ge, Value: Literal{Kind: IntLit, Int: 64}},
			&NotExpr{Arg: &NullExpr{Column: "difficulty"}},
		}},
		&CountExpr{Of: &AnnotationExpr{Where: &CompareExpr{Column: "label", Op: Eq, Value: Literal{Kind: StringLit, Str: "cat"}}}, Op: Ge, N: 2},
	}}
	fmt.Println(Format(e))
	// Output: width >= 64 and not difficulty is null or count(annotation(label == "cat")) >= 2
}

func TestEqualIgnoresPositions(t *testing.T) {
	a := mustParse(t, `x < 1 and annotation(label == "a")`)
	b := mustParse(t, "\n\n   x<1   and annotation( label==\"a\" )")
	if !Equal(a, b) {
		t.Errorf("Equal(%s, %s) = false", a, b)
	}
	for _, other := range []string{`x < 2 and annotation(label == "a")`, `x <= 1 and annotation(label == "a")`,
		`x < 1 and annotation(label == "b")`, `x < 1 or annotation(label == "a")`, `x < 1.0 and annotation(label == "a")`,
		`x < 1 and annotation()`, `x < 1`} {
		if Equal(a, mustParse(t, other)) {
			t.Errorf("Equal(%s, %s) = true", a, other)
		}
	}
}
