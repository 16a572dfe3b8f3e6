/* l2_normalize and cosine_similarity front ends: validate, allocate,
 * dispatch, record.  Both save the unclamped per-row norms for backward. */
#include "normalize.h"

#include <math.h>

#include "op_util.h"

static bool check_eps(gs_context *ctx, const char *op, float eps) {
    if (isfinite(eps) && eps >= 0.0f) return true;
    gs_fail(ctx, GS_ERR_ARGUMENT, "%s: eps must be finite and >= 0, got %g", op, (double)eps);
    return false;
}

static float *alloc_rows(gs_context *ctx, const char *op, int64_t rows) {
    float *p = gs_arena_alloc(&ctx->activations, (size_t)rows * sizeof(float));
    if (!p) gs_fail(ctx, GS_ERR_MEMORY, "%s: out of memory for %lld row norms", op, (long long)rows);
    return p;
}

typedef struct normalize_saved {
    float eps;
    float *norm_a; /* l2_normalize: the norm of x */
    float *norm_b;
} normalize_saved;

static normalize_saved *save(gs_context *ctx, const char *op, float eps, float *norm_a, float *norm_b) {
    normalize_saved *s = gs_arena_alloc(&ctx->activations, sizeof *s);
    if (!s) {
        gs_fail(ctx, GS_ERR_MEMORY, "%s: out of memory saving for backward", op);
        return NULL;
    }
    s->eps = eps;
    s->norm_a = norm_a;
    s->norm_b = norm_b;
    return s;
}

static void l2_normalize_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    const normalize_saved *s = node->saved;
    float *dx = gs_tensor_grad(ctx, x);
    int64_t d = x->shape[x->ndim - 1];
    if (dx) ctx->backend->normalize->l2_backward(ctx, x->numel / d, d, s->eps, x->data, s->norm_a, y->grad, dx);
}

gs_tensor *gs_l2_normalize(gs_context *ctx, gs_tensor *x, float eps) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim < 1) {
        gs_fail_shapes(ctx, "l2_normalize", "x needs at least one dimension", x, NULL);
        return NULL;
    }
    if (!check_eps(ctx, "l2_normalize", eps)) return NULL;
    int64_t d = x->shape[x->ndim - 1], rows = x->numel / d;
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    float *norm = alloc_rows(ctx, "l2_normalize", rows);
    if (!norm) return NULL;
    ctx->backend->normalize->l2_forward(ctx, rows, d, eps, x->data, y->data, norm);
    gs_tape_node *node = gs_tape_record(ctx, "l2_normalize", l2_normalize_backward, y, 1, &x);
    if (node) node->saved = save(ctx, "l2_normalize", eps, norm, NULL);
    return gs_failed(ctx) ? NULL : y;
}

static void cosine_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *a = node->in[0], *b = node->in[1], *out = node->out;
    const normalize_saved *s = node->saved;
    float *da = a->requires_grad ? gs_tensor_grad(ctx, a) : NULL;
    float *db = b->requires_grad ? gs_tensor_grad(ctx, b) : NULL;
    if (gs_failed(ctx) || (!da && !db)) return;
    int64_t d = a->shape[a->ndim - 1];
    ctx->backend->normalize->cosine_backward(ctx, a->numel / d, d, s->eps, a->data, b->data, s->norm_a, s->norm_b,
                                             out->data, out->grad, da, db);
}

gs_tensor *gs_cosine_similarity(gs_context *ctx, gs_tensor *a, gs_tensor *b, float eps) {
    GS_OP_GUARD(ctx, a, b);
    if (a->ndim < 1 || !gs_tensor_same_shape(a, b)) {
        gs_fail_shapes(ctx, "cosine_similarity", "a and b must have one shape (..., D)", a, b);
        return NULL;
    }
    if (!check_eps(ctx, "cosine_similarity", eps)) return NULL;
    int64_t d = a->shape[a->ndim - 1], rows = a->numel / d;
    gs_tensor *out = gs_activation(ctx, a->ndim - 1, a->shape);
    if (!out) return NULL;
    float *norm_a = alloc_rows(ctx, "cosine_similarity", rows);
    float *norm_b = norm_a ? alloc_rows(ctx, "cosine_similarity", rows) : NULL;
    if (!norm_b) return NULL;
    ctx->backend->normalize->cosine_forward(ctx, rows, d, eps, a->data, b->data, out->data, norm_a, norm_b);
    gs_tensor *in[2] = {a, b};
    gs_tape_node *node = gs_tape_record(ctx, "cosine_similarity", cosine_backward, out, 2, in);
    if (node) node->saved = save(ctx, "cosine_similarity", eps, norm_a, norm_b);
    return gs_failed(ctx) ? NULL : out;
}
