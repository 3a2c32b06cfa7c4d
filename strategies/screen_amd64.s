#include "textflag.h"
#include "tile_amd64.h"

// The bfloat16 screen kernel (AVX512_BF16). The Go assembler has no
// mnemonics for VDPBF16PS and VCVTNE2PS2BF16/VCVTNEPS2BF16, so they are
// written as their EVEX bytes, each with the instruction in Intel operand
// order beside it (TestBF16Encodings re-derives every one).

// func screenAVX512(t *tile)
// Six rows converted to bfloat16 (round to nearest even) into t.rowbuf,
// their dot products with the 64 columns of t.panel16 (pairs of
// bfloat16 per column, see screen.go) accumulated in float32, then the
// masks at t.gamma, which the caller sets to screenGamma.
TEXT ·screenAVX512(SB), NOSPLIT, $0-8
	MOVQ t+0(FP), DI
	MOVQ 56(DI), CX
	MOVQ 1816(DI), DX
	XORQ R10, R10
	MOVQ DX, R11

conv:
	MOVQ (DI)(R10*8), SI
	MOVQ CX, BX

c32:
	CMPQ BX, $32
	JL   c16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	BYTE $0x62; BYTE $0xf2; BYTE $0x77; BYTE $0x48; BYTE $0x72; BYTE $0xd0 // VCVTNE2PS2BF16 Z2, Z1, Z0 (Intel order)
	VMOVDQU32 Z2, (R11)
	ADDQ $128, SI
	ADDQ $64, R11
	SUBQ $32, BX
	JMP  c32

c16:
	CMPQ BX, $16
	JL   cnext
	VMOVUPS (SI), Z0
	BYTE $0x62; BYTE $0xf2; BYTE $0x7e; BYTE $0x48; BYTE $0x72; BYTE $0xd0 // VCVTNEPS2BF16 Y2, Z0 (Intel order)
	VMOVDQU Y2, (R11)
	ADDQ $32, R11

cnext:
	INCQ R10
	CMPQ R10, $6
	JL   conv
	MOVQ CX, BX
	SHLQ $1, BX
	MOVQ DX, R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	LEAQ (R11)(BX*1), R12
	LEAQ (R12)(BX*1), R13
	MOVQ 1872(DI), DX
	SHRQ $1, CX
	MOVQ 1808(DI), SI
	XORQ BX, BX
	XORQ R15, R15
	ZERO24
	XORQ AX, AX

pair:
	VMOVDQU32 (SI), Z24
	VMOVDQU32 64(SI), Z25
	VMOVDQU32 128(SI), Z26
	VMOVDQU32 192(SI), Z27
	VPBROADCASTD (R8)(AX*4), Z28
	BYTE $0x62; BYTE $0x92; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xc0 // VDPBF16PS Z0, Z28, Z24 (Intel order)
	BYTE $0x62; BYTE $0x92; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xc9 // VDPBF16PS Z1, Z28, Z25 (Intel order)
	BYTE $0x62; BYTE $0x92; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xd2 // VDPBF16PS Z2, Z28, Z26 (Intel order)
	BYTE $0x62; BYTE $0x92; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xdb // VDPBF16PS Z3, Z28, Z27 (Intel order)
	VPBROADCASTD (R9)(AX*4), Z29
	BYTE $0x62; BYTE $0x92; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xe0 // VDPBF16PS Z4, Z29, Z24 (Intel order)
	BYTE $0x62; BYTE $0x92; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xe9 // VDPBF16PS Z5, Z29, Z25 (Intel order)
	BYTE $0x62; BYTE $0x92; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xf2 // VDPBF16PS Z6, Z29, Z26 (Intel order)
	BYTE $0x62; BYTE $0x92; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xfb // VDPBF16PS Z7, Z29, Z27 (Intel order)
	VPBROADCASTD (R10)(AX*4), Z30
	BYTE $0x62; BYTE $0x12; BYTE $0x0e; BYTE $0x40; BYTE $0x52; BYTE $0xc0 // VDPBF16PS Z8, Z30, Z24 (Intel order)
	BYTE $0x62; BYTE $0x12; BYTE $0x0e; BYTE $0x40; BYTE $0x52; BYTE $0xc9 // VDPBF16PS Z9, Z30, Z25 (Intel order)
	BYTE $0x62; BYTE $0x12; BYTE $0x0e; BYTE $0x40; BYTE $0x52; BYTE $0xd2 // VDPBF16PS Z10, Z30, Z26 (Intel order)
	BYTE $0x62; BYTE $0x12; BYTE $0x0e; BYTE $0x40; BYTE $0x52; BYTE $0xdb // VDPBF16PS Z11, Z30, Z27 (Intel order)
	VPBROADCASTD (R11)(AX*4), Z31
	BYTE $0x62; BYTE $0x12; BYTE $0x06; BYTE $0x40; BYTE $0x52; BYTE $0xe0 // VDPBF16PS Z12, Z31, Z24 (Intel order)
	BYTE $0x62; BYTE $0x12; BYTE $0x06; BYTE $0x40; BYTE $0x52; BYTE $0xe9 // VDPBF16PS Z13, Z31, Z25 (Intel order)
	BYTE $0x62; BYTE $0x12; BYTE $0x06; BYTE $0x40; BYTE $0x52; BYTE $0xf2 // VDPBF16PS Z14, Z31, Z26 (Intel order)
	BYTE $0x62; BYTE $0x12; BYTE $0x06; BYTE $0x40; BYTE $0x52; BYTE $0xfb // VDPBF16PS Z15, Z31, Z27 (Intel order)
	VPBROADCASTD (R12)(AX*4), Z28
	BYTE $0x62; BYTE $0x82; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xc0 // VDPBF16PS Z16, Z28, Z24 (Intel order)
	BYTE $0x62; BYTE $0x82; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xc9 // VDPBF16PS Z17, Z28, Z25 (Intel order)
	BYTE $0x62; BYTE $0x82; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xd2 // VDPBF16PS Z18, Z28, Z26 (Intel order)
	BYTE $0x62; BYTE $0x82; BYTE $0x1e; BYTE $0x40; BYTE $0x52; BYTE $0xdb // VDPBF16PS Z19, Z28, Z27 (Intel order)
	VPBROADCASTD (R13)(AX*4), Z29
	BYTE $0x62; BYTE $0x82; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xe0 // VDPBF16PS Z20, Z29, Z24 (Intel order)
	BYTE $0x62; BYTE $0x82; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xe9 // VDPBF16PS Z21, Z29, Z25 (Intel order)
	BYTE $0x62; BYTE $0x82; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xf2 // VDPBF16PS Z22, Z29, Z26 (Intel order)
	BYTE $0x62; BYTE $0x82; BYTE $0x16; BYTE $0x40; BYTE $0x52; BYTE $0xfb // VDPBF16PS Z23, Z29, Z27 (Intel order)
	// One line of the next tile's rows (t.pf) a step.
	PFSTEP(nopf)

nopf:
	ADDQ $256, SI
	INCQ AX
	CMPQ AX, CX
	JL   pair
	STORE24
	JMP ·tileMaskAVX512(SB)
