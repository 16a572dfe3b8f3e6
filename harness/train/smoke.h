/* The engine's own training workload: supervised classification of
 * procedurally generated multi-band images (oriented gratings whose
 * orientation, frequency and per-band amplitude depend on the class, plus
 * noise).  It exercises every training part (backbone, loss, backward,
 * optimizer, schedule, clipping, checkpoints, resume) without any dataset,
 * and is what `geossl train` runs.  Batches depend only on (seed, step), so
 * a resumed run sees the same data as an uninterrupted one. */
#ifndef GS_TRAIN_SMOKE_H
#define GS_TRAIN_SMOKE_H

#include <stdint.h>

#include "../nn/backbone.h"
#include "../optim/optimizer.h"

typedef struct gs_smoke_progress {
    int64_t step;      /* steps done */
    int64_t total;
    float loss;
    float accuracy;    /* of this batch, training mode */
    double img_per_s;  /* this step */
    double eta_s;
} gs_smoke_progress;

typedef struct gs_smoke_config {
    gs_backbone_config backbone;
    int batch;
    int64_t steps;
    int classes;
    gs_optimizer_config optimizer; /* lr is the peak of the cosine schedule */
    int64_t warmup_steps;
    float clip_norm;               /* 0: no clipping */
    unsigned long long seed;
    const char *checkpoint_path;   /* NULL: no checkpoints */
    int64_t checkpoint_every;      /* steps; the last step always writes one */
    bool resume;                   /* continue from checkpoint_path */
    void (*progress)(void *user, const gs_smoke_progress *p);
    void *progress_user;
} gs_smoke_config;

typedef struct gs_smoke_result {
    int64_t start_step;   /* > 0 when resumed */
    float first_loss, final_loss;
    double median_img_per_s;
    int64_t parameters;
    uint64_t weights_hash; /* FNV-1a over parameters, buffers and optimizer state */
} gs_smoke_result;

/* Defaults: resnet18 (64 wide, imagenet stem), 3 bands, 64 px, batch 32,
 * 10 classes, 30 steps, SGD momentum 0.9, lr 0.05, weight decay 1e-4,
 * warm-up 3 steps, seed 0. */
gs_smoke_config gs_smoke_default_config(void);
gs_status gs_smoke_train(gs_context *ctx, const gs_smoke_config *config, gs_smoke_result *result);

/* Writes one batch for (seed, step) into x (N, bands, size, size) and
 * labels (N). */
void gs_smoke_batch(unsigned long long seed, int64_t step, int classes, gs_tensor *x, int32_t *labels);

uint64_t gs_params_hash(const gs_param_list *list, uint64_t hash);

#endif
