/* relu and gelu front ends: allocate, dispatch, record. */
#include "activation.h"

#include "op_util.h"

static void relu_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx) ctx->backend->activation->relu_backward(ctx, x->numel, y->data, y->grad, dx);
}

gs_tensor *gs_relu(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    ctx->backend->activation->relu_forward(ctx, x->numel, x->data, y->data);
    gs_tape_record(ctx, "relu", relu_backward, y, 1, &x);
    return y;
}

static void gelu_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx) ctx->backend->activation->gelu_backward(ctx, x->numel, x->data, y->grad, dx);
}

gs_tensor *gs_gelu(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    ctx->backend->activation->gelu_forward(ctx, x->numel, x->data, y->data);
    gs_tape_record(ctx, "gelu", gelu_backward, y, 1, &x);
    return y;
}
