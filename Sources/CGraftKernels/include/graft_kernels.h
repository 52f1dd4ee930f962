#ifndef GRAFT_KERNELS_H
#define GRAFT_KERNELS_H

#include <stdint.h>

/// graft's kernels written in C, where Swift cannot say what they need (shuffles, AVX-512 BF16):
/// each one compiled for its instruction set by a function attribute only, so this module builds
/// for any x86-64 CPU; the callers in GraftTensor check the CPU first where it is more than AVX2.

/// out[c*stride + r] = src[r*ld + c] for r < rows, c < cols: a block of a matrix transposed into
/// a panel (PortableGEMM's packing of A by rows, of B by columns). Pure data movement, eight by
/// eight through AVX2 shuffles; the bits are those of the source.
void graft_transpose_into(const float *src, long ld, long rows, long cols, float *out, long stride);

/// The bfloat16 micro-kernel of graft's GEMM (`set precision=bf16`): AVX-512 BF16's `vdpbf16ps`,
/// compiled for that ISA by a function attribute only, so this file builds for any x86-64 CPU and
/// the caller runs it only after the run-time check (`Precision.available` in GraftTensor).

/// Rows and columns of the tile.
enum { graft_bf16_mr = 12, graft_bf16_nr = 32 };

/// C[0..<12, 0..<32] (row stride `ldc`) <- (accumulate ? C : 0) + A-panel . B-panel over `pairs`
/// steps of two k each. Panels are pair-major: a[p*12 + r] holds (A[r, 2p], A[r, 2p+1]) as two
/// bfloat16 (the even k in the low half), b[p*32 + q] holds (B[2p, q], B[2p+1, q]) likewise.
/// Each output takes `vdpbf16ps`'s step per pair: the odd k's product, then the even k's, each
/// added in float32 (bfloat16 products are exact in float32).
void graft_bf16_tile(long pairs, const uint32_t *a, const uint32_t *b, float *c, long ldc, int accumulate);

/// The panels' elements, from float32 rounded to bfloat16 (to nearest, ties to even; a NaN stays a
/// quiet NaN; the even k in the low half, an absent odd k zero). Like the tile, these use AVX-512
/// and run only after the run-time check.
///
/// out[t] = (even[t], odd[t]) for t < count; `odd` may be NULL (zeros).
void graft_bf16_pairs(const float *even, const float *odd, long count, uint32_t *out);

/// out[p*stride + q] = (run_q[2p], run_q[2p+1]) for q < runs, p < (steps + 1) / 2, where run q
/// starts at runs0 + q*ld: `runs` contiguous runs of k (rows of a matrix read across k) packed into
/// a panel whose element p*stride + q is pair p of run q.
void graft_bf16_pairs_across(const float *runs0, long ld, long runs, long steps, uint32_t *out, long stride);

/// 1 when this build has the kernel (an x86-64 compiler that knows AVX-512 BF16), else 0.
int graft_bf16_compiled(void);

#endif
