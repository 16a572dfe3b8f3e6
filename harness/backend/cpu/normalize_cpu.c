/* CPU kernels for L2 normalization and cosine similarity over the last
 * dimension.  Rows are independent: each is reduced by one thread, in double,
 * in a fixed order.
 *
 * Clamping: a norm n enters as max(n, eps).  Where n >= eps the gradient flows
 * through n (dn/dx = x / n); below eps the clamp is constant, as torch's
 * clamp_min backward has it, so the row is just scaled by 1/eps. */
#include <math.h>

#include "cpu_kernels.h"

#define GS_NORMALIZE_PARALLEL_MIN 16384

static double sum_sq(int64_t d, const float *x) {
    double s = 0.0;
    for (int64_t j = 0; j < d; j++) s += (double)x[j] * x[j];
    return s;
}

/* The norm passes gradient only when the clamp picked it. */
static bool norm_is_live(float norm, float eps) { return norm >= eps && norm > 0.0f; }

static void l2_forward(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *x, float *y, float *norm) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_NORMALIZE_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        double n = sqrt(sum_sq(d, xr));
        norm[r] = (float)n;
        float inv = (float)(1.0 / (n > eps ? n : (double)eps));
        for (int64_t j = 0; j < d; j++) yr[j] = xr[j] * inv;
    }
}

/* Unclamped: dx = (dy - x <x, dy> / n^2) / n.  Clamped: dx = dy / eps. */
static void l2_backward(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *x, const float *norm,
                        const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_NORMALIZE_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d, *gr = dy + r * d;
        float *dr = dx + r * d;
        if (!norm_is_live(norm[r], eps)) {
            float inv = 1.0f / eps;
            for (int64_t j = 0; j < d; j++) dr[j] += gr[j] * inv;
            continue;
        }
        double n = norm[r], dot = 0.0;
        for (int64_t j = 0; j < d; j++) dot += (double)xr[j] * gr[j];
        float inv = (float)(1.0 / n), proj = (float)(dot / (n * n * n));
        for (int64_t j = 0; j < d; j++) dr[j] += gr[j] * inv - xr[j] * proj;
    }
}

static void cosine_forward(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *a, const float *b,
                           float *out, float *norm_a, float *norm_b) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_NORMALIZE_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *ar = a + r * d, *br = b + r * d;
        double dot = 0.0, sa = 0.0, sb = 0.0;
        for (int64_t j = 0; j < d; j++) {
            dot += (double)ar[j] * br[j];
            sa += (double)ar[j] * ar[j];
            sb += (double)br[j] * br[j];
        }
        double na = sqrt(sa), nb = sqrt(sb);
        norm_a[r] = (float)na;
        norm_b[r] = (float)nb;
        out[r] = (float)(dot / ((na > eps ? na : (double)eps) * (nb > eps ? nb : (double)eps)));
    }
}

/* With s = <a, b> / (ca cb), ca = max(|a|, eps), cb = max(|b|, eps):
 *   ds/da = b / (ca cb) - s a / |a|^2   (the second term only when |a| is live),
 * and symmetrically for b. */
static void cosine_backward(gs_context *ctx, int64_t rows, int64_t d, float eps, const float *a, const float *b,
                            const float *norm_a, const float *norm_b, const float *out, const float *dout,
                            float *da, float *db) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_NORMALIZE_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *ar = a + r * d, *br = b + r * d;
        bool live_a = norm_is_live(norm_a[r], eps), live_b = norm_is_live(norm_b[r], eps);
        double ca = live_a ? norm_a[r] : eps, cb = live_b ? norm_b[r] : eps;
        double g = dout[r], s = out[r];
        float cross = (float)(g / (ca * cb));
        if (da) {
            float self = live_a ? (float)(g * s / (ca * ca)) : 0.0f;
            float *dr = da + r * d;
            for (int64_t j = 0; j < d; j++) dr[j] += br[j] * cross - ar[j] * self;
        }
        if (db) {
            float self = live_b ? (float)(g * s / (cb * cb)) : 0.0f;
            float *dr = db + r * d;
            for (int64_t j = 0; j < d; j++) dr[j] += ar[j] * cross - br[j] * self;
        }
    }
}

const gs_normalize_kernels gs_cpu_normalize_kernels = {
    .l2_forward = l2_forward,
    .l2_backward = l2_backward,
    .cosine_forward = cosine_forward,
    .cosine_backward = cosine_backward,
};
