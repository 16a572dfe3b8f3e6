/* Per-op timings at the shapes ResNet-18 (64 px, batch 64) and ViT-Tiny
 * (patch 8, 64 px, batch 64) use, as CSV, so later work can compare against
 * a stored baseline (reports/ flags regressions). */
#ifndef GS_BENCH_KERNEL_BENCH_H
#define GS_BENCH_KERNEL_BENCH_H

#include <stdio.h>

#include "../core/context.h"

/* One op's median time in one pass, as a row of the CSV. */
typedef struct gs_kernel_timing {
    const char *op, *shape, *pass; /* pass: "forward" or "backward" */
    double ms, gflops, gbs;
} gs_kernel_timing;

/* Called with each timing as soon as it is measured (a slow op's row is not
 * held back until the end). */
typedef void (*gs_kernel_timing_fn)(const gs_kernel_timing *timing, void *user);

/* Times every op (forward, then backward) and hands each result to `each`.
 * `only`: a substring filter on op names, or NULL. */
gs_status gs_kernel_bench_each(gs_context *ctx, int repeats, const char *only, gs_kernel_timing_fn each, void *user);

/* gs_kernel_bench_each as CSV: "op,shape,pass,ms,gflops,gbs", then one row
 * per op and pass. */
gs_status gs_kernel_bench(gs_context *ctx, FILE *out, int repeats, const char *only);

/* Instruction counts instead of times (the caller runs under callgrind,
 * see kernel_count.h): each op's forward and backward once after a
 * warm-up, each a labelled dump. */
gs_status gs_kernel_count_run(gs_context *ctx, const char *only);

#endif
