/* matmul and linear front ends: shapes, dispatch to the backend's gemm,
 * and backward through the same gemm with the operands transposed. */
#include "matmul.h"

#include <stdint.h>

#include "op_util.h"

typedef struct matmul_saved {
    bool trans_a, trans_b;
} matmul_saved;

/* The operand dims of one product; "shared" is a 3-d a with a 2-d b. */
typedef struct matmul_dims {
    int64_t batch, m, n, k, lda, ldb;
    bool shared;
} matmul_dims;

static bool blas_sized(gs_context *ctx, const char *op, int64_t m, int64_t n, int64_t k) {
    if (m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX) return true;
    gs_fail(ctx, GS_ERR_SHAPE, "%s: a %lld x %lld x %lld product is too large for 32-bit BLAS", op, (long long)m,
            (long long)n, (long long)k);
    return false;
}

static matmul_dims dims_of(const gs_tensor *a, const gs_tensor *b, bool trans_a, bool trans_b) {
    matmul_dims d;
    int64_t ar = a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
    int64_t br = b->shape[b->ndim - 2], bc = b->shape[b->ndim - 1];
    d.batch = a->ndim == 3 ? a->shape[0] : 1;
    d.m = trans_a ? ac : ar;
    d.k = trans_a ? ar : ac;
    d.n = trans_b ? br : bc;
    d.lda = ac;
    d.ldb = bc;
    d.shared = a->ndim == 3 && b->ndim == 2;
    return d;
}

static void matmul_backward(gs_context *ctx, const gs_tape_node *node) {
    const matmul_saved *s = node->saved;
    gs_tensor *a = node->in[0], *b = node->in[1], *c = node->out;
    const gs_matmul_kernels *mm = ctx->backend->matmul;
    matmul_dims d = dims_of(a, b, s->trans_a, s->trans_b);
    int64_t m = d.m, n = d.n, k = d.k, batch = d.batch;
    int64_t sa = m * k, sb = d.shared ? 0 : k * n, sc = m * n;
    /* A shared b with an untransposed a is one product over the flattened
     * batch, for both gradients. */
    bool flat = d.shared && !s->trans_a;
    const float *dc = c->grad;
    if (a->requires_grad) {
        float *da = gs_tensor_grad(ctx, a);
        if (!da) return;
        if (!s->trans_a) /* dA = dC op(B)^T */
            mm->gemm(ctx, false, !s->trans_b, flat ? 1 : batch, flat ? batch * m : m, k, n, 1.0f, dc, n, sc, b->data,
                     d.ldb, sb, 1.0f, da, d.lda, sa);
        else /* A is stored (K, M): dA = op(B) dC^T */
            mm->gemm(ctx, s->trans_b, true, batch, k, m, n, 1.0f, b->data, d.ldb, sb, dc, n, sc, 1.0f, da, d.lda, sa);
    }
    if (b->requires_grad) {
        float *db = gs_tensor_grad(ctx, b);
        if (!db) return;
        /* For a shared b every batch entry lands in the one gradient (stride 0). */
        if (!s->trans_b) /* dB = op(A)^T dC */
            mm->gemm(ctx, !s->trans_a, false, flat ? 1 : batch, k, n, flat ? batch * m : m, 1.0f, a->data, d.lda, sa,
                     dc, n, sc, 1.0f, db, d.ldb, sb);
        else /* B is stored (N, K): dB = dC^T op(A) */
            mm->gemm(ctx, true, s->trans_a, flat ? 1 : batch, n, k, flat ? batch * m : m, 1.0f, dc, n, sc, a->data,
                     d.lda, sa, 1.0f, db, d.ldb, sb);
    }
}

gs_tensor *gs_matmul(gs_context *ctx, gs_tensor *a, gs_tensor *b, bool trans_a, bool trans_b) {
    GS_OP_GUARD(ctx, a, b);
    if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3 || (a->ndim == 2 && b->ndim == 3)) {
        gs_fail_shapes(ctx, "matmul", "operands must be 2-d x 2-d, 3-d x 3-d or 3-d x 2-d", a, b);
        return NULL;
    }
    if (a->ndim == 3 && b->ndim == 3 && a->shape[0] != b->shape[0]) {
        gs_fail_shapes(ctx, "matmul", "batch sizes differ", a, b);
        return NULL;
    }
    matmul_dims d = dims_of(a, b, trans_a, trans_b);
    int64_t kb = trans_b ? b->shape[b->ndim - 1] : b->shape[b->ndim - 2];
    if (kb != d.k) {
        gs_fail_shapes(ctx, "matmul", trans_a || trans_b ? "inner dimensions differ (after transposes)"
                                                         : "inner dimensions differ",
                       a, b);
        return NULL;
    }
    if (!blas_sized(ctx, "matmul", d.batch * d.m, d.n, d.batch * d.k)) return NULL;
    gs_tensor *c = a->ndim == 3 ? gs_activation(ctx, GS_DIMS(d.batch, d.m, d.n)) : gs_activation(ctx, GS_DIMS(d.m, d.n));
    if (!c) return NULL;
    const gs_matmul_kernels *mm = ctx->backend->matmul;
    if (d.shared && !trans_a)
        mm->gemm(ctx, false, trans_b, 1, d.batch * d.m, d.n, d.k, 1.0f, a->data, d.lda, 0, b->data, d.ldb, 0, 0.0f,
                 c->data, d.n, 0);
    else
        mm->gemm(ctx, trans_a, trans_b, d.batch, d.m, d.n, d.k, 1.0f, a->data, d.lda, d.m * d.k, b->data, d.ldb,
                 d.shared ? 0 : d.k * d.n, 0.0f, c->data, d.n, d.m * d.n);
    gs_tensor *in[2] = {a, b};
    gs_tape_node *node = gs_tape_record(ctx, "matmul", matmul_backward, c, 2, in);
    if (node) {
        matmul_saved s = {trans_a, trans_b};
        node->saved = gs_save_copy(ctx, &s, sizeof s);
    }
    return c;
}

static void linear_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0], *w = node->in[1], *bias = node->n_in > 2 ? node->in[2] : NULL, *y = node->out;
    const gs_matmul_kernels *mm = ctx->backend->matmul;
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in;
    const float *dy = y->grad;
    if (x->requires_grad) {
        float *dx = gs_tensor_grad(ctx, x);
        if (!dx) return;
        mm->gemm(ctx, false, false, 1, rows, in, out, 1.0f, dy, out, 0, w->data, in, 0, 1.0f, dx, in, 0);
    }
    if (w->requires_grad) {
        float *dw = gs_tensor_grad(ctx, w);
        if (!dw) return;
        mm->gemm(ctx, true, false, 1, out, in, rows, 1.0f, dy, out, 0, x->data, in, 0, 1.0f, dw, in, 0);
    }
    if (bias && bias->requires_grad) {
        float *db = gs_tensor_grad(ctx, bias);
        if (!db) return;
        mm->bias_backward(ctx, rows, out, dy, db);
    }
}

gs_tensor *gs_linear(gs_context *ctx, gs_tensor *x, gs_tensor *w, gs_tensor *bias) {
    GS_OP_GUARD(ctx, x, w);
    if (x->ndim < 1 || w->ndim != 2 || x->shape[x->ndim - 1] != w->shape[1]) {
        gs_fail_shapes(ctx, "linear", "x must be (..., in) and w (out, in)", x, w);
        return NULL;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != w->shape[0])) {
        gs_fail_shapes(ctx, "linear", "bias must be (out) for w (out, in)", bias, w);
        return NULL;
    }
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in;
    if (!blas_sized(ctx, "linear", rows, out, in)) return NULL;
    int64_t shape[GS_MAX_DIMS];
    for (int i = 0; i < x->ndim - 1; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = out;
    gs_tensor *y = gs_activation(ctx, x->ndim, shape);
    if (!y) return NULL;
    const gs_matmul_kernels *mm = ctx->backend->matmul;
    mm->gemm(ctx, false, true, 1, rows, out, in, 1.0f, x->data, in, 0, w->data, in, 0, 0.0f, y->data, out, 0);
    if (bias) mm->bias_add(ctx, rows, out, bias->data, y->data);
    gs_tensor *inputs[3] = {x, w, bias};
    gs_tape_record(ctx, "linear", linear_backward, y, bias ? 3 : 2, inputs);
    return y;
}
