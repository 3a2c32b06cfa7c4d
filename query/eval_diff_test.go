package query

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/winnow-data/winnow/bitmap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// diffData is a random dataset kept both as Go values (for the row-at-a-
// time reference interpreter) and as a chunked Arrow Source.
type diffData struct {
	n       int
	cols    map[string][]any // samples: nil is null
	kinds   map[string]string
	ann     map[string][]any
	annKind map[string]string
	annOf   []int32
	tags    map[string]*bitmap.Bitmap
	src     *qSource
}

var (
	diffVocab = []string{"", "a", "ab", "b", "ba", "rain", "snow", "é", "snowstorm_heavy", "snowstorm_light"}
	diffBase  = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

func diffTime(r *rand.Rand) time.Time {
	return diffBase.Add(time.Duration(r.IntN(5)-2) * 36 * time.Hour).Add(time.Duration(r.IntN(3)) * time.Millisecond)
}

func diffDay(r *rand.Rand) time.Time { return diffBase.AddDate(0, 0, r.IntN(5)-2) }

// diffColumns lists the samples columns: name, kind for the reference,
// Arrow type.
var diffColumns = []struct {
	name, kind string
	typ        arrow.DataType
}{
	{"i64", "int", arrow.PrimitiveTypes.Int64},
	{"i8", "int", arrow.PrimitiveTypes.Int8},
	{"u16", "int", arrow.PrimitiveTypes.Uint16},
	{"f32", "float", arrow.PrimitiveTypes.Float32},
	{"f64", "float", arrow.PrimitiveTypes.Float64},
	{"s", "string", arrow.BinaryTypes.String},
	{"ls", "string", arrow.BinaryTypes.LargeString},
	{"d", "string", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}},
	{"b", "bool", arrow.FixedWidthTypes.Boolean},
	{"t", "time", &arrow.TimestampType{Unit: arrow.Millisecond}},
	{"dt", "day", arrow.FixedWidthTypes.Date32},
}

var diffAnnColumns = []struct {
	name, kind string
	typ        arrow.DataType
}{
	{"label", "string", arrow.BinaryTypes.String},
	{"conf", "float", arrow.PrimitiveTypes.Float64},
	{"w", "int", arrow.PrimitiveTypes.Int32},
}

func diffValue(r *rand.Rand, name, kind string) any {
	if r.IntN(5) == 0 {
		return nil
	}
	switch name {
	case "i8":
		return r.IntN(256) - 128
	case "u16":
		return r.IntN(11)
	}
	switch kind {
	case "int":
		return r.IntN(11) - 5
	case "float":
		return []float64{-1.5, 0, 0.5, 1, 2.25}[r.IntN(5)]
	case "string":
		return diffVocab[r.IntN(len(diffVocab))]
	case "bool":
		return r.IntN(2) == 0
	case "time":
		return diffTime(r)
	case "day":
		return diffDay(r)
	}
	panic(kind)
}

func randomCuts(r *rand.Rand, n int) []int {
	var cuts []int
	for c := r.IntN(90) + 1; c < n; c += r.IntN(90) + 1 {
		cuts = append(cuts, c)
	}
	return cuts
}

func newDiffData(r *rand.Rand) *diffData {
	n := r.IntN(300)
	d := &diffData{n: n, cols: map[string][]any{}, kinds: map[string]string{}, ann: map[string][]any{}, annKind: map[string]string{}, tags: map[string]*bitmap.Bitmap{}}
	var fields []arrow.Field
	var arrs []arrow.Array
	for _, c := range diffColumns {
		vals := make([]any, n)
		for i := range vals {
			vals[i] = diffValue(r, c.name, c.kind)
		}
		d.cols[c.name], d.kinds[c.name] = vals, c.kind
		fields = append(fields, arrow.Field{Name: c.name, Type: c.typ, Nullable: true})
		arrs = append(arrs, qCol(c.typ, vals...))
	}
	m := 0
	if n > 0 {
		m = r.IntN(3 * n)
	}
	d.annOf = make([]int32, m)
	for i := range d.annOf {
		d.annOf[i] = int32(r.IntN(n))
	}
	var annFields []arrow.Field
	var annArrs []arrow.Array
	for _, c := range diffAnnColumns {
		vals := make([]any, m)
		for i := range vals {
			vals[i] = diffValue(r, c.name, c.kind)
			if c.name == "label" {
				vals[i] = []string{"cat", "dog"}[r.IntN(2)]
			}
		}
		d.ann[c.name], d.annKind[c.name] = vals, c.kind
		annFields = append(annFields, arrow.Field{Name: c.name, Type: c.typ, Nullable: true})
		annArrs = append(annArrs, qCol(c.typ, vals...))
	}
	for _, tag := range []string{"t1", "t2"} {
		b := bitmap.New(n)
		for i := range n {
			if r.IntN(2) == 0 {
				b.Set(i)
			}
		}
		d.tags[tag] = b
	}
	d.src = &qSource{
		samples:   qTable(fields, arrs, randomCuts(r, n)...),
		anns:      qTable(annFields, annArrs, randomCuts(r, m)...),
		annSample: d.annOf,
		tags:      d.tags,
		tagOrder:  []string{"t1", "t2"},
	}
	return d
}

// randomLiteral picks a literal of the column's kind: mostly values that
// occur, sometimes ones between or outside them.
func randomLiteral(r *rand.Rand, name, kind string) Literal {
	switch kind {
	case "int":
		if r.IntN(4) == 0 {
			return Literal{Kind: FloatLit, Float: float64(r.IntN(21)-10) / 2}
		}
		if r.IntN(6) == 0 {
			return Literal{Kind: IntLit, Int: []int64{-1000, 1000, 127, -128, 65535, 65536}[r.IntN(6)]}
		}
		return Literal{Kind: IntLit, Int: int64(r.IntN(13) - 6)}
	case "float":
		if r.IntN(3) == 0 {
			return Literal{Kind: IntLit, Int: int64(r.IntN(5) - 2)}
		}
		return Literal{Kind: FloatLit, Float: []float64{-1.5, 0, 0.5, 0.75, 1, 2.25, 3}[r.IntN(7)]}
	case "string":
		return Literal{Kind: StringLit, Str: append(diffVocab, "c", "sn", "cat", "dog")[r.IntN(len(diffVocab)+4)]}
	case "bool":
		return Literal{Kind: BoolLit, Bool: r.IntN(2) == 0}
	case "time", "day":
		t := diffTime(r)
		switch r.IntN(4) {
		case 0:
			return Literal{Kind: StringLit, Str: t.Format("2006-01-02")}
		case 1:
			t = t.Add(500 * time.Microsecond)
		case 2:
			t = t.In(time.FixedZone("x", 3600))
		}
		return Literal{Kind: StringLit, Str: t.Format(time.RFC3339Nano)}
	}
	panic(kind)
}

type diffGen struct {
	r *rand.Rand
}

func (g diffGen) leaf(cols []struct {
	name, kind string
	typ        arrow.DataType
}) Expr {
	c := cols[g.r.IntN(len(cols))]
	switch g.r.IntN(8) {
	case 0:
		return &NullExpr{Column: c.name, Negate: g.r.IntN(2) == 0}
	case 1:
		in := &InExpr{Column: c.name, Values: []Literal{}}
		for range g.r.IntN(12) {
			in.Values = append(in.Values, randomLiteral(g.r, c.name, c.kind))
		}
		return in
	case 2:
		if c.kind == "string" {
			return &TextMatchExpr{Column: c.name, Kind: MatchKind(g.r.IntN(2)), Value: randomLiteral(g.r, c.name, c.kind)}
		}
	}
	return &CompareExpr{Column: c.name, Op: Op(g.r.IntN(6)), Value: randomLiteral(g.r, c.name, c.kind)}
}

func (g diffGen) expr(depth int, inAnn bool) Expr {
	k := g.r.IntN(10)
	if depth <= 0 {
		k = 0
	}
	switch {
	case k < 4:
		if inAnn {
			return g.leaf(diffAnnColumns)
		}
		return g.leaf(diffColumns)
	case k == 4:
		return &NotExpr{Arg: g.expr(depth-1, inAnn)}
	case k == 5 || k == 6:
		args := make([]Expr, g.r.IntN(4))
		for i := range args {
			args[i] = g.expr(depth-1, inAnn)
		}
		if k == 5 {
			return &AndExpr{Args: args}
		}
		return &OrExpr{Args: args}
	case inAnn:
		return g.leaf(diffAnnColumns)
	case k == 7:
		return &TaggedExpr{Tag: []string{"t1", "t2"}[g.r.IntN(2)]}
	default:
		a := &AnnotationExpr{}
		if g.r.IntN(4) > 0 {
			a.Where = g.expr(depth-1, true)
		}
		if k == 8 {
			return a
		}
		return &CountExpr{Of: a, Op: Op(g.r.IntN(6)), N: int64(g.r.IntN(4))}
	}
}

// refEval is the reference: one row at a time, straight from the
// definitions, with three-valued logic (val, known).
func (d *diffData) refEval(e Expr, row int, ann bool) (val, known bool) {
	cols, kinds := d.cols, d.kinds
	if ann {
		cols, kinds = d.ann, d.annKind
	}
	switch e := e.(type) {
	case *AndExpr:
		val, known = true, true
		for _, a := range e.Args {
			v, k := d.refEval(a, row, ann)
			if k && !v {
				return false, true
			}
			if !k {
				known = false
			}
		}
		return known, known
	case *OrExpr:
		val, known = false, true
		for _, a := range e.Args {
			v, k := d.refEval(a, row, ann)
			if k && v {
				return true, true
			}
			if !k {
				known = false
			}
		}
		return false, known
	case *NotExpr:
		v, k := d.refEval(e.Arg, row, ann)
		return k && !v, k
	case *TaggedExpr:
		return d.tags[e.Tag].Get(row), true
	case *AnnotationExpr:
		for i, s := range d.annOf {
			if int(s) == row && (e.Where == nil || refTrue(d.refEval(e.Where, i, true))) {
				return true, true
			}
		}
		return false, true
	case *CountExpr:
		var c int64
		for i, s := range d.annOf {
			if int(s) == row && (e.Of.Where == nil || refTrue(d.refEval(e.Of.Where, i, true))) {
				c++
			}
		}
		return e.Op.holds(cmp3(c, e.N)), true
	case *NullExpr:
		isNull := cols[e.Column][row] == nil
		return isNull != e.Negate, true
	case *CompareExpr:
		v := cols[e.Column][row]
		if v == nil {
			return false, false
		}
		return e.Op.holds(refCmp(v, kinds[e.Column], e.Value)), true
	case *InExpr:
		v := cols[e.Column][row]
		if v == nil {
			return false, false
		}
		for _, l := range e.Values {
			if refCmp(v, kinds[e.Column], l) == 0 {
				return true, true
			}
		}
		return false, true
	case *TextMatchExpr:
		v := cols[e.Column][row]
		if v == nil {
			return false, false
		}
		if e.Kind == StartsWith {
			return strings.HasPrefix(v.(string), e.Value.Str), true
		}
		return strings.Contains(v.(string), e.Value.Str), true
	}
	panic("refEval: " + Format(e))
}

func refTrue(v, k bool) bool { return v && k }

// refCmp compares a Go value with a literal: -1, 0, 1. A float literal
// that no integer equals compares as unequal (2 for "neither").
func refCmp(v any, kind string, l Literal) int {
	switch kind {
	case "int", "float":
		var x float64
		if i, ok := v.(int); ok {
			x = float64(i)
		} else {
			x = v.(float64)
		}
		y := l.Float
		if l.Kind == IntLit {
			y = float64(l.Int)
		}
		return cmp3(x, y)
	case "string":
		return strings.Compare(v.(string), l.Str)
	case "bool":
		return cmp3(b2i(v.(bool)), b2i(l.Bool))
	case "time", "day":
		t, err := parseTime(l.Str)
		if err != nil {
			panic(err)
		}
		return v.(time.Time).Compare(t)
	}
	panic(kind)
}

// matches is the rows where e holds, by the row-at-a-time interpreter.
func (d *diffData) matches(e Expr) []int {
	var rows []int
	for row := range d.n {
		if refTrue(d.refEval(e, row, false)) {
			rows = append(rows, row)
		}
	}
	return rows
}

// TestEvalDifferential evaluates random predicates over random chunked
// tables with nulls, vectorised and row at a time, and requires the same
// samples.
func TestEvalDifferential(t *testing.T) {
	tables, preds := 150, 40
	if testing.Short() {
		tables = 30
	}
	r := rand.New(rand.NewPCG(1, 2))
	g := diffGen{r: r}
	for ti := range tables {
		d := newDiffData(r)
		for range preds {
			e := g.expr(4, false)
			want := d.matches(e)
			// Whole columns, and the same columns streamed in batches.
			for _, src := range []Source{d.src, &qScan{d.src, r.Uint64()}} {
				got, err := Eval(context.Background(), e, src)
				if err != nil {
					t.Fatalf("table %d: Eval(%s) over %T: %v", ti, e, src, err)
				}
				if g := got.Indexes(); !slices.Equal(g, want) && len(g)+len(want) > 0 {
					t.Fatalf("table %d (%d rows) over %T: %s\n got %v\nwant %v", ti, d.n, src, e, g, want)
				}
			}
			assertRoundTrip(t, e)
		}
	}
}

// qScan is a qSource that streams its samples columns (a Streamer):
// batches of random length, most not starting on a multiple of 64 rows,
// handed to fn from three goroutines at once.
type qScan struct {
	*qSource
	seed uint64
}

func (s *qScan) CanStream([]string) bool { return true }

func (s *qScan) StreamSamples(_ context.Context, names []string, fn func(base int, cols []arrow.Array) error) error {
	tbl, err := project(s.samples, names)
	if err != nil {
		return err
	}
	defer tbl.Release()
	r := rand.New(rand.NewPCG(s.seed, 3))
	n := int(tbl.NumRows())
	cuts := append(randomCuts(r, n), n)
	errs := make(chan error, len(cuts))
	sem := make(chan struct{}, 3)
	lo := 0
	for _, hi := range cuts {
		if hi <= lo {
			continue
		}
		sem <- struct{}{}
		go func(lo, hi int) {
			defer func() { <-sem }()
			cols := make([]arrow.Array, len(names))
			for i := range names {
				c := array.NewChunkedSlice(tbl.Column(i).Data(), int64(lo), int64(hi))
				a, err := array.Concatenate(c.Chunks(), memory.DefaultAllocator)
				c.Release()
				if err != nil {
					errs <- err
					return
				}
				defer a.Release()
				cols[i] = a
			}
			errs <- fn(lo, cols)
		}(lo, hi)
		lo = hi
	}
	for range cap(sem) {
		sem <- struct{}{}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
