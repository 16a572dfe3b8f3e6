/* CPU kernels for layer normalization over the last dimension.  Row
 * statistics are accumulated in double (two passes, so the variance does not
 * cancel).  The parameter gradients sum over rows; they are computed by a
 * separate pass split over columns, so no two threads write one value and the
 * summation order never depends on the thread count. */
#include <math.h>

#include "cpu_kernels.h"

#define GS_LN_PARALLEL_MIN 16384
/* Columns per task of the dgamma/dbeta pass. */
#define GS_LN_COL_BLOCK 64

static void forward(gs_context *ctx, int64_t rows, int64_t d, const float *x, const float *gamma, const float *beta,
                    float eps, float *y, float *save_mean, float *save_rstd) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_LN_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        double sum = 0.0;
        for (int64_t j = 0; j < d; j++) sum += xr[j];
        double mean = sum / (double)d;
        double sq = 0.0;
        for (int64_t j = 0; j < d; j++) {
            double c = xr[j] - mean;
            sq += c * c;
        }
        float m = (float)mean;
        float rstd = (float)(1.0 / sqrt(sq / (double)d + (double)eps));
        save_mean[r] = m;
        save_rstd[r] = rstd;
        for (int64_t j = 0; j < d; j++) {
            float xhat = (xr[j] - m) * rstd;
            yr[j] = gamma ? xhat * gamma[j] + beta[j] : xhat;
        }
    }
}

/* With g = gamma * dy and xhat the normalized input:
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)). */
static void backward_input(gs_context *ctx, int64_t rows, int64_t d, const float *x, const float *gamma,
                           const float *mean, const float *rstd, const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_LN_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d, *gr = dy + r * d;
        float *dr = dx + r * d;
        float m = mean[r], s = rstd[r];
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t j = 0; j < d; j++) {
            float g = gamma ? gr[j] * gamma[j] : gr[j];
            sum_g += g;
            sum_gx += (double)g * ((xr[j] - m) * s);
        }
        float mean_g = (float)(sum_g / (double)d), mean_gx = (float)(sum_gx / (double)d);
        for (int64_t j = 0; j < d; j++) {
            float g = gamma ? gr[j] * gamma[j] : gr[j];
            float xhat = (xr[j] - m) * s;
            dr[j] += s * (g - mean_g - xhat * mean_gx);
        }
    }
}

/* dgamma = sum over rows of dy * xhat, dbeta = sum of dy. */
static void backward_params(gs_context *ctx, int64_t rows, int64_t d, const float *x, const float *mean,
                            const float *rstd, const float *dy, float *dgamma, float *dbeta) {
    int64_t blocks = (d + GS_LN_COL_BLOCK - 1) / GS_LN_COL_BLOCK;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_LN_PARALLEL_MIN)
    for (int64_t b = 0; b < blocks; b++) {
        int64_t j0 = b * GS_LN_COL_BLOCK;
        int64_t w = d - j0 < GS_LN_COL_BLOCK ? d - j0 : GS_LN_COL_BLOCK;
        double sg[GS_LN_COL_BLOCK] = {0}, sb[GS_LN_COL_BLOCK] = {0};
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * d + j0, *gr = dy + r * d + j0;
            float m = mean[r], s = rstd[r];
            for (int64_t j = 0; j < w; j++) {
                sg[j] += (double)gr[j] * ((xr[j] - m) * s);
                sb[j] += gr[j];
            }
        }
        for (int64_t j = 0; j < w; j++) {
            if (dgamma) dgamma[j0 + j] += (float)sg[j];
            if (dbeta) dbeta[j0 + j] += (float)sb[j];
        }
    }
}

static void backward(gs_context *ctx, int64_t rows, int64_t d, const float *x, const float *gamma,
                     const float *mean, const float *rstd, const float *dy, float *dx, float *dgamma, float *dbeta) {
    if (dx) backward_input(ctx, rows, d, x, gamma, mean, rstd, dy, dx);
    if (dgamma || dbeta) backward_params(ctx, rows, d, x, mean, rstd, dy, dgamma, dbeta);
}

const gs_layernorm_kernels gs_cpu_layernorm_kernels = {
    .forward = forward,
    .backward = backward,
};
