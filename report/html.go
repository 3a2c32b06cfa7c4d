package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"io"
	"math"
	"strconv"
	"time"
)

//go:embed page.html
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"inc":  func(i int) int { return i + 1 },
	"half": func(px int) int { return px / 2 },
	"num":  formatNumber,
	"score": func(r PickRow) string {
		s := formatNumber(r.Score)
		if r.InfFactors != 0 {
			s = fmt.Sprintf("%+d×∞ %s", r.InfFactors, s)
		}
		return s
	},
	"thumb": thumbImage,
}).Parse(pageTemplate))

// pageData is what the template reads.
type pageData struct {
	D        *Data
	Elapsed  string
	Sections []pageSection
}

type pageSection struct {
	ID, Title string
	Plots     []pagePlot
	Empty     string // shown when there is no plot
}

type pagePlot struct {
	Plot
	Src template.URL
}

// WriteHTML writes d as one self-contained HTML page: inline CSS, plots
// and thumbnails as base64 data: URLs, no script, and no reference to any
// file, font or address outside the page, so it opens the same from a
// disk, a mail or a ticket. The page works from 320 px wide up.
func WriteHTML(w io.Writer, d *Data) error { return writeHTML(w, d, plotDPI) }

func writeHTML(w io.Writer, d *Data, dpi int) error {
	plots, err := drawPlots(d, dpi)
	if err != nil {
		return err
	}
	pd := pageData{D: d, Elapsed: "not recorded"}
	if d.Header.Elapsed > 0 {
		pd.Elapsed = d.Header.Elapsed.Round(time.Millisecond).String()
	}
	byPrefix := func(prefix string) []pagePlot {
		var out []pagePlot
		for _, p := range plots {
			if p.Name == prefix || len(p.Name) > len(prefix) && p.Name[:len(prefix)+1] == prefix+"-" {
				out = append(out, pagePlot{Plot: p, Src: dataURL("image/png", p.PNG)})
			}
		}
		return out
	}
	noEmbeddings := "The selection used no embedding model and the report found none to use."
	if d.Map != nil {
		noEmbeddings = "Nothing to draw: no candidate or selected sample has a vector."
	}
	pd.Sections = []pageSection{
		{ID: "coverage", Title: "Coverage against budget", Plots: byPrefix("coverage"), Empty: noEmbeddings},
		{ID: "classes", Title: "Class distribution", Plots: byPrefix("classes"), Empty: "No balancing strategy took part."},
		{ID: "map", Title: "Embedding map", Plots: byPrefix("map"), Empty: noEmbeddings},
		{ID: "distances", Title: "Nearest-neighbour distances", Plots: byPrefix("distances"), Empty: noEmbeddings},
		{ID: "weights", Title: "Weights", Plots: byPrefix("weights"), Empty: "No weighting, similarity, typicality or outlier strategy took part."},
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, pd); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func dataURL(mime string, data []byte) template.URL {
	return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data))
}

type thumbView struct {
	Src   template.URL
	Class string
}

// thumbImage is a pick's thumbnail for the page; images smaller than
// their 48 px box are scaled up with crisp pixels.
func thumbImage(r PickRow) *thumbView {
	if r.Thumbnail == nil {
		return nil
	}
	t := &thumbView{Src: dataURL(r.ThumbnailType, r.Thumbnail), Class: "thumb"}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(r.Thumbnail)); err == nil && cfg.Width < 48 && cfg.Height < 48 {
		t.Class += " px"
	}
	return t
}

// formatNumber prints x with four significant digits; ±∞ and NaN as
// symbols.
func formatNumber(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case math.IsInf(x, 1):
		return "∞"
	case math.IsInf(x, -1):
		return "−∞"
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// WriteHTMLFile writes d's page to path through a temporary file and a
// rename: a reader never sees half a page, and a failure leaves an
// existing file as it was.
func WriteHTMLFile(path string, d *Data) error {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, d); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}
