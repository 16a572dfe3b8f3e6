/* Per-op timings at the shapes ResNet-18 (64 px, batch 64) and ViT-Tiny
 * (patch 8, 64 px, batch 64) use, as CSV, so later work can compare against
 * a stored baseline (reports/ flags regressions). */
#ifndef GS_BENCH_KERNEL_BENCH_H
#define GS_BENCH_KERNEL_BENCH_H

#include <stdio.h>

#include "../core/context.h"

/* Writes "op,shape,pass,ms,gflops,gbs" then one row per op and pass
 * (forward, backward).  `only`: a substring filter on op names, or NULL. */
gs_status gs_kernel_bench(gs_context *ctx, FILE *out, int repeats, const char *only);

#endif
