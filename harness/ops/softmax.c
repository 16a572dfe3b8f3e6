/* softmax and log-softmax front ends: validate, allocate, dispatch, record. */
#include "softmax.h"

#include "op_util.h"

/* rows and d of a (..., D) tensor; fails on a 0-d input. */
static bool last_dim_layout(gs_context *ctx, const char *op, const gs_tensor *x, int64_t *rows, int64_t *d) {
    if (x->ndim < 1) {
        gs_fail_shapes(ctx, op, "needs at least one dimension", x, NULL);
        return false;
    }
    *d = x->shape[x->ndim - 1];
    *rows = x->numel / *d;
    return true;
}

static void softmax_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    int64_t d = x->shape[x->ndim - 1];
    if (dx) ctx->backend->softmax->softmax_backward(ctx, x->numel / d, d, y->data, y->grad, dx);
}

gs_tensor *gs_softmax(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    int64_t rows, d;
    if (!last_dim_layout(ctx, "softmax", x, &rows, &d)) return NULL;
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    ctx->backend->softmax->softmax_forward(ctx, rows, d, x->data, y->data);
    gs_tape_record(ctx, "softmax", softmax_backward, y, 1, &x);
    return y;
}

static void log_softmax_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    int64_t d = x->shape[x->ndim - 1];
    if (dx) ctx->backend->softmax->log_softmax_backward(ctx, x->numel / d, d, y->data, y->grad, dx);
}

gs_tensor *gs_log_softmax(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    int64_t rows, d;
    if (!last_dim_layout(ctx, "log_softmax", x, &rows, &d)) return NULL;
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    ctx->backend->softmax->log_softmax_forward(ctx, rows, d, x->data, y->data);
    gs_tape_record(ctx, "log_softmax", log_softmax_backward, y, 1, &x);
    return y;
}
