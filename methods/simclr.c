/* SimCLR (Chen et al., "A Simple Framework for Contrastive Learning of
 * Visual Representations", ICML 2020): two augmented views, a projection
 * MLP, and the NT-Xent loss: each embedding's positive is the other view of
 * its image, its negatives the other 2N - 2 embeddings of the batch; cosine
 * similarities divided by a temperature; LARS. */
#include <stdlib.h>

#include "dist/data_parallel.h"
#include "method.h"
#include "simclr.h"
#include "nn/mlp_head.h"
#include "ops/ops.h"

typedef struct simclr {
    gs_mlp_head projector;
} simclr;

static gs_status simclr_views(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err) {
    *n_views = 2;
    if (gs_augment_preset("simclr", cfg->bands, cfg->image_size, &views[0], err) != GS_OK) return err->status;
    views[1] = views[0];
    return GS_OK;
}

static gs_status simclr_init(gs_context *ctx, gs_method *m) {
    simclr *s = calloc(1, sizeof *s);
    if (!s) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SimCLR");
    m->impl = s;
    int64_t features = m->encoder.feature_dim;
    int64_t hidden = m->config.proj_hidden > 0 ? m->config.proj_hidden : features;
    int64_t out = m->config.proj_dim > 0 ? m->config.proj_dim : 128;
    if (m->config.temperature <= 0) m->config.temperature = 0.1f;
    return gs_mlp_head_init(ctx, &m->heads, "projector", &s->projector, features, hidden, out, true);
}

/* logits = z z^T / T over the L2-normalized rows, with the
 * diagonal masked out; row i's target is its other view. */
gs_tensor *gs_nt_xent(gs_context *ctx, gs_tensor *z, float temperature) {
    if (!z || gs_failed(ctx)) return NULL;
    int64_t n2 = z->shape[0], n = n2 / 2;
    gs_tensor *zn = gs_l2_normalize(ctx, z, 1e-12f);
    gs_tensor *logits = gs_scale(ctx, gs_matmul(ctx, zn, zn, false, true), 1.0f / temperature);
    gs_tensor *mask = gs_tensor_zeros(ctx, &ctx->activations, GS_DIMS(n2, n2));
    int32_t *labels = malloc((size_t)n2 * sizeof *labels);
    if (!mask || !labels) {
        free(labels);
        return NULL;
    }
    for (int64_t i = 0; i < n2; i++) {
        mask->data[i * n2 + i] = -1e9f; /* an embedding is not its own positive or negative */
        labels[i] = (int32_t)(i < n ? i + n : i - n);
    }
    gs_tensor *loss = gs_cross_entropy(ctx, gs_add(ctx, logits, mask), labels, GS_NO_IGNORE_INDEX);
    free(labels);
    return loss;
}

static gs_tensor *simclr_loss(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step) {
    (void)step;
    (void)n_views;
    simclr *s = m->impl;
    /* Both views in one batch: batchnorm sees all 2N images, as in the paper. */
    gs_tensor *x = gs_concat(ctx, views, 2, 0);
    gs_tensor *z = gs_mlp_head_forward(ctx, &s->projector, gs_backbone_forward(ctx, &m->encoder, x, true), true);
    if (z) m->embedding_std = gs_embedding_std(z);
    /* Across ranks the loss contrasts the whole global batch, as the
     * paper's multi-device training does: every rank's embeddings, view 1's
     * rows then view 2's, so each row's positive is still n rows away. */
    return gs_nt_xent(ctx, gs_gather_rows(ctx, z, 2), m->config.temperature);
}

static void simclr_free(gs_method *m) {
    free(m->impl);
    m->impl = NULL;
}

const gs_method_ops gs_method_simclr = {
    .name = "simclr",
    .settings = GS_METHOD_USES_TEMPERATURE | GS_METHOD_USES_HEAD,
    .data_parallel = true,
    .summary = "SimCLR: two views, projection MLP, NT-Xent (Chen et al. 2020)",
    .optimizer = GS_OPTIM_LARS,
    .lr = 0.3f, /* x batch / 256 */
    .weight_decay = 1e-6f,
    .views = simclr_views,
    .init = simclr_init,
    .loss = simclr_loss,
    .after_step = NULL,
    .free = simclr_free,
};
