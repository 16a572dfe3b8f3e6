/* Shape ops: reshape (a view), detach (stop-gradient view), permute, slice
 * and concat (copies). */
#ifndef GS_OPS_SHAPE_H
#define GS_OPS_SHAPE_H

#include "../core/context.h"
#include "../core/tensor.h"

/* Same elements, new shape; shares data, gradient flows back.  One dim may
 * be -1 (inferred from the element count). */
gs_tensor *gs_reshape(gs_context *ctx, gs_tensor *x, int ndim, const int64_t *shape);
/* Shares data; no gradient flows back through it (stop-gradient). */
gs_tensor *gs_detach(gs_context *ctx, gs_tensor *x);
/* Output dim i is input dim perm[i]. */
gs_tensor *gs_permute(gs_context *ctx, gs_tensor *x, const int *perm);
/* Elements [start, end) of dimension dim; bounds outside the dim or an
 * empty range fail with GS_ERR_SHAPE (no negative indexing). */
gs_tensor *gs_slice(gs_context *ctx, gs_tensor *x, int dim, int64_t start, int64_t end);
/* Joins n tensors along dim; all other dims must agree. */
gs_tensor *gs_concat(gs_context *ctx, gs_tensor *const *xs, int n, int dim);

typedef struct gs_shape_kernels {
    /* y = permute(x) (accumulate: y += permute(x)); in_shape has ndim dims. */
    void (*permute)(gs_context *ctx, int ndim, const int64_t *in_shape, const int *perm, const float *x, float *y,
                    bool accumulate);
    /* For o < outer: dst[o * dst_stride + j] (+)= src[o * src_stride + j], j < len. */
    void (*copy_rows)(gs_context *ctx, int64_t outer, int64_t len, const float *src, int64_t src_stride, float *dst,
                      int64_t dst_stride, bool accumulate);
} gs_shape_kernels;

#endif
