package importers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pythonWithNumpy returns a Python interpreter that imports numpy, or
// skips the test: numpy is optional (Debian: apt-get install python3-numpy).
func pythonWithNumpy(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import numpy").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with numpy (apt-get install -y python3-numpy): skipping the test of files numpy writes")
	return ""
}

// TestEmbeddingsWrittenByNumpy reads .npy and .npz files written by numpy
// itself, in every dtype, byte order and memory order winnow reads, large
// enough to span several read chunks, and checks every value.
func TestEmbeddingsWrittenByNumpy(t *testing.T) {
	py := pythonWithNumpy(t)
	const n, d = 3000, 96
	work := t.TempDir()
	script := fmt.Sprintf(`
import numpy as np, os
os.chdir(%q)
a = ((np.arange(%d * %d).reshape(%d, %d) %% 1021) - 500) / 4.0   # exact in float16: 11 significant bits
np.save("c_f2.npy", a.astype("<f2"))
np.save("c_f4_be.npy", a.astype(">f4"))
np.save("c_f8.npy", a.astype("<f8"))
np.save("f_f4.npy", np.asfortranarray(a.astype("<f4")))
np.save("f_f2_be.npy", np.asfortranarray(a.astype(">f2")))
np.save("ints.npy", np.arange(6).reshape(2, 3))
np.savez("named.npz", emb=a.astype("<f4"), other=np.zeros((2, 2)))
np.savez_compressed("compressed.npz", np.asfortranarray(a.astype(">f8")))
with open("ids.txt", "w") as f:
    f.write("".join("img%%05d.jpg\n" %% i for i in range(%d)))
`, work, n, d, n, d, n)
	out, err := exec.Command(py, "-c", script).CombinedOutput()
	require.NoError(t, err, string(out))

	images := make([]any, n)
	for i := range images {
		images[i] = map[string]any{"id": i, "file_name": fmt.Sprintf("img%05d.jpg", i), "width": 10, "height": 10}
	}
	dir := filepath.Join(t.TempDir(), "ds")
	_, err = COCO(context.Background(), writeCOCO(t, map[string]any{"images": images}), dir, COCOOptions{})
	require.NoError(t, err)
	want := func(i, j int) float32 { return float32((float64((i*d+j)%1021) - 500) / 4) }
	ids := filepath.Join(work, "ids.txt")
	for _, c := range []struct{ file, array string }{
		{"c_f2.npy", ""}, {"c_f4_be.npy", ""}, {"c_f8.npy", ""}, {"f_f4.npy", ""}, {"f_f2_be.npy", ""},
		{"named.npz", "emb"}, {"compressed.npz", ""},
	} {
		model := strings.NewReplacer(".", "_").Replace(c.file)
		_, err := Embeddings(context.Background(), filepath.Join(work, c.file), dir, EmbeddingsOptions{Model: model, IDs: ids, Match: "file_name", Array: c.array})
		require.NoError(t, err, c.file)
		got := readModel(t, dir, model)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				if got[i][j] != want(i, j) {
					t.Fatalf("%s: row %d, column %d is %v, want %v", c.file, i, j, got[i][j], want(i, j))
				}
			}
		}
	}
	_, err = Embeddings(context.Background(), filepath.Join(work, "ints.npy"), dir, EmbeddingsOptions{Model: "ints", IDs: ids})
	require.ErrorContains(t, err, `: header: dtype "<i8" (int64); winnow reads float16, float32 and float64`)
	_, err = os.Stat(filepath.Join(dir, "embeddings", "ints.parquet"))
	require.True(t, os.IsNotExist(err))
}
