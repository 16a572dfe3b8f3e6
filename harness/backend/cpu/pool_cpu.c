/* CPU pooling kernels.  Forward passes split output rows across threads;
 * backward passes split planes, so every dx plane is written by one thread in
 * a fixed order (overlapping windows stay deterministic). */
#include <math.h>
#include <stdbool.h>

#include "cpu_kernels.h"

static void maxpool_forward(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int kernel, int stride,
                            int padding, int64_t out_h, int64_t out_w, const float *x, float *y, int32_t *argmax) {
    const int64_t rows = planes * out_h;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * out_w * kernel * kernel > 32768)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t plane = row / out_h, oh = row % out_h;
        const float *xp = x + plane * h * w;
        /* padding <= kernel / 2 (checked by the op): every window holds at
         * least one real element, so padding never wins. */
        int64_t hs = oh * stride - padding, he = hs + kernel;
        if (hs < 0) hs = 0;
        if (he > h) he = h;
        for (int64_t ow = 0; ow < out_w; ow++) {
            int64_t ws = ow * stride - padding, we = ws + kernel;
            if (ws < 0) ws = 0;
            if (we > w) we = w;
            int64_t best_i = hs * w + ws;
            float best = xp[best_i];
            bool any_nan = false;
            /* As torch: the first maximum wins; a NaN anywhere propagates
             * (checked once per window, keeping the compare loop simple). */
            for (int64_t ih = hs; ih < he; ih++)
                for (int64_t iw = ws; iw < we; iw++) {
                    const float v = xp[ih * w + iw];
                    any_nan |= v != v;
                    if (v > best) {
                        best = v;
                        best_i = ih * w + iw;
                    }
                }
            if (any_nan)
                for (int64_t ih = hs; ih < he && best == best; ih++)
                    for (int64_t iw = ws; iw < we; iw++)
                        if (xp[ih * w + iw] != xp[ih * w + iw]) {
                            best = xp[ih * w + iw];
                            best_i = ih * w + iw;
                            break;
                        }
            y[row * out_w + ow] = best;
            if (argmax) argmax[row * out_w + ow] = (int32_t)best_i;
        }
    }
}

static void maxpool_backward(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                             const int32_t *argmax, const float *dy, float *dx) {
    const int64_t out_plane = out_h * out_w;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (planes * out_plane > 32768)
    for (int64_t plane = 0; plane < planes; plane++) {
        float *dxp = dx + plane * h * w;
        const int32_t *am = argmax + plane * out_plane;
        const float *dyp = dy + plane * out_plane;
        for (int64_t i = 0; i < out_plane; i++) dxp[am[i]] += dyp[i];
    }
}

/* torch's adaptive bins: [floor(i * in / out), ceil((i + 1) * in / out)). */
static inline int64_t bin_start(int64_t i, int64_t in, int64_t out) { return i * in / out; }
static inline int64_t bin_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

static void adaptive_avg_forward(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h,
                                 int64_t out_w, const float *x, float *y) {
    const int64_t rows = planes * out_h;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (planes * h * w > 32768)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t plane = row / out_h, oh = row % out_h;
        const float *xp = x + plane * h * w;
        const int64_t hs = bin_start(oh, h, out_h), he = bin_end(oh, h, out_h);
        for (int64_t ow = 0; ow < out_w; ow++) {
            const int64_t ws = bin_start(ow, w, out_w), we = bin_end(ow, w, out_w);
            float sum = 0.0f;
            for (int64_t ih = hs; ih < he; ih++)
                for (int64_t iw = ws; iw < we; iw++) sum += xp[ih * w + iw];
            y[row * out_w + ow] = sum / (float)((he - hs) * (we - ws));
        }
    }
}

static void adaptive_avg_backward(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h,
                                  int64_t out_w, const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (planes * h * w > 32768)
    for (int64_t plane = 0; plane < planes; plane++) {
        float *dxp = dx + plane * h * w;
        const float *dyp = dy + plane * out_h * out_w;
        for (int64_t oh = 0; oh < out_h; oh++) {
            const int64_t hs = bin_start(oh, h, out_h), he = bin_end(oh, h, out_h);
            for (int64_t ow = 0; ow < out_w; ow++) {
                const int64_t ws = bin_start(ow, w, out_w), we = bin_end(ow, w, out_w);
                const float g = dyp[oh * out_w + ow] / (float)((he - hs) * (we - ws));
                for (int64_t ih = hs; ih < he; ih++)
                    for (int64_t iw = ws; iw < we; iw++) dxp[ih * w + iw] += g;
            }
        }
    }
}

const gs_pool_kernels gs_cpu_pool_kernels = {
    .maxpool_forward = maxpool_forward,
    .maxpool_backward = maxpool_backward,
    .adaptive_avg_forward = adaptive_avg_forward,
    .adaptive_avg_backward = adaptive_avg_backward,
};
