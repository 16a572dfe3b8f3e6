/* CPU kernels for box mean pooling.  The forward parallelises over
 * (box, channel) pairs; the backward over channels only, each thread adding
 * every box of its channels in box order, so overlapping boxes accumulate
 * in the same order for any thread count. */
#include "cpu_kernels.h"

static void mean_forward(gs_context *ctx, int64_t c, int64_t h, int64_t w, const gs_box *boxes, int64_t n_boxes,
                         const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n_boxes * c > 64)
    for (int64_t t = 0; t < n_boxes * c; t++) {
        const gs_box *b = &boxes[t / c];
        const float *plane = x + ((int64_t)b->sample * c + t % c) * h * w;
        double sum = 0.0;
        for (int64_t i = b->top; i < b->top + b->height; i++)
            for (int64_t j = b->left; j < b->left + b->width; j++) sum += plane[i * w + j];
        y[t] = (float)(sum / ((double)b->height * (double)b->width));
    }
}

static void mean_backward(gs_context *ctx, int64_t c, int64_t h, int64_t w, const gs_box *boxes, int64_t n_boxes,
                          const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n_boxes * c > 64)
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t k = 0; k < n_boxes; k++) {
            const gs_box *b = &boxes[k];
            float *plane = dx + ((int64_t)b->sample * c + ch) * h * w;
            const float g = (float)(dy[k * c + ch] / ((double)b->height * (double)b->width));
            for (int64_t i = b->top; i < b->top + b->height; i++)
                for (int64_t j = b->left; j < b->left + b->width; j++) plane[i * w + j] += g;
        }
}

const gs_box_pool_kernels gs_cpu_box_pool_kernels = {
    .mean_forward = mean_forward,
    .mean_backward = mean_backward,
};
