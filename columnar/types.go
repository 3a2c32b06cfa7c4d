package columnar

import "winnow/bitmap"

// Matrix holds the vectors of one embedding model for every sample of a
// dataset: row i of the row-major Data (Dim floats) belongs to sample i in
// dataset order. Rows of samples without a vector are zero and absent from
// Present.
type Matrix struct {
	Dim     int
	Data    []float32
	Present *bitmap.Bitmap
}

// Rows is the number of samples the matrix covers.
func (m *Matrix) Rows() int { return m.Present.Len() }

// Row returns sample i's vector, sharing memory with Data.
func (m *Matrix) Row(i int) []float32 { return m.Data[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim] }
