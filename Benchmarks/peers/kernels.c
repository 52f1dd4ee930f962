// Issue 28's first step, "a measured choice": W2's convolution (64→64, 3×3, padding 1, on
// [32, 64, 56, 56], no bias) through the two kernel libraries Debian ships, in the layouts each
// picks, two threads, timed like graft-bench (one warm-up, the median of the repeats):
//   - oneDNN 2.6 (libdnnl-dev): forward inference, backward data and backward weights, every tensor
//     in the format the primitive asks for (format_tag_any: nChw8c on AVX2), so no reorder is timed;
//     its ISA capped at AVX2 (dnnl_set_max_cpu_isa) as graft's portable mode would need;
//   - XNNPACK (libxnnpack-dev, NHWC inference only): forward.
// Then workload K: the depthwise, pointwise and 3×3 inference layers of W4 and W10's CNNs, forward,
// through both (graft-bench K times the same rows with graft's kernels).
// Prints RESULT lines in graft-bench's form for Benchmarks/report.py.
//
//   cc -O2 Benchmarks/peers/kernels.c -ldnnl -lXNNPACK -lpthreadpool -lm -o Benchmarks/out/kernels-peer
//   OMP_NUM_THREADS=2 Benchmarks/out/kernels-peer onednn|xnnpack [repeats] [W2] [K]   (default: both)
// (Benchmarks/compare.sh builds and runs it, and installs the libraries on first use.)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthreadpool.h>
#include <xnnpack.h>

#define CHECK(call)                                                                  \
    do {                                                                             \
        int status_ = (int)(call);                                                   \
        if (status_ != 0) {                                                          \
            fprintf(stderr, "kernels-peer: %s failed (%d) at line %d\n", #call, status_, __LINE__); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)


static void fill(float *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
}

typedef void (*body_fn)(void *);

// One warm-up, then `repeats` timed runs; prints the median (min, max) in ms and GFLOP/s, returns the median (s).
static double time_it(const char *workload, const char *name, int repeats, double flops, body_fn body, void *context) {
    double times[256];
    if (repeats > 256) repeats = 256;
    body(context);
    for (int r = 0; r < repeats; r++) {
        double start = now();
        body(context);
        times[r] = now() - start;
    }
    qsort(times, repeats, sizeof(double), compare);
    double median = times[repeats / 2], low = times[0], high = times[repeats - 1];
    printf("%s %s median %.2f ms (min %.2f, max %.2f)  %.1f GFLOP/s\n", workload, name, median * 1e3, low * 1e3, high * 1e3, flops / median * 1e-9);
    printf("RESULT %s %s ms %f %f %f\n", workload, name, median * 1e3, low * 1e3, high * 1e3);
    return median;
}

// oneDNN: a primitive with its arguments.
typedef struct {
    dnnl_primitive_t primitive;
    dnnl_stream_t stream;
    int count;
    dnnl_exec_arg_t args[4];
} onednn_call;

static void run_onednn(void *context) {
    onednn_call *call = context;
    CHECK(dnnl_primitive_execute(call->primitive, call->stream, call->count, call->args));
    CHECK(dnnl_stream_wait(call->stream));
}

static dnnl_memory_t memory_for(const dnnl_memory_desc_t *md, dnnl_engine_t engine, unsigned seed) {
    dnnl_memory_t memory;
    CHECK(dnnl_memory_create(&memory, md, engine, DNNL_MEMORY_ALLOCATE));
    void *handle;
    CHECK(dnnl_memory_get_data_handle(memory, &handle));
    fill(handle, dnnl_memory_desc_get_size(md) / sizeof(float), seed);
    return memory;
}

static void onednn(int repeats, double flops) {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    dnnl_dims_t src_dims = {32, 64, 56, 56}, weight_dims = {64, 64, 3, 3}, dst_dims = {32, 64, 56, 56};
    dnnl_dims_t strides = {1, 1}, padding = {1, 1};
    dnnl_memory_desc_t src_any, weight_any, dst_any;
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&weight_any, 4, weight_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));

    dnnl_convolution_desc_t forward_desc, data_desc, weights_desc;
    dnnl_primitive_desc_t forward_pd, data_pd, weights_pd;
    CHECK(dnnl_convolution_forward_desc_init(&forward_desc, dnnl_forward_training, dnnl_convolution_direct, &src_any, &weight_any, NULL,
                                             &dst_any, strides, padding, padding));
    CHECK(dnnl_primitive_desc_create(&forward_pd, &forward_desc, NULL, engine, NULL));
    CHECK(dnnl_convolution_backward_data_desc_init(&data_desc, dnnl_convolution_direct, &src_any, &weight_any, &dst_any, strides, padding, padding));
    CHECK(dnnl_primitive_desc_create(&data_pd, &data_desc, NULL, engine, forward_pd));
    CHECK(dnnl_convolution_backward_weights_desc_init(&weights_desc, dnnl_convolution_direct, &src_any, &weight_any, NULL, &dst_any, strides,
                                                      padding, padding));
    CHECK(dnnl_primitive_desc_create(&weights_pd, &weights_desc, NULL, engine, forward_pd));

    dnnl_memory_t src = memory_for(dnnl_primitive_desc_query_md(forward_pd, dnnl_query_src_md, 0), engine, 1);
    dnnl_memory_t weight = memory_for(dnnl_primitive_desc_query_md(forward_pd, dnnl_query_weights_md, 0), engine, 2);
    dnnl_memory_t dst = memory_for(dnnl_primitive_desc_query_md(forward_pd, dnnl_query_dst_md, 0), engine, 3);
    dnnl_memory_t diff_dst = memory_for(dnnl_primitive_desc_query_md(data_pd, dnnl_query_diff_dst_md, 0), engine, 4);
    dnnl_memory_t diff_src = memory_for(dnnl_primitive_desc_query_md(data_pd, dnnl_query_diff_src_md, 0), engine, 5);
    dnnl_memory_t diff_weight = memory_for(dnnl_primitive_desc_query_md(weights_pd, dnnl_query_diff_weights_md, 0), engine, 6);
    // The weights primitive may ask for its own layouts of src and diff_dst; W2 on AVX2 takes the same ones (checked here).
    if (!dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(weights_pd, dnnl_query_src_md, 0), dnnl_primitive_desc_query_md(forward_pd, dnnl_query_src_md, 0)) ||
        !dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(weights_pd, dnnl_query_diff_dst_md, 0), dnnl_primitive_desc_query_md(data_pd, dnnl_query_diff_dst_md, 0))) {
        fprintf(stderr, "kernels-peer: oneDNN's backward-weights layouts differ from forward's; not timed\n");
        exit(1);
    }
    const char *implementation;
    CHECK(dnnl_primitive_desc_query(forward_pd, dnnl_query_impl_info_str, 0, &implementation));
    printf("oneDNN %s, forward implementation %s\n", "2.6 (ISA capped at AVX2)", implementation);

    onednn_call forward = {.stream = stream, .count = 3, .args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weight}, {DNNL_ARG_DST, dst}}};
    onednn_call data = {.stream = stream, .count = 3, .args = {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, weight}, {DNNL_ARG_DIFF_SRC, diff_src}}};
    onednn_call weights = {.stream = stream, .count = 3, .args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_weight}}};
    CHECK(dnnl_primitive_create(&forward.primitive, forward_pd));
    CHECK(dnnl_primitive_create(&data.primitive, data_pd));
    CHECK(dnnl_primitive_create(&weights.primitive, weights_pd));
    double step = time_it("W2", "conv-forward", repeats, flops, run_onednn, &forward);
    step += time_it("W2", "conv-backward-data", repeats, flops, run_onednn, &data);
    step += time_it("W2", "conv-backward-weights", repeats, flops, run_onednn, &weights);
    // graft-bench's forward + backward: the three medians added.
    printf("W2 conv-forward-backward %.2f ms (the three medians added)\n", step * 1e3);
    printf("RESULT W2 conv-forward-backward ms %f %f %f\n", step * 1e3, step * 1e3, step * 1e3);
}

// XNNPACK: one operator run on a thread pool.
typedef struct {
    xnn_operator_t op;
    pthreadpool_t pool;
} xnnpack_call;

static void run_xnnpack(void *context) {
    xnnpack_call *call = context;
    CHECK(xnn_run_operator(call->op, call->pool));
}

static void xnnpack(int repeats, double flops) {
    CHECK(xnn_initialize(NULL));
    size_t n = 32, c = 64, h = 56, w = 56;
    float *input = malloc(n * h * w * c * sizeof(float)), *output = malloc(n * h * w * c * sizeof(float));
    float *kernel = malloc(c * 3 * 3 * c * sizeof(float));
    fill(input, n * h * w * c, 1);
    fill(kernel, c * 3 * 3 * c, 2);
    xnnpack_call call = {.pool = pthreadpool_create(2)};
    CHECK(xnn_create_convolution2d_nhwc_f32(1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, c, c, c, c, kernel, NULL, -INFINITY, INFINITY, 0, &call.op));
    CHECK(xnn_setup_convolution2d_nhwc_f32(call.op, n, h, w, input, output, call.pool));
    time_it("W2", "conv-forward", repeats, flops, run_xnnpack, &call);
}

// The inference layers of W4 and W10's CNNs (graft-bench's K workload times the same rows with
// graft's kernels): depthwise 3×3, 5×5 and 7×7 at stride 1 and 2, and pointwise projections, batch 8.
typedef struct {
    const char *name;
    int n, c, h, w, o, k, stride, groups;
} layer;

static const layer LAYERS[] = {
    {"dw3x3-s1-96x56", 8, 96, 56, 56, 96, 3, 1, 96},
    {"dw3x3-s2-96x112", 8, 96, 112, 112, 96, 3, 2, 96},
    {"dw5x5-s1-240x28", 8, 240, 28, 28, 240, 5, 1, 240},
    {"dw5x5-s2-144x56", 8, 144, 56, 56, 144, 5, 2, 144},
    {"dw7x7-s1-96x56", 8, 96, 56, 56, 96, 7, 1, 96},
    {"pw-144to24-56", 8, 144, 56, 56, 24, 1, 1, 1},
    {"pw-24to144-56", 8, 24, 56, 56, 144, 1, 1, 1},
    {"conv3x3-64-56", 8, 64, 56, 56, 64, 3, 1, 1},
};

static double layer_flops(const layer *l) {
    int oh = (l->h + 2 * (l->k / 2) - l->k) / l->stride + 1, ow = (l->w + 2 * (l->k / 2) - l->k) / l->stride + 1;
    return 2.0 * l->n * l->o * oh * ow * (double)(l->c / l->groups) * l->k * l->k;
}

static void onednn_layer(const layer *l, int repeats, dnnl_engine_t engine, dnnl_stream_t stream) {
    int pad = l->k / 2, oh = (l->h + 2 * pad - l->k) / l->stride + 1, ow = (l->w + 2 * pad - l->k) / l->stride + 1;
    dnnl_dims_t src_dims = {l->n, l->c, l->h, l->w}, dst_dims = {l->n, l->o, oh, ow};
    dnnl_dims_t grouped = {l->groups, l->o / l->groups, l->c / l->groups, l->k, l->k}, plain = {l->o, l->c, l->k, l->k};
    dnnl_dims_t strides = {l->stride, l->stride}, padding = {pad, pad};
    dnnl_memory_desc_t src_any, weight_any, dst_any;
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&weight_any, l->groups > 1 ? 5 : 4, l->groups > 1 ? grouped : plain, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));
    dnnl_convolution_desc_t desc;
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src_any, &weight_any, NULL, &dst_any,
                                             strides, padding, padding));
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, engine, NULL));
    onednn_call call = {.stream = stream, .count = 3};
    call.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, memory_for(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), engine, 1)};
    call.args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, memory_for(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), engine, 2)};
    call.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, memory_for(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), engine, 3)};
    CHECK(dnnl_primitive_create(&call.primitive, pd));
    char name[96];
    snprintf(name, sizeof name, "%s", l->name);
    time_it("K", name, repeats, layer_flops(l), run_onednn, &call);
}

static void xnnpack_layer(const layer *l, int repeats, pthreadpool_t pool) {
    int pad = l->k / 2, oh = (l->h + 2 * pad - l->k) / l->stride + 1, ow = (l->w + 2 * pad - l->k) / l->stride + 1;
    float *input = malloc((size_t)l->n * l->h * l->w * l->c * sizeof(float)), *output = malloc((size_t)l->n * oh * ow * l->o * sizeof(float));
    float *kernel = malloc((size_t)l->o * l->k * l->k * (l->c / l->groups) * sizeof(float)), *bias = calloc(l->o, sizeof(float));
    fill(input, (size_t)l->n * l->h * l->w * l->c, 1);
    fill(kernel, (size_t)l->o * l->k * l->k * (l->c / l->groups), 2);
    xnnpack_call call = {.pool = pool};
    uint32_t flags = l->groups > 1 && l->groups == l->c ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0;
    CHECK(xnn_create_convolution2d_nhwc_f32(pad, pad, pad, pad, l->k, l->k, l->stride, l->stride, 1, 1, l->groups, l->c / l->groups,
                                            l->o / l->groups, l->c, l->o, kernel, bias, -INFINITY, INFINITY, flags, &call.op));
    CHECK(xnn_setup_convolution2d_nhwc_f32(call.op, l->n, l->h, l->w, input, output, pool));
    char name[96];
    snprintf(name, sizeof name, "%s", l->name);
    time_it("K", name, repeats, layer_flops(l), run_xnnpack, &call);
    xnn_delete_operator(call.op);
    free(input), free(output), free(kernel), free(bias);
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "onednn") != 0 && strcmp(argv[1], "xnnpack") != 0)) {
        fprintf(stderr, "usage: kernels-peer onednn|xnnpack [repeats] [W2] [K]\n");
        return 2;
    }
    int use_onednn = strcmp(argv[1], "onednn") == 0;
    int repeats = argc > 2 ? atoi(argv[2]) : 10;
    if (repeats < 1) repeats = 1;
    int w2 = argc <= 3, k = argc <= 3;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "W2") == 0) w2 = 1;
        if (strcmp(argv[i], "K") == 0) k = 1;
    }
    double flops = 2.0 * 32 * 64 * 56 * 56 * 64 * 9;
    // Before the first primitive: the ISA graft's portable mode would pin.
    if (use_onednn) CHECK(dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2));
    if (w2) {
        if (use_onednn) onednn(repeats, flops); else xnnpack(repeats, flops);
    }
    if (!k) return 0;
    if (use_onednn) {
        dnnl_engine_t engine;
        dnnl_stream_t stream;
        CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
        CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
        for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; i++) onednn_layer(&LAYERS[i], repeats, engine, stream);
    } else {
        CHECK(xnn_initialize(NULL));
        pthreadpool_t pool = pthreadpool_create(2);
        for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; i++) xnnpack_layer(&LAYERS[i], repeats, pool);
    }
    return 0;
}
