package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"winnow/columnar"
	"winnow/strategies"
)

// classIndex assigns class numbers in first-seen order.
type classIndex struct {
	names []string
	index map[string]int
}

func (ci *classIndex) of(name string) int {
	if ci.index == nil {
		ci.index = map[string]int{}
	}
	c, ok := ci.index[name]
	if !ok {
		c = len(ci.names)
		ci.index[name] = c
		ci.names = append(ci.names, name)
	}
	return c
}

// engineRows maps dataset rows to universe rows (-1 when not in it).
func engineRows(n int, u *universe) []int32 {
	at := make([]int32, n)
	for i := range at {
		at[i] = -1
	}
	for i, row := range u.rows {
		at[row] = int32(i)
	}
	return at
}

// annotationCounts builds each universe row's count of annotations per
// label, in first-seen label order over the whole annotations table,
// counting only annotations of source when it is not "".
func (r *resolver) annotationCounts(source string, u *universe) (*balanceData, error) {
	schema := r.ds.cd.AnnotationSchema()
	if schema == nil {
		return nil, errors.New("the dataset has no annotations table (annotations.parquet)")
	}
	cols := []string{columnar.LabelColumn}
	if source != "" {
		if len(schema.FieldIndices("source")) == 0 {
			return nil, fmt.Errorf("annotation source %q: the annotations table has no source column", source)
		}
		cols = append(cols, "source")
	}
	ann, err := r.ds.cd.AnnotationColumns(r.ctx, cols)
	if err != nil {
		return nil, err
	}
	defer ann.Table.Release()
	labels := flatStrings(ann.Table.Column(0).Data())
	var keep func(i int) bool
	if source != "" {
		sources := flatStrings(ann.Table.Column(1).Data())
		if !slices.Contains(sources, source) {
			known := slices.Compact(slices.Sorted(slices.Values(sources)))
			return nil, fmt.Errorf("unknown annotation source %q; known sources: %s", source, strings.Join(known, ", "))
		}
		keep = func(i int) bool { return sources[i] == source }
	}
	var ci classIndex
	class := make([]int, len(labels))
	for i, l := range labels {
		class[i] = -1
		if keep == nil || keep(i) {
			class[i] = ci.of(l)
		}
	}
	k := len(ci.names)
	if k == 0 {
		return nil, errors.New("no annotations to balance")
	}
	if err := checkCountSize("annotation labels", len(u.rows), k); err != nil {
		return nil, err
	}
	at := engineRows(r.ds.Len(), u)
	counts := make([]float64, len(u.rows)*k)
	for i, s := range ann.Sample {
		if e := at[s]; e >= 0 && class[i] >= 0 {
			counts[int(e)*k+class[i]]++
		}
	}
	return &balanceData{classes: ci.names, counts: counts}, nil
}

// maxCountCells bounds the dense samples × classes count matrix of a
// balancing strategy (2 GiB of float64). Balancing by a column with a
// distinct value per sample (a file name, an id) would otherwise ask for
// N² cells and kill the process for lack of memory instead of failing.
const maxCountCells = 1 << 28

// checkCountSize refuses a count matrix above maxCountCells.
func checkCountSize(what string, rows, classes int) error {
	if classes > 0 && rows > maxCountCells/classes {
		return fmt.Errorf("%s: %d distinct classes; balancing %d samples over them needs %d million counts, more than the limit of %d million: balance a column with fewer distinct values",
			what, classes, rows, int64(rows)*int64(classes)/1_000_000, maxCountCells/1_000_000)
	}
	return nil
}

// categoryCounts one-hot encodes a categorical metadata column for the
// universe rows (a null value gives an all-zero row), classes in
// first-seen dataset order.
func (r *resolver) categoryCounts(key string, u *universe) (*balanceData, error) {
	col, err := r.column(key)
	if err != nil {
		return nil, err
	}
	defer col.Release()
	text, ok := categorical(col)
	if !ok {
		return nil, fmt.Errorf("metadata column %q is %s; balancing needs a categorical column (string, boolean or integer)", key, valueType(col.DataType()))
	}
	var ci classIndex
	class := make([]int, col.Len())
	for i := range class {
		class[i] = -1
		if col.IsValid(i) {
			class[i] = ci.of(text(i))
		}
	}
	k := len(ci.names)
	if k == 0 {
		return nil, fmt.Errorf("metadata column %q has only nulls", key)
	}
	if err := checkCountSize(fmt.Sprintf("metadata column %q", key), len(u.rows), k); err != nil {
		return nil, err
	}
	counts := make([]float64, len(u.rows)*k)
	for e, row := range u.rows {
		if c := class[row]; c >= 0 {
			counts[e*k+c] = 1
		}
	}
	return &balanceData{classes: ci.names, counts: counts}, nil
}

// categorical returns a text accessor for string-like, boolean and
// integer arrays; floats and timestamps are not categories.
func categorical(a arrow.Array) (func(int) string, bool) {
	switch a := a.(type) {
	case *array.String, *array.LargeString, *array.Dictionary:
		return func(i int) string { return stringAt(a, i) }, true
	case *array.Boolean:
		return func(i int) string { return strconv.FormatBool(a.Value(i)) }, true
	case *array.Int64, *array.Int32, *array.Int16, *array.Int8, *array.Uint64, *array.Uint32, *array.Uint16, *array.Uint8:
		return a.ValueStr, true
	}
	return nil, false
}

// flatStrings reads a string-like column into Go strings.
func flatStrings(c *arrow.Chunked) []string {
	out := make([]string, 0, c.Len())
	for _, chunk := range c.Chunks() {
		for i := 0; i < chunk.Len(); i++ {
			out = append(out, stringAt(chunk, i))
		}
	}
	return out
}

// resolveTarget turns the user's target into the engine's, regrouping the
// count columns when an explicit target pools unlisted classes.
func (r *resolver) resolveTarget(bd *balanceData, t Target, u *universe) error {
	k := len(bd.classes)
	cand := make([]float64, k)
	for i := 0; i < u.candidates; i++ {
		for c := 0; c < k; c++ {
			cand[c] += bd.counts[i*k+c]
		}
	}
	spec := strategies.TargetSpec{Kind: strategies.Uniform}
	switch t.Kind() {
	case "input":
		spec.Kind = strategies.Input
	case "ratios":
		spec = strategies.TargetSpec{Kind: strategies.Explicit, Ratios: t.Map()}
	}
	rt, err := strategies.ResolveTarget(bd.classes, cand, spec)
	if err != nil {
		return err
	}
	kk := len(rt.Classes)
	if kk != k || !slices.Equal(rt.Column, identityColumns(k)) {
		counts := make([]float64, len(u.rows)*kk)
		for i := range u.rows {
			for c := 0; c < k; c++ {
				counts[i*kk+rt.Column[c]] += bd.counts[i*k+c]
			}
		}
		bd.counts = counts
	}
	bd.classes, bd.target = rt.Classes, rt.Ratio
	return nil
}

func identityColumns(k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = i
	}
	return out
}
