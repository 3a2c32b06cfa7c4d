package datagen

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/winnow-data/winnow/columnar"
)

const predictionsDir = "../../testdata/predictions"

// TestPredictionsFixtureReproducible rebuilds testdata/predictions and
// requires every committed file byte for byte.
func TestPredictionsFixtureReproducible(t *testing.T) {
	dir, err := MNISTDataDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	digits, err := LoadMNIST(dir, PredictionsFixtureSize+PredictionsTrainDigits)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := BuildPredictions(context.Background(), out, digits); err != nil {
		t.Fatal(err)
	}
	want := []string{"annotations.parquet", "embeddings/objects.parquet", "embeddings/pooled.parquet", "samples.parquet"}
	if got := listFiles(t, out); !slices.Equal(got, want) {
		t.Fatalf("built files %v, want %v", got, want)
	}
	for _, name := range want {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(predictionsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("%s: rebuilt file (%d bytes) differs from testdata/predictions (%d bytes); rebuild with go run ./benchmarks/cmd/mkpredictions -out testdata/predictions", name, len(got), len(committed))
		}
	}
}

// TestPredictionsFixtureContents checks what the tests rely on: 30 videos
// of 10 frames stored out of order, every 50th digit without a
// classifier prediction, detector objects with vectors, 12 shared hashes.
func TestPredictionsFixtureContents(t *testing.T) {
	ctx := context.Background()
	ds, err := columnar.Open(ctx, predictionsDir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != PredictionsFixtureSize {
		t.Fatalf("%d samples", ds.Len())
	}
	video, err := ds.CategoricalColumn(ctx, "video_id")
	if err != nil {
		t.Fatal(err)
	}
	if len(video.Values) != 30 {
		t.Errorf("%d videos, want 30", len(video.Values))
	}
	frame, err := ds.NumericColumn(ctx, "frame_number")
	if err != nil {
		t.Fatal(err)
	}
	if slices.IsSorted(frame.Values[:10]) {
		t.Error("frames are stored in order; the fixture should need order_by")
	}
	hash, err := ds.CategoricalColumn(ctx, "content_hash")
	if err != nil {
		t.Fatal(err)
	}
	if got := PredictionsFixtureSize - len(hash.Values); got != 12 {
		t.Errorf("%d duplicated hashes, want 12", got)
	}
	ann, err := ds.Annotations(ctx, columnar.WithSource|columnar.WithConfidence)
	if err != nil {
		t.Fatal(err)
	}
	predicted := map[int32]bool{}
	objects := 0
	for i, s := range ann.Source.Codes {
		switch ann.Source.Values[s] {
		case "model_v3":
			predicted[ann.Sample[i]] = true
			if c := ann.Confidence.Values[i]; c < 0 || c > 1 {
				t.Errorf("confidence %v", c)
			}
		case "detector":
			objects++
		}
	}
	if len(predicted) != PredictionsFixtureSize-6 {
		t.Errorf("%d samples with predictions, want %d", len(predicted), PredictionsFixtureSize-6)
	}
	om, err := ds.ReadObjectEmbeddings(ctx, "objects")
	if err != nil {
		t.Fatal(err)
	}
	if om.Present.Count() != objects || om.Dim != 9 {
		t.Errorf("%d object vectors of dimension %d, want %d of 9", om.Present.Count(), om.Dim, objects)
	}
}
