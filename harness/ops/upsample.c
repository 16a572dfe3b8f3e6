/* Bilinear resize front end: validate, allocate, dispatch, record. */
#include "upsample.h"

#include "op_util.h"

static void upsample_bilinear_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    const bool *align_corners = node->saved;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx)
        ctx->backend->upsample->bilinear_backward(ctx, x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                                                  y->shape[2], y->shape[3], *align_corners, y->grad, dx);
}

gs_tensor *gs_upsample_bilinear(gs_context *ctx, gs_tensor *x, int64_t out_h, int64_t out_w, bool align_corners) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim != 4) {
        gs_fail_shapes(ctx, "upsample_bilinear", "input must be (N, C, H, W)", x, NULL);
        return NULL;
    }
    if (out_h < 1 || out_w < 1) {
        gs_fail(ctx, GS_ERR_SHAPE, "upsample_bilinear: output size must be positive (got %lld x %lld)",
                (long long)out_h, (long long)out_w);
        return NULL;
    }
    gs_tensor *y = gs_activation(ctx, GS_DIMS(x->shape[0], x->shape[1], out_h, out_w));
    if (!y) return NULL;
    ctx->backend->upsample->bilinear_forward(ctx, x->shape[0] * x->shape[1], x->shape[2], x->shape[3], out_h, out_w,
                                             align_corners, x->data, y->data);
    if (gs_failed(ctx)) return NULL;
    gs_tape_node *node = gs_tape_record(ctx, "upsample_bilinear", upsample_bilinear_backward, y, 1, &x);
    if (node && !(node->saved = gs_save_copy(ctx, &align_corners, sizeof align_corners))) return NULL;
    return y;
}
