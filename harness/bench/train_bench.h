/* Training-throughput benchmark: the configuration issue 3 fixes for the
 * side-by-side comparison with PyTorch (tools/bench/vs_pytorch.sh): backbone
 * with a 128-way linear output, loss mean(out^2), SGD momentum 0.9, random
 * inputs; timed steps (forward, backward, optimizer) after warm-up. */
#ifndef GS_BENCH_TRAIN_BENCH_H
#define GS_BENCH_TRAIN_BENCH_H

#include <stdio.h>

#include "../nn/backbone.h"

typedef struct gs_train_bench_config {
    gs_backbone_config backbone; /* num_classes is forced to 128 */
    int batch;
    int warmup_steps;            /* untimed */
    int steps;                   /* timed */
    bool inference;              /* forward only, no gradients, eval mode */
} gs_train_bench_config;

typedef struct gs_train_bench_result {
    double median_img_per_s;
    double min_img_per_s, max_img_per_s;
    int64_t parameters;
    long peak_rss_kb;
    size_t activations_peak, parameters_bytes, gradients_bytes, optimizer_bytes, scratch_bytes;
} gs_train_bench_result;

/* Runs the benchmark; progress lines go to `log` (may be NULL). */
gs_status gs_train_bench(gs_context *ctx, const gs_train_bench_config *config, FILE *log,
                         gs_train_bench_result *result);

#endif
