/* CPU kernels for softmax and log-softmax over the last dimension.  Rows are
 * independent, so rows are split across threads; each row is reduced by one
 * thread in a fixed order, which keeps results deterministic. */
#include <math.h>

#include "cpu_kernels.h"
#include "vec_math.h"

/* Parallelize only when there is enough work to pay for the thread start. */
#define GS_SOFTMAX_PARALLEL_MIN 16384

static float row_max(int64_t d, const float *x) {
    float m = x[0];
    for (int64_t j = 1; j < d; j++)
        if (x[j] > m) m = x[j];
    return m;
}

/* Subtracting the row max keeps every exp() argument <= 0, so logits of any
 * size give finite results; the sum is kept in double for long rows. */
static void softmax_forward(gs_context *ctx, int64_t rows, int64_t d, const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_SOFTMAX_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        float m = row_max(d, xr);
        /* Two loops: the exp one vectorizes (gs_vexpf), the double sum not. */
        for (int64_t j = 0; j < d; j++) yr[j] = gs_vexpf(xr[j] - m);
        double sum = 0.0;
        for (int64_t j = 0; j < d; j++) sum += yr[j];
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < d; j++) yr[j] *= inv;
    }
}

/* dx = y * (dy - <dy, y>) */
static void softmax_backward(gs_context *ctx, int64_t rows, int64_t d, const float *y, const float *dy,
                             float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_SOFTMAX_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * d, *gr = dy + r * d;
        float *dr = dx + r * d;
        double dot = 0.0;
        for (int64_t j = 0; j < d; j++) dot += (double)gr[j] * yr[j];
        float s = (float)dot;
        for (int64_t j = 0; j < d; j++) dr[j] += yr[j] * (gr[j] - s);
    }
}

/* y = x - max - log(sum exp(x - max)), never log(softmax): that underflows. */
static void log_softmax_forward(gs_context *ctx, int64_t rows, int64_t d, const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_SOFTMAX_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        float m = row_max(d, xr);
        double sum = 0.0;
        for (int64_t j = 0; j < d; j++) sum += gs_vexpf(xr[j] - m);
        /* (x - m) first: exact for nearby large logits, where m + lse would
         * round away the small part. */
        float lse = (float)log(sum);
        for (int64_t j = 0; j < d; j++) yr[j] = (xr[j] - m) - lse;
    }
}

/* dx = dy - softmax * sum(dy), with softmax = exp(y). */
static void log_softmax_backward(gs_context *ctx, int64_t rows, int64_t d, const float *y, const float *dy,
                                 float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * d > GS_SOFTMAX_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * d, *gr = dy + r * d;
        float *dr = dx + r * d;
        double sum = 0.0;
        for (int64_t j = 0; j < d; j++) sum += gr[j];
        float s = (float)sum;
        for (int64_t j = 0; j < d; j++) dr[j] += gr[j] - gs_vexpf(yr[j]) * s;
    }
}

const gs_softmax_kernels gs_cpu_softmax_kernels = {
    .softmax_forward = softmax_forward,
    .softmax_backward = softmax_backward,
    .log_softmax_forward = log_softmax_forward,
    .log_softmax_backward = log_softmax_backward,
};
