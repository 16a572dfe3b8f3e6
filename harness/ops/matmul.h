/* Matrix products: matmul (2-d, or batched 3-d with an optional 2-d right
 * operand shared by the batch) and linear layers in torch layout. */
#ifndef GS_OPS_MATMUL_H
#define GS_OPS_MATMUL_H

#include "../core/context.h"
#include "../core/tensor.h"

/* a (M, K) or (B, M, K); b (K, N) or (B, K, N); transposes apply to the last
 * two dims (trans_b: b is given as (N, K)).  Result (M, N) or (B, M, N). */
gs_tensor *gs_matmul(gs_context *ctx, gs_tensor *a, gs_tensor *b, bool trans_a, bool trans_b);
/* x (..., in), w (out, in), bias (out) or NULL -> (..., out) */
gs_tensor *gs_linear(gs_context *ctx, gs_tensor *x, gs_tensor *w, gs_tensor *bias);

/* Row-major strided batched GEMM: for each i < batch,
 * C_i = alpha * op(A_i) op(B_i) + beta * C_i, where op transposes when asked,
 * op(A_i) is (m, k), op(B_i) is (k, n), and X_i = X + i * stride_x (a stride
 * of 0 shares one matrix across the batch).  lda/ldb/ldc are the row lengths
 * of the stored matrices.  A stride_c of 0 runs the batch in order, so with
 * beta = 1 it accumulates every entry into one C (the gradient of a shared
 * operand) deterministically. */
typedef struct gs_matmul_kernels {
    void (*gemm)(gs_context *ctx, bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                 float alpha, const float *a, int64_t lda, int64_t stride_a, const float *b, int64_t ldb,
                 int64_t stride_b, float beta, float *c, int64_t ldc, int64_t stride_c);
    /* y (rows, cols) += bias broadcast over rows */
    void (*bias_add)(gs_context *ctx, int64_t rows, int64_t cols, const float *bias, float *y);
    /* db (cols) += column sums of dy (rows, cols) */
    void (*bias_backward)(gs_context *ctx, int64_t rows, int64_t cols, const float *dy, float *db);
} gs_matmul_kernels;

#endif
