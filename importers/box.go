package importers

import (
	"fmt"
	"math"
)

// boxTolerance is how far, in pixels, a box may reach beyond its image
// and still be imported as it is. COCO's boxes are rounded to two decimals
// and sometimes end a fraction past the border; YOLO's normalised
// coordinates are rounded to six digits, which at 10,000 pixels is a
// hundredth of a pixel. One pixel covers both; a box further out is an
// annotation error (or a box in another image's coordinates), unless
// clipping was asked for.
const boxTolerance = 1.0

// box is an axis-aligned box in pixels: top-left corner and size, as COCO
// writes it.
type box struct{ x, y, w, h float64 }

func (b box) String() string {
	return fmt.Sprintf("[x=%s y=%s w=%s h=%s]", num(b.x), num(b.y), num(b.w), num(b.h))
}

// num prints a coordinate briefly.
func num(v float64) string { return fmt.Sprintf("%.6g", v) }

// checkBox checks b against an image of width iw and height ih pixels. A
// box within boxTolerance of the image is returned as it is; with clip, a
// box reaching further is cut to the image instead of being an error. A
// box with a negative size, a non-finite coordinate, or (even with clip)
// no overlap with the image is always an error.
func checkBox(b box, iw, ih int64, clip bool) (box, error) {
	for _, v := range [...]struct {
		name string
		v    float64
	}{{"x", b.x}, {"y", b.y}, {"width", b.w}, {"height", b.h}} {
		if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return b, fmt.Errorf("box %s: %s is %v", b, v.name, v.v)
		}
	}
	if b.w < 0 || b.h < 0 {
		return b, fmt.Errorf("box %s has a negative size", b)
	}
	W, H := float64(iw), float64(ih)
	inside := b.x >= -boxTolerance && b.y >= -boxTolerance && b.x+b.w <= W+boxTolerance && b.y+b.h <= H+boxTolerance
	if inside {
		return b, nil
	}
	if !clip {
		return b, fmt.Errorf("box %s reaches beyond the %dx%d image (by more than %g pixel)", b, iw, ih, boxTolerance)
	}
	x0, y0 := max(b.x, 0), max(b.y, 0)
	x1, y1 := min(b.x+b.w, W), min(b.y+b.h, H)
	if x1 < x0 || y1 < y0 || (x1 == x0 && b.w > 0) || (y1 == y0 && b.h > 0) {
		return b, fmt.Errorf("box %s lies outside the %dx%d image", b, iw, ih)
	}
	return box{x0, y0, x1 - x0, y1 - y0}, nil
}
