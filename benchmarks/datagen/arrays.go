package datagen

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/winnow-data/winnow/columnar"
)

// embeddingArray wraps row-major vectors as a FixedSizeList<float32, dim>
// array without copying: building it value by value through a builder
// would cost more than generating the numbers.
func embeddingArray(dim int, data []float32) arrow.Array {
	n := len(data) / dim
	vals := array.NewFloat32Data(array.NewData(arrow.PrimitiveTypes.Float32, len(data),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(data))}, nil, 0, 0))
	defer vals.Release()
	d := array.NewData(columnar.EmbeddingType(dim), n, []*memory.Buffer{nil}, []arrow.ArrayData{vals.Data()}, 0, 0)
	defer d.Release()
	return array.NewFixedSizeListData(d)
}

// embeddingArray16 is embeddingArray for FixedSizeList<float16, dim>: the
// values rounded to float16.
func embeddingArray16(dim int, data []float32) arrow.Array {
	n := len(data) / dim
	h := make([]float16.Num, len(data))
	for i, v := range data {
		h[i] = float16.New(v)
	}
	vals := array.NewFloat16Data(array.NewData(arrow.FixedWidthTypes.Float16, len(h),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float16Traits.CastToBytes(h))}, nil, 0, 0))
	defer vals.Release()
	d := array.NewData(arrow.FixedSizeListOfNonNullable(int32(dim), arrow.FixedWidthTypes.Float16), n, []*memory.Buffer{nil}, []arrow.ArrayData{vals.Data()}, 0, 0)
	defer d.Release()
	return array.NewFixedSizeListData(d)
}
