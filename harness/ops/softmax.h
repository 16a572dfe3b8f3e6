/* Softmax and log-softmax over the last dimension (numerically stable). */
#ifndef GS_OPS_SOFTMAX_H
#define GS_OPS_SOFTMAX_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_softmax(gs_context *ctx, gs_tensor *x);
gs_tensor *gs_log_softmax(gs_context *ctx, gs_tensor *x);

/* Backward kernels take the forward output y and ADD into dx. */
typedef struct gs_softmax_kernels {
    void (*softmax_forward)(gs_context *ctx, int64_t rows, int64_t d, const float *x, float *y);
    void (*softmax_backward)(gs_context *ctx, int64_t rows, int64_t d, const float *y, const float *dy, float *dx);
    void (*log_softmax_forward)(gs_context *ctx, int64_t rows, int64_t d, const float *x, float *y);
    void (*log_softmax_backward)(gs_context *ctx, int64_t rows, int64_t d, const float *y, const float *dy,
                                 float *dx);
} gs_softmax_kernels;

#endif
