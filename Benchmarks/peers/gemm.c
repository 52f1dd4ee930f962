/* W1 peer: square SGEMM straight through cblas_sgemm, timed the way graft-bench times it
 * (one warm-up, then the median, min and max of the repeats), 2 OpenBLAS threads.
 * Build: cc -O2 gemm.c $(pkg-config --cflags --libs openblas) -o gemm-peer
 * Usage: gemm-peer [repeats] [threads]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timing.h"


int main(int argc, char **argv) {
    int repeats = argc > 1 ? atoi(argv[1]) : 10;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    openblas_set_num_threads(threads);
    int sizes[] = {512, 1024, 2048};
    for (int s = 0; s < 3; s++) {
        int n = sizes[s];
        float *a = aligned_alloc(64, sizeof(float) * n * n), *b = aligned_alloc(64, sizeof(float) * n * n);
        float *c = aligned_alloc(64, sizeof(float) * n * n);
        srand(1);
        for (long i = 0; i < (long)n * n; i++) { a[i] = rand() / (float)RAND_MAX; b[i] = rand() / (float)RAND_MAX; }
        double *times = malloc(sizeof(double) * repeats);
        for (int r = -1; r < repeats; r++) {
            double start = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            if (r >= 0) times[r] = now() - start;
        }
        qsort(times, repeats, sizeof(double), compare);
        double median = repeats % 2 ? times[repeats / 2] : (times[repeats / 2 - 1] + times[repeats / 2]) / 2;
        double flops = 2.0 * n * n * (double)n;
        printf("RESULT W1 gemm-n%d ms %f %f %f\n", n, median * 1e3, times[0] * 1e3, times[repeats - 1] * 1e3);
        printf("RESULT W1 gemm-n%d GFLOP/s %f %f %f\n", n, flops / median / 1e9, flops / times[repeats - 1] / 1e9,
               flops / times[0] / 1e9);
        free(a); free(b); free(c); free(times);
    }
    return 0;
}
