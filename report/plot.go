package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plots are drawn with gonum.org/v1/plot into PNG images: the rasteriser
// draws its own bundled Liberation fonts, so a plot looks the same in
// every browser, in a CI log and in the README, and a map of 10,000
// selected samples costs the same few hundred kB as one of ten.

// Plot is one image of a report.
type Plot struct {
	// Name is the image's file name without ".png", unique in a report:
	// coverage-1, classes-2, map, distances, weights-3 (the number is the
	// strategy's position in the request, from 1).
	Name    string
	Title   string
	Alt     string // what the image shows, in words
	Caption string
	PNG     []byte
	// Width and Height are the image's size in pixels; the page shows it
	// at half that size, sharp on high-density screens.
	Width, Height int
}

// Plot geometry: 6 × 3.6 inches at 240 dpi, 1440 × 864 pixels, shown
// at 720 × 432 CSS pixels or less.
const (
	plotW   = 6 * vg.Inch
	plotH   = 3.6 * vg.Inch
	plotDPI = 240
)

// palette is Tableau's ten colours, distinct for most colour-blind
// readers.
var palette = []color.NRGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff},
}

var (
	grey      = color.NRGBA{0x8c, 0x8c, 0x8c, 0xff}
	lightGrey = color.NRGBA{0xc8, 0xc8, 0xc8, 0xff}
	ink       = color.NRGBA{0x22, 0x22, 0x22, 0xff}
)

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// Plots draws every plot d has data for, in page order.
func Plots(d *Data) ([]Plot, error) { return drawPlots(d, plotDPI) }

// drawPlots draws d's plots at dpi (tests that only need the plots to
// draw use a low one: rasterising is most of their cost under -race).
func drawPlots(d *Data, dpi int) ([]Plot, error) {
	var out []Plot
	add := func(caption func(Plot) string, pl Plot, p *plot.Plot, err error) error {
		if err == nil && p != nil {
			pl.Caption = caption(pl)
			pl.PNG, pl.Width, pl.Height, err = render(p, dpi)
		}
		if err != nil {
			return fmt.Errorf("plot %s: %w", pl.Name, err)
		}
		if pl.PNG != nil {
			out = append(out, pl)
		}
		return nil
	}
	for _, c := range d.Coverage {
		pl, p, err := coveragePlot(c)
		if err := add(func(Plot) string { return coverageCaption(c) }, pl, p, err); err != nil {
			return nil, err
		}
	}
	for _, c := range d.Classes {
		pl, p, err := classesPlot(c)
		if err := add(func(pl Plot) string { return classesCaption(c, pl.Caption) }, pl, p, err); err != nil {
			return nil, err
		}
	}
	if d.Map != nil {
		pl, p, err := mapPlot(d.Map)
		if err := add(func(Plot) string { return mapCaption(d.Map) }, pl, p, err); err != nil {
			return nil, err
		}
	}
	if d.Distances != nil {
		pl, p, err := distancesPlot(d.Distances)
		if err := add(func(Plot) string { return distancesCaption(d.Distances) }, pl, p, err); err != nil {
			return nil, err
		}
	}
	for _, w := range d.Weights {
		pl, p, err := weightsPlot(w)
		if err := add(func(Plot) string { return weightsCaption(w) }, pl, p, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// newPlot is a plot in the report's style: sans-serif text, a light grid.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(13)
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	p.Title.Padding = 6
	p.X.Label.Text, p.Y.Label.Text = x, y
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(9)
		a.Color, a.Tick.Color = grey, grey
		a.Tick.Label.Color = ink
	}
	p.Legend.TextStyle.Font = sans(9.5)
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = 0.3 * vg.Inch
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = color.NRGBA{0xe6, 0xe6, 0xe6, 0xff}, color.NRGBA{0xe6, 0xe6, 0xe6, 0xff}
	p.Add(g)
	return p
}

// headroom raises the y axis above top so the legend, drawn in the top
// right corner, sits above the data rather than on it.
func headroom(p *plot.Plot, top float64) {
	if top > 0 && !math.IsInf(top, 0) {
		p.Y.Max = math.Max(p.Y.Max, top*1.35)
	}
}

// render draws p into a PNG at dpi.
func render(p *plot.Plot, dpi int) ([]byte, int, int, error) {
	c := vgimg.NewWith(vgimg.UseWH(plotW, plotH), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, 0, 0, err
	}
	b := c.Image().Bounds()
	return buf.Bytes(), b.Dx(), b.Dy(), nil
}

// finiteXYs returns the points (k, y[k]) with a finite y.
func finiteXYs(y []float64) plotter.XYs {
	var xy plotter.XYs
	for k, v := range y {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xy = append(xy, plotter.XY{X: float64(k), Y: v})
		}
	}
	return xy
}

func line(xy plotter.XYs, c color.Color, width vg.Length, dashes ...vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width, l.Dashes = c, width, dashes
	return l, nil
}

func vline(x, y0, y1 float64, c color.Color, dashes ...vg.Length) (*plotter.Line, error) {
	return line(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}}, c, 1.2, dashes...)
}

func labelAt(x, y float64, text string, c color.Color, xalign draw.XAlignment) (*plotter.Labels, error) {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{text}})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font = sans(9)
		l.TextStyle[i].Color = c
		l.TextStyle[i].XAlign = xalign
	}
	l.Offset = vg.Point{X: 3, Y: 3}
	return l, nil
}

func coveragePlot(c Coverage) (Plot, *plot.Plot, error) {
	num := c.Strategy + 1
	pl := Plot{Name: fmt.Sprintf("coverage-%d", num), Title: "Coverage against budget"}
	if c.Strategy < 0 {
		pl.Name = "coverage"
	}
	greedy, random := finiteXYs(c.Curve), finiteXYs(c.Random)
	if len(greedy) == 0 && len(random) == 0 {
		return pl, nil, nil
	}
	what := "selection: coverage radius"
	if c.Strategy >= 0 && c.Combined {
		what = "selection: each pick's distance to the earlier ones"
	}
	p := newPlot(fmt.Sprintf("Coverage against budget (%s)", c.Model), "new samples selected", "coverage radius (distance)")
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xy := range append(slices.Clone(greedy), random...) {
		lo, hi = math.Min(lo, xy.Y), math.Max(hi, xy.Y)
	}
	for _, y := range []float64{c.Final, c.FinalRandom} {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	if len(random) > 0 {
		l, err := line(random, palette[1], 1.6, 4, 3)
		if err != nil {
			return pl, nil, err
		}
		p.Add(l)
		p.Legend.Add("random order of the candidates", l)
	}
	if len(greedy) > 0 {
		l, err := line(greedy, palette[0], 2)
		if err != nil {
			return pl, nil, err
		}
		p.Add(l)
		p.Legend.Add(what, l)
	}
	n := float64(len(c.Curve))
	if n > 0 && lo <= hi {
		floor := math.Max(0, lo-0.15*(hi-lo+1e-12))
		l, err := vline(n, floor, hi, grey, 2, 2)
		if err != nil {
			return pl, nil, err
		}
		lab, err := labelAt(n, floor, fmt.Sprintf("n = %d", len(c.Curve)), ink, draw.XRight)
		if err != nil {
			return pl, nil, err
		}
		lab.Offset = vg.Point{X: -3, Y: 3}
		p.Add(l, lab)
	}
	for _, f := range []struct {
		y   float64
		col color.NRGBA
		txt string
	}{{c.Final, palette[0], "selection at n (record)"}, {c.FinalRandom, palette[1], "random subset at n (record)"}} {
		if math.IsNaN(f.y) || math.IsInf(f.y, 0) {
			continue
		}
		s, err := plotter.NewScatter(plotter.XYs{{X: n, Y: f.y}})
		if err != nil {
			return pl, nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: f.col, Radius: 4, Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add(f.txt, s)
	}
	if c.Elbow >= 0 && c.Elbow < len(c.Curve) {
		y := c.Curve[c.Elbow]
		s, err := plotter.NewScatter(plotter.XYs{{X: float64(c.Elbow), Y: y}})
		if err != nil {
			return pl, nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: palette[2], Radius: 5, Shape: draw.RingGlyph{}}
		lab, err := labelAt(float64(c.Elbow), y, fmt.Sprintf("elbow ≈ %d", c.Elbow), palette[2], draw.XLeft)
		if err != nil {
			return pl, nil, err
		}
		p.Add(s, lab)
	}
	// The y axis spans the curves (not from 0), so their bends show.
	p.X.Min = 0
	p.X.Max = math.Max(p.X.Max, n*1.02)
	if lo <= hi {
		p.Y.Min = math.Max(0, lo-0.15*(hi-lo+1e-12))
		p.Y.Max = hi + 0.45*(hi-p.Y.Min)
	}
	pl.Alt = fmt.Sprintf("Line chart: coverage radius against the number of samples selected, for the selection and for a random order, with the chosen n = %d marked.", len(c.Curve))
	return pl, p, nil
}

// maxBarClasses bounds the classes a bar chart shows; the rest are left
// out (the caption says how many).
const maxBarClasses = 30

func classesPlot(c Classes) (Plot, *plot.Plot, error) {
	pl := Plot{Name: fmt.Sprintf("classes-%d", c.Strategy+1), Title: "Class distribution: " + c.Title}
	if len(c.Labels) == 0 {
		return pl, nil, nil
	}
	order := make([]int, len(c.Labels))
	for i := range order {
		order[i] = i
	}
	if len(order) > maxBarClasses {
		slices.SortStableFunc(order, func(a, b int) int {
			return cmpDesc(c.Target[a]+c.Selection[a], c.Target[b]+c.Selection[b])
		})
		order = order[:maxBarClasses]
		slices.Sort(order)
		pl.Caption = fmt.Sprintf("The %d classes with the largest target and selected shares of %d are shown.", maxBarClasses, len(c.Labels))
	}
	p := newPlot("Class distribution: "+c.Title, "", "share")
	names := make([]string, len(order))
	short := false
	for i, k := range order {
		names[i] = c.Labels[k]
		if c.Short[k] {
			names[i] += " *"
			short = true
		}
	}
	width := vg.Length(math.Max(2, math.Min(14, 300/float64(len(order)))))
	series := []struct {
		name string
		v    []float64
		col  color.NRGBA
	}{{"candidates", c.Candidates, lightGrey}, {"target", c.Target, palette[1]}, {"selection", c.Selection, palette[0]}}
	for s, ser := range series {
		vals := make(plotter.Values, len(order))
		for i, k := range order {
			vals[i] = ser.v[k]
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return pl, nil, err
		}
		b.Color, b.LineStyle.Width = ser.col, 0
		b.Offset = width * vg.Length(s-1)
		p.Add(b)
		p.Legend.Add(ser.name, b)
	}
	if short {
		p.Legend.Add("* target not reached")
	}
	p.NominalX(names...)
	if len(order) > 12 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	p.Y.Min = 0
	top := 0.0
	for _, k := range order {
		top = math.Max(top, math.Max(c.Candidates[k], math.Max(c.Target[k], c.Selection[k])))
	}
	headroom(p, top)
	pl.Alt = fmt.Sprintf("Bar chart of %d classes: share among the candidates, in the target and in the selection.", len(order))
	return pl, p, nil
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func mapPlot(m *Map) (Plot, *plot.Plot, error) {
	pl := Plot{Name: "map", Title: "Embedding map"}
	if len(m.Candidates)+len(m.Selected) == 0 {
		return pl, nil, nil
	}
	p := newPlot(fmt.Sprintf("Embedding map (%s, PCA)", m.Model),
		fmt.Sprintf("first principal axis (%.0f%% of variance)", 100*m.Variance[0]),
		fmt.Sprintf("second axis (%.0f%%)", 100*m.Variance[1]))
	coloured := len(m.Classes) > 0
	colourOf := func(class int) color.NRGBA {
		if !coloured || class < 0 {
			return grey
		}
		return palette[class%len(palette)]
	}
	group := func(pts []Point, keep func(Point) bool) plotter.XYs {
		var xy plotter.XYs
		for _, q := range pts {
			if keep(q) {
				xy = append(xy, plotter.XY{X: q.X, Y: q.Y})
			}
		}
		return xy
	}
	classes := []int{-1}
	if coloured {
		for k := range m.Classes {
			classes = append(classes, k)
		}
	}
	// Candidates first, faint, so the selection sits on top.
	for _, k := range classes {
		xy := group(m.Candidates, func(q Point) bool { return q.Class == k })
		if len(xy) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return pl, nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: withAlpha(colourOf(k), 90), Radius: 1.4, Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	legendCand, err := plotter.NewScatter(plotter.XYs{{}})
	if err != nil {
		return pl, nil, err
	}
	legendCand.GlyphStyle = draw.GlyphStyle{Color: withAlpha(grey, 140), Radius: 2, Shape: draw.CircleGlyph{}}
	p.Legend.Add(fmt.Sprintf("candidates (%d drawn)", len(m.Candidates)), legendCand)
	for _, pre := range []bool{true, false} {
		for _, k := range classes {
			xy := group(m.Selected, func(q Point) bool { return q.Class == k && q.Preselected == pre })
			if len(xy) == 0 {
				continue
			}
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return pl, nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: colourOf(k), Radius: 3, Shape: draw.CircleGlyph{}}
			if pre {
				s.GlyphStyle = draw.GlyphStyle{Color: ink, Radius: 3, Shape: draw.BoxGlyph{}}
			}
			ring, err := plotter.NewScatter(xy)
			if err != nil {
				return pl, nil, err
			}
			ring.GlyphStyle = draw.GlyphStyle{Color: ink, Radius: 3.2, Shape: draw.RingGlyph{}}
			p.Add(s)
			if !pre {
				p.Add(ring)
			}
			switch {
			case pre && k == classes[0]:
				p.Legend.Add("preselected", s)
			case !pre && coloured && k >= 0:
				p.Legend.Add("selected: "+m.Classes[k], s)
			case !pre && !coloured:
				p.Legend.Add(fmt.Sprintf("selected (%d)", len(m.Selected)), s)
			}
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, q := range append(slices.Clone(m.Candidates), m.Selected...) {
		lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
	}
	if hi > lo {
		p.Y.Min, p.Y.Max = lo-0.03*(hi-lo), hi+0.35*(hi-lo)
	}
	pl.Alt = fmt.Sprintf("Scatter plot of a 2-D PCA projection: %d candidates and %d selected samples.", len(m.Candidates), len(m.Selected))
	return pl, p, nil
}

// stairs draws a histogram's shares as a filled step outline.
func stairs(h *Histogram) (plotter.XYs, float64) {
	var xy plotter.XYs
	w := h.Width()
	top := 0.0
	xy = append(xy, plotter.XY{X: h.Lo, Y: 0})
	for b, n := range h.Counts {
		share := 0.0
		if h.Total > 0 {
			share = float64(n) / float64(h.Total)
		}
		top = math.Max(top, share)
		x0 := h.Lo + float64(b)*w
		xy = append(xy, plotter.XY{X: x0, Y: share}, plotter.XY{X: x0 + w, Y: share})
	}
	return append(xy, plotter.XY{X: h.Hi, Y: 0}), top
}

func addStairs(p *plot.Plot, h *Histogram, name string, c color.NRGBA) (float64, error) {
	xy, top := stairs(h)
	poly, err := plotter.NewPolygon(xy)
	if err != nil {
		return 0, err
	}
	poly.Color = withAlpha(c, 70)
	poly.LineStyle = draw.LineStyle{Color: c, Width: 1.5}
	p.Add(poly)
	p.Legend.Add(name, poly)
	return top, nil
}

const distanceBins = 40

func distancesPlot(d *Distances) (Plot, *plot.Plot, error) {
	pl := Plot{Name: "distances", Title: "Nearest-neighbour distances"}
	if len(d.Candidates.Values)+len(d.Selection.Values) == 0 {
		return pl, nil, nil
	}
	lo, hi := rangeOf(d.Candidates.Values, d.Selection.Values)
	if !math.IsNaN(d.MinDistance) {
		lo, hi = math.Min(lo, d.MinDistance), math.Max(hi, d.MinDistance)
	}
	lo = math.Min(lo, 0)
	p := newPlot(fmt.Sprintf("Nearest-neighbour distances (%s)", d.Model), "distance to the nearest other sample", "share of samples")
	top := 0.0
	for _, s := range []struct {
		name string
		nn   NearestNeighbours
		col  color.NRGBA
	}{{"within the candidates", d.Candidates, grey}, {"within the selection", d.Selection, palette[0]}} {
		if len(s.nn.Values) == 0 {
			continue
		}
		name := s.name
		if s.nn.Reference < s.nn.Of {
			name += fmt.Sprintf(" (sample of %d)", s.nn.Reference)
		}
		t, err := addStairs(p, histogram(s.nn.Values, lo, hi, distanceBins), name, s.col)
		if err != nil {
			return pl, nil, err
		}
		top = math.Max(top, t)
	}
	if !math.IsNaN(d.MinDistance) {
		l, err := vline(d.MinDistance, 0, top, palette[2], 4, 2)
		if err != nil {
			return pl, nil, err
		}
		lab, err := labelAt(d.MinDistance, top, fmt.Sprintf("dedup threshold %g", d.MinDistance), palette[2], draw.XLeft)
		if err != nil {
			return pl, nil, err
		}
		p.Add(l, lab)
		p.Legend.Add("deduplication threshold", l)
	}
	p.Y.Min = 0
	headroom(p, top)
	pl.Alt = "Histograms of nearest-neighbour distances within the candidates and within the selection."
	return pl, p, nil
}

func weightsPlot(w Weights) (Plot, *plot.Plot, error) {
	pl := Plot{Name: fmt.Sprintf("weights-%d", w.Strategy+1), Title: "Weights: " + w.Title}
	if w.Selection == nil || (w.Selection.Total == 0 && (w.Candidates == nil || w.Candidates.Total == 0)) {
		return pl, nil, nil
	}
	p := newPlot("Weights: "+w.Title, "weight", "share of samples")
	top := 0.0
	if w.Candidates != nil && w.Candidates.Total > 0 {
		t, err := addStairs(p, w.Candidates, fmt.Sprintf("candidates (%d)", w.Candidates.Total), grey)
		if err != nil {
			return pl, nil, err
		}
		top = t
	}
	if w.Selection.Total > 0 {
		t, err := addStairs(p, w.Selection, fmt.Sprintf("new picks (%d)", w.Selection.Total), palette[0])
		if err != nil {
			return pl, nil, err
		}
		top = math.Max(top, t)
	}
	for _, m := range []struct {
		v    float64
		col  color.NRGBA
		name string
	}{{w.CandidateMean, grey, "candidates' mean"}, {w.SelectionMean, palette[0], "selection's mean"}} {
		if math.IsNaN(m.v) || math.IsInf(m.v, 0) {
			continue
		}
		l, err := vline(m.v, 0, top*1.1, m.col, 3, 2)
		if err != nil {
			return pl, nil, err
		}
		l.Width = 2
		p.Add(l)
		p.Legend.Add(m.name+fmt.Sprintf(" %.3g", m.v), l)
	}
	p.Y.Min = 0
	headroom(p, top)
	pl.Alt = "Histograms of the weight over the candidates and over the selection."
	return pl, p, nil
}
