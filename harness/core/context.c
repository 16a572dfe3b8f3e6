#include "context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backend/backend.h"

gs_status gs_context_init(gs_context *ctx, const gs_context_options *options) {
    memset(ctx, 0, sizeof *ctx);
    gs_context_options defaults = {0};
    if (!options) options = &defaults;
    ctx->n_threads = options->n_threads > 0 ? options->n_threads : gs_backend_default_threads();
    gs_rng_seed(&ctx->rng, options->seed);
    ctx->backend = options->backend ? options->backend : gs_backend_default();
    ctx->log = options->log;
    if (!ctx->log.sink) {
        ctx->log.sink = gs_log_stderr_sink;
        ctx->log.min_level = GS_LOG_INFO;
    }
    gs_arena_init(&ctx->params, "parameters", (size_t)4 << 20);
    gs_arena_init(&ctx->grads, "gradients", (size_t)4 << 20);
    gs_arena_init(&ctx->optim_state, "optimizer state", (size_t)4 << 20);
    gs_arena_init(&ctx->activations, "activations", (size_t)16 << 20);
    gs_tape_init(&ctx->tape);
    ctx->grad_enabled = true;
    if (ctx->backend->init) return ctx->backend->init(ctx);
    return GS_OK;
}

void gs_context_free(gs_context *ctx) {
    if (ctx->backend && ctx->backend->free) ctx->backend->free(ctx);
    gs_tape_free(&ctx->tape);
    free(ctx->grad_pool.free);
    gs_arena_free(&ctx->params);
    gs_arena_free(&ctx->grads);
    gs_arena_free(&ctx->optim_state);
    gs_arena_free(&ctx->activations);
    free(ctx->scratch);
    ctx->scratch = NULL;
    ctx->scratch_size = 0;
}

gs_status gs_fail(gs_context *ctx, gs_status status, const char *fmt, ...) {
    if (ctx->status != GS_OK) return status;
    ctx->status = status;
    va_list args;
    va_start(args, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, args);
    va_end(args);
    return status;
}

void gs_clear_error(gs_context *ctx) {
    ctx->status = GS_OK;
    ctx->error[0] = '\0';
}

void gs_log(gs_context *ctx, gs_log_level level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    gs_logv(&ctx->log, level, fmt, args);
    va_end(args);
}

void gs_step_begin(gs_context *ctx) {
    gs_tape_clear(&ctx->tape);
    ctx->grad_pool.count = 0;
    gs_arena_reset(&ctx->activations);
}

bool gs_set_grad_enabled(gs_context *ctx, bool enabled) {
    bool previous = ctx->grad_enabled;
    ctx->grad_enabled = enabled;
    return previous;
}

void *gs_scratch(gs_context *ctx, size_t bytes) {
    if (bytes <= ctx->scratch_size) return ctx->scratch;
    free(ctx->scratch);
    size_t size = bytes + bytes / 4;
    ctx->scratch = aligned_alloc(64, (size + 63) / 64 * 64);
    if (!ctx->scratch) {
        ctx->scratch_size = 0;
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory: kernel scratch buffer of %zu bytes", bytes);
        return NULL;
    }
    ctx->scratch_size = size;
    return ctx->scratch;
}
