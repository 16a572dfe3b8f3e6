/* Multi-head scaled-dot-product attention, composed from matmul, scale,
 * softmax and permute, so its backward comes from theirs. */
#ifndef GS_OPS_ATTENTION_H
#define GS_OPS_ATTENTION_H

#include "../core/context.h"
#include "../core/tensor.h"

/* q, k, v (N, T, D) with D divisible by n_heads; returns (N, T, D):
 * per head softmax(q k^T / sqrt(D / n_heads)) v, heads concatenated. */
gs_tensor *gs_attention(gs_context *ctx, gs_tensor *q, gs_tensor *k, gs_tensor *v, int n_heads);

/* The same from a fused projection: qkv (N, T, 3D) holds q, k and v side by
 * side (as a ViT's qkv linear layer makes it).  One kernel computes every
 * head straight from that layout and saves only the attention probabilities
 * for backward: no slices, head permutations or score copies are kept, which
 * is most of a ViT block's activation memory. */
gs_tensor *gs_attention_qkv(gs_context *ctx, gs_tensor *qkv, int n_heads);

/* Backend kernels.  probs: n * heads * t * t softmax probabilities (written
 * by forward, read by backward); backward ADDS into dqkv. */
typedef struct gs_attention_kernels {
    void (*forward)(gs_context *ctx, int64_t n, int64_t t, int64_t d, int heads, const float *qkv, float *probs,
                    float *out);
    void (*backward)(gs_context *ctx, int64_t n, int64_t t, int64_t d, int heads, const float *qkv,
                     const float *probs, const float *dout, float *dqkv);
} gs_attention_kernels;

#endif
