/* The C peers' timing helpers (gemm.c, kernels.c): a monotonic clock in seconds, and the order
 * qsort needs to take the median of the repeats. */
#ifndef GRAFT_PEER_TIMING_H
#define GRAFT_PEER_TIMING_H
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
#endif
