/* CPU kernels for broadcast add / sub / mul, affine and axpy.
 *
 * Broadcasts are first coalesced: size-1 dims dropped and neighbouring dims
 * merged where both operands stay linear, so equal shapes become one flat
 * loop and a bias over (N, T, D) becomes two dims.  Gradients of stretched
 * operands are sums over the stretched dims, each output element summed by
 * one thread in a fixed order: no atomics, same bits for any thread count. */
#include "cpu_kernels.h"

#define GS_EW_CHUNK 8192
#define GS_EW_PARALLEL 32768

typedef struct plan {
    int ndim;
    int64_t shape[GS_MAX_DIMS];
    int64_t sa[GS_MAX_DIMS];
    int64_t sb[GS_MAX_DIMS];
    int64_t numel;
} plan;

static void coalesce(const gs_broadcast *bc, plan *p) {
    int nd = 0;
    for (int i = 0; i < bc->ndim; i++) {
        int64_t n = bc->shape[i];
        if (n == 1) continue;
        if (nd > 0 && p->sa[nd - 1] == bc->stride_a[i] * n && p->sb[nd - 1] == bc->stride_b[i] * n) {
            p->shape[nd - 1] *= n;
        } else {
            p->shape[nd] = n;
            nd++;
        }
        p->sa[nd - 1] = bc->stride_a[i];
        p->sb[nd - 1] = bc->stride_b[i];
    }
    if (nd == 0) { /* every dim is 1: one element */
        p->shape[0] = 1;
        p->sa[0] = p->sb[0] = 0;
        nd = 1;
    }
    p->ndim = nd;
    p->numel = bc->numel;
}

/* Offsets of output row r (all dims but the last) in a and b. */
static void row_offsets(const plan *p, int64_t r, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = p->ndim - 2; d >= 0; d--) {
        int64_t idx = r % p->shape[d];
        r /= p->shape[d];
        a += idx * p->sa[d];
        b += idx * p->sb[d];
    }
    *oa = a;
    *ob = b;
}

static void apply(gs_binary_op op, int64_t len, const float *a, int64_t ia, const float *b, int64_t ib, float *y) {
    if (ia == 1 && ib == 1) {
        switch (op) {
        case GS_BINARY_ADD: for (int64_t j = 0; j < len; j++) y[j] = a[j] + b[j]; break;
        case GS_BINARY_SUB: for (int64_t j = 0; j < len; j++) y[j] = a[j] - b[j]; break;
        case GS_BINARY_MUL: for (int64_t j = 0; j < len; j++) y[j] = a[j] * b[j]; break;
        }
        return;
    }
    switch (op) {
    case GS_BINARY_ADD: for (int64_t j = 0; j < len; j++) y[j] = a[j * ia] + b[j * ib]; break;
    case GS_BINARY_SUB: for (int64_t j = 0; j < len; j++) y[j] = a[j * ia] - b[j * ib]; break;
    case GS_BINARY_MUL: for (int64_t j = 0; j < len; j++) y[j] = a[j * ia] * b[j * ib]; break;
    }
}

/* Work items are (row, chunk of the last dim), so a flat same-shape loop
 * (one row) still spreads over threads. */
static void binary_forward(gs_context *ctx, gs_binary_op op, const gs_broadcast *bc, const float *a,
                           const float *b, float *y) {
    plan p;
    coalesce(bc, &p);
    int64_t inner = p.shape[p.ndim - 1], ia = p.sa[p.ndim - 1], ib = p.sb[p.ndim - 1];
    int64_t chunks = (inner + GS_EW_CHUNK - 1) / GS_EW_CHUNK, items = p.numel / inner * chunks;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (p.numel > GS_EW_PARALLEL)
    for (int64_t t = 0; t < items; t++) {
        int64_t r = t / chunks, j0 = t % chunks * GS_EW_CHUNK;
        int64_t len = inner - j0 < GS_EW_CHUNK ? inner - j0 : GS_EW_CHUNK;
        int64_t oa, ob;
        row_offsets(&p, r, &oa, &ob);
        apply(op, len, a + oa + j0 * ia, ia, b + ob + j0 * ib, ib, y + r * inner + j0);
    }
}

/* dx += sign * dy * other, for an operand x that is not stretched (its
 * offsets equal the output's); other is NULL for add / sub. */
static void grad_unstretched(gs_context *ctx, const plan *p, const int64_t *s_other, const float *dy,
                             const float *other, float sign, float *dx) {
    if (!other) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (p->numel > GS_EW_PARALLEL)
        for (int64_t i = 0; i < p->numel; i++) dx[i] += sign * dy[i];
        return;
    }
    plan q = *p; /* row_offsets reads sb: point it at the other operand */
    for (int d = 0; d < q.ndim; d++) q.sb[d] = s_other[d];
    int64_t inner = q.shape[q.ndim - 1], io = q.sb[q.ndim - 1];
    int64_t chunks = (inner + GS_EW_CHUNK - 1) / GS_EW_CHUNK, items = q.numel / inner * chunks;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (q.numel > GS_EW_PARALLEL)
    for (int64_t t = 0; t < items; t++) {
        int64_t r = t / chunks, j0 = t % chunks * GS_EW_CHUNK;
        int64_t len = inner - j0 < GS_EW_CHUNK ? inner - j0 : GS_EW_CHUNK;
        int64_t unused, oo;
        row_offsets(&q, r, &unused, &oo);
        const float *g = dy + r * inner + j0, *o = other + oo + j0 * io;
        float *d = dx + r * inner + j0;
        for (int64_t j = 0; j < len; j++) d[j] += sign * g[j] * o[j * io];
    }
}

#define GS_EW_BLOCK 64

/* dx += sign * sum over the stretched dims of dy * other (other NULL: 1).
 * Each element of x is summed by one thread in index order.  When x keeps
 * the last dim (a bias over rows), threads own blocks of it and walk the
 * stretched dims row by row, so dy is read contiguously. */
static void grad_stretched(gs_context *ctx, const plan *p, const int64_t *sx, const int64_t *s_other,
                           const float *dy, const float *other, float sign, float *dx) {
    int64_t kshape[GS_MAX_DIMS], kout[GS_MAX_DIMS], koth[GS_MAX_DIMS];
    int64_t rshape[GS_MAX_DIMS], rout[GS_MAX_DIMS], roth[GS_MAX_DIMS];
    int64_t ostride[GS_MAX_DIMS], nx = 1, step = 1;
    int nk = 0, nr = 0, last = p->ndim - 1;
    for (int d = last; d >= 0; d--) {
        ostride[d] = step;
        step *= p->shape[d];
    }
    for (int d = 0; d < p->ndim; d++) {
        int64_t so = other ? s_other[d] : 0;
        if (sx[d] != 0) {
            kshape[nk] = p->shape[d], kout[nk] = ostride[d], koth[nk] = so, nk++;
            nx *= p->shape[d];
        } else {
            rshape[nr] = p->shape[d], rout[nr] = ostride[d], roth[nr] = so, nr++;
        }
    }
    int64_t reduced = p->numel / nx;
    if (sx[last] != 0) {
        int64_t len = p->shape[last], blocks = (len + GS_EW_BLOCK - 1) / GS_EW_BLOCK, ol = koth[nk - 1];
        int64_t items = nx / len * blocks;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (p->numel > GS_EW_PARALLEL)
        for (int64_t t = 0; t < items; t++) {
            int64_t rem = t / blocks, j0 = t % blocks * GS_EW_BLOCK, oy = j0, oo = j0 * ol;
            int64_t n = len - j0 < GS_EW_BLOCK ? len - j0 : GS_EW_BLOCK;
            for (int d = nk - 2; d >= 0; d--) {
                int64_t idx = rem % kshape[d];
                rem /= kshape[d];
                oy += idx * kout[d];
                oo += idx * koth[d];
            }
            double acc[GS_EW_BLOCK] = {0};
            for (int64_t q = 0; q < reduced; q++) {
                int64_t rq = q, py = oy, po = oo;
                for (int d = nr - 1; d >= 0; d--) {
                    int64_t idx = rq % rshape[d];
                    rq /= rshape[d];
                    py += idx * rout[d];
                    po += idx * roth[d];
                }
                const float *g = dy + py;
                if (other)
                    for (int64_t j = 0; j < n; j++) acc[j] += (double)g[j] * (double)other[po + j * ol];
                else
                    for (int64_t j = 0; j < n; j++) acc[j] += g[j];
            }
            float *d = dx + t / blocks * len + j0;
            for (int64_t j = 0; j < n; j++) d[j] += sign * (float)acc[j];
        }
        return;
    }
    /* x is stretched along the last dim: each element sums contiguous runs. */
    int64_t len = rshape[nr - 1], ro = rout[nr - 1], rt = roth[nr - 1], outer = reduced / len;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (p->numel > GS_EW_PARALLEL)
    for (int64_t e = 0; e < nx; e++) {
        int64_t rem = e, oy = 0, oo = 0;
        for (int d = nk - 1; d >= 0; d--) {
            int64_t idx = rem % kshape[d];
            rem /= kshape[d];
            oy += idx * kout[d];
            oo += idx * koth[d];
        }
        double acc = 0.0;
        for (int64_t q = 0; q < outer; q++) {
            int64_t rq = q, py = oy, po = oo;
            for (int d = nr - 2; d >= 0; d--) {
                int64_t idx = rq % rshape[d];
                rq /= rshape[d];
                py += idx * rout[d];
                po += idx * roth[d];
            }
            const float *g = dy + py;
            if (other) {
                const float *o = other + po;
                for (int64_t j = 0; j < len; j++) acc += (double)g[j * ro] * (double)o[j * rt];
            } else {
                for (int64_t j = 0; j < len; j++) acc += g[j * ro];
            }
        }
        dx[e] += sign * (float)acc;
    }
}

static void grad_operand(gs_context *ctx, const plan *p, const int64_t *sx, const int64_t *s_other, const float *dy,
                         const float *other, float sign, float *dx) {
    bool stretched = false;
    for (int d = 0; d < p->ndim; d++) stretched |= sx[d] == 0;
    if (stretched)
        grad_stretched(ctx, p, sx, s_other, dy, other, sign, dx);
    else
        grad_unstretched(ctx, p, s_other, dy, other, sign, dx);
}

static void binary_backward(gs_context *ctx, gs_binary_op op, const gs_broadcast *bc, const float *a,
                            const float *b, const float *dy, float *da, float *db) {
    plan p;
    coalesce(bc, &p);
    bool mul = op == GS_BINARY_MUL;
    if (da) grad_operand(ctx, &p, p.sa, p.sb, dy, mul ? b : NULL, 1.0f, da);
    if (db) grad_operand(ctx, &p, p.sb, p.sa, dy, mul ? a : NULL, op == GS_BINARY_SUB ? -1.0f : 1.0f, db);
}

static void affine(gs_context *ctx, int64_t n, float alpha, float beta, const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > GS_EW_PARALLEL)
    for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i] + beta;
}

static void axpy(gs_context *ctx, int64_t n, float alpha, const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > GS_EW_PARALLEL)
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

const gs_elementwise_kernels gs_cpu_elementwise_kernels = {
    .binary_forward = binary_forward,
    .binary_backward = binary_backward,
    .affine = affine,
    .axpy = axpy,
};
