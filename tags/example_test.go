package tags_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"winnow/columnar"
	"winnow/tags"
)

func Example() {
	tmp, err := os.MkdirTemp("", "winnow-tags")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "mnist")
	if err := os.CopyFS(dir, os.DirFS("../testdata/mnist")); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	ds, err := columnar.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}

	// Tag the first three samples: a complete new tags.parquet replaces
	// the old one atomically.
	rows := columnar.NewBitmap(ds.Len())
	for i := range 3 {
		rows.Set(i)
	}
	if err := tags.Add(ctx, ds, "first-three", rows); err != nil {
		log.Fatal(err)
	}
	// A name in use is refused before any work.
	fmt.Println(tags.CheckName(ds, "sample_id"))

	ds, _ = columnar.Open(ctx, dir) // see the new tag
	list, _ := tags.List(ds)
	fmt.Println(list)

	var ids strings.Builder
	if err := tags.Export(ctx, ds, "first-three", "ids", &ids); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(ids.String(), "\n"), "ids exported")
	// Output:
	// tag name "sample_id" is reserved for the sample id column
	// [{first-three 3}]
	// 3 ids exported
}
