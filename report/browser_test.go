package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/winnow-data/winnow/pipeline"
)

// The browser test renders a report of the fixture in Debian's chromium,
// headless, at a desktop and a phone width, and checks what a person
// would see: every plot there and loaded, no broken image, no console
// error or uncaught exception, nothing loaded from outside the page, no
// sideways scrolling, and a screenshot that is not blank.
//
// It needs chromium (apt-get install -y chromium; .ci/run installs it) or
// WINNOW_CHROMIUM naming a Chrome-like binary, and skips without one
// unless WINNOW_REQUIRE_CHROMIUM is set (.ci/run sets it once chromium is
// there), when it fails instead.
// WINNOW_REPORT_SCREENSHOT=FILE keeps the top of the desktop screenshot
// as FILE (the README's docs/report.png is made so),
//
// and WINNOW_REPORT_KEEP=DIR keeps the page, its instrumented copy and
// both full screenshots in DIR:
//
//	WINNOW_REPORT_SCREENSHOT=$PWD/docs/report.png go test ./report -run 'Browser$'

// checker is injected into a copy of the page: it records errors and, on
// load, what the page holds, as JSON in <pre id="winnow-test">, which
// chromium's --dump-dom then prints.
const checker = `<script>
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push('error: ' + (e.message || (e.target && (e.target.src || e.target.tagName)))); }, true);
  window.addEventListener('unhandledrejection', function (e) { errors.push('rejection: ' + e.reason); });
  ['error', 'warn'].forEach(function (level) {
    var orig = console[level];
    console[level] = function () { errors.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' ')); orig.apply(console, arguments); };
  });
  window.addEventListener('load', function () {
    var broken = [], images = 0;
    Array.prototype.forEach.call(document.images, function (img) {
      images++;
      if (!img.complete || img.naturalWidth === 0 || img.naturalHeight === 0) broken.push(img.alt || img.src.slice(0, 40));
    });
    var figures = Array.prototype.map.call(document.querySelectorAll('figure.plot'), function (f) { return f.id; });
    var external = [];
    Array.prototype.forEach.call(document.querySelectorAll('[src],[href],[srcset],[poster],object[data]'), function (el) {
      ['src', 'href', 'srcset', 'poster', 'data'].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v && v.indexOf('data:') !== 0 && v.charAt(0) !== '#') external.push(el.tagName + ' ' + a + '=' + v);
      });
    });
    Array.prototype.forEach.call(document.styleSheets, function (sh) {
      try { Array.prototype.forEach.call(sh.cssRules, function (r) { if (/url\((?!\s*["']?data:)/.test(r.cssText)) external.push('css ' + r.cssText.slice(0, 60)); }); }
      catch (e) { external.push('stylesheet ' + sh.href); }
    });
    var out = document.createElement('pre');
    out.id = 'winnow-test';
    out.textContent = JSON.stringify({
      errors: errors, broken: broken, images: images, figures: figures, external: external,
      sections: Array.prototype.map.call(document.querySelectorAll('section'), function (s) { return s.id; }),
      width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
      height: document.documentElement.scrollHeight
    });
    document.body.appendChild(out);
  });
})();
</script>`

type pageCheck struct {
	Errors      []string `json:"errors"`
	Broken      []string `json:"broken"`
	Images      int      `json:"images"`
	Figures     []string `json:"figures"`
	External    []string `json:"external"`
	Sections    []string `json:"sections"`
	Width       int      `json:"width"`
	ScrollWidth int      `json:"scrollWidth"`
	Height      int      `json:"height"`
}

func findChromium(t *testing.T) string {
	if p := os.Getenv("WINNOW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium found: install Debian's chromium (apt-get install -y chromium) or set WINNOW_CHROMIUM to run the browser test"
	if os.Getenv("WINNOW_REQUIRE_CHROMIUM") != "" {
		t.Fatal(msg + " (WINNOW_REQUIRE_CHROMIUM is set)")
	}
	t.Skip(msg)
	return ""
}

// chromium runs the browser headless on url with extra flags and returns
// stdout and the console lines of its log.
func chromium(t *testing.T, bin, url string, flags ...string) (string, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, tail(stderr.String(), 2000))
	}
	// Chromium logs each console message and uncaught exception as a
	// ":CONSOLE" line; its own chatter (dbus, GPU) is other lines.
	var console []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") {
			console = append(console, l)
		}
	}
	return stdout.String(), console
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

var checkRE = regexp.MustCompile(`(?s)<pre id="winnow-test">(.*?)</pre>`)

func parseCheck(t *testing.T, dom string) pageCheck {
	t.Helper()
	m := checkRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the checker wrote no result; the page did not finish loading:\n%s", tail(dom, 1500))
	}
	var pc pageCheck
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &pc); err != nil {
		t.Fatalf("checker output %q: %v", m[1], err)
	}
	return pc
}

func TestBrowser(t *testing.T) {
	bin := findChromium(t)
	dir := copyFixture(t)
	addImages(t, dir, 2000)
	selectOn(t, dir, "diverse-balanced", "", "", 100,
		pipeline.EmbeddingDiversity{Model: "pixels"},
		pipeline.AnnotationBalancing{Target: pipeline.Uniform},
		pipeline.MetadataWeighting{Key: "ink_fraction", Strength: pipeline.Strength(0.5)})
	_, d := load(t, dir, "diverse-balanced")
	var page bytes.Buffer
	if err := WriteHTML(&page, d); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if keep := os.Getenv("WINNOW_REPORT_KEEP"); keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		out = keep
	}
	reportPath := filepath.Join(out, "report.html")
	if err := os.WriteFile(reportPath, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	wantFigures := []string{"plot-coverage-1", "plot-classes-2", "plot-map", "plot-distances", "plot-weights-3"}
	wantImages := len(wantFigures) + 100 // plots and thumbnails
	staticChecks(t, page.String())

	instrumented := strings.Replace(page.String(), "<head>", "<head>"+checker, 1)
	testPath := filepath.Join(out, "report-test.html")
	if err := os.WriteFile(testPath, []byte(instrumented), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("desktop", func(t *testing.T) {
		dom, console := chromium(t, bin, "file://"+testPath, "--window-size=1280,900", "--dump-dom")
		pc := parseCheck(t, dom)
		checkPage(t, pc, console, wantFigures, wantImages, 1280)
		shot := filepath.Join(out, "desktop.png")
		chromium(t, bin, "file://"+reportPath, fmt.Sprintf("--window-size=1280,%d", min(pc.Height, 16000)), "--screenshot="+shot)
		img := checkScreenshot(t, shot, 1280)
		if keep := os.Getenv("WINNOW_REPORT_SCREENSHOT"); keep != "" {
			keepTop(t, img, keep, 1480)
		}
	})

	// Headless chromium will not lay a window out narrower than 500 px,
	// so the phone width is an iframe 390 px wide: media queries and
	// overflow inside it behave as on a phone.
	t.Run("phone", func(t *testing.T) {
		frame := func(height int) string {
			return fmt.Sprintf(`<!DOCTYPE html><html><head><style>body{margin:0;background:#fff}iframe{border:0;width:390px;height:%dpx;display:block}</style></head><body>`+
				`<iframe id="f" srcdoc="%s"></iframe><script>window.addEventListener('load',function(){var r=document.getElementById('f').contentDocument.getElementById('winnow-test');`+
				`var o=document.createElement('pre');o.id='winnow-test';o.textContent=r?r.textContent:'';document.body.appendChild(o);});</script></body></html>`,
				height, html.EscapeString(instrumented))
		}
		wrapper := filepath.Join(out, "phone.html")
		if err := os.WriteFile(wrapper, []byte(frame(900)), 0o644); err != nil {
			t.Fatal(err)
		}
		dom, console := chromium(t, bin, "file://"+wrapper, "--window-size=600,900", "--dump-dom")
		pc := parseCheck(t, dom)
		checkPage(t, pc, console, wantFigures, wantImages, 390)
		// The screenshot shows the whole page: the frame as tall as it.
		h := min(pc.Height, 16000)
		if err := os.WriteFile(wrapper, []byte(frame(h)), 0o644); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(out, "phone.png")
		chromium(t, bin, "file://"+wrapper, fmt.Sprintf("--window-size=600,%d", h), "--screenshot="+shot)
		img := checkScreenshot(t, shot, 600)
		phone := image.NewRGBA(image.Rect(0, 0, 390, img.Bounds().Dy()))
		draw.Draw(phone, phone.Bounds(), img, img.Bounds().Min, draw.Src)
		if sd := stddev(phone); sd < 20 {
			t.Errorf("the phone-width frame looks blank: luminance deviation %.1f", sd)
		}
	})
}

// staticChecks reads the page's source: one file, nothing external.
func staticChecks(t *testing.T, page string) {
	t.Helper()
	if len(page) > 5<<20 {
		t.Errorf("page is %d bytes, over 5 MB", len(page))
	}
	for _, bad := range []string{"<script", "<link", "@import", "url(", `src="http`, `href="http`, `src="file`, "@font-face"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must not load anything", bad)
		}
	}
	if n := strings.Count(page, `src="data:image/`); n != 105 {
		t.Errorf("page has %d inline images, want 105 (5 plots, 100 thumbnails)", n)
	}
}

func checkPage(t *testing.T, pc pageCheck, console []string, figures []string, images, width int) {
	t.Helper()
	if len(pc.Errors) > 0 || len(console) > 0 {
		t.Errorf("errors in the page: %v; console: %v", pc.Errors, console)
	}
	if len(pc.Broken) > 0 {
		t.Errorf("broken images: %v", pc.Broken)
	}
	if len(pc.External) > 0 {
		t.Errorf("the page loaded %v", pc.External)
	}
	if strings.Join(pc.Figures, " ") != strings.Join(figures, " ") {
		t.Errorf("plots %v, want %v", pc.Figures, figures)
	}
	if pc.Images != images {
		t.Errorf("%d images, want %d", pc.Images, images)
	}
	for _, s := range []string{"config", "coverage", "classes", "map", "distances", "weights", "picks", "notes"} {
		if !strings.Contains(" "+strings.Join(pc.Sections, " ")+" ", " "+s+" ") {
			t.Errorf("no section %q among %v", s, pc.Sections)
		}
	}
	if pc.Width != width {
		t.Errorf("laid out %d px wide, want %d", pc.Width, width)
	}
	if pc.ScrollWidth > pc.Width {
		t.Errorf("the page scrolls sideways: %d px wide in a %d px window", pc.ScrollWidth, pc.Width)
	}
}

// checkScreenshot decodes a screenshot and fails when it is blank: a
// page of plots has a wide spread of brightness.
func checkScreenshot(t *testing.T, path string, width int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != width {
		t.Errorf("screenshot is %d px wide, want %d", img.Bounds().Dx(), width)
	}
	if sd := stddev(img); sd < 20 {
		t.Errorf("screenshot looks blank: luminance deviation %.1f", sd)
	}
	return img
}

// stddev is the standard deviation of the image's luminance (0..255).
func stddev(img image.Image) float64 {
	b := img.Bounds()
	var sum, sq float64
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum, sq, n = sum+l, sq+l*l, n+1
		}
	}
	m := sum / float64(n)
	return math.Sqrt(math.Max(0, sq/float64(n)-m*m))
}

// keepTop writes the top height pixels of img to path.
func keepTop(t *testing.T, img image.Image, path string, height int) {
	t.Helper()
	b := img.Bounds()
	top := image.NewRGBA(image.Rect(0, 0, b.Dx(), min(height, b.Dy())))
	draw.Draw(top, top.Bounds(), img, b.Min, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, top); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("kept the screenshot's top %d px as %s (%d bytes)", top.Bounds().Dy(), path, buf.Len())
}

// The checks catch what they look for: a page with a broken image, a
// console error, an uncaught exception, an external request and a too
// wide element fails each of them.
func TestBrowserChecksCanFail(t *testing.T) {
	bin := findChromium(t)
	bad := `<!DOCTYPE html><html><head>` + checker + `</head><body>
<figure class="plot" id="plot-x"><img src="data:image/png;base64,AAAA" alt="broken"></figure>
<img src="file:///nonexistent/winnow.png" alt="missing">
<link rel="stylesheet" href="other.css">
<div style="width:3000px">wide</div>
<script>console.error("boom"); undefinedFunction();</script></body></html>`
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.html")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.css"), []byte("p{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, console := chromium(t, bin, "file://"+path, "--window-size=800,600", "--dump-dom")
	pc := parseCheck(t, dom)
	joined := strings.Join(pc.Errors, "\n")
	for _, want := range []string{"console.error: boom", "undefinedFunction"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors %q lack %q", joined, want)
		}
	}
	if len(console) < 2 {
		t.Errorf("chromium's log shows %d console lines, want the error and the exception: %v", len(console), console)
	}
	if len(pc.Broken) != 2 {
		t.Errorf("broken images %v, want both", pc.Broken)
	}
	if got := strings.Join(pc.External, " "); !strings.Contains(got, "IMG src=file:///nonexistent/winnow.png") || !strings.Contains(got, "LINK href=other.css") {
		t.Errorf("external references %q, want the image and the stylesheet", got)
	}
	if pc.ScrollWidth <= pc.Width {
		t.Errorf("scroll width %d within width %d: overflow not seen", pc.ScrollWidth, pc.Width)
	}
	if strings.Join(pc.Figures, " ") != "plot-x" {
		t.Errorf("figures %v", pc.Figures)
	}
}
