/* Pointwise activations: relu and gelu (exact, erf form, as torch's default). */
#ifndef GS_OPS_ACTIVATION_H
#define GS_OPS_ACTIVATION_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_relu(gs_context *ctx, gs_tensor *x);
gs_tensor *gs_gelu(gs_context *ctx, gs_tensor *x);

/* Backend kernels.  Backward kernels ADD into dx. */
typedef struct gs_activation_kernels {
    void (*relu_forward)(gs_context *ctx, int64_t n, const float *x, float *y);
    void (*relu_backward)(gs_context *ctx, int64_t n, const float *y, const float *dy, float *dx);
    void (*gelu_forward)(gs_context *ctx, int64_t n, const float *x, float *y);
    void (*gelu_backward)(gs_context *ctx, int64_t n, const float *x, const float *dy, float *dx);
} gs_activation_kernels;

#endif
