/* L2 normalization (torch F.normalize: x / max(||x||, eps)) and cosine
 * similarity, both over the last dimension. */
#ifndef GS_OPS_NORMALIZE_H
#define GS_OPS_NORMALIZE_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_l2_normalize(gs_context *ctx, gs_tensor *x, float eps);
/* a, b (..., D) of one shape -> (...): <a, b> / (max(|a|, eps) max(|b|, eps)).
 * This is the F.normalize-then-dot formulation,
 *   (F.normalize(a, dim=-1, eps=eps) * F.normalize(b, dim=-1, eps=eps)).sum(-1),
 * value and gradient, which BYOL-style losses use.  It is not
 * torch.cosine_similarity's eps handling: older torch divides by
 * max(|a| |b|, eps), newer torch clamps each norm outside autograd; the
 * results differ only for vectors with a norm near or below eps.  A 1-d
 * input gives a 0-d result. */
gs_tensor *gs_cosine_similarity(gs_context *ctx, gs_tensor *a, gs_tensor *b, float eps);

/* `norm`, `norm_a`, `norm_b` are per-row Euclidean norms, unclamped.  Where a
 * norm is below eps the clamp is constant and passes no gradient through the
 * norm (torch's clamp_min).  Backward kernels ADD into dx, da, db (da or db
 * may be NULL). */
typedef struct gs_normalize_kernels {
    void (*l2_forward)(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *x, float *y, float *norm);
    void (*l2_backward)(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *x, const float *norm,
                        const float *dy, float *dx);
    void (*cosine_forward)(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *a, const float *b,
                           float *out, float *norm_a, float *norm_b);
    void (*cosine_backward)(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *a, const float *b,
                            const float *norm_a, const float *norm_b, const float *out, const float *dout,
                            float *da, float *db);
} gs_normalize_kernels;

#endif
