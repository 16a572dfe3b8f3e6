/* Box mean pooling front end: validate, allocate, dispatch, record. */
#include "box_pool.h"

#include "op_util.h"

static void box_mean_pool_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    const gs_box *boxes = node->saved;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx)
        ctx->backend->box_pool->mean_backward(ctx, x->shape[1], x->shape[2], x->shape[3], boxes, y->shape[0], y->grad,
                                              dx);
}

gs_tensor *gs_box_mean_pool(gs_context *ctx, gs_tensor *x, const gs_box *boxes, int64_t n_boxes) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim != 4) {
        gs_fail_shapes(ctx, "box_mean_pool", "input must be (N, C, H, W)", x, NULL);
        return NULL;
    }
    if (n_boxes < 1 || !boxes) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "box_mean_pool: needs at least one box (got %lld)", (long long)n_boxes);
        return NULL;
    }
    const int64_t n = x->shape[0], h = x->shape[2], w = x->shape[3];
    for (int64_t i = 0; i < n_boxes; i++) {
        const gs_box *b = &boxes[i];
        if (b->sample < 0 || b->sample >= n || b->height < 1 || b->width < 1 || b->top < 0 || b->left < 0 ||
            (int64_t)b->top + b->height > h || (int64_t)b->left + b->width > w) {
            gs_fail(ctx, GS_ERR_SHAPE,
                    "box_mean_pool: box %lld (sample %d, rows %d..%d, columns %d..%d) is empty or outside the "
                    "(%lld, %lld, %lld, %lld) map",
                    (long long)i, b->sample, b->top, b->top + b->height - 1, b->left, b->left + b->width - 1,
                    (long long)n, (long long)x->shape[1], (long long)h, (long long)w);
            return NULL;
        }
    }
    gs_tensor *y = gs_activation(ctx, GS_DIMS(n_boxes, x->shape[1]));
    if (!y) return NULL;
    ctx->backend->box_pool->mean_forward(ctx, x->shape[1], h, w, boxes, n_boxes, x->data, y->data);
    if (gs_failed(ctx)) return NULL;
    gs_tape_node *node = gs_tape_record(ctx, "box_mean_pool", box_mean_pool_backward, y, 1, &x);
    if (node && !(node->saved = gs_save_copy(ctx, boxes, (size_t)n_boxes * sizeof *boxes))) return NULL;
    return y;
}
