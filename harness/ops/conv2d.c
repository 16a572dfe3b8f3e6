/* conv2d front end: validate, allocate, dispatch, record. */
#include "conv2d.h"

#include <limits.h>

#include "op_util.h"

static void conv2d_backward(gs_context *ctx, const gs_tape_node *node) {
    const gs_conv2d_shape *s = node->saved;
    gs_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    float *dx = NULL, *dw = NULL, *db = NULL;
    if (x->requires_grad && !(dx = gs_tensor_grad(ctx, x))) return;
    if (w->requires_grad && !(dw = gs_tensor_grad(ctx, w))) return;
    if (b && b->requires_grad && !(db = gs_tensor_grad(ctx, b))) return;
    if (!dx && !dw && !db) return;
    ctx->backend->conv2d->backward(ctx, s, x->data, w->data, node->out->grad, dx, dw, db);
}

gs_tensor *gs_conv2d(gs_context *ctx, gs_tensor *x, gs_tensor *w, gs_tensor *bias, int stride, int padding) {
    return gs_conv2d_dilated(ctx, x, w, bias, stride, padding, 1);
}

gs_tensor *gs_conv2d_dilated(gs_context *ctx, gs_tensor *x, gs_tensor *w, gs_tensor *bias, int stride, int padding,
                             int dilation) {
    GS_OP_GUARD(ctx, x, w);
    if (stride < 1 || padding < 0 || dilation < 1) {
        gs_fail(ctx, GS_ERR_ARGUMENT,
                "conv2d: stride and dilation must be >= 1 and padding >= 0 (got stride %d, padding %d, dilation %d)",
                stride, padding, dilation);
        return NULL;
    }
    if (x->ndim != 4 || w->ndim != 4) {
        gs_fail_shapes(ctx, "conv2d", "input must be (N, C_in, H, W) and weight (C_out, C_in, KH, KW)", x, w);
        return NULL;
    }
    if (w->shape[1] != x->shape[1]) {
        gs_fail_shapes(ctx, "conv2d", "weight input channels must match the input's channels", x, w);
        return NULL;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != w->shape[0])) {
        gs_fail_shapes(ctx, "conv2d", "bias must be (C_out)", w, bias);
        return NULL;
    }
    gs_conv2d_shape s = {
        .n = x->shape[0], .c_in = x->shape[1], .h_in = x->shape[2], .w_in = x->shape[3],
        .c_out = w->shape[0], .k_h = w->shape[2], .k_w = w->shape[3],
        .stride = stride, .padding = padding, .dilation = dilation,
    };
    /* The extent the dilated kernel covers. */
    const int64_t span_h = (s.k_h - 1) * dilation + 1, span_w = (s.k_w - 1) * dilation + 1;
    if (s.h_in + 2 * padding < span_h || s.w_in + 2 * padding < span_w) {
        gs_fail_shapes(ctx, "conv2d", "kernel (dilated) larger than the padded input", x, w);
        return NULL;
    }
    s.h_out = (s.h_in + 2 * padding - span_h) / stride + 1;
    s.w_out = (s.w_in + 2 * padding - span_w) / stride + 1;
    /* cblas takes int dimensions; the kernel's GEMMs span up to two samples' columns. */
    if (s.c_in * s.k_h * s.k_w > INT_MAX || s.c_out > INT_MAX || 2 * s.h_out * s.w_out > INT_MAX) {
        gs_fail_shapes(ctx, "conv2d", "too large for 32-bit GEMM dimensions", x, w);
        return NULL;
    }

    gs_tensor *y = gs_activation(ctx, GS_DIMS(s.n, s.c_out, s.h_out, s.w_out));
    if (!y) return NULL;
    ctx->backend->conv2d->forward(ctx, &s, x->data, w->data, bias ? bias->data : NULL, y->data);
    if (gs_failed(ctx)) return NULL;

    gs_tensor *in[3] = {x, w, bias};
    gs_tape_node *node = gs_tape_record(ctx, "conv2d", conv2d_backward, y, bias ? 3 : 2, in);
    if (node && !(node->saved = gs_save_copy(ctx, &s, sizeof s))) return NULL;
    return y;
}
