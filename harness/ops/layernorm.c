/* layernorm front end: validate, allocate, dispatch, record. */
#include "layernorm.h"

#include "op_util.h"

typedef struct layernorm_saved {
    float *mean; /* per row */
    float *rstd; /* per row: 1 / sqrt(var + eps) */
} layernorm_saved;

static void layernorm_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2], *y = node->out;
    const layernorm_saved *saved = node->saved;
    float *dx = x->requires_grad ? gs_tensor_grad(ctx, x) : NULL;
    float *dgamma = gamma && gamma->requires_grad ? gs_tensor_grad(ctx, gamma) : NULL;
    float *dbeta = beta && beta->requires_grad ? gs_tensor_grad(ctx, beta) : NULL;
    if (gs_failed(ctx) || (!dx && !dgamma && !dbeta)) return;
    int64_t d = x->shape[x->ndim - 1];
    ctx->backend->layernorm->backward(ctx, x->numel / d, d, x->data, gamma ? gamma->data : NULL, saved->mean,
                                      saved->rstd, y->grad, dx, dgamma, dbeta);
}

static bool is_vector_of(const gs_tensor *t, int64_t d) { return t->ndim == 1 && t->shape[0] == d; }

gs_tensor *gs_layernorm(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta, float eps) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim < 1) {
        gs_fail_shapes(ctx, "layernorm", "x needs at least one dimension", x, NULL);
        return NULL;
    }
    int64_t d = x->shape[x->ndim - 1], rows = x->numel / d;
    if ((gamma == NULL) != (beta == NULL)) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "layernorm: gamma and beta must both be given or both be NULL");
        return NULL;
    }
    if (gamma && !is_vector_of(gamma, d)) {
        gs_fail_shapes(ctx, "layernorm", "gamma must be (D) with D the last dimension of x", x, gamma);
        return NULL;
    }
    if (beta && !is_vector_of(beta, d)) {
        gs_fail_shapes(ctx, "layernorm", "beta must be (D) with D the last dimension of x", x, beta);
        return NULL;
    }
    if (!(eps >= 0.0f)) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "layernorm: eps must be >= 0, got %g", (double)eps);
        return NULL;
    }
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    float *stats = gs_arena_alloc(&ctx->activations, 2 * (size_t)rows * sizeof(float));
    if (!stats) {
        gs_fail(ctx, GS_ERR_MEMORY, "layernorm: out of memory for %lld row statistics", (long long)rows);
        return NULL;
    }
    ctx->backend->layernorm->forward(ctx, rows, d, x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL,
                                     eps, y->data, stats, stats + rows);
    gs_tensor *in[3] = {x, gamma, beta};
    gs_tape_node *node = gs_tape_record(ctx, "layernorm", layernorm_backward, y, 3, in);
    if (node) {
        layernorm_saved *saved = gs_arena_alloc(&ctx->activations, sizeof *saved);
        if (!saved) {
            gs_fail(ctx, GS_ERR_MEMORY, "layernorm: out of memory saving for backward");
            return NULL;
        }
        saved->mean = stats;
        saved->rstd = stats + rows;
        node->saved = saved;
    }
    return y;
}
