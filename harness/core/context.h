/* The context passed to every call: threads, RNG, backend, arenas, tape,
 * grad mode, log sink and the sticky error.  geossl has no global state.
 *
 * Errors are sticky: the first failing call records a status and message and
 * every later op returns NULL at once, so a forward pass can be written
 * straight through and checked once at the end (gs_failed). */
#ifndef GS_CONTEXT_H
#define GS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "log.h"
#include "rng.h"
#include "status.h"
#include "../autodiff/tape.h"

typedef struct gs_backend gs_backend;

/* Gradient buffers of intermediate tensors, recycled during backward: once a
 * node's backward has run, its output's gradient is dead and its buffer can
 * hold a later gradient (PyTorch frees them likewise).  Emptied by
 * gs_step_begin together with the activation arena it draws from. */
typedef struct gs_grad_block {
    float *ptr;
    size_t bytes;
} gs_grad_block;

typedef struct gs_grad_pool {
    gs_grad_block *free;
    size_t count, capacity;
} gs_grad_pool;

typedef struct gs_context_options {
    int n_threads;              /* <= 0: all cores */
    unsigned long long seed;
    const gs_backend *backend;  /* NULL: gs_backend_default() */
    gs_logger log;              /* sink NULL: stderr, info and above */
} gs_context_options;

struct gs_context {
    int n_threads;
    gs_rng rng;
    const gs_backend *backend;
    void *backend_state;   /* owned by the backend (engine handles, caches) */
    gs_arena params;       /* parameter and buffer values; lives with the model */
    gs_arena grads;        /* parameter gradients; zeroed by the optimizer */
    gs_arena optim_state;  /* momentum, Adam moments */
    gs_arena activations;  /* forward pass, saved tensors, tape data: reset per step */
    gs_tape tape;
    gs_grad_pool grad_pool;
    bool grad_enabled;
    gs_logger log;
    /* The data-parallel job this context trains in (harness/dist/dist.h);
     * NULL: one process.  Owned by the command that joined the job. */
    struct gs_dist *dist;
    /* A per-context scratch buffer for kernels (im2col, col2im, ...).  One
     * kernel uses it at a time; kernels never nest. */
    void *scratch;
    size_t scratch_size;
    gs_status status;
    char error[512];
};

gs_status gs_context_init(gs_context *ctx, const gs_context_options *options);
void gs_context_free(gs_context *ctx);

/* Records the first error (later ones are ignored) and returns `status`. */
gs_status gs_fail(gs_context *ctx, gs_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline bool gs_failed(const gs_context *ctx) { return ctx->status != GS_OK; }
void gs_clear_error(gs_context *ctx);

void gs_log(gs_context *ctx, gs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Starts a training or evaluation step: frees the previous step's
 * activations and tape. */
void gs_step_begin(gs_context *ctx);

/* Turns recording on or off (teachers, EMA targets, evaluation) and returns
 * the previous setting so callers can restore it. */
bool gs_set_grad_enabled(gs_context *ctx, bool enabled);

/* At least `bytes` of scratch memory, valid until the next call; NULL and a
 * context error when memory runs out. */
void *gs_scratch(gs_context *ctx, size_t bytes);

#endif
