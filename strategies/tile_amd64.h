// Macros the AVX-512 tile kernels share (avx512_amd64.s, screen_amd64.s).

// ZERO24 clears the 24 accumulators of a six-row tile, Z0-Z23.
#define ZERO24 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23

// PFSTEP issues one prefetch of the rows in the tile's pf (the tile at
// DI): row BX (0..5, in turn), line R15 (a byte offset, advanced a line
// once every row had this one), while R15 < DX (the tile's pfBytes; 0:
// none); then jumps to next. Spread one a step over the products, the
// loads arrive while they run instead of stalling a burst of
// prefetches. Clobbers R14.
#define PFSTEP(next) \
	CMPQ R15, DX; \
	JGE  next; \
	MOVQ 1824(DI)(BX*8), R14; \
	PREFETCHT0 (R14)(R15*1); \
	INCQ BX; \
	CMPQ BX, $6; \
	JL   next; \
	XORQ BX, BX; \
	ADDQ $64, R15

// STORE24 stores Z0-Z23 to the tile's dots (the tile at DI; row r's 64
// columns are Z(4r)..Z(4r+3)). Clobbers DX.
#define STORE24 \
	LEAQ 256(DI), DX; \
	VMOVUPS Z0, 0(DX); \
	VMOVUPS Z1, 64(DX); \
	VMOVUPS Z2, 128(DX); \
	VMOVUPS Z3, 192(DX); \
	VMOVUPS Z4, 256(DX); \
	VMOVUPS Z5, 320(DX); \
	VMOVUPS Z6, 384(DX); \
	VMOVUPS Z7, 448(DX); \
	VMOVUPS Z8, 512(DX); \
	VMOVUPS Z9, 576(DX); \
	VMOVUPS Z10, 640(DX); \
	VMOVUPS Z11, 704(DX); \
	VMOVUPS Z12, 768(DX); \
	VMOVUPS Z13, 832(DX); \
	VMOVUPS Z14, 896(DX); \
	VMOVUPS Z15, 960(DX); \
	VMOVUPS Z16, 1024(DX); \
	VMOVUPS Z17, 1088(DX); \
	VMOVUPS Z18, 1152(DX); \
	VMOVUPS Z19, 1216(DX); \
	VMOVUPS Z20, 1280(DX); \
	VMOVUPS Z21, 1344(DX); \
	VMOVUPS Z22, 1408(DX); \
	VMOVUPS Z23, 1472(DX)
