/* CPU kernels for relu and gelu (exact erf form). */
#include <math.h>

#include "cpu_kernels.h"
#include "vec_math.h"

static void relu_forward(gs_context *ctx, int64_t n, const float *x, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void relu_backward(gs_context *ctx, int64_t n, const float *y, const float *dy, float *dx) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    /* A select, not a branch: the compiler vectorizes it (the branch form
     * ran about 16 instructions per element, bench kernels --count). */
    for (int64_t i = 0; i < n; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

#define GS_INV_SQRT2 0.70710678118654752440f
#define GS_INV_SQRT_2PI 0.39894228040143267794f

/* GELU with gs_verff (vec_math.h): libm erff does not vectorize and
 * dominated the ViT MLP. */

static void gelu_forward(gs_context *ctx, int64_t n, const float *x, float *y) {
#pragma omp parallel for simd num_threads(ctx->n_threads) schedule(static) if (n > 8192)
    for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + gs_verff(x[i] * GS_INV_SQRT2));
}

/* d/dx [x * Phi(x)] = Phi(x) + x * phi(x) */
static void gelu_backward(gs_context *ctx, int64_t n, const float *x, const float *dy, float *dx) {
#pragma omp parallel for simd num_threads(ctx->n_threads) schedule(static) if (n > 8192)
    for (int64_t i = 0; i < n; i++) {
        float cdf = 0.5f * (1.0f + gs_verff(x[i] * GS_INV_SQRT2));
        float pdf = GS_INV_SQRT_2PI * gs_vexpf(-0.5f * x[i] * x[i]);
        dx[i] += dy[i] * (cdf + x[i] * pdf);
    }
}

const gs_activation_kernels gs_cpu_activation_kernels = {
    .relu_forward = relu_forward,
    .relu_backward = relu_backward,
    .gelu_forward = gelu_forward,
    .gelu_backward = gelu_backward,
};
