/* Losses, each returning a scalar (ndim 0) averaged over the samples. */
#ifndef GS_OPS_LOSS_H
#define GS_OPS_LOSS_H

#include "../core/context.h"
#include "../core/tensor.h"

#define GS_NO_IGNORE_INDEX (-1000000)

/* logits (N, C) or (N, C, H, W) for dense prediction; labels: N (or N*H*W)
 * class indices; entries equal to ignore_index do not count (pass
 * GS_NO_IGNORE_INDEX for none).  Mean over counted entries.  Labels are
 * copied.  A label outside [0, C) that is not ignored is an error. */
gs_tensor *gs_cross_entropy(gs_context *ctx, gs_tensor *logits, const int32_t *labels, int32_t ignore_index);
/* logits, target (N, C): mean over N of -sum_c target * log_softmax(logits).
 * Gradients flow to the logits and, when it requires one, the target. */
gs_tensor *gs_cross_entropy_soft(gs_context *ctx, gs_tensor *logits, gs_tensor *target);
/* Multi-label: mean over all elements of the numerically stable
 * binary cross-entropy with logits; targets in [0, 1], same shape. */
gs_tensor *gs_bce_with_logits(gs_context *ctx, gs_tensor *logits, gs_tensor *target);
/* mean((a - b)^2) over all elements; gradients to both. */
gs_tensor *gs_mse(gs_context *ctx, gs_tensor *a, gs_tensor *b);

typedef struct gs_loss_kernels {
    /* logits viewed as (n, c, inner).  Writes the mean loss into *loss and the
     * softmax probabilities into probs (kept for backward); *count receives
     * the number of counted entries. */
    void (*cross_entropy_forward)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *logits,
                                  const int32_t *labels, int32_t ignore_index, float *probs, float *loss,
                                  int64_t *count);
    /* dlogits += dloss * (probs - onehot) / count */
    void (*cross_entropy_backward)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *probs,
                                   const int32_t *labels, int32_t ignore_index, int64_t count, float dloss,
                                   float *dlogits);
    void (*bce_forward)(gs_context *ctx, int64_t n, const float *logits, const float *target, float *loss);
    void (*bce_backward)(gs_context *ctx, int64_t n, const float *logits, const float *target, float dloss,
                         float *dlogits, float *dtarget);
} gs_loss_kernels;

#endif
