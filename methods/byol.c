/* BYOL (Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020): an online
 * network (encoder, projector, predictor) predicts a target network's
 * projection of the other view; the target is an exponential moving average
 * of the online encoder and projector with a momentum that follows a cosine
 * schedule from tau_base to 1; the loss is the normalized MSE
 * 2 - 2 cos(p, z'), symmetrized over the two views; LARS. */
#include <stdlib.h>

#include "method.h"
#include "nn/mlp_head.h"
#include "ops/ops.h"
#include "optim/schedule.h"

typedef struct byol {
    gs_mlp_head projector, predictor;
    gs_mlp_head target_projector;
    gs_method_target target; /* follows the encoder and projector */
} byol;

static gs_status byol_views(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err) {
    *n_views = 2;
    /* The paper's asymmetric pair: one view always blurred, the other rarely
     * blurred and sometimes solarized (datasets/augment.h). */
    if (gs_augment_preset("byol-1", cfg->bands, cfg->image_size, &views[0], err) != GS_OK) return err->status;
    if (gs_augment_preset("byol-2", cfg->bands, cfg->image_size, &views[1], err) != GS_OK) return err->status;
    return GS_OK;
}

static gs_status byol_init(gs_context *ctx, gs_method *m) {
    byol *b = calloc(1, sizeof *b);
    if (!b) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for BYOL");
    m->impl = b;
    if (m->config.momentum <= 0) m->config.momentum = 0.996f;
    int64_t features = m->encoder.feature_dim;
    int64_t hidden = m->config.proj_hidden > 0 ? m->config.proj_hidden : 2 * features;
    int64_t out = m->config.proj_dim > 0 ? m->config.proj_dim : 128;
    gs_mlp_head_init(ctx, &m->heads, "projector", &b->projector, features, hidden, out, true);
    gs_mlp_head_init(ctx, &m->heads, "predictor", &b->predictor, out, hidden, out, true);
    /* The target: encoder and projector, starting as a copy of the online ones. */
    gs_param_list target_heads = {0};
    gs_mlp_head_init(ctx, &target_heads, "projector", &b->target_projector, features, hidden, out, true);
    gs_method_target_init(ctx, m, &target_heads, &b->target);
    gs_param_list_free(&target_heads);
    return ctx->status;
}

/* 2 - 2 cos(p, z), averaged over the batch. */
static gs_tensor *normalized_mse(gs_context *ctx, gs_tensor *p, gs_tensor *z) {
    gs_tensor *cos = gs_mean(ctx, gs_cosine_similarity(ctx, p, z, 1e-12f));
    return gs_add_scalar(ctx, gs_scale(ctx, cos, -2.0f), 2.0f);
}

static gs_tensor *byol_loss(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step) {
    (void)step;
    (void)n_views;
    byol *b = m->impl;
    int64_t n = views[0]->shape[0];
    gs_tensor *x = gs_concat(ctx, views, 2, 0);
    gs_tensor *z = gs_mlp_head_forward(ctx, &b->projector, gs_backbone_forward(ctx, &m->encoder, x, true), true);
    gs_tensor *p = gs_mlp_head_forward(ctx, &b->predictor, z, true);
    bool previous = gs_set_grad_enabled(ctx, false);
    gs_tensor *zt = gs_mlp_head_forward(ctx, &b->target_projector,
                                        gs_backbone_forward(ctx, &b->target.encoder, x, true), true);
    gs_set_grad_enabled(ctx, previous);
    if (!p || !zt) return NULL;
    m->embedding_std = gs_embedding_std(z);
    /* View 1's prediction targets view 2's projection and vice versa. */
    gs_tensor *p1 = gs_slice(ctx, p, 0, 0, n), *p2 = gs_slice(ctx, p, 0, n, 2 * n);
    gs_tensor *t1 = gs_slice(ctx, zt, 0, 0, n), *t2 = gs_slice(ctx, zt, 0, n, 2 * n);
    return gs_add(ctx, normalized_mse(ctx, p1, t2), normalized_mse(ctx, p2, t1));
}

static gs_status byol_after_step(gs_context *ctx, gs_method *m, int64_t step) {
    byol *b = m->impl;
    double tau = gs_cosine_momentum(m->config.momentum, step, m->config.total_steps > 0 ? m->config.total_steps : 1);
    return gs_method_target_update(ctx, &b->target, tau);
}

static void byol_free(gs_method *m) {
    byol *b = m->impl;
    if (!b) return;
    gs_method_target_free(&b->target);
    free(b);
    m->impl = NULL;
}

const gs_method_ops gs_method_byol = {
    .name = "byol",
    .settings = GS_METHOD_USES_EMA | GS_METHOD_USES_HEAD,
    .data_parallel = true, /* each rank's loss is over its own pairs: the gradient average is all it needs */
    .summary = "BYOL: online predictor vs EMA target, normalized MSE (Grill et al. 2020)",
    .optimizer = GS_OPTIM_LARS,
    .lr = 0.2f, /* x batch / 256 */
    .weight_decay = 1.5e-6f,
    .views = byol_views,
    .init = byol_init,
    .loss = byol_loss,
    .after_step = byol_after_step,
    .free = byol_free,
};
