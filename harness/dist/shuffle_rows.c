/* Rows shuffled across the ranks and back: MoCo's shuffling batchnorm. */
#include <string.h>

#include "core/rng.h"
#include "data_parallel.h"
#include "dist.h"

bool gs_data_parallel_shuffles_bn(const gs_context *ctx) { return gs_data_parallel(ctx) && !ctx->dist->sync_bn; }

/* All ranks' rows of x (rank 0's first), without recording. */
static gs_tensor *gather_all(gs_context *ctx, gs_tensor *x) {
    bool previous = gs_set_grad_enabled(ctx, false);
    gs_tensor *all = gs_gather_rows(ctx, x, 1);
    gs_set_grad_enabled(ctx, previous);
    return all;
}

static gs_tensor *rows_like(gs_context *ctx, const gs_tensor *x, int64_t rows) {
    int64_t shape[GS_MAX_DIMS];
    memcpy(shape, x->shape, (size_t)x->ndim * sizeof *shape);
    shape[0] = rows;
    return gs_activation(ctx, x->ndim, shape);
}

gs_tensor *gs_shuffle_rows(gs_context *ctx, gs_tensor *x, uint64_t seed, int64_t **order) {
    *order = NULL;
    if (!x || gs_failed(ctx) || !gs_data_parallel(ctx)) return x;
    gs_tensor *all = gather_all(ctx, x);
    if (!all) return NULL;
    int64_t total = all->shape[0], mine = x->shape[0], row = x->numel / mine;
    int64_t *perm = gs_arena_alloc(&ctx->activations, (size_t)total * sizeof *perm);
    gs_tensor *share = rows_like(ctx, x, mine);
    if (!perm || !share) {
        gs_fail(ctx, GS_ERR_MEMORY, "shuffle_rows: out of memory");
        return NULL;
    }
    /* Every rank draws the same permutation from the same seed: nothing to send. */
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    for (int64_t i = 0; i < total; i++) perm[i] = i;
    for (int64_t i = total - 1; i > 0; i--) {
        int64_t j = (int64_t)gs_rng_below(&rng, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    /* Shuffled position p holds original row perm[p]; this rank computes positions [rank * mine, ...). */
    int64_t first = (int64_t)ctx->dist->rank * mine;
    for (int64_t p = 0; p < mine; p++)
        memcpy(share->data + p * row, all->data + perm[first + p] * row, (size_t)row * sizeof *share->data);
    *order = perm;
    return share;
}

gs_tensor *gs_unshuffle_rows(gs_context *ctx, gs_tensor *y, const int64_t *order, gs_tensor **all) {
    *all = y;
    if (!y || gs_failed(ctx) || !gs_data_parallel(ctx) || !order) return y;
    gs_tensor *shuffled = gather_all(ctx, y);
    if (!shuffled) return NULL;
    int64_t total = shuffled->shape[0], mine = y->shape[0], row = y->numel / mine;
    gs_tensor *original = rows_like(ctx, y, total), *share = rows_like(ctx, y, mine);
    if (!original || !share) {
        gs_fail(ctx, GS_ERR_MEMORY, "unshuffle_rows: out of memory");
        return NULL;
    }
    for (int64_t p = 0; p < total; p++)
        memcpy(original->data + order[p] * row, shuffled->data + p * row, (size_t)row * sizeof *original->data);
    memcpy(share->data, original->data + (int64_t)ctx->dist->rank * mine * row, (size_t)(mine * row) * sizeof *share->data);
    *all = original;
    return share;
}
