package columnar

// The zstd codec winnow reads Parquet pages with.
//
// arrow-go decodes every zstd page with one shared klauspost decoder made
// with default options: DecodeAll takes one of its min(4, GOMAXPROCS)
// block decoders from a channel and verifies each frame's xxhash checksum.
// Embedding pages are the bulk of what winnow reads (2 GB for a million
// 512-d vectors), and incompressible floats make zstd spend its time in
// literal decoding, so the fixed costs per page and the checksum pass
// show. winnow registers (compress.RegisterCodec, once per process, the
// first time it opens a file) a codec that decodes with decoders of its
// own, one per goroutine from a pool, each with concurrency 1 (no channel
// hand-off), low-memory mode off, and output capped at the
// destination's capacity, which arrow-go sizes from the page header, so a
// corrupt frame cannot make it allocate beyond the page. Frame checksums
// are verified: they are the only check a page of raw ids has, and bytes
// flipped in one otherwise decode as other ids (TestBadInputCorruptZstdPage);
// xxhash costs a small fraction of the literal decoding. Encoding and
// streaming stay arrow-go's.

import (
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdReader is the codec winnow registers for zstd.
type zstdReader struct {
	compress.Codec // arrow-go's, for everything but Decode
}

var zstdDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(false),
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		panic(err) // only for invalid options
	}
	return d
}}

// Decode implements compress.Codec; arrow-go calls DecodeWithError.
func (z zstdReader) Decode(dst, src []byte) []byte {
	out, err := z.DecodeWithError(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

// DecodeWithError decodes the zstd frames of src into dst's memory when
// it is large enough (compress.ErrorCodec).
func (zstdReader) DecodeWithError(dst, src []byte) ([]byte, error) {
	d := zstdDecoders.Get().(*zstd.Decoder)
	defer zstdDecoders.Put(d)
	return d.DecodeAll(src, dst[:0])
}

var registerZstd sync.Once

// useZstdReader registers zstdReader in place of arrow-go's zstd codec.
func useZstdReader() {
	registerZstd.Do(func() {
		if orig, err := compress.GetCodec(compress.Codecs.Zstd); err == nil {
			compress.RegisterCodec(compress.Codecs.Zstd, zstdReader{orig})
		}
	})
}
