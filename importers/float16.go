package importers

import "github.com/winnow-data/winnow/internal/half"

// halfToFloat32 converts an IEEE 754 binary16 value (numpy's float16) to
// float32, exactly: every float16 is a float32.
func halfToFloat32(h uint16) float32 { return half.ToFloat32(h) }
