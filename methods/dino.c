/* DINO (Caron et al., "Emerging Properties in Self-Supervised Vision
 * Transformers", ICCV 2021): self-distillation without labels.  A student
 * (encoder + DINO head) matches, on every crop, the sharpened and centered
 * output of a teacher that is its momentum average, seen only on the 2
 * global crops.  Multi-crop: 2 global crops and N small local ones.
 *
 * Recipe (the paper's and its official code's defaults):
 *   student temperature 0.1; teacher temperature warmed up linearly from 0.04
 *   to 0.07 (over the paper's 30 epochs, or 30% of a shorter run);
 *   center: EMA (0.9) of the teacher's batch-mean output, subtracted before
 *   the teacher softmax; teacher momentum cosine from 0.996 to 1;
 *   AdamW, lr 0.0005 x batch / 256, weight decay cosine from 0.04 to 0.4;
 *   each parameter's gradient clipped to norm 3; the head's last layer
 *   frozen during the first epoch;
 *   head: 2048 hidden, 256 bottleneck, 65,536 outputs.
 * The loss is the cross-entropy of each student crop against each teacher
 * global crop of another view, averaged over those pairs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "method.h"
#include "nn/dino_head.h"
#include "ops/ops.h"
#include "optim/clip.h"
#include "optim/schedule.h"

#define DINO_STUDENT_TEMPERATURE 0.1f
#define DINO_TEACHER_TEMPERATURE_START 0.04
#define DINO_TEACHER_TEMPERATURE_END 0.07
#define DINO_TEACHER_WARMUP_EPOCHS 30
#define DINO_CENTER_MOMENTUM 0.9f
#define DINO_CLIP 3.0f
#define DINO_FINAL_WEIGHT_DECAY_FACTOR 10.0 /* 0.04 -> 0.4 */
#define DINO_BOTTLENECK 256

typedef struct dino {
    gs_dino_head head, teacher_head;
    gs_method_target teacher;      /* teacher encoder + head, following the student's */
    gs_tensor *center;             /* (1, out) */
    float *teacher_mean;           /* this step's batch mean of the teacher output, for after_step */
    double base_weight_decay;      /* < 0 until the first step reads the optimizer's */
} dino;

static bool is_vit(const gs_method_config *c) { return c->backbone.name && !strncmp(c->backbone.name, "vit", 3); }

/* Local crops are 96/224 of the global size, as in the paper; a ViT needs a
 * whole number of patches. */
static int local_size(const gs_method_config *c) {
    double s = c->image_size * 96.0 / 224.0;
    if (!is_vit(c)) return (int)lround(s) > 8 ? (int)lround(s) : 8;
    int patch = c->backbone.patch > 0 ? c->backbone.patch : 16;
    long patches = lround(s / patch);
    return (int)(patches > 1 ? patches : 1) * patch;
}

static int local_crops(const gs_method_config *c) { return c->local_crops > 0 ? c->local_crops : 6; }

static gs_status dino_views(const gs_method_config *cfg, gs_augment_config *views, int *n_views, gs_error *err) {
    int locals = local_crops(cfg);
    if (2 + locals > GS_METHOD_MAX_VIEWS)
        return gs_error_set(err, GS_ERR_ARGUMENT, "DINO: %d local crops exceed the %d views a step can take", locals,
                            GS_METHOD_MAX_VIEWS - 2);
    *n_views = 2 + locals;
    /* BYOL's asymmetric photometric pair on the global crops (datasets/augment.h). */
    if (gs_augment_preset("dino-global-1", cfg->bands, cfg->image_size, &views[0], err) != GS_OK) return err->status;
    if (gs_augment_preset("dino-global-2", cfg->bands, cfg->image_size, &views[1], err) != GS_OK) return err->status;
    if (gs_augment_preset("dino-local", cfg->bands, local_size(cfg), &views[2], err) != GS_OK) return err->status;
    for (int v = 3; v < *n_views; v++) views[v] = views[2];
    return GS_OK;
}

static gs_status dino_init(gs_context *ctx, gs_method *m) {
    dino *d = calloc(1, sizeof *d);
    if (!d) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for DINO");
    m->impl = d;
    d->base_weight_decay = -1.0;
    if (m->config.momentum <= 0) m->config.momentum = 0.996f;
    if (m->config.temperature <= 0) m->config.temperature = DINO_STUDENT_TEMPERATURE;
    m->config.local_crops = local_crops(&m->config);
    int64_t features = m->encoder.feature_dim;
    int64_t hidden = m->config.proj_hidden > 0 ? m->config.proj_hidden : 2048;
    int64_t out = m->config.proj_dim > 0 ? m->config.proj_dim : 65536;
    int64_t bottleneck = hidden < DINO_BOTTLENECK ? hidden : DINO_BOTTLENECK;
    gs_dino_head_init(ctx, &m->heads, "head", &d->head, features, hidden, bottleneck, out);

    gs_param_list teacher_heads = {0};
    gs_dino_head_init(ctx, &teacher_heads, "head", &d->teacher_head, features, hidden, bottleneck, out);
    gs_method_target_init(ctx, m, &teacher_heads, &d->teacher);
    gs_param_list_free(&teacher_heads);
    d->teacher_mean = calloc((size_t)out, sizeof *d->teacher_mean);
    if (gs_failed(ctx)) return ctx->status;
    if (!d->teacher_mean) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for DINO");
    d->center = gs_param_add(ctx, &m->state, "center", GS_PARAM_BUFFER, GS_DIMS(1, out));
    if (d->center) gs_tensor_fill(d->center, 0.0f);
    return ctx->status;
}

static double teacher_temperature(const gs_method_config *c, int64_t step) {
    int64_t warmup = DINO_TEACHER_WARMUP_EPOCHS * c->steps_per_epoch;
    if (warmup <= 0 || warmup > c->total_steps * 3 / 10) warmup = c->total_steps * 3 / 10;
    if (warmup <= 0 || step >= warmup) return DINO_TEACHER_TEMPERATURE_END;
    return DINO_TEACHER_TEMPERATURE_START +
           (DINO_TEACHER_TEMPERATURE_END - DINO_TEACHER_TEMPERATURE_START) * (double)step / (double)warmup;
}

static gs_tensor *concat_views(gs_context *ctx, gs_tensor *const *views, int from, int to) {
    return to - from == 1 ? views[from] : gs_concat(ctx, views + from, to - from, 0);
}

static gs_tensor *dino_loss(gs_context *ctx, gs_method *m, gs_tensor *const *views, int n_views, int64_t step) {
    dino *d = m->impl;
    int64_t n = views[0]->shape[0], locals = n_views - 2;
    /* The last layer is frozen (no gradient, no update) during the first epoch. */
    d->head.last_layer->requires_grad = m->config.steps_per_epoch <= 0 || step >= m->config.steps_per_epoch;

    /* The student sees every crop, one forward per resolution. */
    gs_tensor *global_features = gs_backbone_forward(ctx, &m->encoder, concat_views(ctx, views, 0, 2), true);
    gs_tensor *student_global = gs_dino_head_forward(ctx, &d->head, global_features);
    gs_tensor *student_local = NULL;
    if (locals > 0)
        student_local = gs_dino_head_forward(
            ctx, &d->head, gs_backbone_forward(ctx, &m->encoder, concat_views(ctx, views, 2, n_views), true));
    /* The teacher sees the global crops only, centered and sharpened. */
    bool previous = gs_set_grad_enabled(ctx, false);
    gs_tensor *teacher =
        gs_dino_head_forward(ctx, &d->teacher_head, gs_backbone_forward(ctx, &d->teacher.encoder, concat_views(ctx, views, 0, 2), true));
    gs_tensor *targets = gs_softmax(ctx, gs_scale(ctx, gs_sub(ctx, teacher, d->center),
                                                  (float)(1.0 / teacher_temperature(&m->config, step))));
    gs_set_grad_enabled(ctx, previous);
    if (!student_global || (locals > 0 && !student_local) || !targets) return NULL;
    m->embedding_std = gs_embedding_std(global_features);

    /* Batch mean of the raw teacher output, for the center update. */
    int64_t out = teacher->shape[1];
    memset(d->teacher_mean, 0, (size_t)out * sizeof *d->teacher_mean);
    for (int64_t i = 0; i < teacher->shape[0]; i++)
        for (int64_t j = 0; j < out; j++) d->teacher_mean[j] += teacher->data[i * out + j];
    for (int64_t j = 0; j < out; j++) d->teacher_mean[j] /= (float)teacher->shape[0];
    /* Across ranks the center follows the global batch's mean, as in the paper's all-reduce. */
    if (gs_data_parallel_mean_values(ctx, d->teacher_mean, out) != GS_OK) return NULL;

    /* The cross-entropy is linear in its target, so each student crop is
     * scored once against the sum of the teacher crops it is paired with:
     * the other global crop for a global crop, both for a local one. */
    float inv_student = 1.0f / m->config.temperature;
    gs_tensor *t1 = gs_slice(ctx, targets, 0, 0, n), *t2 = gs_slice(ctx, targets, 0, n, 2 * n);
    gs_tensor *loss = gs_add(ctx, gs_cross_entropy_soft(ctx, gs_scale(ctx, gs_slice(ctx, student_global, 0, 0, n), inv_student), t2),
                             gs_cross_entropy_soft(ctx, gs_scale(ctx, gs_slice(ctx, student_global, 0, n, 2 * n), inv_student), t1));
    if (locals > 0) {
        gs_tensor *both = gs_add(ctx, t1, t2);
        for (int64_t v = 0; v < locals; v++) {
            gs_tensor *s = gs_scale(ctx, gs_slice(ctx, student_local, 0, v * n, (v + 1) * n), inv_student);
            loss = gs_add(ctx, loss, gs_cross_entropy_soft(ctx, s, both));
        }
    }
    return gs_scale(ctx, loss, 1.0f / (float)(2 * (1 + locals)));
}

static gs_status dino_before_update(gs_context *ctx, gs_method *m, gs_optimizer *opt, int64_t step) {
    dino *d = m->impl;
    if (d->base_weight_decay < 0) d->base_weight_decay = opt->config.weight_decay;
    gs_cosine_schedule decay = {.base = d->base_weight_decay,
                                .final = d->base_weight_decay * DINO_FINAL_WEIGHT_DECAY_FACTOR,
                                .total_steps = m->config.total_steps > 0 ? m->config.total_steps : 1};
    opt->config.weight_decay = (float)gs_cosine_lr(&decay, step);
    gs_clip_grad_norm_per_param(ctx, &m->trainable, DINO_CLIP);
    return ctx->status;
}

static gs_status dino_after_step(gs_context *ctx, gs_method *m, int64_t step) {
    dino *d = m->impl;
    double tau = gs_cosine_momentum(m->config.momentum, step, m->config.total_steps > 0 ? m->config.total_steps : 1);
    if (gs_method_target_update(ctx, &d->teacher, tau) != GS_OK) return ctx->status;
    float *c = d->center->data;
    for (int64_t j = 0; j < d->center->numel; j++)
        c[j] = c[j] * DINO_CENTER_MOMENTUM + d->teacher_mean[j] * (1.0f - DINO_CENTER_MOMENTUM);
    return GS_OK;
}

static void dino_free(gs_method *m) {
    dino *d = m->impl;
    if (!d) return;
    gs_method_target_free(&d->teacher);
    free(d->teacher_mean);
    free(d);
    m->impl = NULL;
}

const gs_method_ops gs_method_dino = {
    .name = "dino",
    .settings = GS_METHOD_USES_TEMPERATURE | GS_METHOD_USES_EMA | GS_METHOD_USES_HEAD | GS_METHOD_USES_LOCAL_CROPS,
    .data_parallel = true,
    .summary = "DINO: self-distillation with multi-crop, centering and sharpening (Caron et al. 2021)",
    .optimizer = GS_OPTIM_ADAMW,
    .lr = 0.0005f, /* x batch / 256 */
    .weight_decay = 0.04f,
    .views = dino_views,
    .init = dino_init,
    .loss = dino_loss,
    .before_update = dino_before_update,
    .after_step = dino_after_step,
    .free = dino_free,
};
