#include "graft_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#include "transpose8.h"

#define GRAFT_BF16_TARGET __attribute__((target("avx512f,avx512bf16,avx512dq,avx512vl")))

GRAFT_BF16_TARGET
void graft_bf16_tile(long pairs, const uint32_t *a, const uint32_t *b, float *c, long ldc, int accumulate) {
    __m512 c0[graft_bf16_mr], c1[graft_bf16_mr];
    for (int r = 0; r < graft_bf16_mr; r++) {
        if (accumulate) {
            c0[r] = _mm512_loadu_ps(c + r * ldc);
            c1[r] = _mm512_loadu_ps(c + r * ldc + 16);
        } else {
            c0[r] = _mm512_setzero_ps();
            c1[r] = _mm512_setzero_ps();
        }
    }
    for (long p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * graft_bf16_nr));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * graft_bf16_nr + 16));
        const uint32_t *pa = a + p * graft_bf16_mr;
#pragma clang loop unroll(full)
        for (int r = 0; r < graft_bf16_mr; r++) {
            __m512bh x = (__m512bh)_mm512_set1_epi32((int)pa[r]);
            c0[r] = _mm512_dpbf16_ps(c0[r], x, b0);
            c1[r] = _mm512_dpbf16_ps(c1[r], x, b1);
        }
    }
    for (int r = 0; r < graft_bf16_mr; r++) {
        _mm512_storeu_ps(c + r * ldc, c0[r]);
        _mm512_storeu_ps(c + r * ldc + 16, c1[r]);
    }
}

/// float32 -> bfloat16 bits, the definition (BFloat16Panels.round in GraftTensor is the same).
static inline uint32_t round1(float x) {
    uint32_t bits;
    __builtin_memcpy(&bits, &x, 4);
    if (x != x) return (bits >> 16) | 0x40;
    return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
}

GRAFT_BF16_TARGET
static inline __m512i round16(__m512 x) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i high = _mm512_srli_epi32(bits, 16);
    const __m512i lsb = _mm512_and_si512(high, _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(high, _mm512_set1_epi32(0x40)));
}

GRAFT_BF16_TARGET
void graft_bf16_pairs(const float *even, const float *odd, long count, uint32_t *out) {
    long t = 0;
    for (; t + 16 <= count; t += 16) {
        __m512i low = round16(_mm512_loadu_ps(even + t));
        __m512i high = odd ? _mm512_slli_epi32(round16(_mm512_loadu_ps(odd + t)), 16) : _mm512_setzero_si512();
        _mm512_storeu_si512((void *)(out + t), _mm512_or_si512(low, high));
    }
    for (; t < count; t++) out[t] = round1(even[t]) | (odd ? round1(odd[t]) << 16 : 0);
}

/// Eight pairs (sixteen floats from `run`) as the low dwords of 8 x 64-bit lanes: (even | odd << 16).
GRAFT_BF16_TARGET
static inline __m256i pairs8(const float *run) {
    const __m512i rounded = round16(_mm512_loadu_ps(run));  // dword 2j: even, 2j+1: odd
    const __m512i joined = _mm512_or_si512(_mm512_and_si512(rounded, _mm512_set1_epi64(0xFFFF)), _mm512_srli_epi64(rounded, 16));
    return _mm512_cvtepi64_epi32(joined);
}

GRAFT_BF16_TARGET
void graft_bf16_pairs_across(const float *runs0, long ld, long runs, long steps, uint32_t *out, long stride) {
    const long pairs = (steps + 1) / 2;
    long q = 0;
    for (; q + 8 <= runs; q += 8) {
        long p = 0;
        for (; 2 * p + 16 <= steps; p += 8) {
            // Eight runs' eight pairs, then an 8 x 8 transpose: row p holds the eight runs' pair p.
            __m256 r[8];
            for (int j = 0; j < 8; j++) r[j] = _mm256_castsi256_ps(pairs8(runs0 + (q + j) * ld + 2 * p));
            graft_transpose8x8(r);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps((float *)(out + (p + j) * stride + q), r[j]);
        }
        for (; p < pairs; p++) {
            for (int j = 0; j < 8; j++) {
                const float *run = runs0 + (q + j) * ld;
                out[p * stride + q + j] = round1(run[2 * p]) | (2 * p + 1 < steps ? round1(run[2 * p + 1]) << 16 : 0);
            }
        }
    }
    for (; q < runs; q++) {
        const float *run = runs0 + q * ld;
        for (long p = 0; p < pairs; p++) {
            out[p * stride + q] = round1(run[2 * p]) | (2 * p + 1 < steps ? round1(run[2 * p + 1]) << 16 : 0);
        }
    }
}

int graft_bf16_compiled(void) { return 1; }

#else

void graft_bf16_tile(long pairs, const uint32_t *a, const uint32_t *b, float *c, long ldc, int accumulate) {
    (void)pairs; (void)a; (void)b; (void)c; (void)ldc; (void)accumulate;
}

void graft_bf16_pairs(const float *even, const float *odd, long count, uint32_t *out) {
    (void)even; (void)odd; (void)count; (void)out;
}

void graft_bf16_pairs_across(const float *runs0, long ld, long runs, long steps, uint32_t *out, long stride) {
    (void)runs0; (void)ld; (void)runs; (void)steps; (void)out; (void)stride;
}

int graft_bf16_compiled(void) { return 0; }

#endif
