#include "params.h"

#include <stdlib.h>
#include <string.h>

gs_tensor *gs_param_add_in(gs_context *ctx, gs_arena *arena, gs_param_list *list, const char *name,
                           gs_param_kind kind, int ndim, const int64_t *shape) {
    if (gs_failed(ctx)) return NULL;
    if (gs_param_find(list, name)) {
        gs_fail(ctx, GS_ERR_INTERNAL, "parameter '%s' is defined twice", name);
        return NULL;
    }
    if (list->count == list->capacity) {
        int capacity = list->capacity ? list->capacity * 2 : 64;
        gs_param *items = realloc(list->items, (size_t)capacity * sizeof *items);
        if (!items) {
            gs_fail(ctx, GS_ERR_MEMORY, "out of memory adding parameter '%s'", name);
            return NULL;
        }
        list->items = items;
        list->capacity = capacity;
    }
    gs_tensor *t = gs_tensor_new(ctx, arena, ndim, shape);
    if (!t) return NULL;
    size_t len = strlen(name) + 1;
    char *copy = gs_arena_alloc(arena, len);
    if (!copy) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory naming parameter '%s'", name);
        return NULL;
    }
    memcpy(copy, name, len);
    t->name = copy;
    t->is_param = true;
    if (kind != GS_PARAM_BUFFER) {
        t->requires_grad = true;
        t->grad = gs_arena_calloc(&ctx->grads, (size_t)t->numel * sizeof(float));
        if (!t->grad) {
            gs_fail(ctx, GS_ERR_MEMORY, "out of memory for the gradient of '%s'", name);
            return NULL;
        }
    }
    list->items[list->count++] = (gs_param){.tensor = t, .kind = kind};
    return t;
}

gs_tensor *gs_param_add(gs_context *ctx, gs_param_list *list, const char *name, gs_param_kind kind, int ndim,
                        const int64_t *shape) {
    return gs_param_add_in(ctx, &ctx->params, list, name, kind, ndim, shape);
}

void gs_param_list_free(gs_param_list *list) {
    free(list->items);
    memset(list, 0, sizeof *list);
}

gs_tensor *gs_param_find(const gs_param_list *list, const char *name) {
    for (int i = 0; i < list->count; i++)
        if (!strcmp(list->items[i].tensor->name, name)) return list->items[i].tensor;
    return NULL;
}

void gs_params_zero_grad(const gs_param_list *list) {
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        if (t->grad) memset(t->grad, 0, (size_t)t->numel * sizeof(float));
    }
}

int64_t gs_params_count(const gs_param_list *list) {
    int64_t n = 0;
    for (int i = 0; i < list->count; i++)
        if (list->items[i].kind != GS_PARAM_BUFFER) n += list->items[i].tensor->numel;
    return n;
}

gs_status gs_params_check_grads(gs_context *ctx, const gs_param_list *list) {
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        if (!t->grad) continue;
        int64_t bad = gs_first_nonfinite(t->grad, t->numel);
        if (bad >= 0)
            return gs_fail(ctx, GS_ERR_NONFINITE,
                           "the gradient of '%s' is %g at element %lld: training diverged (lower the learning "
                           "rate, enable gradient clipping, or check the inputs for NaN/Inf)",
                           t->name, (double)t->grad[bad], (long long)bad);
    }
    return GS_OK;
}

gs_status gs_params_copy(gs_context *ctx, const gs_param_list *dst, const gs_param_list *src) {
    if (dst->count != src->count)
        return gs_fail(ctx, GS_ERR_MISMATCH, "cannot copy %d parameters into a list of %d", src->count, dst->count);
    for (int i = 0; i < dst->count; i++) {
        gs_tensor *d = dst->items[i].tensor, *s = src->items[i].tensor;
        if (strcmp(d->name, s->name) || d->numel != s->numel)
            return gs_fail(ctx, GS_ERR_MISMATCH, "parameter %d differs: '%s' vs '%s'", i, d->name, s->name);
        gs_tensor_copy(d, s);
    }
    return GS_OK;
}

gs_status gs_param_add_existing(gs_context *ctx, gs_param_list *list, gs_param param) {
    if (gs_failed(ctx)) return ctx->status;
    if (list->count == list->capacity) {
        int capacity = list->capacity ? list->capacity * 2 : 64;
        gs_param *items = realloc(list->items, (size_t)capacity * sizeof *items);
        if (!items) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory listing parameters");
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = param;
    return GS_OK;
}
