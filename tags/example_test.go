package tags_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/internal/fixture"
	"github.com/winnow-data/winnow/tags"
)

func Example() {
	tmp, err := os.MkdirTemp("", "winnow-tags")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir, err := fixture.CopyMNIST(filepath.Join(tmp, "mnist"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	ds, err := columnar.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}

	// Tag the first three samples (a tag made without a selection has no
	// record): a complete new tags.parquet replaces the old one atomically.
	rows := bitmap.FromIndexes(ds.Len(), []int{0, 1, 2})
	if err := tags.Add(ctx, ds, "first-three", rows, nil); err != nil {
		log.Fatal(err)
	}
	// A name in use is refused before any work.
	fmt.Println(tags.CheckName(ds, "sample_id"))

	ds, _ = columnar.Open(ctx, dir) // see the new tag
	list, _ := tags.List(ds)
	fmt.Println(list)

	// Rename it: the tag and any selection record move together.
	if err := tags.Rename(ctx, ds, "first-three", "head"); err != nil {
		log.Fatal(err)
	}
	ds, _ = columnar.Open(ctx, dir)
	fmt.Println(ds.TagNames())
	// Output:
	// tag name "sample_id" is reserved for the sample id column
	// [{first-three 3}]
	// [head]
}
