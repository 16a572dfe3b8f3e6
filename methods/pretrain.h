/* Pretraining a method on a dataset: the loader's views, the method's loss,
 * the optimizer with a cosine schedule, progress, a checkpoint every epoch
 * (encoder, heads, method state, optimizer state, step and RNG), and resume
 * from it onto the same batches. */
#ifndef GS_METHODS_PRETRAIN_H
#define GS_METHODS_PRETRAIN_H

#include <stdio.h>

#include "dataset.h"
#include "method.h"

typedef struct gs_pretrain_config {
    const char *method;
    gs_backbone_config backbone;
    int epochs, batch, size; /* size 0: the dataset's */
    float lr;                /* 0: the method's paper value x batch / 256 */
    float weight_decay;      /* < 0: the method's */
    int optimizer;           /* -1: the method's; else a gs_optimizer_kind */
    float temperature;       /* 0: the method's */
    float ema_momentum;      /* target network's EMA base (BYOL, MoCo v2, DINO, SeCo); 0: the method's */
    int head_hidden, head_dim; /* projection / DINO head widths; 0: the method's */
    int queue_size;          /* MoCo; 0: the method's */
    int local_crops;         /* DINO; 0: the method's */
    const char *method_options; /* the method's own "KEY=VALUE,..." (gs_method_config.options); NULL: none */
    uint64_t seed;
    int workers;
    const char *checkpoint;  /* written every epoch and at the end; NULL: none */
    bool resume;
    int64_t stop_after;      /* > 0: stop (as if killed) after this many steps in total */
    const char *stats_dir;   /* band statistics; NULL: the cache directory */
    const char *augment;     /* "KEY=VALUE,..." overrides of every view's recipe (gs_augment_set); NULL: none */
    const char *log_csv;     /* step,epoch,loss,lr,embedding_std,img_per_s per step; NULL: none.
                              * Truncated on a fresh start; on resume, rows past the checkpoint's
                              * step are dropped and new ones appended. */
    const char *config_json; /* the resolved configuration (run_record.h), written at start and resume; NULL: none */
    int keep_every;          /* > 0: also keep the checkpoint of every N-th epoch as checkpoint-epochNNN.h5,
                              * and the initial weights as checkpoint-epoch000.h5 */
    bool has_warmup;         /* warmup_epochs was given; false (as zero-initialized): 10% of all steps */
    double warmup_epochs;    /* linear warm-up length in epochs (fractions allowed, 0 none), then cosine.
                                Methods with their own schedule (ops->lr_at) refuse it. */
    const char *band_selection; /* for the record: the --bands the dataset was opened with; NULL: all */
    int tile;                /* for the record: the tile side the dataset was cut into; 0: the format's */
    const char *git_commit, *version; /* recorded in config_json */
    FILE *progress;          /* progress lines; NULL: quiet */
    const char *dump_views;  /* a folder: each step's views as step-NNNNNN-view-V.npy, (n, channels, h, w)
                              * float32 as normalized and augmented, for training another implementation
                              * on the same pixels; NULL: none */
    /* Set by gs_pretrain from the context's job (callers leave them 0):
     * the ranks it trains on and whether batchnorm spans them. */
    int ranks;
    bool sync_bn;
} gs_pretrain_config;

typedef struct gs_pretrain_result {
    int64_t steps, start_step;
    float first_loss, final_loss, embedding_std;
    double img_per_s, seconds;
} gs_pretrain_result;

/* The views the method trains on, with cfg->augment applied, for a dataset
 * of `bands` bands and `size` px views: what gs_pretrain uses, for printing. */
gs_status gs_pretrain_views(const gs_pretrain_config *cfg, int bands, int size, gs_augment_config *views,
                            int *n_views, gs_error *err);

gs_status gs_pretrain(gs_context *ctx, gs_dataset *ds, const gs_pretrain_config *cfg, gs_pretrain_result *out,
                      gs_error *err);

/* What a run would train with, resolved as gs_pretrain resolves it (the
 * method built and freed in a scratch context): --print-config's figures. */
typedef struct gs_pretrain_resolved {
    gs_method_config method;        /* temperature, head widths, EMA momentum, queue, ... as the method set them */
    gs_optimizer_config optimizer;  /* kind, peak lr, weight decay, momentum */
    int64_t steps_per_epoch, warmup_steps; /* 0 when train_samples was not given */
    bool own_schedule;              /* ops->lr_at: the method's schedule, not warm-up + cosine */
    char architecture[160];
} gs_pretrain_resolved;

/* train_samples 0: unknown (no data given), the step counts stay 0. */
gs_status gs_pretrain_resolve(const gs_pretrain_config *cfg, int bands, int size, int64_t train_samples,
                              gs_pretrain_resolved *out, gs_error *err);

/* The warm-up in steps for a run of total_steps at steps_per_epoch (cfg's
 * warmup_epochs, or 10% of the steps); GS_ERR_ARGUMENT when the method has
 * its own schedule and warmup_epochs is set, or the warm-up is longer than
 * the run. */
gs_status gs_pretrain_warmup_steps(const gs_pretrain_config *cfg, int64_t steps_per_epoch, int64_t total_steps,
                                   int64_t *warmup_steps, gs_error *err);

#endif
