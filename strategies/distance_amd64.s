#include "textflag.h"

// SUM4 stores at dst the four float32 sums of the eight lanes of ya, yb,
// yc and yd (in that order); xa and xb are the low halves of ya and yb.
#define SUM4(ya, yb, yc, yd, xa, xb, dst) \
	VHADDPS yb, ya, ya; \
	VHADDPS yd, yc, yc; \
	VHADDPS yc, ya, ya; \
	VEXTRACTF128 $1, ya, xb; \
	VADDPS xb, xa, xa; \
	VMOVUPS xa, dst

// func sqDistAVX2(a, b []float32) float64
// Squared Euclidean distance, float32 inputs widened to float64, four
// independent FMA accumulators of four lanes each.
TEXT ·sqDistAVX2(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

loop16:
	CMPQ CX, $16
	JL   loop4
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VCVTPS2PD (DI), Y8
	VCVTPS2PD 16(DI), Y9
	VCVTPS2PD 32(DI), Y10
	VCVTPS2PD 48(DI), Y11
	VSUBPD Y8, Y4, Y4
	VSUBPD Y9, Y5, Y5
	VSUBPD Y10, Y6, Y6
	VSUBPD Y11, Y7, Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loop16

loop4:
	CMPQ CX, $4
	JL   reduce
	VCVTPS2PD (SI), Y4
	VCVTPS2PD (DI), Y8
	VSUBPD Y8, Y4, Y4
	VFMADD231PD Y4, Y4, Y0
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop4

reduce:
	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0

loop1:
	CMPQ CX, $0
	JE   done
	VCVTSS2SD (SI), X4, X4
	VCVTSS2SD (DI), X5, X5
	VSUBSD X5, X4, X4
	VFMADD231SD X4, X4, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  loop1

done:
	VZEROUPPER
	MOVSD X0, ret+48(FP)
	RET

// func sqDist32AVX2(a, b []float32) float32
// Squared Euclidean distance in float32, four accumulators of eight lanes.
TEXT ·sqDist32AVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop32:
	CMPQ CX, $32
	JL   loop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VSUBPS (DI), Y4, Y4
	VSUBPS 32(DI), Y5, Y5
	VSUBPS 64(DI), Y6, Y6
	VSUBPS 96(DI), Y7, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  loop32

loop8:
	CMPQ CX, $8
	JL   reduce32
	VMOVUPS (SI), Y4
	VSUBPS (DI), Y4, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  loop8

reduce32:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

loop1s:
	CMPQ CX, $0
	JE   done32
	VMOVSS (SI), X4
	VSUBSS (DI), X4, X4
	VFMADD231SS X4, X4, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  loop1s

done32:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func sqDist32x4AVX2(q, rows []float32, dim int, out *[4]float32)
// Squared float32 distances from q to the four consecutive rows of dim
// values at rows; dim must be a positive multiple of 16. Loading q once for
// four rows halves the loads of four separate calls.
TEXT ·sqDist32x4AVX2(SB), NOSPLIT, $0-64
	MOVQ q_base+0(FP), SI
	MOVQ rows_base+24(FP), DI
	MOVQ dim+48(FP), CX
	MOVQ out+56(FP), DX
	MOVQ CX, BX
	SHLQ $2, BX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	XORQ AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop16x4:
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS 32(SI)(AX*1), Y9
	VSUBPS (DI)(AX*1), Y8, Y10
	VSUBPS 32(DI)(AX*1), Y9, Y11
	VFMADD231PS Y10, Y10, Y0
	VFMADD231PS Y11, Y11, Y4
	VSUBPS (R8)(AX*1), Y8, Y12
	VSUBPS 32(R8)(AX*1), Y9, Y13
	VFMADD231PS Y12, Y12, Y1
	VFMADD231PS Y13, Y13, Y5
	VSUBPS (R9)(AX*1), Y8, Y14
	VSUBPS 32(R9)(AX*1), Y9, Y15
	VFMADD231PS Y14, Y14, Y2
	VFMADD231PS Y15, Y15, Y6
	VSUBPS (R10)(AX*1), Y8, Y10
	VSUBPS 32(R10)(AX*1), Y9, Y11
	VFMADD231PS Y10, Y10, Y3
	VFMADD231PS Y11, Y11, Y7
	ADDQ $64, AX
	SUBQ $16, CX
	JNE  loop16x4

	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	SUM4(Y0, Y1, Y2, Y3, X0, X1, (DX))
	VZEROUPPER
	RET

// func prefetchAVX2(p *float32, bytes int)
// Hints the cache lines of bytes bytes from p into the cache, so that a
// row needed a few distances later is on its way while others are computed.
TEXT ·prefetchAVX2(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ bytes+8(FP), CX

prefetchloop:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	SUBQ $64, CX
	JG   prefetchloop
	RET

// func sqDistBlocksAVX2(a, b []float32, s, lim2 float64) (sum float64, n int)
// Adds to s, block after block of 64 dimensions, each block's squared
// distance reduced exactly as sqDistAVX2 reduces a 64-value slice, and
// stops after the first block that brings the sum to lim2 or above, or
// when fewer than 64 values are left. It returns the sum and the number of
// values consumed. One call replaces a call per block (and the checks
// between them), which cost a fifth of an update on 512 dimensions.
TEXT ·sqDistBlocksAVX2(SB), NOSPLIT, $0-80
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	MOVSD s+48(FP), X6
	MOVSD lim2+56(FP), X7
	XORQ AX, AX

block:
	CMPQ CX, $64
	JL   out
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ $4, DX

inner:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y8
	VCVTPS2PD 48(SI), Y9
	VCVTPS2PD (DI), Y10
	VCVTPS2PD 16(DI), Y11
	VCVTPS2PD 32(DI), Y12
	VCVTPS2PD 48(DI), Y13
	VSUBPD Y10, Y4, Y4
	VSUBPD Y11, Y5, Y5
	VSUBPD Y12, Y8, Y8
	VSUBPD Y13, Y9, Y9
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y8, Y8, Y2
	VFMADD231PD Y9, Y9, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ DX
	JNZ  inner
	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0
	VADDSD X0, X6, X6
	ADDQ $64, AX
	SUBQ $64, CX
	UCOMISD X7, X6
	JAE  out
	JMP  block

out:
	VZEROUPPER
	MOVSD X6, sum+64(FP)
	MOVQ AX, n+72(FP)
	RET

// func dot4x3AVX2(x0, x1, x2, x3, c *float32, stride, dim int, out *[12]float32)
// Dot products of four rows with three centers (the centers stride floats
// apart from c): out[4*j+i] = <x_i, c_j>. dim must be a positive multiple
// of 8. Twelve accumulators of eight lanes stay in registers: each chunk
// of a row is loaded once for the three centers, each chunk of a center
// once for the four rows (as a memory operand).
TEXT ·dot4x3AVX2(SB), NOSPLIT, $0-64
	MOVQ x0+0(FP), SI
	MOVQ x1+8(FP), DI
	MOVQ x2+16(FP), R8
	MOVQ x3+24(FP), R9
	MOVQ c+32(FP), R10
	MOVQ stride+40(FP), BX
	SHLQ $2, BX
	LEAQ (R10)(BX*1), R11
	LEAQ (R11)(BX*1), R12
	MOVQ dim+48(FP), CX
	MOVQ out+56(FP), DX
	XORQ AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

dot4x3loop:
	VMOVUPS (SI)(AX*1), Y12
	VMOVUPS (DI)(AX*1), Y13
	VMOVUPS (R8)(AX*1), Y14
	VMOVUPS (R9)(AX*1), Y15
	VFMADD231PS (R10)(AX*1), Y12, Y0
	VFMADD231PS (R10)(AX*1), Y13, Y1
	VFMADD231PS (R10)(AX*1), Y14, Y2
	VFMADD231PS (R10)(AX*1), Y15, Y3
	VFMADD231PS (R11)(AX*1), Y12, Y4
	VFMADD231PS (R11)(AX*1), Y13, Y5
	VFMADD231PS (R11)(AX*1), Y14, Y6
	VFMADD231PS (R11)(AX*1), Y15, Y7
	VFMADD231PS (R12)(AX*1), Y12, Y8
	VFMADD231PS (R12)(AX*1), Y13, Y9
	VFMADD231PS (R12)(AX*1), Y14, Y10
	VFMADD231PS (R12)(AX*1), Y15, Y11
	ADDQ $32, AX
	SUBQ $8, CX
	JNE  dot4x3loop

	SUM4(Y0, Y1, Y2, Y3, X0, X1, (DX))
	SUM4(Y4, Y5, Y6, Y7, X4, X5, 16(DX))
	SUM4(Y8, Y9, Y10, Y11, X8, X9, 32(DX))
	VZEROUPPER
	RET
