/* CPU kernels for row sums.  Long rows are cut into fixed blocks whose
 * partial sums are added in block order, so the result is the same for any
 * thread count. */
#include "cpu_kernels.h"

#define GS_SUM_BLOCK 16384
#define GS_SUM_PARALLEL 32768

static double sum_run(int64_t n, const float *x) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}

static void sum_rows(gs_context *ctx, int64_t rows, int64_t d, float scale, const float *x, float *y) {
    int64_t blocks = (d + GS_SUM_BLOCK - 1) / GS_SUM_BLOCK;
    if (blocks == 1 || rows >= ctx->n_threads) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_SUM_PARALLEL)
        for (int64_t r = 0; r < rows; r++) {
            const float *row = x + r * d;
            double s = 0.0;
            for (int64_t b = 0; b < blocks; b++) {
                int64_t j0 = b * GS_SUM_BLOCK;
                s += sum_run(d - j0 < GS_SUM_BLOCK ? d - j0 : GS_SUM_BLOCK, row + j0);
            }
            y[r] = (float)(scale * s);
        }
        return;
    }
    double *partial = gs_scratch(ctx, (size_t)(rows * blocks) * sizeof *partial);
    if (!partial) return;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static)
    for (int64_t t = 0; t < rows * blocks; t++) {
        int64_t r = t / blocks, j0 = t % blocks * GS_SUM_BLOCK;
        partial[t] = sum_run(d - j0 < GS_SUM_BLOCK ? d - j0 : GS_SUM_BLOCK, x + r * d + j0);
    }
    for (int64_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (int64_t b = 0; b < blocks; b++) s += partial[r * blocks + b];
        y[r] = (float)(scale * s);
    }
}

static void sum_rows_backward(gs_context *ctx, int64_t rows, int64_t d, float scale, const float *dy, float *dx) {
    int64_t n = rows * d;
    if (rows == 1) {
        float g = scale * dy[0];
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > GS_SUM_PARALLEL)
        for (int64_t i = 0; i < n; i++) dx[i] += g;
        return;
    }
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > GS_SUM_PARALLEL)
    for (int64_t r = 0; r < rows; r++) {
        float g = scale * dy[r], *row = dx + r * d;
        for (int64_t j = 0; j < d; j++) row[j] += g;
    }
}

const gs_reduce_kernels gs_cpu_reduce_kernels = {
    .sum_rows = sum_rows,
    .sum_rows_backward = sum_rows_backward,
};
