/* Multi-head attention composed from primitive ops (the tinygrad habit): its
 * backward is the chain of theirs, already gradient-checked. */
#include "attention.h"

#include <math.h>

#include "ops.h"
#include "op_util.h"

/* (N, T, D) -> (N * H, T, D / H) */
static gs_tensor *split_heads(gs_context *ctx, gs_tensor *x, int64_t n, int64_t t, int64_t heads, int64_t dh) {
    gs_tensor *y = gs_reshape(ctx, x, GS_DIMS(n, t, heads, dh));
    y = gs_permute(ctx, y, (const int[]){0, 2, 1, 3});
    return gs_reshape(ctx, y, GS_DIMS(n * heads, t, dh));
}

gs_tensor *gs_attention(gs_context *ctx, gs_tensor *q, gs_tensor *k, gs_tensor *v, int n_heads) {
    GS_OP_GUARD(ctx, q, k, v);
    if (q->ndim != 3 || !gs_tensor_same_shape(q, k) || !gs_tensor_same_shape(q, v)) {
        gs_fail_shapes(ctx, "attention", "q, k and v must share one (N, T, D) shape", q, k);
        return NULL;
    }
    int64_t n = q->shape[0], t = q->shape[1], d = q->shape[2];
    if (n_heads < 1 || d % n_heads != 0) {
        gs_fail(ctx, GS_ERR_SHAPE, "attention: width %lld is not divisible by %d heads", (long long)d, n_heads);
        return NULL;
    }
    int64_t dh = d / n_heads;
    gs_tensor *qh = split_heads(ctx, q, n, t, n_heads, dh);
    gs_tensor *kh = split_heads(ctx, k, n, t, n_heads, dh);
    gs_tensor *vh = split_heads(ctx, v, n, t, n_heads, dh);
    gs_tensor *scores = gs_scale(ctx, gs_matmul(ctx, qh, kh, false, true), 1.0f / sqrtf((float)dh));
    gs_tensor *out = gs_matmul(ctx, gs_softmax(ctx, scores), vh, false, false); /* (N*H, T, dh) */
    out = gs_permute(ctx, gs_reshape(ctx, out, GS_DIMS(n, n_heads, t, dh)), (const int[]){0, 2, 1, 3});
    return gs_reshape(ctx, out, GS_DIMS(n, t, d));
}

typedef struct attention_saved {
    float *probs;
    int heads;
} attention_saved;

static void attention_qkv_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *qkv = node->in[0], *out = node->out;
    const attention_saved *s = node->saved;
    if (!qkv->requires_grad) return;
    float *dqkv = gs_tensor_grad(ctx, qkv);
    if (!dqkv) return;
    ctx->backend->attention->backward(ctx, out->shape[0], out->shape[1], out->shape[2], s->heads, qkv->data,
                                      s->probs, out->grad, dqkv);
}

gs_tensor *gs_attention_qkv(gs_context *ctx, gs_tensor *qkv, int n_heads) {
    GS_OP_GUARD(ctx, qkv);
    if (qkv->ndim != 3 || qkv->shape[2] % 3 != 0) {
        gs_fail_shapes(ctx, "attention", "qkv must be (N, T, 3D)", qkv, NULL);
        return NULL;
    }
    int64_t n = qkv->shape[0], t = qkv->shape[1], d = qkv->shape[2] / 3;
    if (n_heads < 1 || d % n_heads != 0) {
        gs_fail(ctx, GS_ERR_SHAPE, "attention: width %lld is not divisible by %d heads", (long long)d, n_heads);
        return NULL;
    }
    gs_tensor *out = gs_activation(ctx, GS_DIMS(n, t, d));
    float *probs = out ? gs_arena_alloc(&ctx->activations, (size_t)(n * n_heads * t * t) * sizeof(float)) : NULL;
    if (!probs) {
        gs_fail(ctx, GS_ERR_MEMORY, "attention: out of memory for %lld x %d x %lld x %lld probabilities",
                (long long)n, n_heads, (long long)t, (long long)t);
        return NULL;
    }
    ctx->backend->attention->forward(ctx, n, t, d, n_heads, qkv->data, probs, out->data);
    gs_tape_node *node = gs_tape_record(ctx, "attention", attention_qkv_backward, out, 1, &qkv);
    if (node) {
        attention_saved *s = gs_arena_alloc(&ctx->activations, sizeof *s);
        if (!s) {
            gs_fail(ctx, GS_ERR_MEMORY, "attention: out of memory saving for backward");
            return NULL;
        }
        s->probs = probs;
        s->heads = n_heads;
        node->saved = s;
    }
    return out;
}
