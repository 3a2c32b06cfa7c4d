package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeImage(t *testing.T, path string, w, h int, asJPEG bool) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if asJPEG {
		err = jpeg.Encode(&buf, img, nil)
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Thumbnails come from local PNG and JPEG files, shrunk to 64 px; other
// paths give names only and a note saying why.
func TestPicksThumbnails(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "big.png"), 300, 150, false)
	writeImage(t, filepath.Join(dir, "photo.jpg"), 80, 120, true)
	writeImage(t, filepath.Join(dir, "tiny.png"), 20, 20, false)
	if err := os.WriteFile(filepath.Join(dir, "text.png"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &Input{Header: Header{Dataset: dir}, Strategies: []StrategyInput{{Name: "weights"}}}
	for i, p := range []string{"big.png", filepath.Join(dir, "photo.jpg"), "tiny.png", "text.png", "missing.png", "s3://bucket/a.png", ""} {
		in.Picks = append(in.Picks, PickInput{SampleID: string(rune('a' + i)), Row: i, Path: p, Objectives: []float64{1}})
	}
	in.Picks = append([]PickInput{{SampleID: "pre", Preselected: true}}, in.Picks...)
	tbl := picksOf(context.Background(), in, 100)
	if tbl.Total != 7 || tbl.Preselected != 1 || len(tbl.Rows) != 7 {
		t.Fatalf("table of %d rows, %d picks, %d preselected; want 7, 7, 1", len(tbl.Rows), tbl.Total, tbl.Preselected)
	}
	sizes := []struct {
		mime string
		w, h int
	}{{"image/png", 64, 32}, {"image/jpeg", 43, 64}, {"image/png", 20, 20}}
	for i, want := range sizes {
		r := tbl.Rows[i]
		cfg, _, err := image.DecodeConfig(bytes.NewReader(r.Thumbnail))
		if err != nil || r.ThumbnailType != want.mime || cfg.Width != want.w || cfg.Height != want.h {
			t.Errorf("row %d: %s %d×%d (%v), want %s %d×%d", i, r.ThumbnailType, cfg.Width, cfg.Height, err, want.mime, want.w, want.h)
		}
	}
	for i := 3; i < 7; i++ {
		if tbl.Rows[i].Thumbnail != nil {
			t.Errorf("row %d (%s) has a thumbnail", i, in.Picks[i+1].Path)
		}
	}
	if tbl.Thumbnails != 3 || !strings.HasPrefix(tbl.Note, "2 of the listed picks have no thumbnail") {
		t.Errorf("%d thumbnails, note %q", tbl.Thumbnails, tbl.Note)
	}
	if tbl.Rows[0].Name != "big.png" || tbl.Rows[0].Pick != 1 || tbl.Columns[0] != "1. weights" {
		t.Errorf("first row %+v, columns %v", tbl.Rows[0], tbl.Columns)
	}
	// The table lists at most max rows but counts every pick.
	if short := picksOf(context.Background(), in, 2); len(short.Rows) != 2 || short.Total != 7 {
		t.Errorf("max 2: %d rows of %d", len(short.Rows), short.Total)
	}
}
