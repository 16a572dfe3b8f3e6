/* The training step's collectives: loss mean, gradient average, buffers. */
#include "data_parallel.h"

#include <string.h>

#include "dist.h"

/* Values per gradient bucket: large enough that a sum's latency is paid a
 * few times a step, small enough that the first buckets' sums overlap the
 * packing of the later ones. */
#define BUCKET_VALUES (4 << 20)

bool gs_data_parallel(const gs_context *ctx) { return ctx->dist && ctx->dist->size > 1; }

void gs_data_parallel_rank(const gs_context *ctx, int *rank, int *ranks) {
    *rank = gs_data_parallel(ctx) ? ctx->dist->rank : 0;
    *ranks = gs_data_parallel(ctx) ? ctx->dist->size : 1;
}

static gs_status dist_fail(gs_context *ctx, const gs_error *err) { return gs_fail(ctx, err->status, "%s", err->message); }

gs_status gs_data_parallel_mean(gs_context *ctx, float *value) {
    if (!gs_data_parallel(ctx)) return GS_OK;
    gs_error err = {0};
    double v = *value;
    if (gs_dist_sum_f64(ctx->dist, &v, 1, &err) != GS_OK) return dist_fail(ctx, &err);
    *value = (float)(v / ctx->dist->size);
    return GS_OK;
}

gs_status gs_data_parallel_mean_values(gs_context *ctx, float *values, int64_t n) {
    if (!gs_data_parallel(ctx)) return GS_OK;
    gs_error err = {0};
    if (gs_dist_sum_f32(ctx->dist, values, n, &err) != GS_OK) return dist_fail(ctx, &err);
    for (int64_t i = 0; i < n; i++) values[i] /= (float)ctx->dist->size;
    return GS_OK;
}

/* Copies the gradients of items [first, last) into `bucket` (or back out of
 * it, scaled), a missing gradient as zeros. */
static void pack(const gs_param_list *params, int first, int last, float *bucket) {
    for (int i = first; i < last; i++) {
        const gs_tensor *t = params->items[i].tensor;
        if (t->grad) memcpy(bucket, t->grad, (size_t)t->numel * sizeof *bucket);
        else memset(bucket, 0, (size_t)t->numel * sizeof *bucket);
        bucket += t->numel;
    }
}

static void unpack(const gs_param_list *params, int first, int last, const float *bucket, float scale) {
    for (int i = first; i < last; i++) {
        const gs_tensor *t = params->items[i].tensor;
        if (t->grad)
            for (int64_t k = 0; k < t->numel; k++) t->grad[k] = bucket[k] * scale;
        bucket += t->numel;
    }
}

static bool trained(const gs_param *p) { return p->kind != GS_PARAM_BUFFER && p->tensor->requires_grad; }

gs_status gs_data_parallel_average_gradients(gs_context *ctx, const gs_param_list *params) {
    if (!gs_data_parallel(ctx) || gs_failed(ctx)) return ctx->status;
    int64_t total = 0;
    for (int i = 0; i < params->count; i++)
        if (trained(&params->items[i])) total += params->items[i].tensor->numel;
    float *all = gs_arena_alloc(&ctx->activations, (size_t)(total > 0 ? total : 1) * sizeof *all);
    if (!all) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for %lld gradient values to average", (long long)total);
    gs_error err = {0};
    /* Buckets of consecutive trained parameters, each summed as soon as it is
     * packed; every rank lists the same parameters, so the buckets agree. */
    typedef struct bucket {
        int first, last;
        float *values;
    } bucket;
    int n_buckets = 0, capacity = 16;
    bucket *buckets = gs_arena_alloc(&ctx->activations, (size_t)capacity * sizeof *buckets);
    float *cursor = all;
    for (int i = 0; i < params->count && buckets;) {
        if (!trained(&params->items[i])) {
            i++;
            continue;
        }
        int first = i;
        int64_t values = 0;
        while (i < params->count && (values == 0 || values + params->items[i].tensor->numel <= BUCKET_VALUES)) {
            if (trained(&params->items[i])) values += params->items[i].tensor->numel;
            i++;
        }
        if (n_buckets == capacity) {
            bucket *more = gs_arena_alloc(&ctx->activations, (size_t)(capacity * 2) * sizeof *more);
            if (!more) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for gradient buckets");
            memcpy(more, buckets, (size_t)n_buckets * sizeof *buckets);
            buckets = more, capacity *= 2;
        }
        bucket *b = &buckets[n_buckets++];
        b->first = first, b->last = i, b->values = cursor;
        float *p = cursor;
        for (int k = first; k < i; k++)
            if (trained(&params->items[k])) {
                pack(params, k, k + 1, p);
                p += params->items[k].tensor->numel;
            }
        gs_dist_pending *pending;
        if (gs_dist_sum_f32_start(ctx->dist, cursor, values, &pending, &err) != GS_OK) return dist_fail(ctx, &err);
        cursor += values;
    }
    if (!buckets) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for gradient buckets");
    if (gs_dist_finish_all(ctx->dist, &err) != GS_OK) return dist_fail(ctx, &err);
    float scale = 1.0f / (float)ctx->dist->size;
    for (int b = 0; b < n_buckets; b++) {
        const float *p = buckets[b].values;
        for (int k = buckets[b].first; k < buckets[b].last; k++)
            if (trained(&params->items[k])) {
                unpack(params, k, k + 1, p, scale);
                p += params->items[k].tensor->numel;
            }
    }
    return GS_OK;
}

static bool ends_with(const char *name, const char *tail) {
    size_t n = strlen(name), k = strlen(tail);
    return n >= k && !strcmp(name + n - k, tail);
}

gs_status gs_data_parallel_share_batchnorm_stats(gs_context *ctx, const gs_param_list *list) {
    if (!gs_data_parallel(ctx) || gs_failed(ctx) || ctx->dist->sync_bn) return ctx->status;
    gs_error err = {0};
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        if (list->items[i].kind != GS_PARAM_BUFFER || !t->name ||
            !(ends_with(t->name, "running_mean") || ends_with(t->name, "running_var")))
            continue;
        if (gs_dist_broadcast_f32(ctx->dist, t->data, t->numel, 0, &err) != GS_OK) return dist_fail(ctx, &err);
    }
    return GS_OK;
}
