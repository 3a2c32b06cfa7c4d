package importers

import (
	"strconv"

	"github.com/google/uuid"
)

// Namespace is the UUIDv5 namespace of the ids the importers make. A
// sample's id is UUIDv5(Namespace, its file_name), in Python
// uuid.uuid5(uuid.UUID(Namespace), file_name), so another program can
// compute the id of a file without reading the dataset.
const Namespace = "f676d883-7b3e-44fb-b0a1-52d8f5305d07"

var namespace = uuid.MustParse(Namespace)

// SampleID is the sample_id the importers give the sample with file name
// fileName (as stored in its file_name column).
func SampleID(fileName string) uuid.UUID { return uuid.NewSHA1(namespace, []byte(fileName)) }

// cocoAnnotationID is the annotation_id of the COCO annotation with id id:
// UUIDv5(Namespace, "coco/annotation/" + decimal id). COCO's own id is kept
// beside it, in coco_annotation_id.
func cocoAnnotationID(id int64) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte("coco/annotation/"+strconv.FormatInt(id, 10)))
}

// yoloAnnotationID is the annotation_id of the box on line line (1-based)
// of the label file of the image with file name fileName:
// UUIDv5(Namespace, "yolo/" + file name + "#" + decimal line).
func yoloAnnotationID(fileName string, line int) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte("yolo/"+fileName+"#"+strconv.Itoa(line)))
}
