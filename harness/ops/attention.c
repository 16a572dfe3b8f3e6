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
