/* SatMAE's masks (spec 3.1): the tokens the encoder keeps, drawn from the
 * context's RNG or given by a test, and the hooks tests use to feed masks
 * and dates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "satmae.h"
#include "satmae_internal.h"

gs_status satmae_ensure_rows(gs_context *ctx, satmae *s, int64_t n) {
    if (n <= s->keep_rows) return GS_OK;
    int32_t *keep = realloc(s->keep, (size_t)(n * s->kept) * sizeof *keep);
    if (keep) s->keep = keep;
    float *removed = realloc(s->removed, (size_t)(n * s->tokens) * sizeof *removed);
    if (removed) s->removed = removed;
    if (!keep || !removed) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SatMAE's masks");
    s->keep_rows = n;
    return GS_OK;
}

typedef struct noisy_index {
    float noise;
    int32_t index;
} noisy_index;

static int by_noise(const void *a, const void *b) {
    const noisy_index *x = a, *y = b;
    if (x->noise != y->noise) return x->noise < y->noise ? -1 : 1;
    return x->index - y->index;
}

/* MAE's random_masking: the tokens (or, consistent, the locations) with the
 * lowest noise are kept, in that order. */
gs_status satmae_draw_masks(gs_context *ctx, satmae *s, int64_t n) {
    bool by_location = s->consistent && s->variant != VARIANT_RGB;
    int64_t units = by_location ? s->per_image : s->tokens, keep_units = by_location ? s->kept / s->n_groups : s->kept;
    noisy_index *order = gs_scratch(ctx, (size_t)units * sizeof *order);
    if (!order) return ctx->status;
    /* Across ranks each rank draws the noise of the whole global batch and
     * keeps its own shard's: the masks, and the RNG after them, are those of
     * one process. */
    gs_data_parallel_skip_before(ctx, &ctx->rng, n * units);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t u = 0; u < units; u++) order[u] = (noisy_index){gs_rng_uniform(&ctx->rng), (int32_t)u};
        qsort(order, (size_t)units, sizeof *order, by_noise);
        int32_t *keep = s->keep + i * s->kept;
        for (int64_t u = 0; u < keep_units; u++) {
            if (!by_location) {
                keep[u] = order[u].index;
                continue;
            }
            for (int g = 0; g < s->n_groups; g++) keep[u * s->n_groups + g] = (int32_t)(g * s->per_image + order[u].index);
        }
    }
    gs_data_parallel_skip_after(ctx, &ctx->rng, n * units);
    return GS_OK;
}

gs_status gs_satmae_use_mask(gs_context *ctx, gs_method *m, const int32_t *keep, int64_t n, int64_t k) {
    satmae *s = m->impl;
    if (k != s->kept)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "satmae: %lld kept tokens given, the mask ratio keeps %lld", (long long)k,
                       (long long)s->kept);
    if (satmae_ensure_rows(ctx, s, n) != GS_OK) return ctx->status;
    memcpy(s->keep, keep, (size_t)(n * k) * sizeof *keep);
    s->keep_given = true;
    return GS_OK;
}

gs_status gs_satmae_use_dates(gs_context *ctx, gs_method *m, const int32_t *year_month_hour, int64_t n) {
    satmae *s = m->impl;
    int32_t *times = realloc(s->times, (size_t)(n * SATMAE_FRAMES * 3) * sizeof *times);
    if (!times) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SatMAE's dates");
    s->times = times;
    for (int64_t i = 0; i < n * SATMAE_FRAMES; i++) {
        times[i * 3] = year_month_hour[i * 3] - SATMAE_YEAR0;
        times[i * 3 + 1] = year_month_hour[i * 3 + 1] - 1;
        times[i * 3 + 2] = year_month_hour[i * 3 + 2];
    }
    s->time_rows = n;
    return GS_OK;
}

int64_t gs_satmae_tokens(const gs_method *m) { return ((const satmae *)m->impl)->tokens; }
int64_t gs_satmae_kept(const gs_method *m) { return ((const satmae *)m->impl)->kept; }
const int32_t *gs_satmae_kept_tokens(const gs_method *m) { return ((const satmae *)m->impl)->keep; }
