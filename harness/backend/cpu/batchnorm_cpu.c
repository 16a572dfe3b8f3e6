/* CPU kernels for batch normalization.  x is viewed as (n, c, inner).  Every
 * per-channel reduction runs on one thread, over the batch in a fixed order,
 * in double: channels are split across threads, so results do not depend on
 * the thread count.  The variance takes a second pass over the centred values
 * rather than E[x^2] - E[x]^2, which cancels for large means. */
#include <math.h>

#include "cpu_kernels.h"

#define GS_BN_PARALLEL_MIN 16384

static double channel_sum(int64_t n, int64_t c, int64_t inner, const float *x, int64_t ch) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *p = x + (i * c + ch) * inner;
        for (int64_t k = 0; k < inner; k++) s += p[k];
    }
    return s;
}

/* y = (x - mean) * scale + shift over one channel. */
static void channel_affine(int64_t n, int64_t c, int64_t inner, const float *x, float *y, int64_t ch, float mean,
                           float scale, float shift) {
    for (int64_t i = 0; i < n; i++) {
        const float *p = x + (i * c + ch) * inner;
        float *q = y + (i * c + ch) * inner;
        for (int64_t k = 0; k < inner; k++) q[k] = (p[k] - mean) * scale + shift;
    }
}

static void forward_train(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *gamma,
                          const float *beta, float momentum, float eps, float *y, float *save_mean,
                          float *save_invstd, float *running_mean, float *running_var) {
    int64_t m = n * inner;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * inner > GS_BN_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double mean = channel_sum(n, c, inner, x, ch) / (double)m;
        double sq = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * inner;
            for (int64_t k = 0; k < inner; k++) {
                double d = p[k] - mean;
                sq += d * d;
            }
        }
        double var = sq / (double)m;
        double invstd = 1.0 / sqrt(var + (double)eps);
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)invstd;
        float g = gamma ? gamma[ch] : 1.0f, b = beta ? beta[ch] : 0.0f;
        channel_affine(n, c, inner, x, y, ch, (float)mean, (float)invstd * g, b);
        if (running_mean) {
            /* m > 1 is checked by the front end. */
            double unbiased = sq / (double)(m - 1);
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean);
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] + momentum * unbiased);
        }
    }
}

static void forward_eval(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *gamma,
                         const float *beta, const float *running_mean, const float *running_var, float eps,
                         float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * inner > GS_BN_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        float invstd = (float)(1.0 / sqrt((double)running_var[ch] + (double)eps));
        float g = gamma ? gamma[ch] : 1.0f, b = beta ? beta[ch] : 0.0f;
        channel_affine(n, c, inner, x, y, ch, running_mean[ch], invstd * g, b);
    }
}

/* With xhat = (x - mean) * invstd and m values per channel:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   train: dx = gamma * invstd * (dy - dbeta / m - xhat * dgamma / m)
 *   eval:  dx = gamma * invstd * dy  (the statistics are constants). */
static void backward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, bool training, const float *x,
                     const float *gamma, const float *mean, const float *invstd, const float *dy, float *dx,
                     float *dgamma, float *dbeta) {
    int64_t m = n * inner;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * inner > GS_BN_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        float mu = mean[ch], s = invstd[ch];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        if (training || dgamma || dbeta)
            for (int64_t i = 0; i < n; i++) {
                const float *p = x + (i * c + ch) * inner, *g = dy + (i * c + ch) * inner;
                for (int64_t k = 0; k < inner; k++) {
                    sum_dy += g[k];
                    sum_dy_xhat += (double)g[k] * ((p[k] - mu) * s);
                }
            }
        if (dgamma) dgamma[ch] += (float)sum_dy_xhat;
        if (dbeta) dbeta[ch] += (float)sum_dy;
        if (!dx) continue;
        float scale = (gamma ? gamma[ch] : 1.0f) * s;
        float mean_dy = training ? (float)(sum_dy / (double)m) : 0.0f;
        float mean_dy_xhat = training ? (float)(sum_dy_xhat / (double)m) : 0.0f;
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * inner, *g = dy + (i * c + ch) * inner;
            float *q = dx + (i * c + ch) * inner;
            for (int64_t k = 0; k < inner; k++) q[k] += scale * (g[k] - mean_dy - (p[k] - mu) * s * mean_dy_xhat);
        }
    }
}

static void channel_sums(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const double *mean,
                         double *out) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * inner > GS_BN_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        if (!mean) {
            out[ch] = channel_sum(n, c, inner, x, ch);
            continue;
        }
        double sq = 0.0, mu = mean[ch];
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * inner;
            for (int64_t k = 0; k < inner; k++) sq += (p[k] - mu) * (p[k] - mu);
        }
        out[ch] = sq;
    }
}

static void backward_sums(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *mean,
                          const float *invstd, const float *dy, double *sum_dy, double *sum_dy_xhat) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * inner > GS_BN_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        float mu = mean[ch], s = invstd[ch];
        double a = 0.0, b = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * inner, *g = dy + (i * c + ch) * inner;
            for (int64_t k = 0; k < inner; k++) {
                a += g[k];
                b += (double)g[k] * ((p[k] - mu) * s);
            }
        }
        sum_dy[ch] = a;
        sum_dy_xhat[ch] = b;
    }
}

static void backward_input(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x, const float *gamma,
                           const float *mean, const float *invstd, const float *dy, const float *mean_dy,
                           const float *mean_dy_xhat, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * inner > GS_BN_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        float mu = mean[ch], s = invstd[ch], scale = (gamma ? gamma[ch] : 1.0f) * s;
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * inner, *g = dy + (i * c + ch) * inner;
            float *q = dx + (i * c + ch) * inner;
            for (int64_t k = 0; k < inner; k++)
                q[k] += scale * (g[k] - mean_dy[ch] - (p[k] - mu) * s * mean_dy_xhat[ch]);
        }
    }
}

const gs_batchnorm_kernels gs_cpu_batchnorm_kernels = {
    .channel_sums = channel_sums,
    .backward_sums = backward_sums,
    .backward_input = backward_input,
    .forward_train = forward_train,
    .forward_eval = forward_eval,
    .backward = backward,
};
