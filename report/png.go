package report

import (
	"fmt"
	"os"
	"path/filepath"
)

// WritePNGs writes every plot of d into dir as NAME.png (see Plot.Name),
// creating dir if needed, and returns the files written. A file of the
// same name is replaced; other files in dir are left alone.
func WritePNGs(dir string, d *Data) ([]string, error) {
	plots, err := Plots(d)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var out []string
	for _, p := range plots {
		path := filepath.Join(dir, p.Name+".png")
		if err := writeFileAtomic(path, p.PNG); err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}

// writeFileAtomic writes data to path through a temporary file in the
// same folder and a rename, so a reader never sees half a file and a
// failed write leaves the old one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}
