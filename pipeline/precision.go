package pipeline

import (
	"errors"
	"fmt"

	"github.com/winnow-data/winnow/columnar"
)

// Precision is the number format the engine computes on.
type Precision string

const (
	// PrecisionStored keeps every model's vectors as the dataset stores
	// them (float32 or float16); the engine is exact on both.
	PrecisionStored Precision = ""
	// PrecisionFloat16 rounds float32 vectors to float16 (nearest, ties
	// to even) as they are loaded, halving the working set. It is
	// approximate: each value keeps 11 significant bits (a relative error
	// up to 2^-11), so distances, and so picks and coverage radii, can
	// differ from those of the stored values; the result and its record
	// say so. Vectors already stored as float16 are unchanged.
	PrecisionFloat16 Precision = "float16"
)

// ParsePrecision reads a precision name: "float16", or "stored" (or "")
// for the stored precision.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "stored":
		return PrecisionStored, nil
	case "float16":
		return PrecisionFloat16, nil
	}
	return "", fmt.Errorf("precision %q: want float16 or stored", s)
}

// Approximate reports whether the precision changes the vectors.
func (p Precision) Approximate() bool { return p == PrecisionFloat16 }

// PrecisionError reports vectors that float16 cannot hold: values beyond
// ±65504 (of magnitude 65520 or more) round to ±Inf. The read finds them
// as it rounds the values (columnar.Float16RangeError).
type PrecisionError struct {
	Model string
	Count int     // vectors affected
	First string  // the first affected sample (or annotation), by id: "sample ID"
	Value float32 // its first value out of range
}

func (e *PrecisionError) Error() string {
	return fmt.Sprintf("precision float16: model %q: %d vectors have values beyond float16's range of ±65504 (first: %s, value %g); select at the stored precision",
		e.Model, e.Count, e.First, e.Value)
}

// precisionError turns the columnar error of values float16 cannot hold,
// met reading model at PrecisionFloat16, into a *PrecisionError; other
// errors are returned as they are.
func precisionError(model string, err error) error {
	var re *columnar.Float16RangeError
	if !errors.As(err, &re) {
		return err
	}
	return &PrecisionError{Model: model, Count: re.Count, First: re.Space + " " + re.ID, Value: re.Value}
}
