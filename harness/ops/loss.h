/* Losses, each returning a scalar (ndim 0) averaged over the samples.  Sums
 * are accumulated in double over a fixed partition of the work, so a loss is
 * bit-identical whatever the thread count. */
#ifndef GS_OPS_LOSS_H
#define GS_OPS_LOSS_H

#include "../core/context.h"
#include "../core/tensor.h"

#define GS_NO_IGNORE_INDEX (-1000000)

/* logits (N, C) or (N, C, H, W) for dense prediction (any (N, C, d1, ...) is
 * accepted, as in torch); labels: N (or N*H*W) class indices; entries equal to
 * ignore_index do not count (pass GS_NO_IGNORE_INDEX for none).  Mean over
 * counted entries; when none counts the loss is 0 with a zero gradient.
 * Labels are copied.  A label outside [0, C) that is not ignored is an error
 * (GS_ERR_ARGUMENT naming its position and value). */
gs_tensor *gs_cross_entropy(gs_context *ctx, gs_tensor *logits, const int32_t *labels, int32_t ignore_index);
/* logits, target (N, C): mean over N of -sum_c target * log_softmax(logits).
 * Gradients flow to the logits and, when it requires one, the target. */
gs_tensor *gs_cross_entropy_soft(gs_context *ctx, gs_tensor *logits, gs_tensor *target);
/* Multi-label: mean over all elements of the numerically stable
 * binary cross-entropy with logits; targets in [0, 1], same shape.
 * Gradients flow to the target too when it requires one. */
gs_tensor *gs_bce_with_logits(gs_context *ctx, gs_tensor *logits, gs_tensor *target);
/* mean((a - b)^2) over all elements; gradients to both. */
gs_tensor *gs_mse(gs_context *ctx, gs_tensor *a, gs_tensor *b);

/* Backend kernels.  Every `dloss` is the gradient of the returned mean loss;
 * backward kernels fold the 1/count in themselves and ADD into the gradient
 * buffers; a NULL gradient buffer is not needed. */
typedef struct gs_loss_kernels {
    /* logits viewed as (n, c, inner); labels already validated.  Writes the
     * mean loss into *loss and, when probs is non-NULL, the softmax
     * probabilities (kept for backward); *count receives the number of
     * counted entries. */
    void (*cross_entropy_forward)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *logits,
                                  const int32_t *labels, int32_t ignore_index, float *probs, float *loss,
                                  int64_t *count);
    /* dlogits += dloss * (probs - onehot) / count at counted entries */
    void (*cross_entropy_backward)(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *probs,
                                   const int32_t *labels, int32_t ignore_index, int64_t count, float dloss,
                                   float *dlogits);
    /* (n, c) rows; log_probs (may be NULL) receives log_softmax(logits). */
    void (*soft_cross_entropy_forward)(gs_context *ctx, int64_t n, int64_t c, const float *logits,
                                       const float *target, float *log_probs, float *loss);
    /* dlogits += dloss/n * (softmax * sum_c target - target);
     * dtarget += dloss/n * -log_probs */
    void (*soft_cross_entropy_backward)(gs_context *ctx, int64_t n, int64_t c, const float *log_probs,
                                        const float *target, float dloss, float *dlogits, float *dtarget);
    void (*bce_forward)(gs_context *ctx, int64_t n, const float *logits, const float *target, float *loss);
    /* dlogits += dloss/n * (sigmoid(x) - t); dtarget += dloss/n * -x */
    void (*bce_backward)(gs_context *ctx, int64_t n, const float *logits, const float *target, float dloss,
                         float *dlogits, float *dtarget);
    void (*mse_forward)(gs_context *ctx, int64_t n, const float *a, const float *b, float *loss);
    /* da += dloss * 2(a - b)/n; db -= the same */
    void (*mse_backward)(gs_context *ctx, int64_t n, const float *a, const float *b, float dloss, float *da,
                         float *db);
} gs_loss_kernels;

#endif
