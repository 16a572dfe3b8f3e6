/* float32 tensors.
 *
 * A tensor is a header (shape, flags, name) over a contiguous row-major
 * buffer: NCHW for images, (N, T, D) for tokens.  Memory always belongs to an
 * arena of the context, never to the tensor: parameters live in the parameter
 * arena with their gradients in the gradient arena; everything a forward pass
 * makes lives in the activation arena and is freed by gs_step_begin().
 *
 * A view (gs_tensor_view, used by gs_reshape and gs_detach) shares its
 * base's data buffer.  Gradients are never shared: ops that make views record
 * a tape node that carries the gradient back to the base. */
#ifndef GS_TENSOR_H
#define GS_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define GS_MAX_DIMS 6

typedef struct gs_context gs_context;

typedef struct gs_tensor {
    float *data;
    float *grad;         /* NULL until a gradient flows in (parameters: always set) */
    int64_t shape[GS_MAX_DIMS];
    int ndim;
    int64_t numel;
    bool requires_grad;  /* the tape tracks ops on it */
    bool is_param;       /* grad lives in the gradient arena and outlives the step */
    bool grad_recyclable; /* grad came from gs_tensor_grad's pool (see gs_grad_pool) */
    const char *name;    /* parameters: torchvision / timm style name */
} gs_tensor;

/* GS_DIMS(2, 3, 4) expands to "3, (int64_t[]){2, 3, 4}": ndim then shape. */
#define GS_DIMS(...) \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) { __VA_ARGS__ }

/* A tensor in `arena` with uninitialized data; NULL (and a context error) when
 * the shape is invalid or memory runs out. */
gs_tensor *gs_tensor_new(gs_context *ctx, gs_arena *arena, int ndim, const int64_t *shape);
gs_tensor *gs_tensor_zeros(gs_context *ctx, gs_arena *arena, int ndim, const int64_t *shape);
/* A new activation (activation arena), uninitialized. */
gs_tensor *gs_activation(gs_context *ctx, int ndim, const int64_t *shape);
gs_tensor *gs_activation_like(gs_context *ctx, const gs_tensor *t);
/* A header (activation arena) over memory the caller owns, which must stay
 * valid until the step's backward has run; ops never write their inputs. */
gs_tensor *gs_tensor_wrap(gs_context *ctx, float *data, int ndim, const int64_t *shape);
/* A header sharing t's data with another shape of the same element count. */
gs_tensor *gs_tensor_view(gs_context *ctx, gs_tensor *t, int ndim, const int64_t *shape);

/* The gradient buffer of t, allocated zero-filled in the activation arena on
 * first use (parameters already have theirs).  NULL on allocation failure. */
float *gs_tensor_grad(gs_context *ctx, gs_tensor *t);
/* Returns t's gradient buffer to the pool (the tape does this once the node
 * producing t has run its backward).  Parameters and caller-owned gradient
 * buffers are never released. */
void gs_tensor_release_grad(gs_context *ctx, gs_tensor *t);

int64_t gs_shape_numel(int ndim, const int64_t *shape);
bool gs_tensor_same_shape(const gs_tensor *a, const gs_tensor *b);
/* Inference memory: with gradients off, frees every activation allocated
 * since `mark` except t, which moves to the mark and is returned.  With
 * gradients on, returns t untouched (the tape needs the activations). */
gs_tensor *gs_tensor_keep_since(gs_context *ctx, gs_arena_mark mark, gs_tensor *t);

/* Writes "(2, 3, 4)" into buf. Returns buf. */
const char *gs_shape_str(const gs_tensor *t, char *buf, size_t size);
/* Index of the first non-finite value, or -1 when all are finite. */
int64_t gs_first_nonfinite(const float *values, int64_t n);

void gs_tensor_fill(gs_tensor *t, float value);
/* Fill from the context RNG: normal(0, std) and uniform(-bound, bound). */
void gs_tensor_fill_normal(gs_context *ctx, gs_tensor *t, float std);
void gs_tensor_fill_uniform(gs_context *ctx, gs_tensor *t, float bound);
/* Copies values; shapes must have equal element counts. */
void gs_tensor_copy(gs_tensor *dst, const gs_tensor *src);

#endif
