/* CPU kernels for the losses.
 *
 * Sums are split into LOSS_CHUNKS fixed slices, each summed in double by one
 * thread, and the slices added in order: the result does not depend on the
 * thread count or scheduling. */
#include <math.h>

#include "cpu_kernels.h"

#define LOSS_CHUNKS 64
#define LOSS_PARALLEL_WORK 32768

static double sum_partials(const double *partial) {
    double total = 0.0;
    for (int k = 0; k < LOSS_CHUNKS; k++) total += partial[k];
    return total;
}

/* Softmax over the c entries of one position (stride `inner`); returns the
 * log-sum-exp minus the max, i.e. log(sum exp(x - max)), and the max. */
static double softmax_at(int64_t c, int64_t inner, const float *x, float *probs, float *max_out) {
    float m = x[0];
    for (int64_t j = 1; j < c; j++)
        if (x[j * inner] > m) m = x[j * inner];
    double z = 0.0;
    for (int64_t j = 0; j < c; j++) {
        float e = expf(x[j * inner] - m);
        if (probs) probs[j * inner] = e;
        z += e;
    }
    if (probs) {
        float inv = (float)(1.0 / z);
        for (int64_t j = 0; j < c; j++) probs[j * inner] *= inv;
    }
    *max_out = m;
    return log(z);
}

static void cross_entropy_forward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *logits,
                                  const int32_t *labels, int32_t ignore_index, float *probs, float *loss,
                                  int64_t *count) {
    int64_t positions = n * inner, counted = 0;
    for (int64_t q = 0; q < positions; q++) counted += labels[q] != ignore_index;
    int64_t chunk = (positions + LOSS_CHUNKS - 1) / LOSS_CHUNKS;
    double partial[LOSS_CHUNKS];
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (positions * c > LOSS_PARALLEL_WORK)
    for (int k = 0; k < LOSS_CHUNKS; k++) {
        double sum = 0.0;
        int64_t end = (k + 1) * chunk < positions ? (k + 1) * chunk : positions;
        for (int64_t q = k * chunk; q < end; q++) {
            int64_t i = q / inner, p = q % inner, base = i * c * inner + p;
            float m;
            double lse = softmax_at(c, inner, logits + base, probs ? probs + base : NULL, &m);
            /* -log softmax[y] = log sum exp(x - m) - (x_y - m) */
            if (labels[q] != ignore_index) sum += lse - ((double)logits[base + labels[q] * inner] - m);
        }
        partial[k] = sum;
    }
    *count = counted;
    *loss = counted ? (float)(sum_partials(partial) / (double)counted) : 0.0f;
}

static void cross_entropy_backward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *probs,
                                   const int32_t *labels, int32_t ignore_index, int64_t count, float dloss,
                                   float *dlogits) {
    if (count == 0) return;
    int64_t positions = n * inner;
    float scale = (float)((double)dloss / (double)count);
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (positions * c > LOSS_PARALLEL_WORK)
    for (int64_t q = 0; q < positions; q++) {
        int32_t y = labels[q];
        if (y == ignore_index) continue;
        int64_t i = q / inner, p = q % inner, base = i * c * inner + p;
        for (int64_t j = 0; j < c; j++) dlogits[base + j * inner] += scale * probs[base + j * inner];
        dlogits[base + y * inner] -= scale;
    }
}

static void soft_cross_entropy_forward(gs_context *ctx, int64_t n, int64_t c, const float *logits,
                                       const float *target, float *log_probs, float *loss) {
    int64_t chunk = (n + LOSS_CHUNKS - 1) / LOSS_CHUNKS;
    double partial[LOSS_CHUNKS];
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c > LOSS_PARALLEL_WORK)
    for (int k = 0; k < LOSS_CHUNKS; k++) {
        double sum = 0.0;
        int64_t end = (k + 1) * chunk < n ? (k + 1) * chunk : n;
        for (int64_t i = k * chunk; i < end; i++) {
            const float *x = logits + i * c, *t = target + i * c;
            float m;
            double lse = softmax_at(c, 1, x, NULL, &m) + m;
            for (int64_t j = 0; j < c; j++) {
                double lp = (double)x[j] - lse;
                if (log_probs) log_probs[i * c + j] = (float)lp;
                sum -= (double)t[j] * lp;
            }
        }
        partial[k] = sum;
    }
    *loss = (float)(sum_partials(partial) / (double)n);
}

static void soft_cross_entropy_backward(gs_context *ctx, int64_t n, int64_t c, const float *log_probs,
                                        const float *target, float dloss, float *dlogits, float *dtarget) {
    float scale = (float)((double)dloss / (double)n);
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c > LOSS_PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++) {
        const float *lp = log_probs + i * c, *t = target + i * c;
        /* Targets need not sum to one (smoothing, sharpening, partial rows). */
        if (dlogits) {
            float mass = 0.0f;
            for (int64_t j = 0; j < c; j++) mass += t[j];
            for (int64_t j = 0; j < c; j++) dlogits[i * c + j] += scale * (expf(lp[j]) * mass - t[j]);
        }
        if (dtarget)
            for (int64_t j = 0; j < c; j++) dtarget[i * c + j] -= scale * lp[j];
    }
}

static void bce_forward(gs_context *ctx, int64_t n, const float *logits, const float *target, float *loss) {
    int64_t chunk = (n + LOSS_CHUNKS - 1) / LOSS_CHUNKS;
    double partial[LOSS_CHUNKS];
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > LOSS_PARALLEL_WORK)
    for (int k = 0; k < LOSS_CHUNKS; k++) {
        double sum = 0.0;
        int64_t end = (k + 1) * chunk < n ? (k + 1) * chunk : n;
        for (int64_t i = k * chunk; i < end; i++) {
            /* max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x. */
            double x = logits[i], t = target[i];
            sum += (x > 0.0 ? x : 0.0) - x * t + log1p(exp(-fabs(x)));
        }
        partial[k] = sum;
    }
    *loss = (float)(sum_partials(partial) / (double)n);
}

static float stable_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static void bce_backward(gs_context *ctx, int64_t n, const float *logits, const float *target, float dloss,
                         float *dlogits, float *dtarget) {
    float scale = (float)((double)dloss / (double)n);
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > LOSS_PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++) {
        if (dlogits) dlogits[i] += scale * (stable_sigmoid(logits[i]) - target[i]);
        if (dtarget) dtarget[i] -= scale * logits[i];
    }
}

static void mse_forward(gs_context *ctx, int64_t n, const float *a, const float *b, float *loss) {
    int64_t chunk = (n + LOSS_CHUNKS - 1) / LOSS_CHUNKS;
    double partial[LOSS_CHUNKS];
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > LOSS_PARALLEL_WORK)
    for (int k = 0; k < LOSS_CHUNKS; k++) {
        double sum = 0.0;
        int64_t end = (k + 1) * chunk < n ? (k + 1) * chunk : n;
        for (int64_t i = k * chunk; i < end; i++) {
            double d = (double)a[i] - (double)b[i];
            sum += d * d;
        }
        partial[k] = sum;
    }
    *loss = (float)(sum_partials(partial) / (double)n);
}

static void mse_backward(gs_context *ctx, int64_t n, const float *a, const float *b, float dloss, float *da,
                         float *db) {
    float scale = (float)(2.0 * (double)dloss / (double)n);
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > LOSS_PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++) {
        float g = scale * (a[i] - b[i]);
        if (da) da[i] += g;
        if (db) db[i] -= g;
    }
}

const gs_loss_kernels gs_cpu_loss_kernels = {
    .cross_entropy_forward = cross_entropy_forward,
    .cross_entropy_backward = cross_entropy_backward,
    .soft_cross_entropy_forward = soft_cross_entropy_forward,
    .soft_cross_entropy_backward = soft_cross_entropy_backward,
    .bce_forward = bce_forward,
    .bce_backward = bce_backward,
    .mse_forward = mse_forward,
    .mse_backward = mse_backward,
};
