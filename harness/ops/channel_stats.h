/* Per-channel spatial statistics of a feature map: the mean and the variance
 * of each channel over its H x W positions, side by side in one row per
 * sample (GLCNet's "style vector" [mu_c(F); sigma^2_c(F)], see
 * ../shared/specs/glcnet.md section 1). */
#ifndef GS_OPS_CHANNEL_STATS_H
#define GS_OPS_CHANNEL_STATS_H

#include "../core/context.h"
#include "../core/tensor.h"

/* x (N, C, H, W) -> (N, 2C): y[n, c] = mean of x[n, c], y[n, C + c] = its
 * variance, sum (x - mean)^2 / (HW - 1) when `unbiased` (torch.var's
 * default, what GLCNet uses) else / HW.  Unbiased needs HW >= 2. */
gs_tensor *gs_channel_mean_var(gs_context *ctx, gs_tensor *x, bool unbiased);

/* planes = N * C of hw values each; y as above (row n holds C means, then C
 * variances); `divisor` is HW or HW - 1.  Backward ADDS into dx; it reads
 * the means back from y. */
typedef struct gs_channel_stats_kernels {
    void (*mean_var_forward)(gs_context *ctx, int64_t n, int64_t c, int64_t hw, double divisor, const float *x,
                             float *y);
    void (*mean_var_backward)(gs_context *ctx, int64_t n, int64_t c, int64_t hw, double divisor, const float *x,
                              const float *y, const float *dy, float *dx);
} gs_channel_stats_kernels;

#endif
