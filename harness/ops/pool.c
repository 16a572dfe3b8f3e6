/* Pooling front ends: validate, allocate, dispatch, record. */
#include "pool.h"

#include <stdint.h>

#include "op_util.h"

typedef struct maxpool_saved {
    int32_t *argmax;
} maxpool_saved;

static void maxpool_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    const maxpool_saved *saved = node->saved;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx)
        ctx->backend->pool->maxpool_backward(ctx, x->shape[0] * x->shape[1], x->shape[2], x->shape[3], y->shape[2],
                                             y->shape[3], saved->argmax, y->grad, dx);
}

gs_tensor *gs_maxpool2d(gs_context *ctx, gs_tensor *x, int kernel, int stride, int padding) {
    GS_OP_GUARD(ctx, x);
    if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) {
        gs_fail(ctx, GS_ERR_ARGUMENT,
                "maxpool2d: need kernel >= 1, stride >= 1, 0 <= padding <= kernel / 2 "
                "(got kernel %d, stride %d, padding %d)",
                kernel, stride, padding);
        return NULL;
    }
    if (x->ndim != 4) {
        gs_fail_shapes(ctx, "maxpool2d", "input must be (N, C, H, W)", x, NULL);
        return NULL;
    }
    const int64_t h = x->shape[2], w = x->shape[3];
    if (h + 2 * padding < kernel || w + 2 * padding < kernel) {
        gs_fail_shapes(ctx, "maxpool2d", "kernel larger than the padded input", x, NULL);
        return NULL;
    }
    if (h * w > INT32_MAX) {
        gs_fail_shapes(ctx, "maxpool2d", "plane too large for int32 argmax indices", x, NULL);
        return NULL;
    }
    const int64_t out_h = (h + 2 * padding - kernel) / stride + 1, out_w = (w + 2 * padding - kernel) / stride + 1;
    gs_tensor *y = gs_activation(ctx, GS_DIMS(x->shape[0], x->shape[1], out_h, out_w));
    if (!y) return NULL;

    int32_t *argmax = NULL;
    if (gs_tape_wants(ctx, 1, &x)) {
        argmax = gs_arena_alloc(&ctx->activations, (size_t)y->numel * sizeof *argmax);
        if (!argmax) {
            gs_fail(ctx, GS_ERR_MEMORY, "maxpool2d: out of memory for %lld argmax indices", (long long)y->numel);
            return NULL;
        }
    }
    ctx->backend->pool->maxpool_forward(ctx, x->shape[0] * x->shape[1], h, w, kernel, stride, padding, out_h, out_w,
                                        x->data, y->data, argmax);
    gs_tape_node *node = gs_tape_record(ctx, "maxpool2d", maxpool_backward, y, 1, &x);
    if (node) {
        maxpool_saved saved = {.argmax = argmax};
        if (!(node->saved = gs_save_copy(ctx, &saved, sizeof saved))) return NULL;
    }
    return y;
}

static void adaptive_avgpool_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    /* y is (N, C) for global pooling: one output per plane. */
    int64_t out_h = y->ndim == 4 ? y->shape[2] : 1, out_w = y->ndim == 4 ? y->shape[3] : 1;
    if (dx)
        ctx->backend->pool->adaptive_avg_backward(ctx, x->shape[0] * x->shape[1], x->shape[2], x->shape[3], out_h,
                                                  out_w, y->grad, dx);
}

static gs_tensor *adaptive_avgpool(gs_context *ctx, const char *op, gs_tensor *x, int64_t out_h, int64_t out_w,
                                   bool keep_spatial) {
    if (x->ndim != 4) {
        gs_fail_shapes(ctx, op, "input must be (N, C, H, W)", x, NULL);
        return NULL;
    }
    if (out_h < 1 || out_w < 1) {
        gs_fail(ctx, GS_ERR_SHAPE, "%s: output size must be positive (got %lld x %lld)", op, (long long)out_h,
                (long long)out_w);
        return NULL;
    }
    gs_tensor *y = keep_spatial ? gs_activation(ctx, GS_DIMS(x->shape[0], x->shape[1], out_h, out_w))
                                : gs_activation(ctx, GS_DIMS(x->shape[0], x->shape[1]));
    if (!y) return NULL;
    ctx->backend->pool->adaptive_avg_forward(ctx, x->shape[0] * x->shape[1], x->shape[2], x->shape[3], out_h, out_w,
                                             x->data, y->data);
    gs_tape_record(ctx, op, adaptive_avgpool_backward, y, 1, &x);
    return y;
}

gs_tensor *gs_global_avgpool(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    return adaptive_avgpool(ctx, "global_avgpool", x, 1, 1, false);
}

gs_tensor *gs_adaptive_avgpool2d(gs_context *ctx, gs_tensor *x, int64_t out_h, int64_t out_w) {
    GS_OP_GUARD(ctx, x);
    return adaptive_avgpool(ctx, "adaptive_avgpool2d", x, out_h, out_w, true);
}
