#include "tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"

int64_t gs_shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

static gs_tensor *new_header(gs_context *ctx, gs_arena *arena, int ndim, const int64_t *shape) {
    if (gs_failed(ctx)) return NULL;
    if (ndim < 0 || ndim > GS_MAX_DIMS) {
        gs_fail(ctx, GS_ERR_SHAPE, "tensor rank %d is outside 0..%d", ndim, GS_MAX_DIMS);
        return NULL;
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] <= 0) {
            gs_fail(ctx, GS_ERR_SHAPE, "tensor dimension %d has size %lld; sizes must be positive", i,
                    (long long)shape[i]);
            return NULL;
        }
    gs_tensor *t = gs_arena_calloc(arena, sizeof *t);
    if (!t) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory in the %s arena", arena->name);
        return NULL;
    }
    t->ndim = ndim;
    if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = gs_shape_numel(ndim, shape);
    return t;
}

gs_tensor *gs_tensor_new(gs_context *ctx, gs_arena *arena, int ndim, const int64_t *shape) {
    gs_tensor *t = new_header(ctx, arena, ndim, shape);
    if (!t) return NULL;
    t->data = gs_arena_alloc(arena, (size_t)t->numel * sizeof(float));
    if (!t->data) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory: %lld floats in the %s arena", (long long)t->numel,
                arena->name);
        return NULL;
    }
    return t;
}

gs_tensor *gs_tensor_zeros(gs_context *ctx, gs_arena *arena, int ndim, const int64_t *shape) {
    gs_tensor *t = gs_tensor_new(ctx, arena, ndim, shape);
    if (t) memset(t->data, 0, (size_t)t->numel * sizeof(float));
    return t;
}

gs_tensor *gs_activation(gs_context *ctx, int ndim, const int64_t *shape) {
    return gs_tensor_new(ctx, &ctx->activations, ndim, shape);
}

gs_tensor *gs_activation_like(gs_context *ctx, const gs_tensor *t) {
    if (!t) return NULL;
    return gs_tensor_new(ctx, &ctx->activations, t->ndim, t->shape);
}

gs_tensor *gs_tensor_wrap(gs_context *ctx, float *data, int ndim, const int64_t *shape) {
    gs_tensor *t = new_header(ctx, &ctx->activations, ndim, shape);
    if (t) t->data = data;
    return t;
}

gs_tensor *gs_tensor_view(gs_context *ctx, gs_tensor *t, int ndim, const int64_t *shape) {
    if (!t) return NULL;
    gs_tensor *v = new_header(ctx, &ctx->activations, ndim, shape);
    if (!v) return NULL;
    if (v->numel != t->numel) {
        char a[96], b[96];
        gs_shape_str(t, a, sizeof a);
        gs_shape_str(v, b, sizeof b);
        gs_fail(ctx, GS_ERR_SHAPE, "cannot view a tensor of shape %s as %s: element counts differ", a, b);
        return NULL;
    }
    v->data = t->data;
    return v;
}

/* The smallest recycled block that fits, removed from the pool. */
static float *take_recycled(gs_grad_pool *pool, size_t bytes) {
    size_t best = pool->count;
    for (size_t i = 0; i < pool->count; i++)
        if (pool->free[i].bytes >= bytes && (best == pool->count || pool->free[i].bytes < pool->free[best].bytes))
            best = i;
    if (best == pool->count) return NULL;
    float *p = pool->free[best].ptr;
    pool->free[best] = pool->free[--pool->count];
    return p;
}

void gs_tensor_release_grad(gs_context *ctx, gs_tensor *t) {
    if (!t->grad || t->is_param || !t->grad_recyclable) return;
    gs_grad_pool *pool = &ctx->grad_pool;
    if (pool->count == pool->capacity) {
        size_t capacity = pool->capacity ? 2 * pool->capacity : 64;
        gs_grad_block *blocks = realloc(pool->free, capacity * sizeof *blocks);
        if (!blocks) return; /* keeping the buffer is always safe */
        pool->free = blocks;
        pool->capacity = capacity;
    }
    pool->free[pool->count++] = (gs_grad_block){t->grad, (size_t)t->numel * sizeof(float)};
    t->grad = NULL;
}

float *gs_tensor_grad(gs_context *ctx, gs_tensor *t) {
    if (t->grad) return t->grad;
    size_t bytes = (size_t)t->numel * sizeof(float);
    float *recycled = take_recycled(&ctx->grad_pool, bytes);
    if (recycled) {
        memset(recycled, 0, bytes);
        t->grad = recycled;
        t->grad_recyclable = true;
        return t->grad;
    }
    t->grad_recyclable = true;
    t->grad = gs_arena_calloc(&ctx->activations, bytes);
    if (!t->grad) gs_fail(ctx, GS_ERR_MEMORY, "out of memory allocating a gradient of %lld floats", (long long)t->numel);
    return t->grad;
}

bool gs_tensor_same_shape(const gs_tensor *a, const gs_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *gs_shape_str(const gs_tensor *t, char *buf, size_t size) {
    size_t used = 0;
    used += (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < t->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
    return buf;
}

int64_t gs_first_nonfinite(const float *values, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(values[i])) return i;
    return -1;
}

void gs_tensor_fill(gs_tensor *t, float value) {
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = value;
}

void gs_tensor_fill_normal(gs_context *ctx, gs_tensor *t, float std) {
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = std * gs_rng_normal(&ctx->rng);
}

void gs_tensor_fill_uniform(gs_context *ctx, gs_tensor *t, float bound) {
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = bound * (2.0f * gs_rng_uniform(&ctx->rng) - 1.0f);
}

void gs_tensor_copy(gs_tensor *dst, const gs_tensor *src) {
    memcpy(dst->data, src->data, (size_t)src->numel * sizeof(float));
}

gs_tensor *gs_tensor_keep_since(gs_context *ctx, gs_arena_mark mark, gs_tensor *t) {
    if (!t || ctx->grad_enabled || gs_failed(ctx)) return t;
    int ndim = t->ndim;
    int64_t shape[GS_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    const char *name = t->name;
    const float *old = t->data;
    size_t bytes = (size_t)t->numel * sizeof(float);
    gs_arena_rewind(&ctx->activations, mark);
    /* Allocating writes nothing, so the old data is intact until the move;
     * the header comes after the data so it cannot clobber it first. */
    float *data = gs_arena_alloc(&ctx->activations, bytes);
    if (!data) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory keeping an activation");
        return NULL;
    }
    memmove(data, old, bytes);
    gs_tensor *kept = new_header(ctx, &ctx->activations, ndim, shape);
    if (!kept) return NULL;
    kept->data = data;
    kept->name = name;
    return kept;
}
