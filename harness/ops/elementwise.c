/* add, sub, mul with torch broadcasting, and scalar scale / shift. */
#include "elementwise.h"

#include <stdio.h>

#include "op_util.h"

/* Right-aligns the shapes; a missing or size-1 dim of one operand stretches
 * to the other's size (stride 0). */
static bool broadcast(gs_context *ctx, const char *op, const gs_tensor *a, const gs_tensor *b, gs_broadcast *bc) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t step_a = 1, step_b = 1;
    bc->ndim = nd;
    bc->numel = 1;
    for (int i = nd - 1; i >= 0; i--) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char msg[96];
            snprintf(msg, sizeof msg, "shapes do not broadcast (dim %d of the result: %lld vs %lld)", i,
                     (long long)sa, (long long)sb);
            gs_fail_shapes(ctx, op, msg, a, b);
            return false;
        }
        bc->shape[i] = sa == 1 ? sb : sa;
        bc->stride_a[i] = sa == 1 ? 0 : step_a;
        bc->stride_b[i] = sb == 1 ? 0 : step_b;
        step_a *= sa;
        step_b *= sb;
        bc->numel *= bc->shape[i];
    }
    return true;
}

typedef struct binary_saved {
    gs_binary_op op;
    gs_broadcast bc;
} binary_saved;

static void binary_backward(gs_context *ctx, const gs_tape_node *node) {
    const binary_saved *s = node->saved;
    gs_tensor *a = node->in[0], *b = node->in[1];
    float *da = NULL, *db = NULL;
    if (a->requires_grad && !(da = gs_tensor_grad(ctx, a))) return;
    if (b->requires_grad && !(db = gs_tensor_grad(ctx, b))) return;
    ctx->backend->elementwise->binary_backward(ctx, s->op, &s->bc, a->data, b->data, node->out->grad, da, db);
}

static gs_tensor *binary(gs_context *ctx, const char *name, gs_binary_op op, gs_tensor *a, gs_tensor *b) {
    gs_broadcast bc;
    if (!broadcast(ctx, name, a, b, &bc)) return NULL;
    gs_tensor *y = gs_activation(ctx, bc.ndim, bc.shape);
    if (!y) return NULL;
    ctx->backend->elementwise->binary_forward(ctx, op, &bc, a->data, b->data, y->data);
    gs_tensor *in[2] = {a, b};
    gs_tape_node *node = gs_tape_record(ctx, name, binary_backward, y, 2, in);
    if (node) {
        binary_saved s = {op, bc};
        node->saved = gs_save_copy(ctx, &s, sizeof s);
    }
    return y;
}

gs_tensor *gs_add(gs_context *ctx, gs_tensor *a, gs_tensor *b) {
    GS_OP_GUARD(ctx, a, b);
    return binary(ctx, "add", GS_BINARY_ADD, a, b);
}

gs_tensor *gs_sub(gs_context *ctx, gs_tensor *a, gs_tensor *b) {
    GS_OP_GUARD(ctx, a, b);
    return binary(ctx, "sub", GS_BINARY_SUB, a, b);
}

gs_tensor *gs_mul(gs_context *ctx, gs_tensor *a, gs_tensor *b) {
    GS_OP_GUARD(ctx, a, b);
    return binary(ctx, "mul", GS_BINARY_MUL, a, b);
}

/* dy/dx of an affine map is its scale: saved as one float. */
static void affine_backward(gs_context *ctx, const gs_tape_node *node) {
    gs_tensor *x = node->in[0];
    if (!x->requires_grad) return;
    float *dx = gs_tensor_grad(ctx, x);
    if (dx) ctx->backend->elementwise->axpy(ctx, x->numel, *(const float *)node->saved, node->out->grad, dx);
}

static gs_tensor *affine(gs_context *ctx, const char *name, gs_tensor *x, float alpha, float beta) {
    gs_tensor *y = gs_activation_like(ctx, x);
    if (!y) return NULL;
    ctx->backend->elementwise->affine(ctx, x->numel, alpha, beta, x->data, y->data);
    gs_tape_node *node = gs_tape_record(ctx, name, affine_backward, y, 1, &x);
    if (node) node->saved = gs_save_copy(ctx, &alpha, sizeof alpha);
    return y;
}

gs_tensor *gs_scale(gs_context *ctx, gs_tensor *x, float s) {
    GS_OP_GUARD(ctx, x);
    return affine(ctx, "scale", x, s, 0.0f);
}

gs_tensor *gs_add_scalar(gs_context *ctx, gs_tensor *x, float s) {
    GS_OP_GUARD(ctx, x);
    return affine(ctx, "add_scalar", x, 1.0f, s);
}
