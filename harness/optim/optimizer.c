/* Optimizer bookkeeping shared by all kinds: config checks, state allocation
 * and naming, the non-finite gate and the dispatch of one step. */
#include "optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gs_optimizer_config gs_optimizer_defaults(gs_optimizer_kind kind) {
    gs_optimizer_config c = {.kind = kind, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    if (kind == GS_OPTIM_ADAMW) c.weight_decay = 0.01f;
    else c.momentum = 0.9f;
    if (kind == GS_OPTIM_LARS || kind == GS_OPTIM_LARC) c.lars_eta = GS_LARS_DEFAULT_ETA;
    return c;
}

const char *const GS_OPTIMIZER_NAMES[] = {"sgd", "lars", "adamw", "larc", NULL};

const char *gs_optimizer_kind_name(gs_optimizer_kind kind) {
    return kind >= GS_OPTIM_SGD && kind <= GS_OPTIM_LARC ? GS_OPTIMIZER_NAMES[kind] : "unknown";
}

/* The state slots of a kind, in the order the update rules expect them. */
static int slot_names(const gs_optimizer_config *cfg, const char **names) {
    switch (cfg->kind) {
    case GS_OPTIM_SGD:
    case GS_OPTIM_LARS:
    case GS_OPTIM_LARC:
        if (cfg->momentum == 0.0f) return 0;
        names[0] = "momentum_buffer";
        return 1;
    case GS_OPTIM_ADAMW:
        names[0] = "exp_avg";
        names[1] = "exp_avg_sq";
        names[2] = "step"; /* per parameter, as torch: a frozen parameter's count stands still */
        return 3;
    }
    return 0;
}

static gs_status check_config(gs_context *ctx, gs_optimizer_config *c) {
    const char *kind = gs_optimizer_kind_name(c->kind);
    if (c->kind < GS_OPTIM_SGD || c->kind > GS_OPTIM_LARC)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "optimizer: unknown kind %d", (int)c->kind);
    if (!isfinite(c->lr) || c->lr < 0.0f)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "%s: learning rate %g must be finite and >= 0", kind, (double)c->lr);
    if (!isfinite(c->weight_decay) || c->weight_decay < 0.0f)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "%s: weight_decay %g must be finite and >= 0", kind,
                       (double)c->weight_decay);
    if (c->kind == GS_OPTIM_ADAMW) {
        if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
            return gs_fail(ctx, GS_ERR_ARGUMENT, "adamw: betas (%g, %g) must be in [0, 1)", (double)c->beta1,
                           (double)c->beta2);
        /* eps 0 would divide 0 by 0 for a parameter that never saw a gradient. */
        if (!isfinite(c->eps) || c->eps <= 0.0f)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "adamw: eps %g must be finite and > 0", (double)c->eps);
        return GS_OK;
    }
    if (!(c->momentum >= 0.0f && c->momentum < 1.0f))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "%s: momentum %g must be in [0, 1)", kind, (double)c->momentum);
    if (c->kind == GS_OPTIM_LARS || c->kind == GS_OPTIM_LARC) {
        if (!isfinite(c->lars_eta))
            return gs_fail(ctx, GS_ERR_ARGUMENT, "%s: eta %g must be finite", kind, (double)c->lars_eta);
        if (c->lars_eta <= 0.0f) c->lars_eta = GS_LARS_DEFAULT_ETA;
    }
    if (c->kind == GS_OPTIM_LARC && !(isfinite(c->eps) && c->eps >= 0.0f))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "larc: eps %g must be finite and >= 0", (double)c->eps);
    return GS_OK;
}

/* Adds one zeroed state tensor "<param>.<slot>" shaped like the parameter
 * (the "step" count: one value). */
static gs_tensor *add_slot(gs_context *ctx, gs_optimizer *opt, const gs_tensor *param, const char *slot) {
    size_t len = strlen(param->name) + 1 + strlen(slot) + 1;
    char *name = malloc(len);
    if (!name) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory naming the optimizer state of '%s'", param->name);
        return NULL;
    }
    snprintf(name, len, "%s.%s", param->name, slot);
    bool count = !strcmp(slot, "step");
    gs_tensor *t = gs_param_add_in(ctx, &ctx->optim_state, &opt->state, name, GS_PARAM_BUFFER, count ? 1 : param->ndim,
                                   count ? (const int64_t[]){1} : param->shape);
    free(name);
    if (t) memset(t->data, 0, (size_t)t->numel * sizeof(float));
    return t;
}

gs_status gs_optimizer_init(gs_context *ctx, gs_optimizer *opt, const gs_param_list *params,
                            const gs_optimizer_config *cfg) {
    if (gs_failed(ctx)) return ctx->status;
    if (!opt || !params || !cfg) return gs_fail(ctx, GS_ERR_ARGUMENT, "optimizer init: a required argument is NULL");
    memset(opt, 0, sizeof *opt);
    opt->config = *cfg;
    gs_status status = check_config(ctx, &opt->config);
    if (status != GS_OK) return status;
    opt->params = params;
    opt->n_params = params->count;
    const char *names[3];
    opt->n_slots = slot_names(&opt->config, names);
    if (opt->n_slots == 0 || params->count == 0) return GS_OK;
    opt->slots = calloc((size_t)params->count * (size_t)opt->n_slots, sizeof *opt->slots);
    if (!opt->slots) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for the optimizer state table");
    for (int i = 0; i < params->count; i++) {
        const gs_param *p = &params->items[i];
        if (p->kind == GS_PARAM_BUFFER) continue;
        for (int s = 0; s < opt->n_slots; s++) {
            gs_tensor *t = add_slot(ctx, opt, p->tensor, names[s]);
            if (!t) {
                gs_optimizer_free(opt);
                return ctx->status;
            }
            opt->slots[i * opt->n_slots + s] = t;
        }
    }
    return GS_OK;
}

gs_status gs_optimizer_step(gs_context *ctx, gs_optimizer *opt, float lr) {
    if (gs_failed(ctx)) return ctx->status;
    if (!opt || !opt->params) return gs_fail(ctx, GS_ERR_ARGUMENT, "optimizer step: the optimizer is not initialized");
    const gs_param_list *params = opt->params;
    if (params->count != opt->n_params)
        return gs_fail(ctx, GS_ERR_INTERNAL, "optimizer step: the parameter list changed from %d to %d entries",
                       opt->n_params, params->count);
    if (!isfinite(lr) || lr < 0.0f)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "%s step: learning rate %g must be finite and >= 0",
                       gs_optimizer_kind_name(opt->config.kind), (double)lr);
    /* All gradients are checked before any parameter moves, so a diverged
     * step leaves the model and the optimizer state as they were. */
    gs_status status = gs_params_check_grads(ctx, params);
    if (status != GS_OK) return status;
    opt->step++;
    for (int i = 0; i < params->count; i++) {
        const gs_param *p = &params->items[i];
        /* A frozen parameter (requires_grad off, DINO's last layer in its
         * first epoch) is left alone entirely, as torch skips grad None. */
        if (p->kind == GS_PARAM_BUFFER || !p->tensor->grad || !p->tensor->requires_grad) continue;
        bool decay = p->kind == GS_PARAM_WEIGHT;
        gs_tensor *const *slots = opt->n_slots ? opt->slots + (size_t)i * (size_t)opt->n_slots : NULL;
        float plr = opt->lr_scale ? lr * opt->lr_scale[i] : lr;
        switch (opt->config.kind) {
        case GS_OPTIM_SGD: gs_sgd_update(ctx, opt, p->tensor, decay, slots, plr); break;
        case GS_OPTIM_LARS: gs_lars_update(ctx, opt, p->tensor, decay, slots, plr); break;
        case GS_OPTIM_ADAMW: gs_adamw_update(ctx, opt, p->tensor, decay, slots, plr); break;
        case GS_OPTIM_LARC: gs_larc_update(ctx, opt, p->tensor, decay, slots, plr); break;
        }
    }
    return ctx->status;
}

void gs_optimizer_zero_grad(const gs_optimizer *opt) {
    if (opt && opt->params) gs_params_zero_grad(opt->params);
}

gs_status gs_optimizer_scale_lr(gs_context *ctx, gs_optimizer *opt, int index, float scale) {
    if (gs_failed(ctx)) return ctx->status;
    if (!opt || !opt->params || index < 0 || index >= opt->n_params)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "optimizer: no parameter %d to scale the learning rate of", index);
    if (!isfinite(scale) || scale < 0.0f || scale > 1e6f)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "optimizer: learning-rate scale %g of '%s' must be in [0, 1e6]",
                       (double)scale, opt->params->items[index].tensor->name);
    if (!opt->lr_scale) {
        opt->lr_scale = malloc((size_t)opt->n_params * sizeof *opt->lr_scale);
        if (!opt->lr_scale) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for learning-rate scales");
        for (int i = 0; i < opt->n_params; i++) opt->lr_scale[i] = 1.0f;
    }
    opt->lr_scale[index] = scale;
    return GS_OK;
}

void gs_optimizer_free(gs_optimizer *opt) {
    if (!opt) return;
    free(opt->slots);
    free(opt->lr_scale);
    gs_param_list_free(&opt->state);
    memset(opt, 0, sizeof *opt);
}
