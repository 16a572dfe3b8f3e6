/* Layer normalization over the last dimension, with affine gamma and beta
 * (torch nn.LayerNorm): biased variance, eps inside the square root. */
#ifndef GS_OPS_LAYERNORM_H
#define GS_OPS_LAYERNORM_H

#include "../core/context.h"
#include "../core/tensor.h"

/* x (..., D), gamma and beta (D).  gamma and beta may both be NULL for a
 * layer norm without affine parameters (elementwise_affine=False). */
gs_tensor *gs_layernorm(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta, float eps);

/* gamma/beta NULL mean 1 and 0.  save_mean and save_rstd are per row.
 * Backward ADDS into dx, dgamma, dbeta (each may be NULL). */
typedef struct gs_layernorm_kernels {
    void (*forward)(gs_context *ctx, int64_t rows, int64_t d, const float *x, const float *gamma, const float *beta,
                    float eps, float *y, float *save_mean, float *save_rstd);
    void (*backward)(gs_context *ctx, int64_t rows, int64_t d, const float *x, const float *gamma,
                     const float *mean, const float *rstd, const float *dy, float *dx, float *dgamma, float *dbeta);
} gs_layernorm_kernels;

#endif
