#include "tape.h"

#include <stdlib.h>
#include <string.h>

#include "../core/context.h"
#include "../core/tensor.h"

void gs_tape_init(gs_tape *tape) { memset(tape, 0, sizeof *tape); }

void gs_tape_free(gs_tape *tape) {
    free(tape->nodes);
    memset(tape, 0, sizeof *tape);
}

void gs_tape_clear(gs_tape *tape) { tape->count = 0; }

bool gs_tape_wants(const gs_context *ctx, int n_in, gs_tensor *const *in) {
    if (!ctx->grad_enabled) return false;
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->requires_grad) return true;
    return false;
}

gs_tape_node *gs_tape_record(gs_context *ctx, const char *op, gs_backward_fn backward, gs_tensor *out,
                             int n_in, gs_tensor *const *in) {
    if (gs_failed(ctx) || !out || !gs_tape_wants(ctx, n_in, in)) return NULL;
    gs_tape *tape = &ctx->tape;
    if (tape->count == tape->capacity) {
        size_t capacity = tape->capacity ? tape->capacity * 2 : 256;
        gs_tape_node *nodes = realloc(tape->nodes, capacity * sizeof *nodes);
        if (!nodes) {
            gs_fail(ctx, GS_ERR_MEMORY, "out of memory growing the autodiff tape");
            return NULL;
        }
        tape->nodes = nodes;
        tape->capacity = capacity;
    }
    gs_tensor **inputs = gs_arena_alloc(&ctx->activations, (size_t)(n_in > 0 ? n_in : 1) * sizeof *inputs);
    if (!inputs) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory recording op %s", op);
        return NULL;
    }
    memcpy(inputs, in, (size_t)n_in * sizeof *inputs);
    gs_tape_node *node = &tape->nodes[tape->count++];
    node->op = op;
    node->backward = backward;
    node->out = out;
    node->in = inputs;
    node->n_in = n_in;
    node->saved = NULL;
    out->requires_grad = true;
    return node;
}

static int replay(gs_context *ctx) {
    gs_tape *tape = &ctx->tape;
    for (size_t i = tape->count; i-- > 0;) {
        const gs_tape_node *node = &tape->nodes[i];
        /* No gradient reached this output: nothing to propagate. */
        if (node->out->grad) {
            node->backward(ctx, node);
            if (gs_failed(ctx)) break;
            /* Every consumer of node->out ran earlier in this reverse replay. */
            gs_tensor_release_grad(ctx, node->out);
        }
        if (tape->after_node) tape->after_node(ctx, i, tape->hook_user);
        if (gs_failed(ctx)) break;
    }
    tape->after_node = NULL;
    tape->hook_user = NULL;
    gs_tape_clear(tape);
    return ctx->status;
}

int gs_backward_from(gs_context *ctx, gs_tensor *out, const float *out_grad) {
    if (gs_failed(ctx)) return ctx->status;
    if (!out) return gs_fail(ctx, GS_ERR_ARGUMENT, "backward called on a missing tensor");
    if (!out->requires_grad) {
        gs_tape_clear(&ctx->tape);
        return gs_fail(ctx, GS_ERR_ARGUMENT,
                       "backward called on a tensor that does not require a gradient "
                       "(was it computed with gradients disabled or detached?)");
    }
    float *g = gs_tensor_grad(ctx, out);
    if (!g) return ctx->status;
    for (int64_t i = 0; i < out->numel; i++) g[i] += out_grad[i];
    return replay(ctx);
}

int gs_backward(gs_context *ctx, gs_tensor *loss) {
    if (gs_failed(ctx)) return ctx->status;
    if (!loss) return gs_fail(ctx, GS_ERR_ARGUMENT, "backward called on a missing loss");
    if (loss->numel != 1)
        return gs_fail(ctx, GS_ERR_SHAPE, "backward needs a scalar loss, got %lld elements", (long long)loss->numel);
    if (gs_first_nonfinite(loss->data, 1) >= 0) {
        gs_tape_clear(&ctx->tape);
        return gs_fail(ctx, GS_ERR_NONFINITE,
                       "the loss is %g: training diverged (lower the learning rate, or check the inputs for "
                       "NaN/Inf)",
                       (double)loss->data[0]);
    }
    const float one = 1.0f;
    return gs_backward_from(ctx, loss, &one);
}
