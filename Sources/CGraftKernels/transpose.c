#include "graft_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include "transpose8.h"

__attribute__((target("avx2")))
void graft_transpose_into(const float *src, long ld, long rows, long cols, float *out, long stride) {
    long r = 0;
    for (; r + 8 <= rows; r += 8) {
        long c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 a[8];
            for (int j = 0; j < 8; j++) a[j] = _mm256_loadu_ps(src + (r + j) * ld + c);
            graft_transpose8x8(a);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(out + (c + j) * stride + r, a[j]);
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
