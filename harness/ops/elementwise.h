/* Elementwise arithmetic with numpy/torch broadcasting, and scalar scaling. */
#ifndef GS_OPS_ELEMENTWISE_H
#define GS_OPS_ELEMENTWISE_H

#include "../core/context.h"
#include "../core/tensor.h"

/* Shapes broadcast as in torch (aligned from the last dim; size 1 or missing
 * dims stretch).  Gradients are summed over the stretched dims. */
gs_tensor *gs_add(gs_context *ctx, gs_tensor *a, gs_tensor *b);
gs_tensor *gs_sub(gs_context *ctx, gs_tensor *a, gs_tensor *b);
gs_tensor *gs_mul(gs_context *ctx, gs_tensor *a, gs_tensor *b);
/* y = s * x */
gs_tensor *gs_scale(gs_context *ctx, gs_tensor *x, float s);
/* y = x + s */
gs_tensor *gs_add_scalar(gs_context *ctx, gs_tensor *x, float s);

typedef enum gs_binary_op { GS_BINARY_ADD, GS_BINARY_SUB, GS_BINARY_MUL } gs_binary_op;

/* The broadcast of a and b to the output shape: element strides of each
 * operand per output dim, 0 where the operand is stretched. */
typedef struct gs_broadcast {
    int ndim;
    int64_t shape[GS_MAX_DIMS];
    int64_t stride_a[GS_MAX_DIMS];
    int64_t stride_b[GS_MAX_DIMS];
    int64_t numel;
} gs_broadcast;

/* Backward ADDS into da and db (either may be NULL). */
typedef struct gs_elementwise_kernels {
    void (*binary_forward)(gs_context *ctx, gs_binary_op op, const gs_broadcast *bc, const float *a, const float *b,
                           float *y);
    void (*binary_backward)(gs_context *ctx, gs_binary_op op, const gs_broadcast *bc, const float *a,
                            const float *b, const float *dy, float *da, float *db);
    /* y = alpha * x + beta (forward of scale / add_scalar) */
    void (*affine)(gs_context *ctx, int64_t n, float alpha, float beta, const float *x, float *y);
    /* y += alpha * x (gradient accumulation) */
    void (*axpy)(gs_context *ctx, int64_t n, float alpha, const float *x, float *y);
} gs_elementwise_kernels;

#endif
