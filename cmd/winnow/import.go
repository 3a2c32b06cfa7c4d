package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/importers"
)

func importCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "make a dataset from COCO or YOLO annotations, or add embeddings to one",
		Description: `Imports build a new dataset folder (coco, yolo) or add an embedding model
to an existing one (embeddings). Input is checked in full first: malformed
input is an error naming the file and the line or element, and then
nothing is written. A new dataset appears at --out only when complete.
Examples:

   winnow import coco annotations/instances_val2017.json --out val2017
   winnow import yolo datasets/coco128 --out coco128
   winnow import embeddings clip.npy --ids files.txt --match file_name --model clip --out val2017`,
		Commands: []*cli.Command{importCOCOCommand(std), importYOLOCommand(std), importEmbeddingsCommand(std)},
	}
}

var (
	importOutFlag    = &cli.StringFlag{Name: "out", Usage: "the dataset `DIR` to write"}
	importForceFlag  = &cli.BoolFlag{Name: "force", Usage: "replace the dataset (or model) already there"}
	importSourceFlag = &cli.StringFlag{Name: "source", Usage: "the annotations' source, e.g. a model name (default ground_truth; required for predictions)"}
	clipBoxesFlag    = &cli.BoolFlag{Name: "clip-boxes", Usage: "cut boxes reaching beyond their image to it instead of refusing them"}
)

func importCOCOCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "coco",
		Usage:     "make a dataset from a COCO instances file",
		ArgsUsage: "INSTANCES.json",
		Description: `One sample per image (images without annotations too), one annotation
per COCO annotation: label (the category's name), x, y, width, height in
pixels, area, iscrowd, COCO's ids kept as coco_image_id, coco_annotation_id
and coco_category_id. Sample ids are UUIDv5 of the file name, so importing
again gives the same ids. Example:

   winnow import coco annotations/instances_val2017.json --out val2017 --images-dir val2017-images`,
		Flags: []cli.Flag{importOutFlag, progressFlag(), importSourceFlag,
			&cli.StringFlag{Name: "images-dir", Usage: "the folder holding the images: samples get a file_path in it"},
			clipBoxesFlag, importForceFlag, jsonFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			in, out, err := importArgs(cmd, "INSTANCES.json")
			if err != nil {
				return err
			}
			opts := importers.COCOOptions{
				Source:    cmd.String("source"),
				ImagesDir: cmd.String("images-dir"),
				ClipBoxes: cmd.Bool("clip-boxes"),
				Force:     cmd.Bool("force"),
			}
			return importRun(cmd, std, "bytes", &opts.Progress, func() (*importers.Result, error) {
				return importers.COCO(ctx, in, out, opts)
			})
		},
	}
}

func importYOLOCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "yolo",
		Usage:     "make a dataset from a YOLO folder (images/, labels/, data.yaml)",
		ArgsUsage: "DIR",
		Description: `Images below a folder named images (images/, images/train/, train/images/),
labels in the matching labels folder ("class cx cy w h", normalised, with
an optional sixth field, a prediction's confidence), class names from
data.yaml or classes.txt. Image sizes come from the image headers (PNG,
JPEG, GIF), so boxes come out in pixels. Images without a label file are
kept. Example:

   winnow import yolo datasets/coco128 --out coco128
   winnow import yolo runs/predict --out preds --source yolov8n`,
		Flags: []cli.Flag{importOutFlag, progressFlag(), importSourceFlag,
			&cli.StringFlag{Name: "names", Usage: "the class names `FILE` (data.yaml or classes.txt); default: found in DIR"},
			clipBoxesFlag, importForceFlag, jsonFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			in, out, err := importArgs(cmd, "DIR")
			if err != nil {
				return err
			}
			opts := importers.YOLOOptions{
				Names:     cmd.String("names"),
				Source:    cmd.String("source"),
				ClipBoxes: cmd.Bool("clip-boxes"),
				Force:     cmd.Bool("force"),
			}
			return importRun(cmd, std, "images", &opts.Progress, func() (*importers.Result, error) {
				return importers.YOLO(ctx, in, out, opts)
			})
		},
	}
}

func importEmbeddingsCommand(std stdio) *cli.Command {
	return &cli.Command{
		Name:      "embeddings",
		Usage:     "add an embedding model to a dataset from .npy, .npz, Parquet or CSV",
		ArgsUsage: "FILE",
		Description: `Writes DIR/embeddings/MODEL.parquet. A .npy or .npz holds only vectors:
--ids names a file of one id per line, the i-th the id of the i-th vector.
A Parquet or CSV table has its own id column. Ids are sample ids, or with
--match file_name (or another samples column) that column's values; every
id must name one sample, and samples may have no vector. Example:

   winnow import embeddings clip.npy --ids files.txt --match file_name --model clip --out val2017`,
		Flags: []cli.Flag{importOutFlag, progressFlag(),
			&cli.StringFlag{Name: "model", Usage: "the model `NAME`"},
			&cli.StringFlag{Name: "ids", Usage: "a `FILE` of ids, one per line, in the vectors' order"},
			&cli.StringFlag{Name: "match", Usage: "what the ids are: id (sample ids) or a samples `COLUMN` such as file_name (default id, or the table's id column's name)"},
			&cli.StringFlag{Name: "array", Usage: "the array of an .npz holding several"},
			&cli.StringFlag{Name: "id-column", Usage: "the table's id `COLUMN`"},
			&cli.StringFlag{Name: "vector-column", Usage: "the table's vector `COLUMN`"},
			importForceFlag, jsonFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			in, out, err := importArgs(cmd, "FILE")
			if err != nil {
				return err
			}
			if cmd.String("model") == "" {
				return usagef("embeddings needs --model, the name of the model")
			}
			opts := importers.EmbeddingsOptions{
				Model:        cmd.String("model"),
				IDs:          cmd.String("ids"),
				Match:        cmd.String("match"),
				Array:        cmd.String("array"),
				IDColumn:     cmd.String("id-column"),
				VectorColumn: cmd.String("vector-column"),
				Force:        cmd.Bool("force"),
			}
			p, err := newReporter(cmd, std)
			if err != nil {
				return err
			}
			if p != nil {
				opts.Progress = p.phase("import", "bytes")
				defer p.done()
			}
			res, err := importers.Embeddings(ctx, in, out, opts)
			if err != nil {
				return importHint(err)
			}
			if cmd.Bool("json") {
				return printJSON(std.out, res)
			}
			fmt.Fprintf(std.out, "imported %d vectors of dimension %d as model %s into %s", res.Vectors, res.Dim, res.Model, out)
			if none := res.Samples - res.Vectors; none > 0 {
				fmt.Fprintf(std.out, " (%d of the %d samples have none)", none, res.Samples)
			}
			fmt.Fprintln(std.out)
			return nil
		},
	}
}

// importArgs returns the single input argument and --out.
func importArgs(cmd *cli.Command, what string) (in, out string, err error) {
	switch cmd.Args().Len() {
	case 0:
		return "", "", usagef("%s needs %s: %s %s --out DIR", cmd.Name, what, cmd.FullName(), what)
	case 1:
	default:
		return "", "", usagef("%s takes one %s, got %d arguments: %s", cmd.Name, what, cmd.Args().Len(), strings.Join(cmd.Args().Slice(), " "))
	}
	if cmd.String("out") == "" {
		return "", "", usagef("%s needs --out DIR, the dataset to write", cmd.Name)
	}
	return cmd.Args().First(), cmd.String("out"), nil
}

// importRun runs an importer, with --progress counting in unit through
// *progress, and prints its result.
func importRun(cmd *cli.Command, std stdio, unit string, progress *func(done, total int), run func() (*importers.Result, error)) error {
	p, err := newReporter(cmd, std)
	if err != nil {
		return err
	}
	if p != nil {
		*progress = p.phase("import", unit)
		defer p.done()
	}
	res, err := run()
	return printImport(std, cmd, res, err)
}

// printImport reports a COCO or YOLO import.
func printImport(std stdio, cmd *cli.Command, res *importers.Result, err error) error {
	if err != nil {
		return importHint(err)
	}
	if cmd.Bool("json") {
		return printJSON(std.out, res)
	}
	printImportResult(std.out, res)
	return nil
}

func printImportResult(w io.Writer, res *importers.Result) {
	fmt.Fprintf(w, "imported %d samples and %d annotations (%d labels) into %s", res.Samples, res.Annotations, res.Labels, res.Dir)
	if res.Unannotated > 0 {
		fmt.Fprintf(w, "; %d samples have no annotation", res.Unannotated)
	}
	fmt.Fprintln(w)
}

// hinted is an error with the flag that fixes it appended.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() + h.hint }
func (h hinted) Unwrap() error { return h.err }

// importHint adds to an importer's error the flag that fixes it.
func importHint(err error) error {
	var (
		exists *importers.ExistsError
		source *importers.SourceError
		array  *importers.ArrayChoiceError
		column *importers.ColumnChoiceError
		id     *columnar.IDError
	)
	switch {
	case errors.As(err, &exists):
		return hinted{err, "; use --force to replace it"}
	case errors.As(err, &source):
		return hinted{err, " with --source"}
	case errors.As(err, &array) && array.Chosen == "":
		return hinted{err, " with --array"}
	case errors.As(err, &column) && column.Named == "":
		return hinted{err, " with --" + column.Role + "-column"}
	case errors.Is(err, importers.ErrNoIDs):
		return hinted{err, " (--ids FILE)"}
	case errors.As(err, &id):
		return hinted{err, " (to match file names, use --match file_name)"}
	}
	return err
}
