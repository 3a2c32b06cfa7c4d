package importers

// Image sizes from image headers, with the standard library's decoders:
// only the header is read (image/png, image/jpeg and image/gif
// DecodeConfig), never the pixels.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
)

// imageSize returns the size in pixels of the image at path as it is
// displayed: a JPEG whose EXIF orientation turns it a quarter (5 to 8)
// has its width and height swapped, as YOLO tools (and every viewer)
// measure it. The format is told by the file's first bytes, not its name.
func imageSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(12)
	var decode func(io.Reader) (image.Config, error)
	jpg := false
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		decode = png.DecodeConfig
	case bytes.HasPrefix(head, []byte("\xff\xd8")):
		decode, jpg = jpeg.DecodeConfig, true
	case bytes.HasPrefix(head, []byte("GIF8")):
		decode = gif.DecodeConfig
	default:
		return 0, 0, fmt.Errorf("%s; winnow reads the sizes of PNG, JPEG and GIF images", formatName(head))
	}
	orientation := 1
	if jpg {
		// The EXIF block precedes the frame header, within the first
		// segments; Peek leaves them for the decoder.
		b, _ := br.Peek(br.Size())
		orientation = exifOrientation(b)
	}
	cfg, err := decode(br)
	if err != nil {
		return 0, 0, fmt.Errorf("read image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, fmt.Errorf("image header gives size %dx%d", cfg.Width, cfg.Height)
	}
	if orientation >= 5 && orientation <= 8 {
		return cfg.Height, cfg.Width, nil
	}
	return cfg.Width, cfg.Height, nil
}

// formatName names an image format winnow does not read, by its magic.
func formatName(head []byte) string {
	switch {
	case len(head) == 0:
		return "empty file"
	case bytes.HasPrefix(head, []byte("BM")):
		return "a BMP image"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "a WebP image"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "a TIFF image"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return "a HEIF/AVIF image"
	}
	return "not an image format winnow knows"
}

// exifOrientation returns the EXIF orientation (1 to 8) recorded in the
// JPEG whose first bytes are b, or 1 when b holds none.
func exifOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			i += 2 // no length
			continue
		case marker == 0xda || marker == 0xd9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			if o, err := tiffOrientation(seg[6:]); err == nil {
				return o
			}
			return 1
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 (Orientation) of the first IFD of the
// TIFF structure t, as EXIF stores it.
func tiffOrientation(t []byte) (int, error) {
	if len(t) < 8 {
		return 0, errors.New("short TIFF header")
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0, errors.New("not TIFF")
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 0, errors.New("IFD outside the block")
	}
	count := int(bo.Uint16(t[off:]))
	for k := 0; k < count; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			break
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 { // one SHORT
			return 0, errors.New("malformed orientation")
		}
		o := int(bo.Uint16(t[e+8:]))
		if o < 1 || o > 8 {
			return 0, errors.New("orientation out of range")
		}
		return o, nil
	}
	return 0, errors.New("no orientation")
}
