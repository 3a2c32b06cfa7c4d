package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Thumbnail limits: a file larger than maxThumbFile bytes or an image of
// more than maxThumbPixels pixels is not decoded (a decompression bomb
// stays a name), and once the images decoded for one report add up to
// thumbPixelBudget pixels the remaining rows show names only, so a table
// of 100 camera photos costs seconds, not minutes.
const (
	thumbBox         = 64
	maxThumbFile     = 64 << 20
	maxThumbPixels   = 50 << 20
	thumbPixelBudget = 400 << 20
)

// picksOf lists the first max new picks, with thumbnails of their images
// when Path names a local PNG or JPEG file (relative paths are relative
// to the dataset folder).
func picksOf(ctx context.Context, in *Input, max int) Picks {
	t := Picks{}
	for i, s := range in.Strategies {
		name := s.Name
		if s.Model != "" {
			name += " (" + s.Model + ")"
		}
		t.Columns = append(t.Columns, fmt.Sprintf("%d. %s", i+1, name))
	}
	for _, p := range in.Picks {
		if p.Preselected {
			t.Preselected++
			continue
		}
		t.Total++
		if len(t.Rows) == max {
			continue
		}
		name := p.Name
		if name == "" && p.Path != "" {
			name = filepath.Base(p.Path)
		}
		// One objective a column, whatever the record holds.
		obj := make([]float64, len(t.Columns))
		for j := range obj {
			obj[j] = math.NaN()
			if j < len(p.Objectives) {
				obj[j] = p.Objectives[j]
			}
		}
		t.Rows = append(t.Rows, PickRow{
			Pick: t.Total, SampleID: p.SampleID, Name: name,
			Score: p.Score, InfFactors: p.InfFactors, Objectives: obj,
		})
	}
	paths := make([]string, len(t.Rows))
	local := false
	i := 0
	for _, p := range in.Picks {
		if p.Preselected {
			continue
		}
		if i == len(paths) {
			break
		}
		paths[i] = localPath(in.Header.Dataset, p.Path)
		local = local || paths[i] != ""
		i++
	}
	if !local {
		return t
	}
	thumbs, note := thumbnails(ctx, paths)
	for i := range t.Rows {
		t.Rows[i].Thumbnail, t.Rows[i].ThumbnailType = thumbs[i].data, thumbs[i].mime
		if thumbs[i].data != nil {
			t.Thumbnails++
		}
	}
	t.Note = note
	return t
}

// localPath resolves a file_path to a local file name, "" for a URL or
// an empty path.
func localPath(dir, p string) string {
	if p == "" || strings.Contains(p, "://") {
		return ""
	}
	p = strings.TrimPrefix(p, "file:")
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p
}

type thumb struct {
	data []byte
	mime string
	err  error
}

// thumbnails decodes the images at paths ("" for none) on all cores and
// returns their thumbnails in order, and a note on the ones that failed.
func thumbnails(ctx context.Context, paths []string) ([]thumb, string) {
	out := make([]thumb, len(paths))
	var (
		mu     sync.Mutex
		budget = int64(thumbPixelBudget)
		wg     sync.WaitGroup
		next   = make(chan int)
	)
	reserve := func(px int64) bool {
		mu.Lock()
		defer mu.Unlock()
		if px > budget {
			budget = 0
			return false
		}
		budget -= px
		return true
	}
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = makeThumb(paths[i], reserve)
			}
		}()
	}
	for i, p := range paths {
		if p == "" || ctx.Err() != nil {
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	failed, first := 0, ""
	for i, t := range out {
		if paths[i] != "" && t.err != nil {
			if failed++; first == "" {
				first = t.err.Error()
			}
		}
	}
	if failed == 0 {
		return out, ""
	}
	return out, fmt.Sprintf("%d of the listed picks have no thumbnail (first: %s)", failed, first)
}

var errBudget = errors.New("the report's image budget is spent")

func makeThumb(path string, reserve func(int64) bool) thumb {
	f, err := os.Open(path)
	if err != nil {
		return thumb{err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return thumb{err: err}
	}
	if !st.Mode().IsRegular() || st.Size() > maxThumbFile {
		return thumb{err: fmt.Errorf("%s: not a regular file of at most %d MB", path, maxThumbFile>>20)}
	}
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return thumb{err: fmt.Errorf("%s: %w", path, err)}
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > maxThumbPixels {
		return thumb{err: fmt.Errorf("%s: %d×%d pixels is too large to decode for a thumbnail", path, cfg.Width, cfg.Height)}
	}
	if !reserve(px) {
		return thumb{err: errBudget}
	}
	if _, err := f.Seek(0, 0); err != nil {
		return thumb{err: err}
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return thumb{err: fmt.Errorf("%s: %w", path, err)}
	}
	small := shrink(img, thumbBox)
	var buf bytes.Buffer
	if format == "jpeg" {
		err = jpeg.Encode(&buf, small, &jpeg.Options{Quality: 85})
		return thumb{data: buf.Bytes(), mime: "image/jpeg", err: err}
	}
	err = png.Encode(&buf, small)
	return thumb{data: buf.Bytes(), mime: "image/png", err: err}
}

// shrink scales img down to fit a box×box square, averaging up to 4×4
// source pixels for each output pixel; smaller images are kept as they
// are (the page scales them up with crisp pixels). Grey images stay grey.
func shrink(img image.Image, box int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= box && h <= box {
		return img
	}
	scale := float64(box) / float64(max(w, h))
	ow, oh := max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5))
	_, grey := img.(*image.Gray)
	var out interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	if grey {
		out = image.NewGray(image.Rect(0, 0, ow, oh))
	} else {
		out = image.NewNRGBA(image.Rect(0, 0, ow, oh))
	}
	for y := 0; y < oh; y++ {
		y0, y1 := b.Min.Y+y*h/oh, b.Min.Y+(y+1)*h/oh
		for x := 0; x < ow; x++ {
			x0, x1 := b.Min.X+x*w/ow, b.Min.X+(x+1)*w/ow
			out.Set(x, y, average(img, x0, max(x1, x0+1), y0, max(y1, y0+1)))
		}
	}
	return out
}

// average is the mean colour of at most 4×4 evenly spread pixels of the
// rectangle [x0, x1) × [y0, y1).
func average(img image.Image, x0, x1, y0, y1 int) color.Color {
	var r, g, b, a, n uint64
	sx, sy := max(1, (x1-x0)/4), max(1, (y1-y0)/4)
	for y := y0; y < y1; y += sy {
		for x := x0; x < x1; x += sx {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			r, g, b, a, n = r+uint64(cr), g+uint64(cg), b+uint64(cb), a+uint64(ca), n+1
		}
	}
	return color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(b / n), A: uint16(a / n)}
}
