package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Options bound what a report computes. The zero value means the
// defaults, which keep a report of 1,000,000 candidates × 512 dimensions
// to a few seconds and its page to a few MB.
type Options struct {
	// MapPoints bounds the candidates drawn on the map (default 5,000);
	// every selected sample is drawn as well.
	MapPoints int
	// FitPoints bounds the candidates the projection is fitted on
	// (default 2,000).
	FitPoints int
	// Queries bounds the samples of each set whose nearest-neighbour
	// distance is measured (default 500).
	Queries int
	// DistanceBudget bounds the multiply-adds of each distance histogram
	// (default 1e9); the reference sample shrinks to fit it.
	DistanceBudget int64
	// CurveBudget bounds the multiply-adds of each measured coverage curve
	// (default 4e9); the candidates measured over shrink to fit it.
	CurveBudget int64
	// PickRows is how many picks the table lists (default 100).
	PickRows int
	// Seed seeds every sample the report draws (default 1).
	Seed uint64
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MapPoints, 5000)
	def(&o.FitPoints, 2000)
	def(&o.Queries, 500)
	def(&o.PickRows, 100)
	if o.DistanceBudget <= 0 {
		o.DistanceBudget = 1e9
	}
	if o.CurveBudget <= 0 {
		o.CurveBudget = 4e9
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// minCurvePoints is the fewest candidates a measured coverage curve is
// taken over, whatever the budget.
const minCurvePoints = 200

// Build computes a report's Data from in. It reads in and never changes
// it; the same in and opts give the same Data.
func Build(ctx context.Context, in *Input, opts Options) (*Data, error) {
	opts = opts.withDefaults()
	d := &Data{Header: in.Header}
	d.Notes = append(d.Notes, in.Notes...)
	for i, s := range in.Strategies {
		d.Strategies = append(d.Strategies, section(i, s))
	}
	if err := buildCoverage(ctx, d, in, opts); err != nil {
		return nil, err
	}
	for i, s := range in.Strategies {
		if s.Balance != nil {
			d.Classes = append(d.Classes, classesOf(i, s, len(in.Picks)))
		}
		if s.Weights != nil || weightLike(s.Name) {
			d.Weights = append(d.Weights, weightsOf(i, s, in.Picks))
		}
	}
	for _, w := range d.Weights {
		if w.Candidates == nil {
			d.Notes = append(d.Notes, fmt.Sprintf("Weights of %s: the record holds this weight for the selected samples only; over the candidates it shows the recorded mean.", w.Title))
		}
	}
	if err := buildEmbeddings(ctx, d, in, opts); err != nil {
		return nil, err
	}
	d.Notes = append(d.Notes, fmt.Sprintf("Every sample above is drawn with the fixed seed %d: the same record and dataset give the same page.", opts.Seed))
	d.Picks = picksOf(ctx, in, opts.PickRows)
	if d.Picks.Note != "" {
		d.Notes = append(d.Notes, "Thumbnails: "+d.Picks.Note+".")
	}
	return d, ctx.Err()
}

// weightLike names the strategies whose objective is a fixed weight per
// sample.
func weightLike(name string) bool {
	switch name {
	case "weights", "similarity", "typicality", "outliers", "uncertainty":
		return true
	}
	return false
}

func diversityLike(name string) bool { return name == "diversity" || name == "deduplication" }

func section(i int, s StrategyInput) StrategySection {
	sec := StrategySection{Index: i, Name: s.Name, Strength: s.Strength, Model: s.Model}
	var detail []string
	if s.Key != "" {
		detail = append(detail, fmt.Sprintf("column %q", s.Key))
	}
	if s.Source != "" {
		detail = append(detail, fmt.Sprintf("source %q", s.Source))
	}
	if s.QueryTag != "" {
		detail = append(detail, fmt.Sprintf("query tag %q", s.QueryTag))
	}
	if !math.IsNaN(s.MinDistance) && s.Name == "deduplication" {
		detail = append(detail, fmt.Sprintf("minimum distance %g", s.MinDistance))
	}
	sec.Detail = strings.Join(detail, ", ")
	switch {
	case s.Coverage != nil:
		c := s.Coverage
		sec.Summary = fmt.Sprintf("coverage radius %.4g; a random subset of the same size: %.4g", c.Selection, c.Random)
		if c.Random > 0 {
			sec.Summary += fmt.Sprintf(" (%.0f%% of random)", 100*c.Selection/c.Random)
		}
		sec.Summary += fmt.Sprintf("; measured over %d candidates", c.Measured)
	case s.Weights != nil:
		sec.Summary = fmt.Sprintf("mean weight: candidates %.4g, selection %.4g", s.Weights.Candidates, s.Weights.Selection)
	case s.Balance != nil:
		sec.Summary = fmt.Sprintf("%d classes", len(s.Balance.Classes))
		gap, at := 0.0, ""
		for k, c := range s.Balance.Classes {
			if k < len(s.Balance.Target) && k < len(s.Balance.Selection) {
				if g := math.Abs(s.Balance.Target[k] - s.Balance.Selection[k]); g > gap {
					gap, at = g, c
				}
			}
		}
		if at != "" {
			sec.Summary += fmt.Sprintf("; largest gap to the target %.1f points (class %s)", 100*gap, at)
		} else {
			sec.Summary += "; on target in every class"
		}
	}
	return sec
}

// universe is the candidates with a vector in v, in dataset order.
func universe(in *Input, v *Vectors) []int {
	var u []int
	for _, r := range in.Candidates {
		if v.present(r) {
			u = append(u, r)
		}
	}
	return u
}

// selectedRows are the rows of the result tag's samples with a vector in
// v: preselected and new picks, each in record order.
func selectedRows(in *Input, v *Vectors) (pre, picks []int) {
	for _, p := range in.Picks {
		if p.Row < 0 || !v.present(p.Row) {
			continue
		}
		if p.Preselected {
			pre = append(pre, p.Row)
		} else {
			picks = append(picks, p.Row)
		}
	}
	return pre, picks
}

func newPicks(in *Input) []PickInput {
	var out []PickInput
	for _, p := range in.Picks {
		if !p.Preselected {
			out = append(out, p)
		}
	}
	return out
}

// buildCoverage draws one curve per diversity or deduplication strategy
// from its recorded objectives, or, when there is none, one curve
// measured for the map's model, each beside a random order's curve.
func buildCoverage(ctx context.Context, d *Data, in *Input, opts Options) error {
	picks := newPicks(in)
	hasPre := len(in.Picks) > len(picks)
	active := 0
	for _, s := range in.Strategies {
		if s.Strength != 0 {
			active++
		}
	}
	for i, s := range in.Strategies {
		if !diversityLike(s.Name) {
			continue
		}
		c := Coverage{Model: s.Model, Strategy: i, Final: math.NaN(), FinalRandom: math.NaN(), Combined: active > 1 || s.Strength == 0}
		c.Curve = make([]float64, len(picks))
		for k, p := range picks {
			c.Curve[k] = math.NaN()
			if i < len(p.Objectives) {
				c.Curve[k] = p.Objectives[i]
			}
		}
		// With nothing selected the first pick's diversity is the neutral
		// 1 (spec §3), not a distance.
		if !hasPre && len(c.Curve) > 0 {
			c.Curve[0] = math.NaN()
		}
		if s.Coverage != nil {
			c.Final, c.FinalRandom = s.Coverage.Selection, s.Coverage.Random
		}
		if err := randomCurve(ctx, &c, in, opts, false); err != nil {
			return err
		}
		// A combined run's distances zigzag with the other strategies'
		// choices; only diversity alone has a curve whose bend means
		// something.
		c.Elbow = -1
		if !c.Combined {
			c.Elbow = elbow(c.Curve)
		}
		d.Coverage = append(d.Coverage, c)
	}
	if len(d.Coverage) > 0 || in.MapModel == "" {
		return nil
	}
	c := Coverage{Model: in.MapModel, Strategy: -1, Final: math.NaN(), FinalRandom: math.NaN(), Combined: true}
	if err := randomCurve(ctx, &c, in, opts, true); err != nil {
		return err
	}
	if c.Curve != nil {
		c.Elbow = elbow(c.Curve)
		d.Coverage = append(d.Coverage, c)
	}
	return nil
}

// randomCurve fills c.Random (and, when measure is set, c.Curve from the
// picks' order) over a deterministic sample of the candidates sized so
// the curve costs at most opts.CurveBudget multiply-adds.
func randomCurve(ctx context.Context, c *Coverage, in *Input, opts Options, measure bool) error {
	v := in.Embeddings[c.Model]
	if v == nil || in.Candidates == nil {
		return nil
	}
	u := universe(in, v)
	pre, picks := selectedRows(in, v)
	n := len(newPicks(in))
	if measure {
		n = len(picks)
	}
	c.Of = len(u)
	if len(u) == 0 || n == 0 {
		return nil
	}
	m := int(min(opts.CurveBudget/int64(max(1, (n+len(pre))*v.Dim)), int64(len(u))))
	m = min(max(m, minCurvePoints), len(u))
	points := sortedCopy(pick(u, randomOrder(newRand(opts.Seed, streamCurvePoints, len(u)), len(u), m)))
	c.Measured = len(points)
	// The random order, like the engine, never picks a sample that is
	// already selected.
	isPre := make(map[int]bool, len(pre))
	for _, r := range pre {
		isPre[r] = true
	}
	free := slices.DeleteFunc(slices.Clone(u), func(r int) bool { return isPre[r] })
	order := pick(free, randomOrder(newRand(opts.Seed, streamRandomOrder, len(free)), len(free), n))
	var err error
	if c.Random, err = radiusCurve(ctx, v, points, pre, order); err != nil {
		return err
	}
	if len(order) < n { // fewer candidates than picks: the rest is undefined
		for len(c.Random) < n+1 {
			c.Random = append(c.Random, math.NaN())
		}
	}
	if measure {
		out, err := radiusCurve(ctx, v, points, pre, picks)
		if err != nil {
			return err
		}
		c.Curve, c.Final, c.FinalRandom = out[:n], out[n], c.Random[n]
	}
	return nil
}

// elbow returns the index of the point of curve's running minimum that
// lies farthest below the chord from its first to its last finite point,
// both axes scaled to [0, 1]; -1 when fewer than five points are finite
// or no point lies a tenth of the scale below the chord (a straight or
// flat curve has no elbow).
func elbow(curve []float64) int {
	var xs, ys []float64
	run := math.Inf(1)
	for k, y := range curve {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		run = math.Min(run, y)
		xs, ys = append(xs, float64(k)), append(ys, run)
	}
	if len(xs) < 5 {
		return -1
	}
	x0, x1 := xs[0], xs[len(xs)-1]
	y0, y1 := ys[0], ys[len(ys)-1]
	if y0 == y1 {
		return -1
	}
	best, at := 0.1, -1
	for i := range xs {
		t := (xs[i] - x0) / (x1 - x0)
		chord := 1 - t // the scaled chord runs from 1 down to 0
		y := (ys[i] - y1) / (y0 - y1)
		if gap := chord - y; gap > best {
			best, at = gap, int(xs[i])
		}
	}
	return at
}

// buildEmbeddings draws the map and the distance histograms for the
// map's model.
func buildEmbeddings(ctx context.Context, d *Data, in *Input, opts Options) error {
	v := in.Embeddings[in.MapModel]
	if in.MapModel == "" || v == nil {
		return nil
	}
	u := universe(in, v)
	pre, picks := selectedRows(in, v)
	d.Map = buildMap(in, v, u, pre, picks, opts)
	if d.Map.Drawn < d.Map.Of {
		d.Notes = append(d.Notes, fmt.Sprintf("Embedding map: %d of the %d candidates are drawn (a deterministic random sample) and every selected sample; the projection is fitted on %d of them.", d.Map.Drawn, d.Map.Of, d.Map.Fit))
	}
	dist, err := buildDistances(ctx, in, v, u, append(slices.Clone(pre), picks...), opts)
	if err != nil {
		return err
	}
	d.Distances = dist
	for _, nn := range []struct {
		what string
		nn   NearestNeighbours
	}{{"candidates", dist.Candidates}, {"selected samples", dist.Selection}} {
		if nn.nn.Reference < nn.nn.Of || nn.nn.Queries < nn.nn.Of {
			d.Notes = append(d.Notes, fmt.Sprintf("Nearest-neighbour distances: %s%s.", sampledSet(nn.what, nn.nn), sampledAdvice(nn.nn)))
		}
	}
	return nil
}

// sampledSet says which members of a set were measured against which.
func sampledSet(what string, nn NearestNeighbours) string {
	switch {
	case nn.Of < 2:
		return fmt.Sprintf("the %s are fewer than two", what)
	case nn.Reference >= nn.Of && nn.Queries >= nn.Of:
		return fmt.Sprintf("every one of the %d %s against all the others", nn.Of, what)
	case nn.Reference >= nn.Of:
		return fmt.Sprintf("%d random %s of %d, each against all the others", nn.Queries, what, nn.Of)
	}
	return fmt.Sprintf("%d random %s, each against a random %d of the %d", nn.Queries, what, nn.Reference, nn.Of)
}

func sampledAdvice(nn NearestNeighbours) string {
	if nn.Reference < nn.Of {
		return " (a thinner set has larger nearest-neighbour distances, so compare the two histograms at the same reference size)"
	}
	return ""
}

// mapClasses picks the balancing strategy that colours the map: the
// first with per-row classes.
func mapClasses(in *Input) (s *StrategyInput) {
	for i := range in.Strategies {
		if in.Strategies[i].RowClass != nil && in.Strategies[i].Balance != nil {
			return &in.Strategies[i]
		}
	}
	return nil
}

// maxMapClasses is how many classes get their own colour; the rest share
// one.
const maxMapClasses = 10

func buildMap(in *Input, v *Vectors, u, pre, picks []int, opts Options) *Map {
	m := &Map{Model: in.MapModel, Of: len(u)}
	drawn := pick(u, randomOrder(newRand(opts.Seed, streamMap, len(u)), len(u), opts.MapPoints))
	fit := drawn[:min(len(drawn), opts.FitPoints)]
	if len(fit) == 0 {
		fit = append(slices.Clone(pre), picks...)
		fit = fit[:min(len(fit), opts.FitPoints)]
	}
	m.Drawn, m.Fit = len(drawn), len(fit)
	pr := fitPCA(v, sortedCopy(fit), opts.Seed)
	m.Variance = pr.variance
	classOf := func(int) int { return -1 }
	if s := mapClasses(in); s != nil {
		legend, index := classLegend(s.Balance)
		m.Classes = legend
		classOf = func(row int) int {
			if row < 0 || row >= len(s.RowClass) || s.RowClass[row] < 0 || int(s.RowClass[row]) >= len(index) {
				return -1
			}
			return index[s.RowClass[row]]
		}
	}
	chosen := make(map[int]bool, len(pre)+len(picks))
	point := func(row int, isPre bool) Point {
		x, y := pr.project(v.Row(row))
		return Point{X: x, Y: y, Class: classOf(row), Preselected: isPre}
	}
	for _, r := range pre {
		chosen[r] = true
		m.Selected = append(m.Selected, point(r, true))
	}
	for _, r := range picks {
		chosen[r] = true
		m.Selected = append(m.Selected, point(r, false))
	}
	for _, r := range sortedCopy(drawn) {
		if !chosen[r] {
			m.Candidates = append(m.Candidates, point(r, false))
		}
	}
	return m
}

// classLegend maps a balancing strategy's classes to map colours: every
// class when there are at most maxMapClasses, otherwise the most selected
// ones and a shared "other classes".
func classLegend(b *BalanceSummary) (legend []string, index []int) {
	k := len(b.Classes)
	index = make([]int, k)
	if k <= maxMapClasses {
		for i := range index {
			index[i] = i
		}
		return slices.Clone(b.Classes), index
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sel := fit(b.Selection, k)
	slices.SortStableFunc(order, func(a, c int) int {
		switch {
		case sel[a] > sel[c]:
			return -1
		case sel[a] < sel[c]:
			return 1
		}
		return 0
	})
	for i := range index {
		index[i] = maxMapClasses - 1
	}
	for pos, c := range order[:maxMapClasses-1] {
		legend = append(legend, b.Classes[c])
		index[c] = pos
	}
	return append(legend, "other classes"), index
}

// buildDistances measures nearest-neighbour distances within the
// candidates and within the selection. A set small enough for the budget
// is measured exactly (every query against the whole set); a larger one
// against a random reference sample as large as the budget allows, the
// same size for both sets, so their histograms stay comparable.
func buildDistances(ctx context.Context, in *Input, v *Vectors, u, sel []int, opts Options) (*Distances, error) {
	d := &Distances{Model: in.MapModel, MinDistance: math.NaN()}
	for _, s := range in.Strategies {
		if s.Name == "deduplication" && s.Model == in.MapModel {
			d.MinDistance = s.MinDistance
			break
		}
	}
	var err error
	if d.Candidates, err = nearest(ctx, v, u, streamNNCandidates, opts); err != nil {
		return nil, err
	}
	if d.Selection, err = nearest(ctx, v, sel, streamNNSelection, opts); err != nil {
		return nil, err
	}
	return d, nil
}

func nearest(ctx context.Context, v *Vectors, set []int, stream uint64, opts Options) (NearestNeighbours, error) {
	nn := NearestNeighbours{Of: len(set)}
	if len(set) < 2 {
		return nn, nil
	}
	q := min(opts.Queries, len(set))
	ref := len(set)
	if int64(q)*int64(ref)*int64(v.Dim) > opts.DistanceBudget {
		ref = int(max(opts.DistanceBudget/int64(q*v.Dim), int64(q+1)))
		ref = min(ref, len(set))
	}
	order := pick(set, randomOrder(newRand(opts.Seed, stream, len(set)), len(set), ref))
	vals, err := nearestDistances(ctx, v, order, q)
	if err != nil {
		return nn, err
	}
	nn.Values, nn.Queries, nn.Reference = vals, len(vals), len(order)
	return nn, nil
}
