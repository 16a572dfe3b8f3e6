/* reshape and detach (views), permute, slice and concat (copies). */
#include "shape.h"

#include <stdio.h>
#include <string.h>

#include "op_util.h"

static void reshape_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0];
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx) ctx->backend->shape->copy_rows(ctx, 1, x->numel, node->out->grad, x->numel, dx, x->numel, true);
}

gs_tensor *gs_reshape(gs_context *ctx, gs_tensor *x, int ndim, const int64_t *shape) {
    GS_OP_GUARD(ctx, x);
    if (ndim < 0 || ndim > GS_MAX_DIMS || (ndim > 0 && !shape)) {
        gs_fail(ctx, GS_ERR_SHAPE, "reshape: rank %d is outside 0..%d", ndim, GS_MAX_DIMS);
        return NULL;
    }
    /* One dim may be -1: the size that makes the element counts agree. */
    int64_t resolved[GS_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        resolved[i] = shape[i];
        if (shape[i] == -1 && infer < 0)
            infer = i;
        else
            known *= shape[i] > 0 ? shape[i] : 1;
    }
    if (infer >= 0 && known > 0 && x->numel % known == 0) resolved[infer] = x->numel / known;
    gs_tensor *y = gs_tensor_view(ctx, x, ndim, resolved);
    if (!y) return NULL;
    gs_tape_record(ctx, "reshape", reshape_backward, y, 1, &x);
    return y;
}

gs_tensor *gs_detach(gs_context *ctx, gs_tensor *x) {
    GS_OP_GUARD(ctx, x);
    return gs_tensor_view(ctx, x, x->ndim, x->shape);
}

typedef struct permute_saved {
    int inverse[GS_MAX_DIMS];
} permute_saved;

static void permute_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    const permute_saved *s = node->saved;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx) ctx->backend->shape->permute(ctx, y->ndim, y->shape, s->inverse, y->grad, dx, true);
}

gs_tensor *gs_permute(gs_context *ctx, gs_tensor *x, const int *perm) {
    GS_OP_GUARD(ctx, x);
    bool seen[GS_MAX_DIMS] = {false};
    for (int i = 0; i < x->ndim; i++) {
        if (!perm || perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]) {
            char buf[96];
            gs_fail(ctx, GS_ERR_SHAPE, "permute: the order is not a permutation of the %d dims of %s", x->ndim,
                    gs_shape_str(x, buf, sizeof buf));
            return NULL;
        }
        seen[perm[i]] = true;
    }
    int64_t shape[GS_MAX_DIMS];
    permute_saved s;
    for (int i = 0; i < x->ndim; i++) {
        shape[i] = x->shape[perm[i]];
        s.inverse[perm[i]] = i;
    }
    gs_tensor *y = gs_activation(ctx, x->ndim, shape);
    if (!y) return NULL;
    ctx->backend->shape->permute(ctx, x->ndim, x->shape, perm, x->data, y->data, false);
    gs_tape_node *node = gs_tape_record(ctx, "permute", permute_backward, y, 1, &x);
    if (node) node->saved = gs_save_copy(ctx, &s, sizeof s);
    return y;
}

/* A dim splits a tensor into outer x (size along dim) x inner. */
static int64_t outer_of(const gs_tensor *t, int dim) { return gs_shape_numel(dim, t->shape); }
static int64_t inner_of(const gs_tensor *t, int dim) {
    return gs_shape_numel(t->ndim - dim - 1, t->shape + dim + 1);
}

typedef struct slice_saved {
    int dim;
    int64_t start;
} slice_saved;

static void slice_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *y = node->out;
    const slice_saved *s = node->saved;
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (!dx) return;
    int64_t inner = inner_of(x, s->dim), len = y->shape[s->dim] * inner;
    ctx->backend->shape->copy_rows(ctx, outer_of(x, s->dim), len, y->grad, len, dx + s->start * inner,
                                   x->shape[s->dim] * inner, true);
}

gs_tensor *gs_slice(gs_context *ctx, gs_tensor *x, int dim, int64_t start, int64_t end) {
    GS_OP_GUARD(ctx, x);
    char buf[96];
    if (dim < 0 || dim >= x->ndim) {
        gs_fail(ctx, GS_ERR_SHAPE, "slice: dim %d is outside the %d dims of %s", dim, x->ndim,
                gs_shape_str(x, buf, sizeof buf));
        return NULL;
    }
    if (start < 0 || end > x->shape[dim] || start >= end) {
        gs_fail(ctx, GS_ERR_SHAPE, "slice: [%lld, %lld) is not a non-empty range of dim %d of %s", (long long)start,
                (long long)end, dim, gs_shape_str(x, buf, sizeof buf));
        return NULL;
    }
    int64_t shape[GS_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[dim] = end - start;
    gs_tensor *y = gs_activation(ctx, x->ndim, shape);
    if (!y) return NULL;
    int64_t inner = inner_of(x, dim), len = (end - start) * inner;
    ctx->backend->shape->copy_rows(ctx, outer_of(x, dim), len, x->data + start * inner, x->shape[dim] * inner,
                                   y->data, len, false);
    gs_tape_node *node = gs_tape_record(ctx, "slice", slice_backward, y, 1, &x);
    if (node) {
        slice_saved s = {dim, start};
        node->saved = gs_save_copy(ctx, &s, sizeof s);
    }
    return y;
}

static void concat_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *y = node->out;
    int dim = *(const int *)node->saved;
    int64_t outer = outer_of(y, dim), inner = inner_of(y, dim), row = y->shape[dim] * inner, offset = 0;
    for (int i = 0; i < node->n_in; i++) {
        gs_tensor *x = node->in[i];
        int64_t len = x->shape[dim] * inner;
        if (x->requires_grad) {
            float *dx = gs_tensor_grad(ctx, x);
            if (!dx) return;
            ctx->backend->shape->copy_rows(ctx, outer, len, y->grad + offset, row, dx, len, true);
        }
        offset += len;
    }
}

gs_tensor *gs_concat(gs_context *ctx, gs_tensor *const *xs, int n, int dim) {
    if (gs_failed(ctx)) return NULL;
    if (!xs || n < 1) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "concat: needs at least one tensor (got %d)", n);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (!xs[i]) {
            gs_fail(ctx, GS_ERR_ARGUMENT, "concat: input %d is missing", i);
            return NULL;
        }
    const gs_tensor *first = xs[0];
    if (dim < 0 || dim >= first->ndim) {
        char buf[96];
        gs_fail(ctx, GS_ERR_SHAPE, "concat: dim %d is outside the %d dims of %s", dim, first->ndim,
                gs_shape_str(first, buf, sizeof buf));
        return NULL;
    }
    int64_t shape[GS_MAX_DIMS];
    memcpy(shape, first->shape, sizeof shape);
    shape[dim] = 0;
    for (int i = 0; i < n; i++) {
        bool fits = xs[i]->ndim == first->ndim;
        for (int d = 0; fits && d < first->ndim; d++) fits = d == dim || xs[i]->shape[d] == first->shape[d];
        if (!fits) {
            char msg[80];
            snprintf(msg, sizeof msg, "input %d differs from input 0 outside dim %d", i, dim);
            gs_fail_shapes(ctx, "concat", msg, xs[i], first);
            return NULL;
        }
        shape[dim] += xs[i]->shape[dim];
    }
    gs_tensor *y = gs_activation(ctx, first->ndim, shape);
    if (!y) return NULL;
    int64_t outer = outer_of(y, dim), inner = inner_of(y, dim), row = shape[dim] * inner, offset = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = xs[i]->shape[dim] * inner;
        ctx->backend->shape->copy_rows(ctx, outer, len, xs[i]->data, len, y->data + offset, row, false);
        offset += len;
    }
    gs_tape_node *node = gs_tape_record(ctx, "concat", concat_backward, y, n, xs);
    if (node) node->saved = gs_save_copy(ctx, &dim, sizeof dim);
    return y;
}
