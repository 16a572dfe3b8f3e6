#include "clip.h"

#include <math.h>

#define CLIP_CHUNKS 64

/* Sum of squares over a fixed partition: independent of the thread count. */
static double sum_squares(gs_context *ctx, int64_t n, const float *x) {
    double partial[CLIP_CHUNKS];
    int64_t chunk = (n + CLIP_CHUNKS - 1) / CLIP_CHUNKS;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int k = 0; k < CLIP_CHUNKS; k++) {
        double s = 0.0;
        int64_t end = (k + 1) * chunk < n ? (k + 1) * chunk : n;
        for (int64_t i = k * chunk; i < end; i++) s += (double)x[i] * (double)x[i];
        partial[k] = s;
    }
    double total = 0.0;
    for (int k = 0; k < CLIP_CHUNKS; k++) total += partial[k];
    return total;
}

double gs_grad_norm(gs_context *ctx, const gs_param_list *list) {
    double total = 0.0;
    for (int i = 0; i < list->count; i++) {
        const gs_tensor *t = list->items[i].tensor;
        if (list->items[i].kind != GS_PARAM_BUFFER && t->grad) total += sum_squares(ctx, t->numel, t->grad);
    }
    return sqrt(total);
}

double gs_clip_grad_norm(gs_context *ctx, const gs_param_list *list, float max_norm) {
    if (gs_failed(ctx)) return -1.0;
    if (!list) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "clip_grad_norm: the parameter list is NULL");
        return -1.0;
    }
    if (!isfinite(max_norm) || max_norm <= 0.0f) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "clip_grad_norm: max_norm %g must be finite and > 0", (double)max_norm);
        return -1.0;
    }
    double norm = gs_grad_norm(ctx, list);
    if (!isfinite(norm)) return norm;
    double coef = (double)max_norm / (norm + 1e-6);
    if (coef >= 1.0) return norm;
    const float c = (float)coef;
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        if (list->items[i].kind == GS_PARAM_BUFFER || !t->grad) continue;
        float *g = t->grad;
        int64_t n = t->numel;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
        for (int64_t j = 0; j < n; j++) g[j] *= c;
    }
    return norm;
}
