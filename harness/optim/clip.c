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

static void scale_grad(gs_context *ctx, gs_tensor *t, float c) {
    float *g = t->grad;
    int64_t n = t->numel;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int64_t j = 0; j < n; j++) g[j] *= c;
}

static bool valid_max_norm(gs_context *ctx, const gs_param_list *list, float max_norm) {
    if (gs_failed(ctx)) return false;
    if (!list) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "clip_grad_norm: the parameter list is NULL");
        return false;
    }
    if (!isfinite(max_norm) || max_norm <= 0.0f) {
        gs_fail(ctx, GS_ERR_ARGUMENT, "clip_grad_norm: max_norm %g must be finite and > 0", (double)max_norm);
        return false;
    }
    return true;
}

double gs_clip_grad_norm_per_param(gs_context *ctx, const gs_param_list *list, float max_norm) {
    if (!valid_max_norm(ctx, list, max_norm)) return -1.0;
    double largest = 0.0;
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        if (list->items[i].kind == GS_PARAM_BUFFER || !t->grad || !t->requires_grad) continue;
        double norm = sqrt(sum_squares(ctx, t->numel, t->grad));
        if (!(norm <= largest)) largest = norm; /* keeps a NaN */
        double coef = (double)max_norm / (norm + 1e-6);
        if (isfinite(norm) && coef < 1.0) scale_grad(ctx, t, (float)coef);
    }
    return largest;
}

double gs_clip_grad_norm(gs_context *ctx, const gs_param_list *list, float max_norm) {
    if (!valid_max_norm(ctx, list, max_norm)) return -1.0;
    double norm = gs_grad_norm(ctx, list);
    if (!isfinite(norm)) return norm;
    double coef = (double)max_norm / (norm + 1e-6);
    if (coef >= 1.0) return norm;
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        if (list->items[i].kind != GS_PARAM_BUFFER && t->grad) scale_grad(ctx, t, (float)coef);
    }
    return norm;
}
