package columnar

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"
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
	tags    map[string]*Bitmap
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
	d := &diffData{n: n, cols: map[string][]any{}, kinds: map[string]string{}, ann: map[string][]any{}, annKind: map[string]string{}, tags: map[string]*Bitmap{}}
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
		b := NewBitmap(n)
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
		return &IsNull{Column: c.name, Negate: g.r.IntN(2) == 0}
	case 1:
		in := &In{Column: c.name, Values: []Literal{}}
		for range g.r.IntN(12) {
			in.Values = append(in.Values, randomLiteral(g.r, c.name, c.kind))
		}
		return in
	case 2:
		if c.kind == "string" {
			return &TextMatch{Column: c.name, Kind: MatchKind(g.r.IntN(2)), Value: randomLiteral(g.r, c.name, c.kind)}
		}
	}
	return &Compare{Column: c.name, Op: Op(g.r.IntN(6)), Value: randomLiteral(g.r, c.name, c.kind)}
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
		return &Not{Arg: g.expr(depth-1, inAnn)}
	case k == 5 || k == 6:
		args := make([]Expr, g.r.IntN(4))
		for i := range args {
			args[i] = g.expr(depth-1, inAnn)
		}
		if k == 5 {
			return &And{Args: args}
		}
		return &Or{Args: args}
	case inAnn:
		return g.leaf(diffAnnColumns)
	case k == 7:
		return &Tagged{Tag: []string{"t1", "t2"}[g.r.IntN(2)]}
	default:
		a := &Annotation{}
		if g.r.IntN(4) > 0 {
			a.Where = g.expr(depth-1, true)
		}
		if k == 8 {
			return a
		}
		return &Count{Of: a, Op: Op(g.r.IntN(6)), N: int64(g.r.IntN(4))}
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
	case *And:
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
	case *Or:
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
	case *Not:
		v, k := d.refEval(e.Arg, row, ann)
		return k && !v, k
	case *Tagged:
		return d.tags[e.Tag].Get(row), true
	case *Annotation:
		for i, s := range d.annOf {
			if int(s) == row && (e.Where == nil || refTrue(d.refEval(e.Where, i, true))) {
				return true, true
			}
		}
		return false, true
	case *Count:
		var c int64
		for i, s := range d.annOf {
			if int(s) == row && (e.Of.Where == nil || refTrue(d.refEval(e.Of.Where, i, true))) {
				c++
			}
		}
		return e.Op.holds(cmp3(c, e.N)), true
	case *IsNull:
		isNull := cols[e.Column][row] == nil
		return isNull != e.Negate, true
	case *Compare:
		v := cols[e.Column][row]
		if v == nil {
			return false, false
		}
		return e.Op.holds(refCmp(v, kinds[e.Column], e.Value)), true
	case *In:
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
	case *TextMatch:
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

// qScan is a qSource that streams its samples columns (a sampleScanner):
// batches of random length, most not starting on a multiple of 64 rows,
// handed to fn from three goroutines at once.
type qScan struct {
	*qSource
	seed uint64
}

func (s *qScan) scanSamples(_ context.Context, names []string, fn func(base int, cols []arrow.Array) error) error {
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

// TestEvalDatasetDifferential runs the differential test through files:
// each random table is written as a dataset (samples in row groups of
// random size, mostly not multiples of 64; annotations; a sealed tags
// table), opened through the seal, and predicates are evaluated over the
// Dataset, which streams the samples columns row group by row group.
func TestEvalDatasetDifferential(t *testing.T) {
	tables, preds := 20, 30
	if testing.Short() {
		tables = 6
	}
	r := rand.New(rand.NewPCG(3, 4))
	g := diffGen{r: r}
	ctx := context.Background()
	for ti := range tables {
		d := newDiffData(r)
		dir := t.TempDir()
		ids := testIDs(d.n, uint64(ti))
		withIDs := func(tbl arrow.Table, rows func(i int) uuid.UUID) []arrow.RecordBatch {
			fields := append([]arrow.Field{{Name: SampleIDColumn, Type: UUIDType()}}, tbl.Schema().Fields()...)
			idb := extensions.NewUUIDBuilder(memory.DefaultAllocator)
			for i := range int(tbl.NumRows()) {
				idb.Append(rows(i))
			}
			cols := []arrow.Array{idb.NewArray()}
			for c := range int(tbl.NumCols()) {
				a, err := array.Concatenate(tbl.Column(c).Data().Chunks(), memory.DefaultAllocator)
				if err != nil {
					t.Fatal(err)
				}
				cols = append(cols, a)
			}
			rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, tbl.NumRows())
			size := r.IntN(150) + 1
			var recs []arrow.RecordBatch
			for lo := int64(0); lo < rec.NumRows() || lo == 0; lo += int64(size) {
				hi := min(lo+int64(size), rec.NumRows())
				recs = append(recs, rec.NewSlice(lo, hi))
				if hi == rec.NumRows() {
					break
				}
			}
			return recs
		}
		writeWinnow(t, filepath.Join(dir, "samples.parquet"), withIDs(d.src.samples, func(i int) uuid.UUID { return ids[i] }))
		writeWinnow(t, filepath.Join(dir, "annotations.parquet"), withIDs(d.src.anns, func(i int) uuid.UUID { return ids[d.annOf[i]] }))
		ds := mustOpen(t, dir)
		writeTagsFile(t, ds, []string{"t1", "t2"}, []*Bitmap{d.tags["t1"], d.tags["t2"]})
		if ds = mustOpen(t, dir); !ds.vouched {
			t.Fatalf("table %d: tags table not sealed", ti)
		}
		for range preds {
			e := g.expr(4, false)
			want := d.matches(e)
			got, err := Eval(ctx, e, ds)
			if err != nil {
				t.Fatalf("table %d: Eval(%s) over the dataset: %v", ti, e, err)
			}
			if g := got.Indexes(); !slices.Equal(g, want) && len(g)+len(want) > 0 {
				t.Fatalf("table %d (%d rows) over the dataset: %s\n got %v\nwant %v", ti, d.n, e, g, want)
			}
		}
	}
}

// TestEvalScanBigRowGroups streams row groups of several decoded batches
// each (70,000 rows against batches of readBatchRows), where the reader
// shares a string column's dictionary across batches and the scan's
// allocator reuses the buffers of released batches (poisoned here, so a
// buffer still in use after its release shows); the matches must be
// those of the same columns evaluated whole.
func TestEvalScanBigRowGroups(t *testing.T) {
	testHookPoisonFreed = true
	defer func() { testHookPoisonFreed = false }()
	const n = 150000
	r := rand.New(rand.NewPCG(9, 9))
	weather := make([]any, n)
	width := make([]any, n)
	for i := range n {
		weather[i] = []string{"sun", "rain", "snow", "fog"}[r.IntN(4)]
		if r.IntN(10) == 0 {
			weather[i] = nil
		}
		width[i] = r.IntN(512)
	}
	fields := []arrow.Field{
		{Name: "weather", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "width", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}
	src := &qSource{samples: qTable(fields, []arrow.Array{qCol(fields[0].Type, weather...), qCol(fields[1].Type, width...)})}
	dir := t.TempDir()
	ids := testIDs(n, 9)
	sc := arrow.NewSchema(append([]arrow.Field{{Name: SampleIDColumn, Type: UUIDType()}}, fields...), nil)
	writeWinnow(t, filepath.Join(dir, "samples.parquet"), rowGroups(n, 70000, func(lo, hi int) arrow.RecordBatch {
		idb := extensions.NewUUIDBuilder(memory.DefaultAllocator)
		for _, id := range ids[lo:hi] {
			idb.Append(id)
		}
		return array.NewRecordBatch(sc, []arrow.Array{idb.NewArray(), qCol(fields[0].Type, weather[lo:hi]...), qCol(fields[1].Type, width[lo:hi]...)}, int64(hi-lo))
	}))
	ds := mustOpen(t, dir)
	for _, q := range []string{
		`weather in ("rain", "snow")`,
		`width < 256 and weather == "fog"`,
		`weather is null or width >= 500`,
		`not (weather != "sun")`,
	} {
		want, err := Eval(context.Background(), mustParse(t, q), src)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := Eval(context.Background(), mustParse(t, q), ds)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if !slices.Equal(got.Indexes(), want.Indexes()) {
				t.Fatalf("%s: %d matches over the dataset, %d over whole columns", q, got.Count(), want.Count())
			}
		}
	}
}
