/* Mean pooling of boxes of a feature map: one vector per box, the mean of
 * each channel over the box's pixels.  GLCNet's local branch pools P x P
 * matched regions of its full-resolution map this way (its RoIPool with
 * one-pixel bins then AdaptiveAvgPool(1) is exactly this mean; see
 * ../shared/specs/glcnet.md section 1). */
#ifndef GS_OPS_BOX_POOL_H
#define GS_OPS_BOX_POOL_H

#include <stdint.h>

#include "../core/context.h"
#include "../core/tensor.h"

/* Rows [top, top + height) and columns [left, left + width) of sample
 * `sample`; the box must lie inside the map and not be empty. */
typedef struct gs_box {
    int32_t sample, top, left, height, width;
} gs_box;

/* x (N, C, H, W), n_boxes boxes -> (n_boxes, C).  Boxes may overlap and
 * several may come from one sample. */
gs_tensor *gs_box_mean_pool(gs_context *ctx, gs_tensor *x, const gs_box *boxes, int64_t n_boxes);

/* Boxes already checked against the shape.  Backward ADDS into dx. */
typedef struct gs_box_pool_kernels {
    void (*mean_forward)(gs_context *ctx, int64_t c, int64_t h, int64_t w, const gs_box *boxes, int64_t n_boxes,
                         const float *x, float *y);
    void (*mean_backward)(gs_context *ctx, int64_t c, int64_t h, int64_t w, const gs_box *boxes, int64_t n_boxes,
                          const float *dy, float *dx);
} gs_box_pool_kernels;

#endif
