/* Reverse-mode automatic differentiation on a tape.
 *
 * While recording is on (ctx->grad_enabled) and an op has an input that
 * requires a gradient, the op appends a node: its output, its inputs, a
 * backward function and whatever it saved.  gs_backward() seeds the output
 * gradient and replays the nodes in reverse; each backward function ADDS into
 * the gradients of its inputs (so several forward passes, e.g. multi-crop,
 * accumulate into the same parameter gradients).  The tape is cleared after
 * backward; the saved tensors live in the activation arena until the next
 * gs_step_begin(). */
#ifndef GS_TAPE_H
#define GS_TAPE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gs_context gs_context;
typedef struct gs_tensor gs_tensor;
typedef struct gs_tape_node gs_tape_node;

/* Reads node->out->grad and adds into the grads of node->in[i] that require
 * one (gs_tensor_grad allocates them on first use). */
typedef void (*gs_backward_fn)(gs_context *ctx, const gs_tape_node *node);

struct gs_tape_node {
    const char *op;          /* op name, for error messages and profiles */
    gs_backward_fn backward;
    gs_tensor *out;
    gs_tensor **in;          /* n_in inputs, copied into the activation arena */
    int n_in;
    void *saved;             /* op-specific data in the activation arena */
};

/* Called by backward after node `index` ran (or was skipped): gradients
 * that no earlier node adds to are final from here on (data-parallel
 * training starts their sums while backward goes on). */
typedef void (*gs_tape_hook)(gs_context *ctx, size_t index, void *user);

typedef struct gs_tape {
    gs_tape_node *nodes;
    size_t count;
    size_t capacity;
    gs_tape_hook after_node; /* NULL: none; cleared by backward */
    void *hook_user;
} gs_tape;

void gs_tape_init(gs_tape *tape);
void gs_tape_free(gs_tape *tape);
void gs_tape_clear(gs_tape *tape);

/* True when an op on these inputs must be recorded: recording is on and at
 * least one (non-NULL) input requires a gradient. */
bool gs_tape_wants(const gs_context *ctx, int n_in, gs_tensor *const *in);

/* Records a node when gs_tape_wants(); marks `out` as requiring a gradient.
 * Returns the node (valid until the next record) or NULL when nothing was
 * recorded or on error (check gs_failed). */
gs_tape_node *gs_tape_record(gs_context *ctx, const char *op, gs_backward_fn backward, gs_tensor *out,
                             int n_in, gs_tensor *const *in);

/* Backward from a scalar loss (gradient 1).  Fails with GS_ERR_NONFINITE when
 * the loss is NaN or Inf, naming it. */
int gs_backward(gs_context *ctx, gs_tensor *loss);
/* Backward from any output with a given output gradient (numel values). */
int gs_backward_from(gs_context *ctx, gs_tensor *out, const float *out_grad);

#endif
