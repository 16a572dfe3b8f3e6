/* MoCo v2 (He et al., "Momentum Contrast for Unsupervised Visual
 * Representation Learning", CVPR 2020; Chen et al., "Improved Baselines with
 * Momentum Contrastive Learning", arXiv:2003.04297): a query encoder and a
 * key encoder that is its momentum average (m = 0.999), an MLP projection
 * head without batchnorm, and InfoNCE against a queue of keys from earlier
 * batches (T = 0.2); SGD with a cosine learning-rate schedule.
 *
 * As in the paper's pseudo-code the loss is not symmetrized: view 1 makes
 * the queries, view 2 the keys, and the keys are enqueued after the step.
 * On one device there is no shuffling batchnorm: the key encoder normalizes
 * with its own batch statistics. */
#include <math.h>
#include <stdlib.h>

#include "dist/data_parallel.h"
#include "method.h"
#include "nn/mlp_head.h"
#include "ops/ops.h"

#define MOCO_PAPER_QUEUE 65536

typedef struct moco {
    gs_mlp_head projector;
    gs_mlp_head key_projector;
    gs_method_target key;     /* the key encoder and projector, following the query ones */
    gs_tensor *queue;         /* (K, D) L2-normalized keys, oldest overwritten first */
    gs_tensor *queue_ptr;     /* (1): the next row to overwrite, kept as a float (exact below 2^24) */
    const gs_tensor *keys;    /* this step's keys, enqueued by after_step within the same step */
} moco;

static gs_status moco_views(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err) {
    *n_views = 2;
    /* MoCo v2's views: SimCLR's on crops of 0.2-1 (datasets/augment.h). */
    if (gs_augment_preset("mocov2", cfg->bands, cfg->image_size, &views[0], err) != GS_OK) return err->status;
    views[1] = views[0];
    return GS_OK;
}

/* The paper's 65,536 keys are 5% of an ImageNet epoch; on a small dataset
 * the default is capped at half an epoch (gs_method_queue_default). */
static int64_t default_queue_size(const gs_method_config *c) { return gs_method_queue_default(c, MOCO_PAPER_QUEUE); }

static gs_status moco_init(gs_context *ctx, gs_method *m) {
    moco *mo = calloc(1, sizeof *mo);
    if (!mo) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for MoCo");
    m->impl = mo;
    if (m->config.momentum <= 0) m->config.momentum = 0.999f;
    if (m->config.temperature <= 0) m->config.temperature = 0.2f;
    int64_t features = m->encoder.feature_dim;
    int64_t hidden = m->config.proj_hidden > 0 ? m->config.proj_hidden : features;
    int64_t out = m->config.proj_dim > 0 ? m->config.proj_dim : 128;
    int64_t queue = m->config.queue_size > 0 ? m->config.queue_size : default_queue_size(&m->config);
    m->config.queue_size = (int)queue;
    gs_mlp_head_init(ctx, &m->heads, "projector", &mo->projector, features, hidden, out, false);

    gs_param_list key_heads = {0};
    gs_mlp_head_init(ctx, &key_heads, "projector", &mo->key_projector, features, hidden, out, false);
    gs_method_target_init(ctx, m, &key_heads, &mo->key);
    gs_param_list_free(&key_heads);
    if (gs_failed(ctx)) return ctx->status;

    /* The queue starts as random unit vectors, as in the paper's code. */
    mo->queue = gs_param_add(ctx, &m->state, "queue", GS_PARAM_BUFFER, GS_DIMS(queue, out));
    mo->queue_ptr = gs_param_add(ctx, &m->state, "queue_ptr", GS_PARAM_BUFFER, GS_DIMS(1));
    if (gs_failed(ctx)) return ctx->status;
    for (int64_t r = 0; r < queue; r++) {
        float *row = mo->queue->data + r * out;
        double norm = 0.0;
        for (int64_t j = 0; j < out; j++) {
            row[j] = gs_rng_normal(&ctx->rng);
            norm += (double)row[j] * row[j];
        }
        for (int64_t j = 0; j < out; j++) row[j] = (float)(row[j] / sqrt(norm > 1e-24 ? norm : 1e-24));
    }
    mo->queue_ptr->data[0] = 0.0f;
    return GS_OK;
}

static gs_tensor *moco_loss(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step) {
    (void)step;
    (void)n_views;
    moco *mo = m->impl;
    int64_t n = views[0]->shape[0];
    gs_tensor *z = gs_mlp_head_forward(ctx, &mo->projector, gs_backbone_forward(ctx, &m->encoder, views[0], true), true);
    gs_tensor *q = gs_l2_normalize(ctx, z, 1e-12f);
    bool previous = gs_set_grad_enabled(ctx, false);
    /* Across ranks without --sync-bn, the key encoder sees a shuffle of the
     * global batch (the paper's shuffling BN), so a query and its key are
     * not normalized with the same shard's statistics. */
    bool shuffle = gs_data_parallel_shuffles_bn(ctx);
    int64_t *order = NULL;
    gs_tensor *key_input = shuffle ? gs_shuffle_rows(ctx, views[1], 0x5A0C0ULL ^ (uint64_t)step, &order) : views[1];
    gs_tensor *k = gs_l2_normalize(
        ctx,
        gs_mlp_head_forward(ctx, &mo->key_projector, gs_backbone_forward(ctx, &mo->key.encoder, key_input, true), true),
        1e-12f);
    /* Every rank enqueues every rank's keys in the global batch's order, so
     * the ranks' queues stay one queue (the paper's concat_all_gather). */
    gs_tensor *all_keys = NULL;
    if (shuffle) k = gs_unshuffle_rows(ctx, k, order, &all_keys);
    else all_keys = gs_gather_rows(ctx, k, 1);
    gs_set_grad_enabled(ctx, previous);
    if (!q || !k || !all_keys) return NULL;
    m->embedding_std = gs_embedding_std(z);
    mo->keys = all_keys;
    /* Logit 0 of each row is its positive key, the rest the queue's negatives. */
    gs_tensor *positive = gs_reshape(ctx, gs_sum_last(ctx, gs_mul(ctx, q, k)), GS_DIMS(n, 1));
    gs_tensor *negatives = gs_matmul(ctx, q, mo->queue, false, true);
    gs_tensor *logits = gs_scale(ctx, gs_concat(ctx, (gs_tensor *[]){positive, negatives}, 2, 1),
                                 1.0f / m->config.temperature);
    int32_t *labels = calloc((size_t)n, sizeof *labels);
    if (!labels) {
        gs_fail(ctx, GS_ERR_MEMORY, "out of memory for MoCo labels");
        return NULL;
    }
    gs_tensor *loss = gs_cross_entropy(ctx, logits, labels, GS_NO_IGNORE_INDEX);
    free(labels);
    return loss;
}

static gs_status moco_after_step(gs_context *ctx, gs_method *m, int64_t step) {
    (void)step;
    moco *mo = m->impl;
    /* The key network follows the query network (its own update comes
     * before this step's keys join the queue, as in the paper). */
    if (gs_method_target_update(ctx, &mo->key, m->config.momentum) != GS_OK) return ctx->status;
    const gs_tensor *k = mo->keys;
    if (!k) return gs_fail(ctx, GS_ERR_INTERNAL, "MoCo: after_step without this step's keys");
    int64_t rows = mo->queue->shape[0], d = mo->queue->shape[1];
    int64_t ptr = (int64_t)mo->queue_ptr->data[0];
    for (int64_t i = 0; i < k->shape[0]; i++) {
        float *dst = mo->queue->data + ((ptr + i) % rows) * d;
        for (int64_t j = 0; j < d; j++) dst[j] = k->data[i * d + j];
    }
    mo->queue_ptr->data[0] = (float)((ptr + k->shape[0]) % rows);
    mo->keys = NULL;
    return GS_OK;
}

static void moco_free(gs_method *m) {
    moco *mo = m->impl;
    if (!mo) return;
    gs_method_target_free(&mo->key);
    free(mo);
    m->impl = NULL;
}

const gs_method_ops gs_method_moco = {
    .name = "mocov2", /* "moco" is accepted as an alias (registry.c) */
    .settings = GS_METHOD_USES_TEMPERATURE | GS_METHOD_USES_QUEUE | GS_METHOD_USES_EMA | GS_METHOD_USES_HEAD,
    .data_parallel = true,
    .summary = "MoCo v2: momentum key encoder, queue of negatives, InfoNCE (He et al. 2020, Chen et al. 2020)",
    .optimizer = GS_OPTIM_SGD,
    .lr = 0.03f, /* x batch / 256 */
    .weight_decay = 1e-4f,
    .views = moco_views,
    .init = moco_init,
    .loss = moco_loss,
    .after_step = moco_after_step,
    .free = moco_free,
};
