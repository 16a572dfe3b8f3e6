/* gather_tokens and scatter_tokens front ends (MAE masking). */
#include "tokens.h"

#include <string.h>

#include "op_util.h"

/* Every index in [0, t); GS_ERR_ARGUMENT naming the first that is not. */
static bool indices_in_range(gs_context *ctx, const char *op, const int32_t *idx, int64_t n, int64_t k, int64_t t) {
    for (int64_t i = 0; i < n * k; i++)
        if (idx[i] < 0 || idx[i] >= t) {
            gs_fail(ctx, GS_ERR_ARGUMENT, "%s: idx[%lld] = %d (sample %lld) is outside [0, %lld)", op, (long long)i,
                    (int)idx[i], (long long)(i / k), (long long)t);
            return false;
        }
    return true;
}

static void gather_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx)
        ctx->backend->tokens->gather_backward(ctx, x->shape[0], x->shape[1], y->shape[1], x->shape[2], node->saved,
                                              y->grad, dx);
}

gs_tensor *gs_gather_tokens(gs_context *ctx, gs_tensor *x, const int32_t *idx, int64_t k) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim != 3) {
        gs_fail_shapes(ctx, "gather_tokens", "x must be (N, T, D)", x, NULL);
        return NULL;
    }
    if (!idx || k < 1) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "gather_tokens: needs indices and k >= 1 (k = %lld)", (long long)k);
        return NULL;
    }
    int64_t n = x->shape[0], t = x->shape[1], d = x->shape[2];
    if (!indices_in_range(ctx, "gather_tokens", idx, n, k, t)) return NULL;
    gs_tensor *y = gs_activation(ctx, GS_DIMS(n, k, d));
    if (!y) return NULL;
    ctx->backend->tokens->gather_forward(ctx, n, t, k, d, idx, x->data, y->data);
    gs_tape_node *node = gs_tape_record(ctx, "gather_tokens", gather_backward, y, 1, &x);
    if (node) node->saved = gs_save_copy(ctx, idx, (size_t)(n * k) * sizeof *idx);
    return y;
}

static void scatter_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *fill = node->n_in > 1 ? node->in[1] : NULL, *y = node->out;
    float *dx = NULL, *dfill = NULL;
    if (x->requires_grad && !(dx = gs_tensor_grad(ctx, x))) return;
    if (fill && fill->requires_grad && !(dfill = gs_tensor_grad(ctx, fill))) return;
    ctx->backend->tokens->scatter_backward(ctx, x->shape[0], x->shape[1], y->shape[1], x->shape[2], node->saved,
                                           y->grad, dx, dfill);
}

gs_tensor *gs_scatter_tokens(gs_context *ctx, gs_tensor *x, const int32_t *idx, int64_t t, gs_tensor *fill) {
    GS_OP_GUARD(ctx, x);
    if (x->ndim != 3) {
        gs_fail_shapes(ctx, "scatter_tokens", "x must be (N, K, D)", x, NULL);
        return NULL;
    }
    int64_t n = x->shape[0], k = x->shape[1], d = x->shape[2];
    if (!idx) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "scatter_tokens: indices are missing");
        return NULL;
    }
    if (t < k) {
        char buf[96];
        gs_fail(ctx, GS_ERR_SHAPE, "scatter_tokens: %lld tokens cannot hold the %lld rows of %s", (long long)t,
                (long long)k, gs_shape_str(x, buf, sizeof buf));
        return NULL;
    }
    if (fill && (fill->ndim != 1 || fill->shape[0] != d)) {
        gs_fail_shapes(ctx, "scatter_tokens", "fill must be (D) for x (N, K, D)", fill, x);
        return NULL;
    }
    if (!indices_in_range(ctx, "scatter_tokens", idx, n, k, t)) return NULL;
    /* A repeated index would make one output row take two inputs. */
    unsigned char *seen = gs_scratch(ctx, (size_t)t);
    if (!seen) return NULL;
    for (int64_t s = 0; s < n; s++) {
        memset(seen, 0, (size_t)t);
        for (int64_t j = 0; j < k; j++) {
            int32_t i = idx[s * k + j];
            if (seen[i]) {
                gs_fail(ctx, GS_ERR_ARGUMENT, "scatter_tokens: idx[%lld] = %d repeats within sample %lld",
                        (long long)(s * k + j), (int)i, (long long)s);
                return NULL;
            }
            seen[i] = 1;
        }
    }
    gs_tensor *y = gs_activation(ctx, GS_DIMS(n, t, d));
    if (!y) return NULL;
    ctx->backend->tokens->scatter_forward(ctx, n, k, t, d, idx, x->data, fill ? fill->data : NULL, y->data);
    gs_tensor *in[2] = {x, fill};
    gs_tape_node *node = gs_tape_record(ctx, "scatter_tokens", scatter_backward, y, fill ? 2 : 1, in);
    if (node) node->saved = gs_save_copy(ctx, idx, (size_t)(n * k) * sizeof *idx);
    return y;
}
