/* Loss front ends: validate, dispatch, record.  Each loss has its own kernels
 * (no composition from softmax / reduce ops) so the log-sum-exp and the mean
 * are computed once, stably, in double. */
#include "loss.h"

#include "op_util.h"

/* A scalar (ndim 0) in the activation arena. */
static gs_tensor *scalar(gs_context *ctx) {
    const int64_t unused = 1;
    return gs_activation(ctx, 0, &unused);
}

/* A buffer kept for backward when the op is recorded, else NULL (the kernels
 * then skip storing it). */
static float *saved_buffer(gs_context *ctx, bool record, int64_t numel) {
    if (!record) return NULL;
    float *p = gs_arena_alloc(&ctx->activations, (size_t)numel * sizeof(float));
    if (!p) gs_fail(ctx, GS_ERR_MEMORY, "out of memory: %lld floats saved for a loss backward", (long long)numel);
    return p;
}

/* ---- hard-label cross-entropy ---- */

typedef struct ce_saved {
    int64_t n, c, inner, count;
    int32_t ignore_index;
    const int32_t *labels;
    const float *probs;
} ce_saved;

static void ce_backward(gs_context *ctx, const gs_tape_node *node) {
    const ce_saved *s = node->saved;
    gs_tensor *logits = node->in[0];
    if (!s || !logits->requires_grad) return;
    float *d = gs_tensor_grad(ctx, logits);
    if (d)
        ctx->backend->loss->cross_entropy_backward(ctx, s->n, s->c, s->inner, s->probs, s->labels, s->ignore_index,
                                                   s->count, node->out->grad[0], d);
}

gs_tensor *gs_cross_entropy(gs_context *ctx, gs_tensor *logits, const int32_t *labels, int32_t ignore_index) {
    GS_OP_GUARD(ctx, logits);
    if (logits->ndim < 2) {
        gs_fail_shapes(ctx, "cross_entropy", "logits must be (N, C) or (N, C, H, W)", logits, NULL);
        return NULL;
    }
    if (!labels) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "cross_entropy: the labels are missing");
        return NULL;
    }
    int64_t n = logits->shape[0], c = logits->shape[1], inner = logits->numel / (n * c), positions = n * inner;
    for (int64_t q = 0; q < positions; q++) {
        int32_t y = labels[q];
        if (y == ignore_index || (y >= 0 && y < c)) continue;
        char shape[96];
        if (ignore_index == GS_NO_IGNORE_INDEX)
            gs_fail(ctx, GS_ERR_ARGUMENT, "cross_entropy: label %d at position %lld is outside [0, %lld) (logits %s)",
                    (int)y, (long long)q, (long long)c, gs_shape_str(logits, shape, sizeof shape));
        else
            gs_fail(ctx, GS_ERR_ARGUMENT,
                    "cross_entropy: label %d at position %lld is outside [0, %lld) and is not the ignore index %d "
                    "(logits %s)",
                    (int)y, (long long)q, (long long)c, (int)ignore_index, gs_shape_str(logits, shape, sizeof shape));
        return NULL;
    }
    gs_tensor *loss = scalar(ctx);
    if (!loss) return NULL;
    bool record = gs_tape_wants(ctx, 1, &logits);
    float *probs = saved_buffer(ctx, record, logits->numel);
    if (gs_failed(ctx)) return NULL;
    int64_t count = 0;
    ctx->backend->loss->cross_entropy_forward(ctx, n, c, inner, logits->data, labels, ignore_index, probs,
                                              loss->data, &count);
    gs_tape_node *node = gs_tape_record(ctx, "cross_entropy", ce_backward, loss, 1, &logits);
    if (node) {
        ce_saved *s = gs_arena_alloc(&ctx->activations, sizeof *s);
        const int32_t *copy = gs_save_copy(ctx, labels, (size_t)positions * sizeof *labels);
        if (!s || !copy) {
            gs_fail(ctx, GS_ERR_MEMORY, "cross_entropy: out of memory saving labels for backward");
            return NULL;
        }
        *s = (ce_saved){.n = n, .c = c, .inner = inner, .count = count, .ignore_index = ignore_index,
                        .labels = copy, .probs = probs};
        node->saved = s;
    }
    return gs_failed(ctx) ? NULL : loss;
}

/* ---- soft-target cross-entropy ---- */

static void soft_ce_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *logits = node->in[0], *target = node->in[1];
    const float *log_probs = node->saved;
    if (!log_probs) return;
    float *dl = logits->requires_grad ? gs_tensor_grad(ctx, logits) : NULL;
    float *dt = target->requires_grad ? gs_tensor_grad(ctx, target) : NULL;
    if (gs_failed(ctx) || (!dl && !dt)) return;
    ctx->backend->loss->soft_cross_entropy_backward(ctx, logits->shape[0], logits->shape[1], log_probs,
                                                    target->data, node->out->grad[0], dl, dt);
}

gs_tensor *gs_cross_entropy_soft(gs_context *ctx, gs_tensor *logits, gs_tensor *target) {
    GS_OP_GUARD(ctx, logits, target);
    if (logits->ndim != 2 || !gs_tensor_same_shape(logits, target)) {
        gs_fail_shapes(ctx, "cross_entropy_soft", "logits and target must both be (N, C)", logits, target);
        return NULL;
    }
    gs_tensor *loss = scalar(ctx);
    if (!loss) return NULL;
    gs_tensor *in[2] = {logits, target};
    float *log_probs = saved_buffer(ctx, gs_tape_wants(ctx, 2, in), logits->numel);
    if (gs_failed(ctx)) return NULL;
    ctx->backend->loss->soft_cross_entropy_forward(ctx, logits->shape[0], logits->shape[1], logits->data,
                                                   target->data, log_probs, loss->data);
    gs_tape_node *node = gs_tape_record(ctx, "cross_entropy_soft", soft_ce_backward, loss, 2, in);
    if (node) node->saved = log_probs;
    return gs_failed(ctx) ? NULL : loss;
}

/* ---- binary cross-entropy with logits ---- */

static void bce_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *logits = node->in[0], *target = node->in[1];
    float *dl = logits->requires_grad ? gs_tensor_grad(ctx, logits) : NULL;
    float *dt = target->requires_grad ? gs_tensor_grad(ctx, target) : NULL;
    if (gs_failed(ctx) || (!dl && !dt)) return;
    ctx->backend->loss->bce_backward(ctx, logits->numel, logits->data, target->data, node->out->grad[0], dl, dt);
}

gs_tensor *gs_bce_with_logits(gs_context *ctx, gs_tensor *logits, gs_tensor *target) {
    GS_OP_GUARD(ctx, logits, target);
    if (!gs_tensor_same_shape(logits, target)) {
        gs_fail_shapes(ctx, "bce_with_logits", "logits and target must have the same shape", logits, target);
        return NULL;
    }
    gs_tensor *loss = scalar(ctx);
    if (!loss) return NULL;
    ctx->backend->loss->bce_forward(ctx, logits->numel, logits->data, target->data, loss->data);
    gs_tensor *in[2] = {logits, target};
    gs_tape_record(ctx, "bce_with_logits", bce_backward, loss, 2, in);
    return gs_failed(ctx) ? NULL : loss;
}

/* ---- mean squared error ---- */

static void mse_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *a = node->in[0], *b = node->in[1];
    float *da = a->requires_grad ? gs_tensor_grad(ctx, a) : NULL;
    float *db = b->requires_grad ? gs_tensor_grad(ctx, b) : NULL;
    if (gs_failed(ctx) || (!da && !db)) return;
    ctx->backend->loss->mse_backward(ctx, a->numel, a->data, b->data, node->out->grad[0], da, db);
}

gs_tensor *gs_mse(gs_context *ctx, gs_tensor *a, gs_tensor *b) {
    GS_OP_GUARD(ctx, a, b);
    if (!gs_tensor_same_shape(a, b)) {
        gs_fail_shapes(ctx, "mse", "both inputs must have the same shape", a, b);
        return NULL;
    }
    gs_tensor *loss = scalar(ctx);
    if (!loss) return NULL;
    ctx->backend->loss->mse_forward(ctx, a->numel, a->data, b->data, loss->data);
    gs_tensor *in[2] = {a, b};
    gs_tape_record(ctx, "mse", mse_backward, loss, 2, in);
    return gs_failed(ctx) ? NULL : loss;
}
