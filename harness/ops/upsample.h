/* Bilinear upsampling (and downsampling) of NCHW maps, torch's
 * F.interpolate(mode="bilinear") semantics for both align_corners settings. */
#ifndef GS_OPS_UPSAMPLE_H
#define GS_OPS_UPSAMPLE_H

#include "../core/context.h"
#include "../core/tensor.h"

gs_tensor *gs_upsample_bilinear(gs_context *ctx, gs_tensor *x, int64_t out_h, int64_t out_w, bool align_corners);

/* planes = N * C.  Backward ADDS into dx. */
typedef struct gs_upsample_kernels {
    void (*bilinear_forward)(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                             bool align_corners, const float *x, float *y);
    void (*bilinear_backward)(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                              bool align_corners, const float *dy, float *dx);
} gs_upsample_kernels;

#endif
