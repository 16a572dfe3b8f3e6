/* Helpers shared by op front ends (not part of the public API). */
#ifndef GS_OPS_OP_UTIL_H
#define GS_OPS_OP_UTIL_H

#include "../backend/backend.h"
#include "../core/context.h"
#include "../core/tensor.h"

/* Every op starts with GS_OP_GUARD(ctx, inputs...): returns NULL when the
 * context already failed or an input is missing (an earlier op failed). */
#define GS_OP_GUARD(ctx, ...)                                                             \
    do {                                                                                  \
        if (gs_failed(ctx)) return NULL;                                                  \
        gs_tensor *gs_guard_inputs_[] = {__VA_ARGS__};                                    \
        for (size_t gs_i_ = 0; gs_i_ < sizeof gs_guard_inputs_ / sizeof *gs_guard_inputs_; gs_i_++) \
            if (!gs_guard_inputs_[gs_i_]) {                                               \
                gs_fail(ctx, GS_ERR_ARGUMENT, "%s: input %zu is missing", __func__, gs_i_); \
                return NULL;                                                              \
            }                                                                             \
    } while (0)

/* Fails with a message naming the op and both shapes. */
void gs_fail_shapes(gs_context *ctx, const char *op, const char *what, const gs_tensor *a, const gs_tensor *b);

/* Copies n bytes into the activation arena (labels, indices kept for backward). */
void *gs_save_copy(gs_context *ctx, const void *src, size_t n);

#endif
