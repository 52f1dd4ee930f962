#ifndef GRAFT_TRANSPOSE8_H
#define GRAFT_TRANSPOSE8_H

#include <immintrin.h>

/// r[j] <- column j of the 8 x 8 matrix whose rows were r[0..<8] (AVX2 shuffles; inlined into its
/// callers, which are compiled for AVX2 or more).
__attribute__((target("avx2")))
static inline void graft_transpose8x8(__m256 r[8]) {
    __m256 s[8];
    s[0] = _mm256_unpacklo_ps(r[0], r[1]); s[1] = _mm256_unpackhi_ps(r[0], r[1]);
    s[2] = _mm256_unpacklo_ps(r[2], r[3]); s[3] = _mm256_unpackhi_ps(r[2], r[3]);
    s[4] = _mm256_unpacklo_ps(r[4], r[5]); s[5] = _mm256_unpackhi_ps(r[4], r[5]);
    s[6] = _mm256_unpacklo_ps(r[6], r[7]); s[7] = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 t[8];
    t[0] = _mm256_shuffle_ps(s[0], s[2], 0x44); t[1] = _mm256_shuffle_ps(s[0], s[2], 0xEE);
    t[2] = _mm256_shuffle_ps(s[1], s[3], 0x44); t[3] = _mm256_shuffle_ps(s[1], s[3], 0xEE);
    t[4] = _mm256_shuffle_ps(s[4], s[6], 0x44); t[5] = _mm256_shuffle_ps(s[4], s[6], 0xEE);
    t[6] = _mm256_shuffle_ps(s[5], s[7], 0x44); t[7] = _mm256_shuffle_ps(s[5], s[7], 0xEE);
    r[0] = _mm256_permute2f128_ps(t[0], t[4], 0x20); r[1] = _mm256_permute2f128_ps(t[1], t[5], 0x20);
    r[2] = _mm256_permute2f128_ps(t[2], t[6], 0x20); r[3] = _mm256_permute2f128_ps(t[3], t[7], 0x20);
    r[4] = _mm256_permute2f128_ps(t[0], t[4], 0x31); r[5] = _mm256_permute2f128_ps(t[1], t[5], 0x31);
    r[6] = _mm256_permute2f128_ps(t[2], t[6], 0x31); r[7] = _mm256_permute2f128_ps(t[3], t[7], 0x31);
}

#endif
