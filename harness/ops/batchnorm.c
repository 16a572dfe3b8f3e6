/* batchnorm front end: validate, allocate, dispatch, record. */
#include "batchnorm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op_util.h"

typedef struct batchnorm_saved {
    bool training;
    bool relu; /* the output is relu(batchnorm(x)) */
    bool global; /* statistics over the ranks' global batch (--sync-bn) */
    /* Training: the batch mean and 1/sqrt(var + eps).  Eval: copies of the
     * running mean and 1/sqrt(running_var + eps) as they were in forward
     * (a later training forward may update the buffers before backward). */
    float *mean;
    float *invstd;
} batchnorm_saved;

static void batchnorm_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2], *y = node->out;
    const batchnorm_saved *s = node->saved;
    float *dx = x->requires_grad ? gs_tensor_grad(ctx, x) : NULL;
    float *dgamma = gamma && gamma->requires_grad ? gs_tensor_grad(ctx, gamma) : NULL;
    float *dbeta = beta && beta->requires_grad ? gs_tensor_grad(ctx, beta) : NULL;
    if (gs_failed(ctx) || (!dx && !dgamma && !dbeta)) return;
    int64_t n = x->shape[0], c = x->shape[1], inner = x->numel / (n * c);
    const float *dy = y->grad;
    if (s->relu) {
        /* Gradient through the relu first: zero where the output is zero. */
        float *masked = gs_scratch(ctx, (size_t)y->numel * sizeof(float));
        if (!masked) return;
        memset(masked, 0, (size_t)y->numel * sizeof(float));
        ctx->backend->activation->relu_backward(ctx, y->numel, y->data, y->grad, masked);
        dy = masked;
    }
    if (s->global)
        gs_batchnorm_sync_backward(ctx, n, c, inner, x->data, gamma ? gamma->data : NULL, s->mean, s->invstd, dy, dx,
                                   dgamma, dbeta);
    else
        ctx->backend->batchnorm->backward(ctx, n, c, inner, s->training, x->data, gamma ? gamma->data : NULL, s->mean,
                                          s->invstd, dy, dx, dgamma, dbeta);
}

static bool is_channel_vector(const gs_tensor *t, int64_t c) { return t->ndim == 1 && t->shape[0] == c; }

static bool check_args(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta, gs_tensor *running_mean,
                       gs_tensor *running_var, bool training, float momentum, float eps) {
    if (x->ndim < 2 || x->ndim > 4) {
        gs_fail_shapes(ctx, "batchnorm", "x must be (N, C), (N, C, L) or (N, C, H, W)", x, NULL);
        return false;
    }
    int64_t c = x->shape[1];
    if ((gamma == NULL) != (beta == NULL)) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "batchnorm: gamma and beta must both be given or both be NULL");
        return false;
    }
    if ((running_mean == NULL) != (running_var == NULL)) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "batchnorm: running_mean and running_var must both be given or both be NULL");
        return false;
    }
    if (!training && !running_mean) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "batchnorm: eval mode needs running_mean and running_var");
        return false;
    }
    gs_tensor *vectors[4] = {gamma, beta, running_mean, running_var};
    const char *names[4] = {"gamma", "beta", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++)
        if (vectors[i] && !is_channel_vector(vectors[i], c)) {
            char what[96];
            snprintf(what, sizeof what, "%s must be (C) with C = x.shape[1]", names[i]);
            gs_fail_shapes(ctx, "batchnorm", what, x, vectors[i]);
            return false;
        }
    if (training && x->numel / c <= 1) {
        gs_fail_shapes(ctx, "batchnorm", "training needs more than one value per channel", x, NULL);
        return false;
    }
    if (!(isfinite(eps) && eps >= 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f)) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "batchnorm: need eps >= 0 and momentum in [0, 1], got eps %g momentum %g",
                (double)eps, (double)momentum);
        return false;
    }
    return true;
}

static gs_tensor *batchnorm_op(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta,
                               gs_tensor *running_mean, gs_tensor *running_var, bool training, float momentum,
                               float eps, bool relu) {
    GS_OP_GUARD(ctx, x);
    if (!check_args(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps)) return NULL;
    int64_t n = x->shape[0], c = x->shape[1], inner = x->numel / (n * c);
    const float *g = gamma ? gamma->data : NULL, *b = beta ? beta->data : NULL;
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    float *stats = gs_arena_alloc(&ctx->activations, 2 * (size_t)c * sizeof(float));
    if (!stats) {
        gs_fail(ctx, GS_ERR_MEMORY, "batchnorm: out of memory for %lld channel statistics", (long long)c);
        return NULL;
    }
    float *mean = stats, *invstd = stats + c;
    bool global = training && gs_batchnorm_syncs(ctx);
    if (global) {
        if (gs_batchnorm_sync_forward(ctx, n, c, inner, x->data, g, b, momentum, eps, y->data, mean, invstd,
                                      running_mean ? running_mean->data : NULL,
                                      running_var ? running_var->data : NULL) != GS_OK)
            return NULL;
    } else if (training) {
        ctx->backend->batchnorm->forward_train(ctx, n, c, inner, x->data, g, b, momentum, eps, y->data, mean, invstd,
                                               running_mean ? running_mean->data : NULL,
                                               running_var ? running_var->data : NULL);
    } else {
        ctx->backend->batchnorm->forward_eval(ctx, n, c, inner, x->data, g, b, running_mean->data,
                                              running_var->data, eps, y->data);
    }
    if (relu) ctx->backend->activation->relu_forward(ctx, y->numel, y->data, y->data);
    gs_tensor *in[3] = {x, gamma, beta};
    gs_tape_node *node = gs_tape_record(ctx, relu ? "batchnorm_relu" : "batchnorm", batchnorm_backward, y, 3, in);
    if (!node) return gs_failed(ctx) ? NULL : y;
    batchnorm_saved *s = gs_arena_alloc(&ctx->activations, sizeof *s);
    if (!s) {
        gs_fail(ctx, GS_ERR_MEMORY, "batchnorm: out of memory saving for backward");
        return NULL;
    }
    s->training = training;
    s->relu = relu;
    s->global = global;
    s->mean = mean;
    s->invstd = invstd;
    if (!training)
        for (int64_t i = 0; i < c; i++) {
            mean[i] = running_mean->data[i];
            invstd[i] = (float)(1.0 / sqrt((double)running_var->data[i] + (double)eps));
        }
    node->saved = s;
    return y;
}

gs_tensor *gs_batchnorm(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta, gs_tensor *running_mean,
                        gs_tensor *running_var, bool training, float momentum, float eps) {
    return batchnorm_op(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps, false);
}

gs_tensor *gs_batchnorm_relu(gs_context *ctx, gs_tensor *x, gs_tensor *gamma, gs_tensor *beta,
                             gs_tensor *running_mean, gs_tensor *running_var, bool training, float momentum,
                             float eps) {
    return batchnorm_op(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps, true);
}
