/* gather_rows: every rank's rows of a batch, in the order of one process
 * holding the whole global batch (data_parallel.h). */
#include "data_parallel.h"

#include <string.h>

#include "dist.h"
#include "ops/op_util.h"

typedef struct gather_saved {
    int blocks;
} gather_saved;

/* Row block `b` of rank `r` sits at block b * size + r of the output. */
static void gather_rows_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    const gather_saved *s = node->saved;
    gs_dist *d = ctx->dist;
    float *sum = gs_scratch(ctx, (size_t)y->numel * sizeof *sum);
    float *dx = gs_tensor_grad(ctx, x);
    if (!sum || !dx) return;
    memcpy(sum, y->grad, (size_t)y->numel * sizeof *sum);
    gs_error err = {0};
    if (gs_dist_sum_f32(d, sum, y->numel, &err) != GS_OK) {
        gs_fail(ctx, err.status, "%s", err.message);
        return;
    }
    int64_t block = x->numel / s->blocks;
    for (int b = 0; b < s->blocks; b++) {
        const float *from = sum + ((int64_t)b * d->size + d->rank) * block;
        float *to = dx + (int64_t)b * block;
        for (int64_t k = 0; k < block; k++) to[k] += from[k];
    }
}

gs_tensor *gs_gather_rows(gs_context *ctx, gs_tensor *x, int blocks) {
    GS_OP_GUARD(ctx, x);
    if (!gs_data_parallel(ctx)) return x;
    gs_dist *d = ctx->dist;
    if (blocks < 1 || x->ndim < 1 || x->shape[0] % blocks) {
        gs_fail(ctx, GS_ERR_SHAPE, "gather_rows: %lld rows do not split into %d blocks",
                (long long)(x->ndim ? x->shape[0] : 0), blocks);
        return NULL;
    }
    int64_t shape[GS_MAX_DIMS];
    memcpy(shape, x->shape, (size_t)x->ndim * sizeof *shape);
    shape[0] *= d->size;
    gs_tensor *y = gs_activation(ctx, x->ndim, shape);
    float *by_rank = gs_arena_alloc(&ctx->activations, (size_t)y->numel * sizeof *by_rank);
    if (!y || !by_rank) {
        gs_fail(ctx, GS_ERR_MEMORY, "gather_rows: out of memory for %lld values", (long long)(x->numel * d->size));
        return NULL;
    }
    gs_error err = {0};
    if (gs_dist_gather_f32(d, x->data, x->numel, by_rank, &err) != GS_OK) {
        gs_fail(ctx, err.status, "%s", err.message);
        return NULL;
    }
    /* by_rank holds rank 0's blocks, then rank 1's; y interleaves them. */
    int64_t block = x->numel / blocks;
    for (int r = 0; r < d->size; r++)
        for (int b = 0; b < blocks; b++)
            memcpy(y->data + ((int64_t)b * d->size + r) * block, by_rank + ((int64_t)r * blocks + b) * block,
                   (size_t)block * sizeof *y->data);
    gs_tape_node *node = gs_tape_record(ctx, "gather_rows", gather_rows_backward, y, 1, &x);
    if (!node) return gs_failed(ctx) ? NULL : y;
    gather_saved *s = gs_arena_alloc(&ctx->activations, sizeof *s);
    if (!s) {
        gs_fail(ctx, GS_ERR_MEMORY, "gather_rows: out of memory saving for backward");
        return NULL;
    }
    s->blocks = blocks;
    node->saved = s;
    return y;
}
