/* CPU kernels for token gather / scatter.  Rows written by different
 * threads never overlap; sums over rows (a gather that repeats an index, the
 * fill gradient) run in a fixed order. */
#include <string.h>

#include "cpu_kernels.h"

#define GS_TOK_PARALLEL 32768

static void gather_forward(gs_context *ctx, int64_t n, int64_t t, int64_t k, int64_t d, const int32_t *idx,
                           const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * k * d > GS_TOK_PARALLEL)
    for (int64_t r = 0; r < n * k; r++)
        memcpy(y + r * d, x + (r / k * t + idx[r]) * d, (size_t)d * sizeof *y);
}

/* One thread per sample: repeated indices of a sample add in index order. */
static void gather_backward(gs_context *ctx, int64_t n, int64_t t, int64_t k, int64_t d, const int32_t *idx,
                            const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * k * d > GS_TOK_PARALLEL)
    for (int64_t s = 0; s < n; s++)
        for (int64_t j = 0; j < k; j++) {
            float *row = dx + (s * t + idx[s * k + j]) * d;
            const float *g = dy + (s * k + j) * d;
            for (int64_t c = 0; c < d; c++) row[c] += g[c];
        }
}

static void scatter_forward(gs_context *ctx, int64_t n, int64_t k, int64_t t, int64_t d, const int32_t *idx,
                            const float *x, const float *fill, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * t * d > GS_TOK_PARALLEL)
    for (int64_t r = 0; r < n * t; r++) {
        if (fill)
            memcpy(y + r * d, fill, (size_t)d * sizeof *y);
        else
            memset(y + r * d, 0, (size_t)d * sizeof *y);
    }
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * k * d > GS_TOK_PARALLEL)
    for (int64_t r = 0; r < n * k; r++)
        memcpy(y + (r / k * t + idx[r]) * d, x + r * d, (size_t)d * sizeof *y);
}

static void scatter_backward(gs_context *ctx, int64_t n, int64_t k, int64_t t, int64_t d, const int32_t *idx,
                             const float *dy, float *dx, float *dfill) {
    if (dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * k * d > GS_TOK_PARALLEL)
        for (int64_t r = 0; r < n * k; r++) {
            const float *g = dy + (r / k * t + idx[r]) * d;
            float *row = dx + r * d;
            for (int64_t c = 0; c < d; c++) row[c] += g[c];
        }
    }
    if (!dfill) return;
    /* Per-sample partial sums of the unfilled rows, then added over samples
     * in order. */
    size_t partial_bytes = (size_t)(n * d) * sizeof(double);
    double *partial = gs_scratch(ctx, partial_bytes + (size_t)(n * t));
    if (!partial) return;
    unsigned char *filled = (unsigned char *)partial + partial_bytes;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * t * d > GS_TOK_PARALLEL)
    for (int64_t s = 0; s < n; s++) {
        unsigned char *mark = filled + s * t;
        double *acc = partial + s * d;
        memset(mark, 0, (size_t)t);
        for (int64_t j = 0; j < k; j++) mark[idx[s * k + j]] = 1;
        for (int64_t c = 0; c < d; c++) acc[c] = 0.0;
        for (int64_t i = 0; i < t; i++) {
            if (mark[i]) continue;
            const float *g = dy + (s * t + i) * d;
            for (int64_t c = 0; c < d; c++) acc[c] += g[c];
        }
    }
    for (int64_t c = 0; c < d; c++) {
        double sum = 0.0;
        for (int64_t s = 0; s < n; s++) sum += partial[s * d + c];
        dfill[c] += (float)sum;
    }
}

const gs_tokens_kernels gs_cpu_tokens_kernels = {
    .gather_forward = gather_forward,
    .gather_backward = gather_backward,
    .scatter_forward = scatter_forward,
    .scatter_backward = scatter_backward,
};
