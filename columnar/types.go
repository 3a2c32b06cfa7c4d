package columnar

import (
	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/internal/half"
)

// Matrix holds the vectors of one embedding model for every row of a
// dataset (every sample, or every annotation for an object-level model):
// row i of the row-major storage (Dim values) belongs to row i in dataset
// (or annotation table) order. Rows without a vector are zero and absent
// from Present.
//
// Exactly one storage is set: Data holds float32 values, or F16 holds the
// IEEE 754 binary16 bits of a table that stores float16, kept 16-bit so
// that a float16 dataset costs half the memory and is exact for the
// stored values. Every value is finite (the reader checks each once).
type Matrix struct {
	Dim     int
	Data    []float32 // nil when F16 holds the vectors
	F16     []uint16  // binary16 bits; nil unless the table stores float16 or the read is WithFloat16
	Present *bitmap.Bitmap
}

// Rows is the number of rows the matrix covers.
func (m *Matrix) Rows() int { return m.Present.Len() }

// Row returns row i's float32 vector, sharing memory with Data; it
// panics for a float16 matrix (see Row16).
func (m *Matrix) Row(i int) []float32 { return m.Data[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim] }

// Row16 returns row i's float16 bits, sharing memory with F16; it panics
// for a float32 matrix.
func (m *Matrix) Row16(i int) []uint16 { return m.F16[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim] }

// Float16 reports whether the matrix holds float16 values (F16).
func (m *Matrix) Float16() bool { return m.F16 != nil }

// Float32s returns the matrix's values as float32: Data itself, or for a
// float16 matrix a new slice of the values widened (exactly) to float32.
func (m *Matrix) Float32s() []float32 {
	if m.F16 == nil {
		return m.Data
	}
	out := make([]float32, len(m.F16))
	for i, h := range m.F16 {
		out[i] = half.ToFloat32(h)
	}
	return out
}
