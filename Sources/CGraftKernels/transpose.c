#include "graft_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

__attribute__((target("avx2")))
void graft_transpose_into(const float *src, long ld, long rows, long cols, float *out, long stride) {
    long r = 0;
    for (; r + 8 <= rows; r += 8) {
        long c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 a[8], t[8];
            for (int j = 0; j < 8; j++) a[j] = _mm256_loadu_ps(src + (r + j) * ld + c);
            t[0] = _mm256_unpacklo_ps(a[0], a[1]); t[1] = _mm256_unpackhi_ps(a[0], a[1]);
            t[2] = _mm256_unpacklo_ps(a[2], a[3]); t[3] = _mm256_unpackhi_ps(a[2], a[3]);
            t[4] = _mm256_unpacklo_ps(a[4], a[5]); t[5] = _mm256_unpackhi_ps(a[4], a[5]);
            t[6] = _mm256_unpacklo_ps(a[6], a[7]); t[7] = _mm256_unpackhi_ps(a[6], a[7]);
            a[0] = _mm256_shuffle_ps(t[0], t[2], 0x44); a[1] = _mm256_shuffle_ps(t[0], t[2], 0xEE);
            a[2] = _mm256_shuffle_ps(t[1], t[3], 0x44); a[3] = _mm256_shuffle_ps(t[1], t[3], 0xEE);
            a[4] = _mm256_shuffle_ps(t[4], t[6], 0x44); a[5] = _mm256_shuffle_ps(t[4], t[6], 0xEE);
            a[6] = _mm256_shuffle_ps(t[5], t[7], 0x44); a[7] = _mm256_shuffle_ps(t[5], t[7], 0xEE);
            t[0] = _mm256_permute2f128_ps(a[0], a[4], 0x20); t[1] = _mm256_permute2f128_ps(a[1], a[5], 0x20);
            t[2] = _mm256_permute2f128_ps(a[2], a[6], 0x20); t[3] = _mm256_permute2f128_ps(a[3], a[7], 0x20);
            t[4] = _mm256_permute2f128_ps(a[0], a[4], 0x31); t[5] = _mm256_permute2f128_ps(a[1], a[5], 0x31);
            t[6] = _mm256_permute2f128_ps(a[2], a[6], 0x31); t[7] = _mm256_permute2f128_ps(a[3], a[7], 0x31);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(out + (c + j) * stride + r, t[j]);
        }
        for (; c < cols; c++) {
            for (int j = 0; j < 8; j++) out[c * stride + r + j] = src[(r + j) * ld + c];
        }
    }
    for (; r < rows; r++) {
        const float *row = src + r * ld;
        for (long c = 0; c < cols; c++) out[c * stride + r] = row[c];
    }
}

#else

void graft_transpose_into(const float *src, long ld, long rows, long cols, float *out, long stride) {
    for (long r = 0; r < rows; r++) {
        for (long c = 0; c < cols; c++) out[c * stride + r] = src[r * ld + c];
    }
}

#endif
