/* Pooling over NCHW: max pooling (torch semantics, padding never wins), global
 * average pooling, and adaptive average pooling (torch's bin edges:
 * start = floor(i * H / out), end = ceil((i + 1) * H / out)). */
#ifndef GS_OPS_POOL_H
#define GS_OPS_POOL_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_maxpool2d(gs_context *ctx, gs_tensor *x, int kernel, int stride, int padding);
/* (N, C, H, W) -> (N, C) */
gs_tensor *gs_global_avgpool(gs_context *ctx, gs_tensor *x);
/* (N, C, H, W) -> (N, C, out_h, out_w) */
gs_tensor *gs_adaptive_avgpool2d(gs_context *ctx, gs_tensor *x, int64_t out_h, int64_t out_w);

/* planes = N * C.  argmax holds, per output element, the flat index inside its
 * input plane; it may be NULL when no backward follows.  Global average
 * pooling is adaptive_avg with out_h = out_w = 1.  Backward kernels ADD into
 * dx. */
typedef struct gs_pool_kernels {
    void (*maxpool_forward)(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int kernel, int stride,
                            int padding, int64_t out_h, int64_t out_w, const float *x, float *y, int32_t *argmax);
    void (*maxpool_backward)(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                             const int32_t *argmax, const float *dy, float *dx);
    void (*adaptive_avg_forward)(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h,
                                 int64_t out_w, const float *x, float *y);
    void (*adaptive_avg_backward)(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h,
                                  int64_t out_w, const float *dy, float *dx);
} gs_pool_kernels;

#endif
