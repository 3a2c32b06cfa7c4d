package strategies

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// evexRR encodes a 512-bit EVEX register-register instruction of map 0F38,
// W0, no masking: reg (ModRM.reg), vvvv (-1: unused) and rm (ModRM.rm)
// are register numbers 0..31 and pp selects the implied prefix (1: 66,
// 2: F3, 3: F2).
func evexRR(opcode byte, pp int, reg, vvvv, rm int) []byte {
	inv := func(b int) byte { return byte(1 - b&1) }
	p0 := inv(reg>>3)<<7 | inv(rm>>4)<<6 | inv(rm>>3)<<5 | inv(reg>>4)<<4 | 0b10
	v, vp := byte(0b1111), byte(1)
	if vvvv >= 0 {
		v, vp = byte(^vvvv&15), inv(vvvv>>4)
	}
	p1 := v<<3 | 1<<2 | byte(pp)
	p2 := byte(0b10)<<5 | vp<<3
	return []byte{0x62, p0, p1, p2, opcode, 0xc0 | byte(reg&7)<<3 | byte(rm&7)}
}

// TestBF16Encodings re-derives the bytes of every hand-encoded
// instruction in screen_amd64.s from the Intel-order mnemonic beside it.
func TestBF16Encodings(t *testing.T) {
	src, err := os.ReadFile("screen_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^\s*((?:BYTE \$0x[0-9a-f]{2};? ?){6})// (\w+) ([YZ]\d+), Z(\d+)(?:, Z(\d+))? \(Intel order\)$`)
	n := 0
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.Contains(l, "BYTE") {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unrecognised encoded line %q", l)
		}
		reg, _ := strconv.Atoi(m[3][1:])
		a, _ := strconv.Atoi(m[4])
		var want []byte
		switch m[2] {
		case "VDPBF16PS":
			b, _ := strconv.Atoi(m[5])
			want = evexRR(0x52, 2, reg, a, b)
		case "VCVTNE2PS2BF16":
			b, _ := strconv.Atoi(m[5])
			want = evexRR(0x72, 3, reg, a, b)
		case "VCVTNEPS2BF16":
			want = evexRR(0x72, 2, reg, -1, a)
		default:
			t.Fatalf("unknown instruction %s", m[2])
		}
		var parts []string
		for _, b := range want {
			parts = append(parts, fmt.Sprintf("BYTE $0x%02x", b))
		}
		if got := strings.Join(parts, "; "); strings.TrimSpace(m[1]) != got {
			t.Fatalf("%s: encoding is %q", strings.TrimSpace(l), got)
		}
		n++
	}
	if n != 26 {
		t.Fatalf("%d encoded instructions, want 26 (24 VDPBF16PS, 2 conversions)", n)
	}
}
