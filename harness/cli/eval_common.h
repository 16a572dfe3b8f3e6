/* What `geossl eval`, `geossl run` and `geossl demo` share: building an
 * encoder from a checkpoint, published weights or random init, running one
 * evaluation, and appending its metrics to the results CSV. */
#ifndef GS_CLI_EVAL_COMMON_H
#define GS_CLI_EVAL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/error.h"
#include "dataset.h"
#include "evaluate.h"
#include "nn/backbone.h"

/* checkpoint: the "model" group of a geossl checkpoint (heads, targets and
 * optimizer state in the file are left unused); weights: a safetensors
 * file; neither: random init.  Errors go to the context. */
gs_status gs_cli_load_encoder(gs_context *ctx, gs_backbone *bb, const gs_backbone_config *config,
                              const char *checkpoint, const char *weights);

/* What a geossl checkpoint says about itself: the file (a run folder's
 * checkpoint.h5 when given the folder), the method that trained it, its
 * backbone settings and bands, and the pretraining data's format. */
typedef struct gs_cli_checkpoint {
    char path[4096];
    char method[64], backbone[32], stem[16], pretrain_data[64];
    char options[1024]; /* the method's options it was trained with ("variant=group,...") */
    char band_names[GS_MAX_BANDS * 17]; /* "B04,B03,B02"; "" for checkpoints written before geossl recorded them */
    int width, patch, bands, size;
    bool has_backbone; /* false for checkpoints written before geossl recorded it */
    bool has_aspp;     /* its "heads" group holds a DeepLab ASPP ("aspp.*", e.g. GLCNet's pretraining) */
    bool deeplab_dilation; /* its encoder's architecture says dilation=deeplab (GLCNet's default) */
    int64_t step;          /* optimizer steps it was written after (0: the initial weights) */
    char batchnorm[32];    /* "per-rank:N": pretrained on N ranks, batchnorm over each one's shard; "": one process's */
} gs_cli_checkpoint;

/* Reads `path` (a checkpoint file or the run folder holding checkpoint.h5).
 * False after one line on stderr naming the file and the problem. */
bool gs_cli_checkpoint_read(const char *command, const char *path, gs_cli_checkpoint *out);

typedef struct gs_eval_identity {
    const char *method, *backbone, *pretrain_data, *eval_data;
    gs_protocol protocol;
    double label_fraction;
    uint64_t seed;
} gs_eval_identity;

/* A protocol as the results store names it ("segmentation" for segment). */
const char *gs_cli_store_protocol(gs_protocol p);

/* One row per metric, with provenance and r->settings, in the results
 * store's vocabulary.  replace: rows of the same measurement already in the
 * file are replaced (said on stderr); otherwise they are an error. */
gs_status gs_cli_append_results(const char *path, const gs_eval_identity *id, const gs_eval_result *r, int threads,
                                double wall_s, bool replace, gs_error *err);

/* Before the work: whether `path` already holds rows of this evaluation
 * (identity + settings, any metric).  Without `replace` that is one line
 * naming the cell and false; with it, a note that they will be replaced. */
bool gs_cli_check_not_done(const char *command, const char *path, const gs_eval_identity *id, const char *settings,
                           bool replace);

/* One evaluation as `geossl eval` and `geossl run` do it: a context with
 * the seed and thread count, the encoder (checkpoint, weights or random init
 * from the seed), frozen features cached in the cache folder under the
 * encoder's identity (a file's path and mtime, or the random init's seed),
 * the protocol, and the metrics appended to `results` when it is set. */
typedef struct gs_cli_eval_job {
    gs_dataset *ds;
    gs_backbone_config backbone; /* bands and img_size are taken from ds */
    const char *checkpoint, *weights; /* neither: random init */
    gs_eval_identity id;         /* protocol, label fraction and seed of the run; names for the results */
    int threads, batch, workers, finetune_epochs; /* 0: defaults */
    int iterations;              /* fine-tuning / segmentation: optimizer steps instead of epochs; 0: epochs */
    bool freeze_encoder;         /* fine-tuning / segmentation: train the head only (FALSE's protocol) */
    gs_segment_decoder decoder;  /* segmentation: fpn, or deeplabv3plus on an encoder at output stride 16 */
    const char *aspp_checkpoint; /* deeplabv3plus: the checkpoint whose heads/aspp.* start the ASPP; NULL: fresh */
    int knn_k;                   /* 0: 20 */
    float knn_temperature;       /* 0: 0.07 */
    const char *results;         /* NULL: print only */
    bool replace;                /* rows of the same measurement in results are replaced */
    FILE *progress;
    /* Set by gs_cli_eval_job_from_checkpoint; zeroed: the encoder's forward, no decay. */
    const gs_cli_checkpoint *pretrained; /* the checkpoint's own record, when checkpoint is a geossl one */
    gs_feature_extractor features;       /* name set: kNN / linear probe on the method's features */
    float layer_decay;                   /* fine-tuning a ViT: layer-wise lr decay; 0: none */
    struct gs_dist *dist;                /* fine-tuning across processes (mpirun); NULL: one process */
} gs_cli_eval_job;

/* The checkpoint's method decides how its encoder is evaluated where its
 * authors do it their own way (methods/method.h: SatMAE's mean-pooled group
 * tokens, its layer-wise lr decay 0.75): sets job->pretrained,
 * job->features.name and, when layer_decay < 0 (not given), the method's
 * decay.  Any other layer_decay is kept (0: none). */
void gs_cli_eval_job_from_checkpoint(gs_cli_eval_job *job, const gs_cli_checkpoint *ckpt, float layer_decay);

/* The evaluation config a job runs with (for gs_evaluate_settings). */
gs_eval_config gs_cli_eval_config(const gs_cli_eval_job *job);

/* r is filled whenever the evaluation itself succeeded (r->n_metrics > 0),
 * even if appending to the results then failed; *wall_s is its duration. */
gs_status gs_cli_evaluate(const gs_cli_eval_job *job, gs_eval_result *r, double *wall_s, gs_error *err);

/* Before the work starts: `results` can be appended to (its folder exists
 * and is writable, a file there is a geossl results file).  False after one
 * line naming the problem. */
bool gs_cli_check_results(const char *command, const char *results);

/* "1%", "10%", "100%" or "0.5": a fraction in (0, 1]. */
bool gs_cli_parse_fraction(const char *text, double *out);
/* A label fraction as messages print it: "10%", "1%", "0.5%". */
void gs_cli_format_fraction(double fraction, char *out, size_t size);
/* The store's name of a backbone: a width other than the standard one and
 * a small stem are part of it ("resnet18-w16", "resnet18-small"), so
 * reports never average networks of different sizes as one; ViTs carry
 * their patch size ("vit-small/16", "vit-tiny-w48/8").  width 0: standard. */
void gs_cli_backbone_label(const char *backbone, int width, bool small_stem, int patch, char *out, size_t size);

#endif
