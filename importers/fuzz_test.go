package importers

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzReadNPY: any bytes are a matrix or an *InputError, never a panic,
// and a matrix holds exactly its shape's finite values.
func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes(1, "<f4", false, []int{2, 4}, testVectors[:8]))
	f.Add(npyBytes(2, ">f2", true, []int{3, 4}, testVectors))
	f.Add(npyBytes(3, "<f8", false, []int{1, 1}, []float64{1}))
	f.Add(rawHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"))
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readNPY(context.Background(), bytes.NewReader(b), int64(len(b)), "f.npy", "")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		if m.n <= 0 || m.dim <= 0 || len(m.data) != m.n*m.dim {
			t.Fatalf("matrix %d x %d with %d values", m.n, m.dim, len(m.data))
		}
		if firstNonFinite(m.data) >= 0 {
			t.Fatal("a non-finite value passed")
		}
	})
}

// FuzzParseLabels: any label file is boxes inside the image (within the
// tolerance) or an *InputError naming a line.
func FuzzParseLabels(f *testing.F) {
	f.Add([]byte("0 0.5 0.5 0.25 0.5\n\n1 0.1 0.1 0.2 0.2 0.9\n"), 640, 480)
	f.Add([]byte("2 0.5 0.5 1 1\r\n0.0 1e-3 1 0 0"), 3, 5)
	f.Add([]byte("0 0.5 0.5 0.25\n"), 10, 10)
	names := &classNames{file: "data.yaml", names: []string{"a", "", "c"}}
	f.Fuzz(func(t *testing.T, b []byte, w, h int) {
		if w <= 0 || h <= 0 || w > 1<<20 || h > 1<<20 {
			return
		}
		boxes, err := parseLabels("a.txt", b, w, h, names, false)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Line <= 0 {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		for _, x := range boxes {
			if x.b.w < 0 || x.b.h < 0 || x.b.x < -boxTolerance || x.b.x+x.b.w > float64(w)+boxTolerance {
				t.Fatalf("box %v in a %dx%d image", x.b, w, h)
			}
			if _, err := names.name(x.class); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzParseCOCO: any file is parsed and checked, or an *InputError.
func FuzzParseCOCO(f *testing.F) {
	f.Add(`{"images":[{"id":1,"file_name":"a.jpg","width":4,"height":3}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}],"categories":[{"id":1,"name":"x"}]}`)
	f.Add(`{"images":[],"images":[]}`)
	f.Add(`{"annotations":[{"id":1}],"images":[{"id":1,"file_name":"a","width":1,"height":1}]}`)
	f.Add(`[1, 2`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCOCO(context.Background(), strings.NewReader(s), "i.json")
		if err == nil {
			_, _, _, err = c.tables("i.json", "", COCOOptions{Source: "m"})
		}
		if err != nil {
			var ie *InputError
			var se *syntaxError
			if !errors.As(err, &ie) && !errors.As(err, &se) {
				t.Fatalf("%T: %v", err, err)
			}
		}
	})
}
