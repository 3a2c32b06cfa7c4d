package report

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/winnow-data/winnow/pipeline"
)

// small keeps the distance work of tests that do not check the default
// sizes small: -race makes gonum's matrix products many times slower.
var small = Options{Queries: 100, DistanceBudget: 2e7, CurveBudget: 2e7}

func load(t testing.TB, dir, tag string) (*Input, *Data) {
	t.Helper()
	return loadWith(t, dir, tag, Options{})
}

func loadWith(t testing.TB, dir, tag string, opts Options) (*Input, *Data) {
	t.Helper()
	in, err := Load(context.Background(), dir, tag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(context.Background(), in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in, d
}

// A real selection on the fixture: the report's numbers are the record's.
func TestLoadMatchesTheRecord(t *testing.T) {
	dir := copyFixture(t)
	selectOn(t, dir, "mix", "", "", 100,
		pipeline.EmbeddingDiversity{Model: "pixels"},
		pipeline.AnnotationBalancing{Target: pipeline.Uniform},
		pipeline.MetadataWeighting{Key: "ink_fraction", Strength: pipeline.Strength(0.5)})
	rec := readRecord(t, dir, "mix")
	in, d := load(t, dir, "mix")
	if len(in.Header.Changed) != 0 {
		t.Errorf("unchanged dataset reported as changed: %v", in.Header.Changed)
	}
	if h := d.Header; h.Tag != "mix" || h.Candidates != 2000 || h.Selected != 100 || h.Requested != 100 || h.Version != rec.Header.Version || !h.Time.Equal(rec.Header.Time) {
		t.Errorf("header %+v does not match the record's %+v", h, rec.Header)
	}
	if len(in.Candidates) != 2000 || in.MapModel != "pixels" {
		t.Errorf("%d candidates, map model %q; want 2000 and pixels", len(in.Candidates), in.MapModel)
	}
	if !strings.Contains(d.Header.Config, `{"strategy_name":"balance","strength":1,"target_distribution":"uniform"}`) {
		t.Errorf("config lacks the balance strategy:\n%s", d.Header.Config)
	}
	// The curve is the diversity objectives, pick by pick.
	if len(d.Coverage) != 1 || d.Coverage[0].Strategy != 0 {
		t.Fatalf("coverage %+v, want one curve of strategy 0", d.Coverage)
	}
	c := d.Coverage[0]
	for k, p := range rec.Picks {
		if k == 0 {
			continue // the neutral first objective
		}
		if c.Curve[k] != p.Objectives[0] {
			t.Fatalf("curve[%d] = %v, record's objective %v", k, c.Curve[k], p.Objectives[0])
		}
	}
	if c.Final != rec.Header.Reports[0].Coverage.Selection || !c.Combined {
		t.Errorf("final radius %v (record %v), combined %v", c.Final, rec.Header.Reports[0].Coverage.Selection, c.Combined)
	}
	// The class shares are the record's and sum to 1.
	if len(d.Classes) != 1 {
		t.Fatalf("%d class distributions, want 1", len(d.Classes))
	}
	b := rec.Header.Reports[1].Balance
	for k := range b.Classes {
		if math.Abs(d.Classes[0].Selection[k]-b.Selection[k]) > 1e-12 || math.Abs(d.Classes[0].Candidates[k]-b.Candidates[k]) > 1e-12 {
			t.Errorf("class %s: shares %v/%v, record %v/%v", b.Classes[k], d.Classes[0].Candidates[k], d.Classes[0].Selection[k], b.Candidates[k], b.Selection[k])
		}
	}
	// The map is coloured by digit, and every row has its digit.
	for r, cl := range in.Strategies[1].RowClass {
		if cl < 0 {
			t.Fatalf("row %d has no class", r)
		}
	}
	if len(d.Map.Classes) != 10 || len(d.Map.Selected) != 100 || d.Map.Drawn != 2000 {
		t.Errorf("map: %d classes, %d selected, %d drawn; want 10, 100, 2000", len(d.Map.Classes), len(d.Map.Selected), d.Map.Drawn)
	}
	// The weights of the candidates come from the column, the picks' from
	// the record; their means match the record's.
	if len(d.Weights) != 1 || d.Weights[0].Candidates == nil || d.Weights[0].Candidates.Total != 2000 || d.Weights[0].Selection.Total != 100 {
		t.Fatalf("weights %+v", d.Weights)
	}
	// Distances within 2,000 × 784 are exact at the default budget.
	if nn := d.Distances.Candidates; nn.Reference != 2000 || nn.Queries != 500 {
		t.Errorf("candidate distances: %d queries against %d; want 500 against all 2000", nn.Queries, nn.Reference)
	}
	if d.Picks.Total != 100 || len(d.Picks.Rows) != 100 || !strings.HasPrefix(d.Picks.Rows[0].Name, "t10k-") {
		t.Errorf("picks: %d of %d, first %+v", len(d.Picks.Rows), d.Picks.Total, d.Picks.Rows[0])
	}
	if d.Picks.Thumbnails != 0 {
		t.Errorf("%d thumbnails without image files", d.Picks.Thumbnails)
	}
}

// Preselection and a query: the random curve starts from the preselected
// samples, the first objective is a real distance, the map marks them.
func TestLoadPreselectedQuery(t *testing.T) {
	dir := copyFixture(t)
	addTag(t, dir, "seen", "index < 20")
	selectOn(t, dir, "more", `thickness == "bold"`, "seen", 30, pipeline.EmbeddingDiversity{})
	in, d := loadWith(t, dir, "more", small)
	if len(in.Header.Changed) != 0 {
		t.Errorf("changed: %v", in.Header.Changed)
	}
	if d.Header.Preselected != 20 || d.Header.PreTag != "seen" || d.Picks.Preselected != 20 || d.Picks.Total != 30 {
		t.Errorf("preselected %d (tag %q), table %d/%d", d.Header.Preselected, d.Header.PreTag, d.Picks.Preselected, d.Picks.Total)
	}
	c := d.Coverage[0]
	if math.IsNaN(c.Curve[0]) || math.IsNaN(c.Random[0]) {
		t.Errorf("with preselection the first points are distances: %v, %v", c.Curve[0], c.Random[0])
	}
	pre := 0
	for _, p := range d.Map.Selected {
		if p.Preselected {
			pre++
		}
	}
	if pre != 20 {
		t.Errorf("map marks %d preselected, want 20", pre)
	}
	if c.Combined {
		t.Error("diversity alone marked combined")
	}
}

// Every strategy, alone and combined, gives a report with the plots it
// should have. The candidates are the first 600 digits, which keeps
// typicality's all-pairs work small under -race.
func TestLoadEveryStrategy(t *testing.T) {
	dir := copyFixture(t)
	addTag(t, dir, "query", "index < 5")
	cases := []struct {
		tag   string
		list  []pipeline.Strategy
		plots []string
	}{
		{"diversity", []pipeline.Strategy{pipeline.EmbeddingDiversity{}}, []string{"coverage-1", "map", "distances"}},
		{"dedup", []pipeline.Strategy{pipeline.Deduplication{MinDistance: 7}}, []string{"coverage-1", "map", "distances"}},
		{"weights", []pipeline.Strategy{pipeline.MetadataWeighting{Key: "ink_fraction"}}, []string{"coverage", "map", "distances", "weights-1"}},
		{"balance", []pipeline.Strategy{pipeline.AnnotationBalancing{Target: pipeline.Ratios(map[string]float64{"1": 0.5, "7": 0.3})}}, []string{"coverage", "classes-1", "map", "distances"}},
		{"metabalance", []pipeline.Strategy{pipeline.MetadataBalancing{Key: "thickness", Target: pipeline.Input}}, []string{"coverage", "classes-1", "map", "distances"}},
		{"similar", []pipeline.Strategy{pipeline.Similarity{QueryTag: "query"}}, []string{"coverage", "map", "distances", "weights-1"}},
		{"outliers", []pipeline.Strategy{pipeline.Outliers{}}, []string{"coverage", "map", "distances", "weights-1"}},
		{"all", []pipeline.Strategy{
			pipeline.Deduplication{MinDistance: 5}, pipeline.MetadataBalancing{Key: "thickness"},
			pipeline.Similarity{QueryTag: "query", Strength: pipeline.Strength(-1)}, pipeline.MetadataWeighting{Key: "mean_intensity"},
		}, []string{"coverage-1", "classes-2", "map", "distances", "weights-3", "weights-4"}},
	}
	for _, tc := range cases {
		t.Run(tc.tag, func(t *testing.T) {
			selectOn(t, dir, tc.tag, "index < 600", "", 40, tc.list...)
			in, d := loadWith(t, dir, tc.tag, small)
			if len(in.Header.Changed) != 0 {
				t.Errorf("changed: %v", in.Header.Changed)
			}
			plots, err := drawPlots(d, 30)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range plots {
				names = append(names, p.Name)
			}
			if strings.Join(names, " ") != strings.Join(tc.plots, " ") {
				t.Errorf("plots %v, want %v", names, tc.plots)
			}
			var page bytes.Buffer
			if err := writeHTML(&page, d, 30); err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.plots {
				if !strings.Contains(page.String(), `id="plot-`+n+`"`) {
					t.Errorf("page lacks plot %s", n)
				}
			}
		})
	}
}

// A dataset edited after the selection: the report says how.
func TestLoadChangedDataset(t *testing.T) {
	dir := copyFixture(t)
	selectOn(t, dir, "inky", "ink_fraction > 0.2", "", 50,
		pipeline.MetadataWeighting{Key: "ink_fraction"}, pipeline.AnnotationBalancing{})
	scale := func(name string, f float64) func([]arrow.Field, []arrow.Array) ([]arrow.Field, []arrow.Array) {
		return func(fields []arrow.Field, cols []arrow.Array) ([]arrow.Field, []arrow.Array) {
			for i, fl := range fields {
				if fl.Name != name {
					continue
				}
				b := array.NewFloat64Builder(memory.DefaultAllocator)
				for _, v := range cols[i].(*array.Float64).Float64Values() {
					b.Append(v * f)
				}
				cols[i] = b.NewArray()
			}
			return fields, cols
		}
	}
	rewriteTable(t, filepath.Join(dir, "samples.parquet"), scale("ink_fraction", 1.2))
	relabel := func(fields []arrow.Field, cols []arrow.Array) ([]arrow.Field, []arrow.Array) {
		for i, fl := range fields {
			if fl.Name != "label" {
				continue
			}
			b := array.NewStringBuilder(memory.DefaultAllocator)
			for r := 0; r < cols[i].Len(); r++ {
				l := cols[i].ValueStr(r)
				if r%7 == 0 {
					l = "3"
				}
				b.Append(l)
			}
			cols[i] = b.NewArray()
			fields[i].Type = arrow.BinaryTypes.String
		}
		return fields, cols
	}
	rewriteTable(t, filepath.Join(dir, "annotations.parquet"), relabel)
	in, d := loadWith(t, dir, "inky", small)
	got := strings.Join(in.Header.Changed, "\n")
	for _, want := range []string{"the record's query now gives", `mean of column "ink_fraction"`, "class shares for strategy 2 (balance) differ"} {
		if !strings.Contains(got, want) {
			t.Errorf("changes %q lack %q", got, want)
		}
	}
	var page bytes.Buffer
	if err := writeHTML(&page, d, 30); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "The dataset has changed since this selection was made.") {
		t.Error("the page does not say the dataset changed")
	}
}

// Candidates without vectors dropped by the run are dropped again.
func TestLoadDropMissing(t *testing.T) {
	dir := copyFixture(t)
	rewriteTable(t, filepath.Join(dir, "embeddings", "pixels.parquet"), func(fields []arrow.Field, cols []arrow.Array) ([]arrow.Field, []arrow.Array) {
		for i := range cols {
			cols[i] = array.NewSlice(cols[i], 0, 1500)
		}
		return fields, cols
	})
	ds, err := pipeline.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := ds.Query().Selection()
	if err != nil {
		t.Fatal(err)
	}
	sel.Options.DropMissing = true
	if _, err := sel.Diverse(context.Background(), 20, "d", ""); err != nil {
		t.Fatal(err)
	}
	in, d := loadWith(t, dir, "d", small)
	if len(in.Header.Changed) != 0 || len(in.Candidates) != 1500 {
		t.Errorf("%d candidates, changes %v; want 1500 and none", len(in.Candidates), in.Header.Changed)
	}
	if len(d.Header.Warnings) == 0 || !strings.Contains(d.Header.Warnings[0], "dropped 500") {
		t.Errorf("run warnings %v, want the drop", d.Header.Warnings)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := copyFixture(t)
	addTag(t, dir, "manual", "index < 3")
	for tag, want := range map[string]string{
		"nope":   `unknown tag "nope"`,
		"manual": `tag "manual" has no selection record`,
	} {
		_, err := Load(context.Background(), dir, tag)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("tag %s: error %v, want %q", tag, err, want)
		}
	}
	if _, err := Load(context.Background(), filepath.Join(dir, "missing"), "x"); err == nil {
		t.Error("no error for a missing dataset folder")
	}
}

// file_path pointing at PNG files gives thumbnails.
func TestLoadThumbnails(t *testing.T) {
	dir := copyFixture(t)
	addImages(t, dir, 300)
	selectOn(t, dir, "pics", "index < 300", "", 120, pipeline.EmbeddingDiversity{})
	_, d := loadWith(t, dir, "pics", small)
	if d.Picks.Thumbnails != 100 || d.Picks.Note != "" {
		t.Errorf("%d thumbnails (note %q), want 100", d.Picks.Thumbnails, d.Picks.Note)
	}
	if r := d.Picks.Rows[0]; r.ThumbnailType != "image/png" || !bytes.HasPrefix(r.Thumbnail, []byte("\x89PNG")) {
		t.Errorf("first thumbnail %s, %d bytes", r.ThumbnailType, len(r.Thumbnail))
	}
}
