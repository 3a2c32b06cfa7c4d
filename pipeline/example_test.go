package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/winnow-data/winnow/internal/fixture"
	"github.com/winnow-data/winnow/pipeline"
	"github.com/winnow-data/winnow/query"
)

// demo copies the bundled MNIST dataset to a temporary folder, so the
// examples can write tags, and returns it with a cleanup function.
func demo() (*pipeline.Dataset, func()) {
	tmp, err := os.MkdirTemp("", "winnow-example")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := fixture.CopyMNIST(filepath.Join(tmp, "mnist"))
	if err != nil {
		log.Fatal(err)
	}
	ds, err := pipeline.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	return ds, func() { os.RemoveAll(tmp) }
}

func Example() {
	ds, done := demo()
	defer done()
	ctx := context.Background()
	sel, err := ds.Query().Match(query.Field("thickness").Eq("bold")).Selection()
	if err != nil {
		log.Fatal(err)
	}
	res, err := sel.MultiStrategies(ctx, 20, "bold-picks", []pipeline.Strategy{
		pipeline.EmbeddingDiversity{Model: "pixels"},
		pipeline.AnnotationBalancing{Target: pipeline.Uniform},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d candidates; diversity beats random: %v\n", res.Selected, res.Candidates,
		res.Strategies[0].Coverage.Selection < res.Strategies[0].Coverage.Random)
	// Output: 20 of 675 candidates; diversity beats random: true
}

func ExampleSelection_Diverse() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	res, err := sel.Diverse(context.Background(), 10, "diverse-10", "") // "": the only model
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Selected, res.Strategies[0].Model)
	// Output: 10 pixels
}

func ExampleSelection_Deduplicate() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	// A large minimum distance leaves few samples that far from each other.
	res, err := sel.Deduplicate(context.Background(), 1000, "far-apart", "pixels", 11)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Selected < 1000, strings.HasPrefix(res.Warnings[0], "stopped after"))
	// Output: true true
}

func ExampleSelection_MetadataWeighting() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	res, err := sel.MetadataWeighting(context.Background(), 3, "inkiest", "ink_fraction")
	if err != nil {
		log.Fatal(err)
	}
	w := res.Strategies[0].Weights
	fmt.Println(res.Selected, w.Selection > w.Candidates)
	// Output: 3 true
}

func ExampleSelection_AnnotationBalancing() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	res, err := sel.AnnotationBalancing(context.Background(), 20, "half-ones",
		pipeline.Ratios(map[string]float64{"1": 0.5}), "ground_truth")
	if err != nil {
		log.Fatal(err)
	}
	b := res.Strategies[0].Balance
	fmt.Println(b.Classes, b.Selection)
	// Output: [1 other] [0.5 0.5]
}

func ExampleSelection_MetadataBalancing() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	res, err := sel.MetadataBalancing(context.Background(), 9, "even-strokes", "thickness", pipeline.Uniform)
	if err != nil {
		log.Fatal(err)
	}
	b := res.Strategies[0].Balance
	fmt.Println(len(b.Classes), b.Selection)
	// Output: 3 [0.3333333333333333 0.3333333333333333 0.3333333333333333]
}

func ExampleSelection_Similar() {
	ds, done := demo()
	defer done()
	ctx := context.Background()
	if _, err := ds.Query().Match(query.Annotation(query.Label().Eq("7"))).AddTag(ctx, "sevens"); err != nil {
		log.Fatal(err)
	}
	// Reopen to see the new tag, then find the digits most like the sevens
	// among the others.
	ds, _ = pipeline.Open(ds.Dir())
	sel, _ := ds.Query().Match(query.Not(query.Tagged("sevens"))).Selection()
	res, err := sel.Similar(ctx, 5, "like-sevens", "sevens", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Selected, res.Candidates)
	// Output: 5 1795
}

func ExampleSelection_Typical() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	res, err := sel.Typical(context.Background(), 5, "typical", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Selected)
	// Output: 5
}

func ExampleSelection_Outliers() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	res, err := sel.Outliers(context.Background(), 5, "odd-ones", "")
	if err != nil {
		log.Fatal(err)
	}
	w := res.Strategies[0].Weights // typicality of the picks: lower than average
	fmt.Println(res.Selected, w.Selection < w.Candidates)
	// Output: 5 true
}

func ExampleSelection_MultiStrategies() {
	ds, done := demo()
	defer done()
	sel, _ := ds.Query().Selection()
	sel.Options.DryRun = true // select and report, write nothing
	res, err := sel.MultiStrategies(context.Background(), 50, "mix", []pipeline.Strategy{
		pipeline.EmbeddingDiversity{},
		pipeline.MetadataWeighting{Key: "ink_fraction", Strength: pipeline.Strength(0.5)},
		pipeline.AnnotationBalancing{Target: pipeline.Input, Source: "ground_truth"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Selected, res.DryRun, res.Record == "")
	// Output: 50 true true
}

func ExampleParseRequest() {
	req, err := pipeline.ParseRequest([]byte(`{
		"n_samples_to_select": 100,
		"strategies": [
			{"strategy_name": "diversity", "embedding_model_name": null, "strength": 1.0},
			{"strategy_name": "balance", "target_distribution": {"cat": 0.5}}]}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range req.Strategies {
		fmt.Println(s.Name())
	}
	fmt.Println(req.N, req.Strategies[1].(pipeline.AnnotationBalancing).Target)
	_, err = pipeline.ParseRequest([]byte(`{"strategies": [{"strategy_name": "diversity", "colour": "red"}]}`))
	fmt.Println(err)
	// Output:
	// diversity
	// balance
	// 100 cat=0.5
	// strategies config: strategies[0]: strategy "diversity": unknown field "colour" (it takes strength, embedding_model_name)
}
