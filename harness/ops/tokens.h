/* Token gather and scatter for masked image modelling (MAE / SatMAE):
 * keep a subset of tokens per sample, and put them back among mask tokens. */
#ifndef GS_OPS_TOKENS_H
#define GS_OPS_TOKENS_H

#include "../core/context.h"
#include "../core/tensor.h"

/* x (N, T, D), idx (N * K) token indices in [0, T) -> (N, K, D).
 * idx is copied; the caller's buffer may go away. */
gs_tensor *gs_gather_tokens(gs_context *ctx, gs_tensor *x, const int32_t *idx, int64_t k);
/* x (N, K, D) -> (N, T, D): row idx[n*K + j] of sample n receives x[n, j];
 * every other row is `fill` (D), e.g. a learned mask token (NULL: zeros).
 * idx must not repeat within a sample (checked: GS_ERR_ARGUMENT). */
gs_tensor *gs_scatter_tokens(gs_context *ctx, gs_tensor *x, const int32_t *idx, int64_t t, gs_tensor *fill);

/* Backward kernels ADD into dx / dfill (dfill may be NULL). */
typedef struct gs_tokens_kernels {
    void (*gather_forward)(gs_context *ctx, int64_t n, int64_t t, int64_t k, int64_t d, const int32_t *idx,
                           const float *x, float *y);
    void (*gather_backward)(gs_context *ctx, int64_t n, int64_t t, int64_t k, int64_t d, const int32_t *idx,
                            const float *dy, float *dx);
    void (*scatter_forward)(gs_context *ctx, int64_t n, int64_t k, int64_t t, int64_t d, const int32_t *idx,
                            const float *x, const float *fill, float *y);
    void (*scatter_backward)(gs_context *ctx, int64_t n, int64_t k, int64_t t, int64_t d, const int32_t *idx,
                             const float *dy, float *dx, float *dfill);
} gs_tokens_kernels;

#endif
