/* CPU kernels for per-channel mean and variance.  One plane per iteration,
 * sums in double and in a fixed order: the same bits for any thread count.
 * The variance is the two-pass sum of squared deviations (no cancellation
 * from E[x^2] - E[x]^2 when the mean is large). */
#include "cpu_kernels.h"

static void mean_var_forward(gs_context *ctx, int64_t n, int64_t c, int64_t hw, double divisor, const float *x,
                             float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * hw > 32768)
    for (int64_t p = 0; p < n * c; p++) {
        const float *plane = x + p * hw;
        double sum = 0.0;
        for (int64_t i = 0; i < hw; i++) sum += plane[i];
        const double mean = sum / (double)hw;
        double squares = 0.0;
        for (int64_t i = 0; i < hw; i++) squares += (plane[i] - mean) * (plane[i] - mean);
        const int64_t sample = p / c, channel = p % c;
        y[sample * 2 * c + channel] = (float)mean;
        y[sample * 2 * c + c + channel] = (float)(squares / divisor);
    }
}

/* d mean / dx_i = 1 / HW; d var / dx_i = 2 (x_i - mean) / divisor (the
 * deviations' own dependence on the mean sums to zero). */
static void mean_var_backward(gs_context *ctx, int64_t n, int64_t c, int64_t hw, double divisor, const float *x,
                              const float *y, const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n * c * hw > 32768)
    for (int64_t p = 0; p < n * c; p++) {
        const int64_t sample = p / c, channel = p % c;
        const float mean = y[sample * 2 * c + channel];
        const float d_mean = (float)(dy[sample * 2 * c + channel] / (double)hw);
        const float d_var = (float)(2.0 * dy[sample * 2 * c + c + channel] / divisor);
        const float *plane = x + p * hw;
        float *d_plane = dx + p * hw;
        for (int64_t i = 0; i < hw; i++) d_plane[i] += d_mean + d_var * (plane[i] - mean);
    }
}

const gs_channel_stats_kernels gs_cpu_channel_stats_kernels = {
    .mean_var_forward = mean_var_forward,
    .mean_var_backward = mean_var_backward,
};
