// Command gencoco writes a COCO instances file of the COCO 2017 val or
// train shape (datagen.COCOVal2017, datagen.COCOTrain2017): the benchmark
// input of winnow import coco, for timing the command itself.
//
//	go run ./benchmarks/cmd/gencoco -shape val -out benchmarks/data/coco-val2017.json
//	/usr/bin/time -v go run ./cmd/winnow import coco benchmarks/data/coco-val2017.json --out /tmp/val
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/winnow-data/winnow/benchmarks/datagen"
)

func main() {
	shape := flag.String("shape", "val", "val or train (COCO 2017's counts)")
	out := flag.String("out", "", "the file to write")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	s, ok := map[string]datagen.COCOShape{"val": datagen.COCOVal2017, "train": datagen.COCOTrain2017}[*shape]
	if !ok || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gencoco -shape val|train -out FILE")
		os.Exit(2)
	}
	if err := write(*out, s, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gencoco:", err)
		os.Exit(1)
	}
}

func write(path string, s datagen.COCOShape, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := datagen.WriteCOCO(f, s, seed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
