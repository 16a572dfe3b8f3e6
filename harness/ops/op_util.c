#include "op_util.h"

#include <string.h>

void gs_fail_shapes(gs_context *ctx, const char *op, const char *what, const gs_tensor *a, const gs_tensor *b) {
    char sa[96], sb[96] = "";
    gs_shape_str(a, sa, sizeof sa);
    if (b) gs_shape_str(b, sb, sizeof sb);
    gs_fail(ctx, GS_ERR_SHAPE, "%s: %s (got %s%s%s)", op, what, sa, b ? " and " : "", sb);
}

void *gs_save_copy(gs_context *ctx, const void *src, size_t n) {
    void *p = gs_arena_alloc(&ctx->activations, n ? n : 1);
    if (!p) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory saving %zu bytes for backward", n);
        return NULL;
    }
    memcpy(p, src, n);
    return p;
}
