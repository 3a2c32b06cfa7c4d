package datagen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// COCOShape sizes a generated COCO instances file.
type COCOShape struct {
	Images      int // images
	Annotations int // annotations, spread over the images that have any
	Unannotated int // images without annotations
	CrowdEvery  int // every CrowdEvery-th annotation is a crowd (RLE) one
	Points      int // mean polygon points of a non-crowd annotation
}

// The shapes of COCO 2017's instances files: images, annotations and the
// images without any as published (val2017: 5,000 images, 36,781
// annotations, 4,952 annotated images; train2017: 118,287, 860,001,
// 117,266). The crowd share (about 1 %) and polygon sizes are chosen so
// that the files come out near the real ones' sizes (about 20 MB and
// 450 MB).
var (
	COCOVal2017   = COCOShape{Images: 5000, Annotations: 36781, Unannotated: 48, CrowdEvery: 90, Points: 24}
	COCOTrain2017 = COCOShape{Images: 118287, Annotations: 860001, Unannotated: 1021, CrowdEvery: 90, Points: 24}
)

// cocoCategoryIDs are COCO's 80 category ids (1 to 90 with gaps).
var cocoCategoryIDs = func() []int {
	gaps := map[int]bool{12: true, 26: true, 29: true, 30: true, 45: true, 66: true, 68: true, 69: true, 71: true, 83: true}
	var ids []int
	for i := 1; i <= 90; i++ {
		if !gaps[i] {
			ids = append(ids, i)
		}
	}
	return ids
}()

// WriteCOCO writes a COCO instances file of the given shape to w, as the
// real files are laid out (info, licenses, images, annotations,
// categories; one line), with polygons or RLE counts for every
// annotation. The same shape and seed give the same bytes.
func WriteCOCO(w io.Writer, s COCOShape, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0xc0c0))
	bw := bufio.NewWriterSize(w, 1<<20)
	put := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	put(`{"info":{"description":"generated, COCO 2017 shape","version":"1.0","year":2017},`)
	put(`"licenses":[{"url":"http://creativecommons.org/licenses/by-nc-sa/2.0/","id":1,"name":"Attribution-NonCommercial-ShareAlike License"}],`)
	put(`"images":[`)
	type size struct{ w, h int }
	sizes := make([]size, s.Images)
	for i := range sizes {
		sizes[i] = size{640, 480}
		if r.IntN(3) == 0 {
			sizes[i] = size{480 + r.IntN(161), 640}
		}
		if i > 0 {
			put(",")
		}
		id := 1000 + 7*i
		put(`{"license":1,"file_name":"%012d.jpg","coco_url":"http://images.cocodataset.org/val2017/%012d.jpg","height":%d,"width":%d,"date_captured":"2013-11-14 17:02:52","flickr_url":"http://farm7.staticflickr.com/6116/%d.jpg","id":%d}`,
			id, id, sizes[i].h, sizes[i].w, id, id)
	}
	put(`],"annotations":[`)
	annotated := s.Images - s.Unannotated
	for a := 0; a < s.Annotations; a++ {
		img := a % annotated
		if a >= annotated {
			img = r.IntN(annotated)
		}
		sz := sizes[img]
		bw0, bh0 := 1+r.Float64()*float64(sz.w-1)*0.6, 1+r.Float64()*float64(sz.h-1)*0.6
		x, y := r.Float64()*(float64(sz.w)-bw0), r.Float64()*(float64(sz.h)-bh0)
		if a > 0 {
			put(",")
		}
		crowd := s.CrowdEvery > 0 && a%s.CrowdEvery == s.CrowdEvery-1
		if crowd {
			put(`{"segmentation":{"counts":[`)
			for k, n := 0, 60+r.IntN(120); k < n; k++ {
				if k > 0 {
					put(",")
				}
				put("%d", r.IntN(400))
			}
			put(`],"size":[%d,%d]},`, sz.h, sz.w)
		} else {
			put(`{"segmentation":[[`)
			for k, n := 0, 6+r.IntN(2*s.Points-6); k < n; k++ {
				if k > 0 {
					put(",")
				}
				put("%s,%s", num(x+r.Float64()*bw0), num(y+r.Float64()*bh0))
			}
			put(`]],`)
		}
		c := 0
		if crowd {
			c = 1
		}
		put(`"area":%s,"iscrowd":%d,"image_id":%d,"bbox":[%s,%s,%s,%s],"category_id":%d,"id":%d}`,
			num(bw0*bh0*0.7), c, 1000+7*img, num(x), num(y), num(bw0), num(bh0), cocoCategoryIDs[r.IntN(len(cocoCategoryIDs))], 100000+a)
	}
	put(`],"categories":[`)
	for i, id := range cocoCategoryIDs {
		if i > 0 {
			put(",")
		}
		put(`{"supercategory":"super%d","id":%d,"name":"category %d"}`, id/10, id, id)
	}
	put("]}")
	return bw.Flush()
}
