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

static void skip(gs_rng *rng, int64_t values) {
    for (int64_t i = 0; i < values; i++) gs_rng_next_u64(rng);
}

void gs_data_parallel_skip_before(const gs_context *ctx, gs_rng *rng, int64_t per_rank) {
    if (gs_data_parallel(ctx)) skip(rng, (int64_t)ctx->dist->rank * per_rank);
}

void gs_data_parallel_skip_after(const gs_context *ctx, gs_rng *rng, int64_t per_rank) {
    if (gs_data_parallel(ctx)) skip(rng, (int64_t)(ctx->dist->size - 1 - ctx->dist->rank) * per_rank);
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

static bool trained(const gs_param *p) { return p->kind != GS_PARAM_BUFFER && p->tensor->requires_grad; }

/* A run of consecutive trained parameters whose gradients are summed in one
 * call, started as soon as backward has finished all of them. */
typedef struct bucket {
    int first, last; /* params [first, last) of the list */
    int64_t values;
    float *sum;      /* packed gradients, summed in place */
    int waiting;     /* parameters whose gradient is not final yet */
} bucket;

typedef struct gradient_sync {
    const gs_param_list *params;
    bucket *buckets;
    int n_buckets, started;
    int *bucket_of;      /* per parameter: its bucket, or -1 (not trained) */
    int64_t *final_at;   /* per parameter: the tape node after which its gradient is final; -1: no node */
} gradient_sync;

static void pack(const bucket *b, const gs_param_list *params) {
    float *to = b->sum;
    for (int i = b->first; i < b->last; i++) {
        const gs_param *p = &params->items[i];
        if (!trained(p)) continue;
        if (p->tensor->grad) memcpy(to, p->tensor->grad, (size_t)p->tensor->numel * sizeof *to);
        else memset(to, 0, (size_t)p->tensor->numel * sizeof *to); /* no gradient reached it: zeros */
        to += p->tensor->numel;
    }
}

static void unpack(const bucket *b, const gs_param_list *params, float scale) {
    const float *from = b->sum;
    for (int i = b->first; i < b->last; i++) {
        const gs_param *p = &params->items[i];
        if (!trained(p)) continue;
        if (p->tensor->grad)
            for (int64_t k = 0; k < p->tensor->numel; k++) p->tensor->grad[k] = from[k] * scale;
        from += p->tensor->numel;
    }
}

/* Starts the buckets that are complete, in bucket order: every rank starts
 * the same sums in the same order, which MPI's matching needs. */
static void start_ready(gs_context *ctx, gradient_sync *g) {
    while (!gs_failed(ctx) && g->started < g->n_buckets && g->buckets[g->started].waiting == 0) {
        bucket *b = &g->buckets[g->started++];
        pack(b, g->params);
        gs_dist_pending *pending;
        gs_error err = {0};
        if (gs_dist_sum_f32_start(ctx->dist, b->sum, b->values, &pending, &err) != GS_OK) dist_fail(ctx, &err);
    }
}

static void after_node(gs_context *ctx, size_t index, void *user) {
    gradient_sync *g = user;
    for (int i = 0; i < g->params->count; i++)
        if (g->final_at[i] == (int64_t)index && g->bucket_of[i] >= 0) g->buckets[g->bucket_of[i]].waiting--;
    start_ready(ctx, g);
    gs_dist_progress(ctx->dist);
}

/* Buckets over the parameters from the last to the first (the order
 * backward finishes them), each about BUCKET_VALUES values. */
static gs_status plan(gs_context *ctx, const gs_param_list *params, gradient_sync *g) {
    int n = params->count;
    g->params = params;
    g->bucket_of = gs_arena_alloc(&ctx->activations, (size_t)(n ? n : 1) * sizeof *g->bucket_of);
    g->final_at = gs_arena_alloc(&ctx->activations, (size_t)(n ? n : 1) * sizeof *g->final_at);
    g->buckets = gs_arena_alloc(&ctx->activations, (size_t)(n ? n : 1) * sizeof *g->buckets);
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        if (trained(&params->items[i])) total += params->items[i].tensor->numel;
    float *sums = gs_arena_alloc(&ctx->activations, (size_t)(total ? total : 1) * sizeof *sums);
    if (!g->bucket_of || !g->final_at || !g->buckets || !sums)
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for %lld gradient values to average", (long long)total);
    /* The earliest node that reads a parameter is the last backward runs for it. */
    const gs_tape *tape = &ctx->tape;
    for (int i = 0; i < n; i++) g->final_at[i] = -1;
    for (size_t k = tape->count; k-- > 0;)
        for (int j = 0; j < tape->nodes[k].n_in; j++)
            for (int i = 0; i < n; i++)
                if (tape->nodes[k].in[j] == params->items[i].tensor) g->final_at[i] = (int64_t)k;
    g->n_buckets = g->started = 0;
    for (int last = n; last > 0;) {
        bucket *b = &g->buckets[g->n_buckets];
        b->last = last;
        b->values = 0;
        b->waiting = 0;
        int first = last;
        while (first > 0 && (b->values == 0 || b->values + params->items[first - 1].tensor->numel <= BUCKET_VALUES)) {
            first--;
            g->bucket_of[first] = -1;
            if (!trained(&params->items[first])) continue;
            g->bucket_of[first] = g->n_buckets;
            b->values += params->items[first].tensor->numel;
            if (g->final_at[first] >= 0) b->waiting++;
        }
        b->first = first;
        last = first;
        if (b->values == 0) continue; /* nothing trained in this run of parameters */
        b->sum = sums;
        sums += b->values;
        g->n_buckets++;
    }
    return GS_OK;
}

gs_status gs_data_parallel_backward(gs_context *ctx, gs_tensor *loss, const gs_param_list *params) {
    if (!gs_data_parallel(ctx)) return gs_backward(ctx, loss);
    if (gs_failed(ctx)) return ctx->status;
    gradient_sync g;
    if (plan(ctx, params, &g) != GS_OK) return ctx->status;
    start_ready(ctx, &g); /* buckets no node writes to (frozen layers) go first */
    ctx->tape.after_node = after_node;
    ctx->tape.hook_user = &g;
    gs_backward(ctx, loss);
    ctx->tape.after_node = NULL;
    ctx->tape.hook_user = NULL;
    /* A bucket can still wait here only if backward stopped early. */
    for (int b = g.started; b < g.n_buckets; b++) g.buckets[b].waiting = 0;
    start_ready(ctx, &g);
    gs_error err = {0};
    if (gs_dist_finish_all(ctx->dist, &err) != GS_OK && !gs_failed(ctx)) dist_fail(ctx, &err);
    if (gs_failed(ctx)) return ctx->status;
    float scale = 1.0f / (float)ctx->dist->size;
    for (int b = 0; b < g.n_buckets; b++) unpack(&g.buckets[b], params, scale);
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
