/* Multi-head scaled-dot-product attention, composed from matmul, scale,
 * softmax and permute, so its backward comes from theirs. */
#ifndef GS_OPS_ATTENTION_H
#define GS_OPS_ATTENTION_H

#include "../core/context.h"
#include "../core/tensor.h"

/* q, k, v (N, T, D) with D divisible by n_heads; returns (N, T, D):
 * per head softmax(q k^T / sqrt(D / n_heads)) v, heads concatenated. */
gs_tensor *gs_attention(gs_context *ctx, gs_tensor *q, gs_tensor *k, gs_tensor *v, int n_heads);

#endif
