#include "ema.h"

#include <string.h>

gs_status gs_ema_update(gs_context *ctx, const gs_param_list *target, const gs_param_list *online, double momentum) {
    if (gs_failed(ctx)) return ctx->status;
    if (!target || !online) return gs_fail(ctx, GS_ERR_ARGUMENT, "ema: a parameter list is NULL");
    if (!(momentum >= 0.0 && momentum <= 1.0))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "ema: momentum %g must be in [0, 1]", momentum);
    if (target->count != online->count)
        return gs_fail(ctx, GS_ERR_MISMATCH, "ema: the target has %d parameters, the online network %d",
                       target->count, online->count);
    /* Everything is checked before anything moves. */
    for (int i = 0; i < target->count; i++) {
        const gs_param *t = &target->items[i], *o = &online->items[i];
        if (strcmp(t->tensor->name, o->tensor->name))
            return gs_fail(ctx, GS_ERR_MISMATCH, "ema: parameter %d is '%s' in the target but '%s' online", i,
                           t->tensor->name, o->tensor->name);
        if (t->kind != o->kind || !gs_tensor_same_shape(t->tensor, o->tensor)) {
            char ts[96], os[96];
            return gs_fail(ctx, GS_ERR_MISMATCH, "ema: '%s' differs: kind %d shape %s in the target, kind %d shape %s online",
                           t->tensor->name, (int)t->kind, gs_shape_str(t->tensor, ts, sizeof ts), (int)o->kind,
                           gs_shape_str(o->tensor, os, sizeof os));
        }
    }
    /* Coefficients as torch forms them: 1 - m in double, both cast to float. */
    const float m = (float)momentum, w = (float)(1.0 - momentum);
    for (int i = 0; i < target->count; i++) {
        gs_tensor *t = target->items[i].tensor;
        const gs_tensor *o = online->items[i].tensor;
        if (target->items[i].kind == GS_PARAM_BUFFER) {
            gs_tensor_copy(t, o);
            continue;
        }
        float *td = t->data;
        const float *od = o->data;
        int64_t n = t->numel;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
        for (int64_t j = 0; j < n; j++) td[j] = m * td[j] + w * od[j];
    }
    return GS_OK;
}
