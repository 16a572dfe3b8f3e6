/* Reductions: sum and mean of all elements (scalar results, ndim 0), and sum
 * over the last dimension. */
#ifndef GS_OPS_REDUCE_H
#define GS_OPS_REDUCE_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_sum(gs_context *ctx, gs_tensor *x);
gs_tensor *gs_mean(gs_context *ctx, gs_tensor *x);
/* (..., D) -> (...); a 1-d input gives a scalar. */
gs_tensor *gs_sum_last(gs_context *ctx, gs_tensor *x);

typedef struct gs_reduce_kernels {
    /* y[r] = scale * sum_j x[r * d + j]; accumulated in double. */
    void (*sum_rows)(gs_context *ctx, int64_t rows, int64_t d, float scale, const float *x, float *y);
    /* dx[r * d + j] += scale * dy[r] */
    void (*sum_rows_backward)(gs_context *ctx, int64_t rows, int64_t d, float scale, const float *dy, float *dx);
} gs_reduce_kernels;

#endif
