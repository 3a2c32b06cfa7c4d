package importers_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/winnow-data/winnow/importers"
)

// A sample's id is a function of its file name alone.
func ExampleSampleID() {
	fmt.Println(importers.SampleID("000000397133.jpg"))
	// Output: 9aaead8f-8f58-52be-9dd5-6efda7ca1548
}

// Import a COCO instances file as a new dataset.
func ExampleCOCO() {
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	in := filepath.Join(tmp, "instances.json")
	os.WriteFile(in, []byte(`{
		"images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
		           {"id": 2, "file_name": "b.jpg", "width": 640, "height": 480}],
		"annotations": [{"id": 7, "image_id": 1, "category_id": 3, "bbox": [10, 20, 100, 50], "area": 5000, "iscrowd": 0}],
		"categories": [{"id": 3, "name": "car", "supercategory": "vehicle"}]}`), 0o644)

	res, err := importers.COCO(context.Background(), in, filepath.Join(tmp, "ds"), importers.COCOOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d samples, %d annotations, %d labels, %d without annotations\n", res.Samples, res.Annotations, res.Labels, res.Unannotated)
	// Output: 2 samples, 1 annotations, 1 labels, 1 without annotations
}

// Malformed input names the file and the element, and writes nothing.
func ExampleInputError() {
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	in := filepath.Join(tmp, "instances.json")
	os.WriteFile(in, []byte(`{"images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
		"annotations": [{"id": 7, "image_id": 1, "category_id": 9, "bbox": [10, 20, 100, 50]}],
		"categories": [{"id": 3, "name": "car"}]}`), 0o644)

	_, err := importers.COCO(context.Background(), in, filepath.Join(tmp, "ds"), importers.COCOOptions{})
	var ie *importers.InputError
	if errors.As(err, &ie) {
		fmt.Println(filepath.Base(ie.File)+":", ie.Where+":", ie.Err)
	}
	_, statErr := os.Stat(filepath.Join(tmp, "ds"))
	fmt.Println("written:", statErr == nil)
	// Output:
	// instances.json: annotations[0] (id 7): category_id 9 is not among the 1 categories
	// written: false
}
