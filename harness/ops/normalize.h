/* L2 normalization (torch F.normalize: x / max(||x||, eps)) and cosine
 * similarity, both over the last dimension. */
#ifndef GS_OPS_NORMALIZE_H
#define GS_OPS_NORMALIZE_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_l2_normalize(gs_context *ctx, gs_tensor *x, float eps);
/* a, b (..., D) of one shape -> (...): <a, b> / (max(|a|, eps) max(|b|, eps)). */
gs_tensor *gs_cosine_similarity(gs_context *ctx, gs_tensor *a, gs_tensor *b, float eps);

/* Backward ADDS into dx. */
typedef struct gs_normalize_kernels {
    void (*l2_forward)(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *x, float *y, float *norm);
    void (*l2_backward)(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *x, const float *norm,
                        const float *dy, float *dx);
} gs_normalize_kernels;

#endif
