/* sum, mean and sum over the last dim. */
#include "reduce.h"

#include "op_util.h"

typedef struct reduce_saved {
    int64_t rows, d;
    float scale;
} reduce_saved;

static void reduce_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0];
    const reduce_saved *s = node->saved;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx) ctx->backend->reduce->sum_rows_backward(ctx, s->rows, s->d, s->scale, node->out->grad, dx);
}

static gs_tensor *reduce_rows(gs_context *ctx, const char *name, gs_tensor *x, int out_ndim, int64_t rows,
                              int64_t d, float scale) {
    /* A valid (unused) shape pointer even for a scalar result. */
    int64_t shape[GS_MAX_DIMS] = {0};
    for (int i = 0; i < out_ndim; i++) shape[i] = x->shape[i];
    gs_tensor *y = gs_activation(ctx, out_ndim, shape);
    if (!y) return NULL;
    ctx->backend->reduce->sum_rows(ctx, rows, d, scale, x->data, y->data);
    gs_tape_node *node = gs_tape_record(ctx, name, reduce_backward, y, 1, &x);
    if (node) {
        reduce_saved s = {rows, d, scale};
        node->saved = gs_save_copy(ctx, &s, sizeof s);
    }
    return y;
}

gs_tensor *gs_sum(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    return reduce_rows(ctx, "sum", x, 0, 1, x->numel, 1.0f);
}

gs_tensor *gs_mean(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    return reduce_rows(ctx, "mean", x, 0, 1, x->numel, (float)(1.0 / (double)x->numel));
}

gs_tensor *gs_sum_last(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim < 1) {
        gs_fail_shapes(ctx, "sum_last", "needs at least one dim", x, NULL);
        return NULL;
    }
    int64_t d = x->shape[x->ndim - 1];
    return reduce_rows(ctx, "sum_last", x, x->ndim - 1, x->numel / d, d, 1.0f);
}
