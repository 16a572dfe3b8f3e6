/* CPU kernels for permute (coalesced dims; a tiled transpose when the
 * source's contiguous dim is not the output's last) and strided row copies
 * (slice, concat, reshape backward). */
#include <string.h>

#include "cpu_kernels.h"

#define GS_SHAPE_CHUNK 8192
#define GS_SHAPE_PARALLEL 32768
#define GS_TILE 32

static void copy_run(int64_t len, const float *src, int64_t stride, float *dst, bool accumulate) {
    if (stride == 1 && !accumulate) {
        memcpy(dst, src, (size_t)len * sizeof *dst);
    } else if (stride == 1) {
        for (int64_t j = 0; j < len; j++) dst[j] += src[j];
    } else if (accumulate) {
        for (int64_t j = 0; j < len; j++) dst[j] += src[j * stride];
    } else {
        for (int64_t j = 0; j < len; j++) dst[j] = src[j * stride];
    }
}

/* Source offset of index r over dims [0, nd) skipping dims skip0 / skip1
 * (row-major, last dim fastest); the destination offset likewise. */
static void offsets(int nd, const int64_t *shape, const int64_t *ss, const int64_t *ds, int skip0, int skip1,
                    int64_t r, int64_t *so, int64_t *dof) {
    int64_t s = 0, d = 0;
    for (int i = nd - 1; i >= 0; i--) {
        if (i == skip0 || i == skip1) continue;
        int64_t idx = r % shape[i];
        r /= shape[i];
        s += idx * ss[i];
        d += idx * ds[i];
    }
    *so = s;
    *dof = d;
}

static void permute(gs_context *ctx, int ndim, const int64_t *in_shape, const int *perm, const float *x, float *y,
                    bool accumulate) {
    int64_t in_stride[GS_MAX_DIMS], step = 1, numel = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        in_stride[i] = step;
        step *= in_shape[i];
    }
    numel = step;
    /* Output dims with their source strides, coalesced. */
    int64_t shape[GS_MAX_DIMS], ss[GS_MAX_DIMS], ds[GS_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < ndim; i++) {
        int64_t n = in_shape[perm[i]], s = in_stride[perm[i]];
        if (n == 1) continue;
        if (nd > 0 && ss[nd - 1] == s * n) {
            shape[nd - 1] *= n;
            ss[nd - 1] = s;
        } else {
            shape[nd] = n;
            ss[nd] = s;
            nd++;
        }
    }
    if (nd == 0) {
        copy_run(1, x, 1, y, accumulate);
        return;
    }
    step = 1;
    for (int i = nd - 1; i >= 0; i--) {
        ds[i] = step;
        step *= shape[i];
    }
    int last = nd - 1;
    if (ss[last] == 1) { /* rows stay contiguous: copy runs of the last dim */
        int64_t inner = shape[last], chunks = (inner + GS_SHAPE_CHUNK - 1) / GS_SHAPE_CHUNK;
        int64_t items = numel / inner * chunks;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (numel > GS_SHAPE_PARALLEL)
        for (int64_t t = 0; t < items; t++) {
            int64_t r = t / chunks, j0 = t % chunks * GS_SHAPE_CHUNK, so, dof;
            int64_t len = inner - j0 < GS_SHAPE_CHUNK ? inner - j0 : GS_SHAPE_CHUNK;
            offsets(nd, shape, ss, ds, last, -1, r, &so, &dof);
            copy_run(len, x + so + j0, 1, y + r * inner + j0, accumulate);
        }
        return;
    }
    /* A transpose: tile the source's contiguous dim p against the output's
     * last dim so both sides touch few cache lines per tile. */
    int p = 0;
    for (int i = 0; i < nd; i++)
        if (ss[i] == 1) p = i;
    int64_t np = shape[p], nl = shape[last];
    int64_t tp = (np + GS_TILE - 1) / GS_TILE, tl = (nl + GS_TILE - 1) / GS_TILE;
    int64_t outer = numel / np / nl, items = outer * tp * tl;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (numel > GS_SHAPE_PARALLEL)
    for (int64_t t = 0; t < items; t++) {
        int64_t o = t / (tp * tl), i0 = t / tl % tp * GS_TILE, j0 = t % tl * GS_TILE, so, dof;
        int64_t ni = np - i0 < GS_TILE ? np - i0 : GS_TILE, nj = nl - j0 < GS_TILE ? nl - j0 : GS_TILE;
        offsets(nd, shape, ss, ds, p, last, o, &so, &dof);
        for (int64_t i = i0; i < i0 + ni; i++)
            copy_run(nj, x + so + i + j0 * ss[last], ss[last], y + dof + i * ds[p] + j0, accumulate);
    }
}

static void copy_rows(gs_context *ctx, int64_t outer, int64_t len, const float *src, int64_t src_stride, float *dst,
                      int64_t dst_stride, bool accumulate) {
    int64_t chunks = (len + GS_SHAPE_CHUNK - 1) / GS_SHAPE_CHUNK, items = outer * chunks;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (outer * len > GS_SHAPE_PARALLEL)
    for (int64_t t = 0; t < items; t++) {
        int64_t o = t / chunks, j0 = t % chunks * GS_SHAPE_CHUNK;
        int64_t n = len - j0 < GS_SHAPE_CHUNK ? len - j0 : GS_SHAPE_CHUNK;
        copy_run(n, src + o * src_stride + j0, 1, dst + o * dst_stride + j0, accumulate);
    }
}

const gs_shape_kernels gs_cpu_shape_kernels = {
    .permute = permute,
    .copy_rows = copy_rows,
};
