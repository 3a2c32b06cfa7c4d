package datagen

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/uuid"
)

const fixtureDir = "../../testdata/mnist"

func loadFixtureDigits(t *testing.T) []Digit {
	t.Helper()
	dir, err := MNISTDataDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	digits, err := LoadMNIST(dir, MNISTFixtureSize)
	if err != nil {
		t.Fatal(err)
	}
	return digits
}

// listFiles returns the files under dir, relative and sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestMNISTFixtureReproducible rebuilds the fixture and requires the
// committed files to be byte-identical: the fixture is what the builder
// makes, nothing edited by hand.
func TestMNISTFixtureReproducible(t *testing.T) {
	out := t.TempDir()
	if err := BuildMNIST(context.Background(), out, loadFixtureDigits(t)); err != nil {
		t.Fatal(err)
	}
	want := []string{"annotations.parquet", "embeddings/pixels.parquet", "samples.parquet"}
	if got := listFiles(t, out); !slices.Equal(got, want) {
		t.Fatalf("built files %v, want %v", got, want)
	}
	// What winnow itself writes into a dataset (a run from the help texts
	// on testdata/mnist) is not part of the fixture.
	committed := slices.DeleteFunc(listFiles(t, fixtureDir), func(f string) bool {
		return f == "tags.parquet" || strings.HasPrefix(f, "selections/") || strings.HasPrefix(f, ".")
	})
	if got := committed; !slices.Equal(got, want) {
		t.Fatalf("committed fixture files %v, want %v", got, want)
	}
	for _, name := range want {
		// Byte equality needs every chunk to keep one data encoding (see
		// the package documentation); say so rather than fail mysteriously.
		if mixed := mixedEncodings(t, filepath.Join(out, name)); len(mixed) > 0 {
			t.Errorf("%s: columns %v fell back from dictionary encoding, so the file is not reproducible", name, mixed)
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("%s: rebuilt file (%d bytes) differs from testdata/mnist (%d bytes); rebuild with go run ./benchmarks/cmd/mkmnist -out testdata/mnist", name, len(got), len(committed))
		}
	}
}

// TestMNISTFixtureContents reads the committed fixture back and checks it
// against the idx files and the spec's types.
func TestMNISTFixtureContents(t *testing.T) {
	digits := loadFixtureDigits(t)
	// The MNIST test set famously starts 7, 2, 1, 0, 4, 1, 4, 9, 5, 9.
	for i, want := range []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9} {
		if digits[i].Label != want {
			t.Fatalf("digit %d has label %d, want %d", i, digits[i].Label, want)
		}
	}

	for _, f := range []string{"samples.parquet", "embeddings/pixels.parquet", "annotations.parquet"} {
		pt, lt, n := parquetColumn(t, filepath.Join(fixtureDir, f), "sample_id")
		if pt != parquet.Types.FixedLenByteArray || n != 16 || !lt.Equals(schema.UUIDLogicalType{}) {
			t.Errorf("%s sample_id is %v(%d) %v, want FIXED_LEN_BYTE_ARRAY(16) UUID", f, pt, n, lt)
		}
	}

	s := readTable(t, filepath.Join(fixtureDir, "samples.parquet"))
	if s.rows != MNISTFixtureSize {
		t.Fatalf("samples has %d rows, want %d", s.rows, MNISTFixtureSize)
	}
	if !sameFields(s.schema, MNISTSamplesSchema()) {
		t.Fatalf("samples schema\n%v\nwant\n%v", s.schema, MNISTSamplesSchema())
	}
	ids := s.cols["sample_id"].(*extensions.UUIDArray)
	names := s.cols["file_name"].(*array.String)
	ink := s.cols["ink_fraction"].(*array.Float64)
	thick := s.cols["thickness"].(*array.String)
	bw := s.cols["bbox_width"].(*array.Int64)
	counts := map[string]int{}
	seen := map[uuid.UUID]bool{}
	for i := range s.rows {
		id := ids.Value(i)
		if id != MNISTSampleID(i) || id.Version() != 5 {
			t.Fatalf("row %d sample_id %v, want UUIDv5 %v", i, id, MNISTSampleID(i))
		}
		seen[id] = true
		st := digits[i].Stats()
		if ink.Value(i) != st.InkFraction || bw.Value(i) != st.BBoxWidth {
			t.Fatalf("row %d ink %v bbox_width %d, want %v %d", i, ink.Value(i), bw.Value(i), st.InkFraction, st.BBoxWidth)
		}
		counts[thick.Value(i)]++
	}
	if len(seen) != s.rows {
		t.Errorf("%d distinct sample ids in %d rows", len(seen), s.rows)
	}
	if names.Value(42) != "t10k-00042.png" {
		t.Errorf("file_name[42] = %q", names.Value(42))
	}
	for _, c := range []string{"thin", "regular", "bold"} {
		// terciles: each class holds about a third (ties can shift a few)
		if counts[c] < s.rows/4 || counts[c] > s.rows/2 {
			t.Errorf("thickness %q on %d of %d digits, want about a third", c, counts[c], s.rows)
		}
	}
	// The fixed namespace is what README documents; changing it changes every id.
	if got := MNISTSampleID(0).String(); got != uuid.NewSHA1(uuid.MustParse("8b6c1f0e-2d4a-4c5e-9f31-7a0d5e2b9c48"), []byte("0")).String() {
		t.Errorf("MNISTSampleID(0) = %s", got)
	}

	e := readTable(t, filepath.Join(fixtureDir, "embeddings", "pixels.parquet"))
	want := arrow.FixedSizeListOfNonNullable(784, arrow.PrimitiveTypes.Float32)
	if got := e.schema.Field(1).Type; !arrow.TypeEqual(got, want) {
		t.Fatalf("embedding type %v, want %v", got, want)
	}
	vals := e.cols["embedding"].(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
	if len(vals) != MNISTFixtureSize*784 {
		t.Fatalf("%d embedding values, want %d", len(vals), MNISTFixtureSize*784)
	}
	for _, i := range []int{0, 1, 1999} {
		if e.cols["sample_id"].(*extensions.UUIDArray).Value(i) != MNISTSampleID(i) {
			t.Fatalf("embedding row %d has the wrong sample_id", i)
		}
		for j, p := range digits[i].Pixels {
			if v := vals[i*784+j]; v != float32(p)/255 || v < 0 || v > 1 {
				t.Fatalf("digit %d pixel %d = %v, want %v/255", i, j, v, p)
			}
		}
	}

	a := readTable(t, filepath.Join(fixtureDir, "annotations.parquet"))
	if a.rows != MNISTFixtureSize || !sameFields(a.schema, MNISTAnnotationsSchema()) {
		t.Fatalf("annotations: %d rows, schema %v", a.rows, a.schema)
	}
	for i := range a.rows {
		if got := a.cols["label"].(*array.String).Value(i); got != string(rune('0'+digits[i].Label)) {
			t.Fatalf("annotation %d label %q, want %d", i, got, digits[i].Label)
		}
		if a.cols["annotation_id"].(*extensions.UUIDArray).Value(i) != MNISTAnnotationID(i) ||
			a.cols["sample_id"].(*extensions.UUIDArray).Value(i) != MNISTSampleID(i) ||
			a.cols["source"].(*array.String).Value(i) != "ground_truth" ||
			a.cols["type"].(*array.String).Value(i) != "classification" ||
			a.cols["confidence"].(*array.Float64).Value(i) != 1 {
			t.Fatalf("annotation %d: wrong ids, source, type or confidence", i)
		}
	}
	if MNISTAnnotationID(3) == MNISTSampleID(3) {
		t.Error("annotation and sample ids collide")
	}
}

func TestDigitStats(t *testing.T) {
	px := func(set map[int]byte) Digit {
		d := Digit{Pixels: make([]byte, 784)}
		for i, v := range set {
			d.Pixels[i] = v
		}
		return d
	}
	tests := []struct {
		name string
		d    Digit
		want DigitStats
	}{
		{"blank", px(nil), DigitStats{}},
		{"one full pixel", px(map[int]byte{28*3 + 5: 255}), DigitStats{MeanIntensity: 1.0 / 784, InkFraction: 1.0 / 784, BBoxWidth: 1, BBoxHeight: 1}},
		// 127 is below ink (127/255 < 0.5), 128 is ink; the faint pixel far away must not widen the box.
		{"threshold", px(map[int]byte{0: 127, 28*2 + 2: 128, 28*4 + 6: 200}), DigitStats{
			MeanIntensity: float64(127+128+200) / (255 * 784), InkFraction: 2.0 / 784, BBoxWidth: 5, BBoxHeight: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Stats(); got != tc.want {
				t.Errorf("Stats() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestThickness(t *testing.T) {
	var st []DigitStats
	for _, f := range []float64{0.5, 0.1, 0.3, 0.2, 0.6, 0.4} {
		st = append(st, DigitStats{InkFraction: f})
	}
	// sorted 0.1 0.2 | 0.3 0.4 | 0.5 0.6: terciles at 0.3 and 0.5
	want := []string{"bold", "thin", "regular", "thin", "bold", "regular"}
	if got := thickness(st); !slices.Equal(got, want) {
		t.Errorf("thickness = %v, want %v", got, want)
	}
}

func TestMNISTErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadMNIST(dir, 10); err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte.gz") {
		t.Errorf("LoadMNIST on an empty folder: %v, want an error naming the images file", err)
	}
	data, err := MNISTDataDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMNIST(data, 10001); err == nil || !strings.Contains(err.Error(), "asked for 10001 digits, the test set has 10000") {
		t.Errorf("LoadMNIST(10001): %v", err)
	}
	if err := BuildMNIST(context.Background(), dir, nil); err == nil || err.Error() != "build MNIST dataset: no digits" {
		t.Errorf("BuildMNIST(nil): %v", err)
	}
	bad := []Digit{{Index: 7, Pixels: make([]byte, 10)}}
	if err := BuildMNIST(context.Background(), dir, bad); err == nil || err.Error() != "build MNIST dataset: digit 7 has 10 pixels, want 784" {
		t.Errorf("BuildMNIST(short digit): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := BuildMNIST(ctx, dir, []Digit{{Pixels: make([]byte, 784)}}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("BuildMNIST(cancelled): %v", err)
	}
}

func ExampleMNISTSampleID() {
	// The fixture's ids are name-based, so anyone can recompute them.
	fmt.Println(MNISTSampleID(0))
	fmt.Println(MNISTSampleID(0) == uuid.NewSHA1(uuid.MustParse(MNISTNamespace), []byte("0")))
	// Output:
	// 997e2fe2-9776-56d0-871e-5e8efb7e7731
	// true
}
