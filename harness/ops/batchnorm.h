/* Batch normalization over dimension 1: (N, C) and (N, C, L) for 1-d,
 * (N, C, H, W) for 2-d.  Training mode normalizes with the batch statistics
 * (biased variance) and updates the running ones as torch does
 * (running = (1 - momentum) running + momentum batch, with the unbiased batch
 * variance for running_var); eval mode normalizes with the running
 * statistics.  Backward works in both modes. */
#ifndef GS_OPS_BATCHNORM_H
#define GS_OPS_BATCHNORM_H

#include "../core/context.h"
#include "../core/tensor.h"

/* gamma, beta, running_mean, running_var: (C).  running_* are updated in
 * place in training mode (they are buffers, not differentiated).
 * gamma and beta may both be NULL (affine=False, as Barlow Twins and SimSiam
 * use); running_mean and running_var may both be NULL in training mode
 * (track_running_stats=False).  Training needs more than one value per
 * channel (N * H * W > 1), as in torch. */
gs_tensor *gs_batchnorm(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta, gs_tensor *running_mean,
                        gs_tensor *running_var, bool training, float momentum, float eps);

/* relu(batchnorm(x)) as one op: one output buffer instead of two (the
 * batchnorm output is overwritten by the relu), which saves a pass over
 * memory and an activation per ResNet block. */
gs_tensor *gs_batchnorm_relu(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta,
                             gs_tensor *running_mean, gs_tensor *running_var, bool training, float momentum,
                             float eps);

/* Layout seen by kernels: x is (n, c, inner) with inner = H*W (or L, or 1).
 * gamma/beta NULL mean 1 and 0; running_mean/running_var may be NULL in
 * forward_train (no update).  Per-channel sums are accumulated in double.
 * Backward kernels ADD into dx, dgamma, dbeta (each may be NULL). */
typedef struct gs_batchnorm_kernels {
    void (*forward_train)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *gamma,
                          const float *beta, float momentum, float eps, float *y, float *save_mean,
                          float *save_invstd, float *running_mean, float *running_var);
    void (*forward_eval)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *gamma,
                         const float *beta, const float *running_mean, const float *running_var, float eps,
                         float *y);
    /* mean/invstd: the saved batch statistics (train) or the running mean and
     * 1/sqrt(running_var + eps) (eval); `training` selects the formula. */
    void (*backward)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, bool training, const float *x,
                     const float *gamma, const float *mean, const float *invstd, const float *dy, float *dx,
                     float *dgamma, float *dbeta);
    /* Batchnorm over a data-parallel job's global batch (--sync-bn): this
     * rank's per-channel sums, which the ranks add up.  out[ch] = sum of x,
     * or with `mean` given, sum of (x - mean)^2. */
    void (*channel_sums)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const double *mean,
                         double *out);
    /* sum_dy[ch] = sum of dy, sum_dy_xhat[ch] = sum of dy * (x - mean) * invstd. */
    void (*backward_sums)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *mean,
                          const float *invstd, const float *dy, double *sum_dy, double *sum_dy_xhat);
    /* dx += gamma * invstd * (dy - mean_dy - xhat * mean_dy_xhat), the means
     * taken over the global batch. */
    void (*backward_input)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *gamma,
                           const float *mean, const float *invstd, const float *dy, const float *mean_dy,
                           const float *mean_dy_xhat, float *dx);
} gs_batchnorm_kernels;

/* Training-mode batchnorm whose statistics are those of the global batch of
 * the context's data-parallel job (batchnorm_sync.c): true when the job has
 * several ranks and asked for it (--sync-bn). */
bool gs_batchnorm_syncs(const gs_context *ctx);
/* The forward_train and (training) backward kernels' work with the per-
 * channel sums added up over the ranks. */
gs_status gs_batchnorm_sync_forward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x,
                                    const float *gamma, const float *beta, float momentum, float eps, float *y,
                                    float *save_mean, float *save_invstd, float *running_mean, float *running_var);
void gs_batchnorm_sync_backward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x,
                                const float *gamma, const float *mean, const float *invstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta);

#endif
