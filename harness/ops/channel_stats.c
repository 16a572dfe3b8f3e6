/* Per-channel mean and variance front end: validate, allocate, dispatch, record. */
#include "channel_stats.h"

#include "op_util.h"

static void channel_mean_var_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    const double *divisor = node->saved;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx)
        ctx->backend->channel_stats->mean_var_backward(ctx, x->shape[0], x->shape[1], x->shape[2] * x->shape[3],
                                                       *divisor, x->data, y->data, y->grad, dx);
}

gs_tensor *gs_channel_mean_var(gs_context *ctx, gs_tensor *x, bool unbiased) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim != 4) {
        gs_fail_shapes(ctx, "channel_mean_var", "input must be (N, C, H, W)", x, NULL);
        return NULL;
    }
    const int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    if (unbiased && hw < 2) {
        gs_fail_shapes(ctx, "channel_mean_var", "the unbiased variance needs at least 2 positions", x, NULL);
        return NULL;
    }
    const double divisor = (double)(unbiased ? hw - 1 : hw);
    gs_tensor *y = gs_activation(ctx, GS_DIMS(n, 2 * c));
    if (!y) return NULL;
    ctx->backend->channel_stats->mean_var_forward(ctx, n, c, hw, divisor, x->data, y->data);
    if (gs_failed(ctx)) return NULL;
    gs_tape_node *node = gs_tape_record(ctx, "channel_mean_var", channel_mean_var_backward, y, 1, &x);
    if (node && !(node->saved = gs_save_copy(ctx, &divisor, sizeof divisor))) return NULL;
    return y;
}
