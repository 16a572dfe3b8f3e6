/* One evaluation run: a protocol (kNN, linear probe, fine-tune,
 * segmentation) on a dataset with an encoder, at a label fraction and seed,
 * producing named metrics and a headline.  What `geossl eval` calls. */
#ifndef GS_PROTOCOLS_EVALUATE_H
#define GS_PROTOCOLS_EVALUATE_H

#include "dataset.h"
#include "feature_set.h"
#include "finetune.h"
#include "nn/backbone.h"

typedef enum gs_protocol { GS_PROTOCOL_KNN, GS_PROTOCOL_LINEAR, GS_PROTOCOL_FINETUNE, GS_PROTOCOL_SEGMENT } gs_protocol;

/* "knn", "linear", "finetune", "segment", indexed by gs_protocol, NULL-terminated. */
extern const char *const GS_PROTOCOL_NAMES[];
const char *gs_protocol_name(gs_protocol p);
/* "knn", "linear", "finetune", "segment"; false for anything else. */
bool gs_protocol_parse(const char *name, gs_protocol *out);

#define GS_EVAL_MAX_METRICS 160

typedef struct gs_metric {
    char name[64];   /* "top1", "f1_macro", "iou/building", ... (results/README.md) */
    double value;    /* accuracy-like metrics in percent, kappa as a fraction */
} gs_metric;

typedef struct gs_eval_result {
    gs_metric metrics[GS_EVAL_MAX_METRICS];
    int n_metrics;
    int headline;           /* index of the headline metric */
    const char *headline_label; /* "top-1", "mAP", "mIoU" */
    int64_t n_train, n_test;
    /* Every setting that changes the numbers, defaults resolved, as the
     * results' settings column holds it: "k=20;knn_temperature=0.07;
     * splits=official" (KEY=VALUE joined by ';'). */
    char settings[512];
} gs_eval_result;

typedef struct gs_eval_config {
    gs_protocol protocol;
    double label_fraction; /* (0, 1]; 0: 1 */
    uint64_t seed;
    int batch, workers;    /* 0: 64, 2 */
    int knn_k;             /* 0: 20 */
    float knn_temperature; /* 0: 0.07 */
    gs_finetune_config finetune;
    const char *stats_dir; /* where band statistics are stored; NULL: the cache directory */
    /* Frozen-feature protocols: when both are set, features are stored in
     * feature_cache_dir under a key made of encoder_key (which must change
     * whenever the weights do, e.g. a checkpoint's path and mtime) and the
     * samples, and reused by later runs. */
    const char *feature_cache_dir;
    const char *encoder_key;
    /* kNN, linear probe and fine-tuning: features computed this way instead
     * of the encoder's forward (feature_set.h; fine-tuning trains through
     * them, finetune.h); NULL: the encoder's.  Not for segmentation. */
    const gs_feature_extractor *features;
    /* The encoder came from a pretraining checkpoint written after this many
     * optimizer steps: the settings say pretrain_steps=N, so a row of an
     * early or initial (0) checkpoint is never read as the trained method's. */
    bool from_checkpoint;
    int64_t pretrain_steps;
    /* "per-rank:N" when the checkpoint was pretrained on N ranks with
     * batchnorm over each rank's shard (another recipe than one process's):
     * the settings say pretrain_batchnorm=per-rank:N.  NULL: not so. */
    const char *pretrain_batchnorm;
    /* Fine-tuning across the ranks of a data-parallel job (mpirun): without
     * sync_bn batchnorm saw each rank's shard, which changes the numbers, so
     * the settings say batchnorm=per-rank;ranks=N.  0: one process. */
    int ranks;
    bool sync_bn;
    FILE *progress;
} gs_eval_config;

/* Splits: the dataset's own (the format's, e.g. BigEarthNet's CSVs and the
 * Potsdam tiles, or its published lists in the data folder, e.g.
 * eurosat-train.txt, or lists applied before from --splits DIR) when it has any; otherwise every 5th sample of each class, sorted by
 * file name, is test (gs_split_every_nth), or a stratified 80/20 for
 * multi-label and segmentation data.  The linear probe's validation set is a
 * stratified 10% of the training samples when the dataset has no val split. */
gs_status gs_evaluate(gs_context *ctx, gs_backbone *encoder, gs_dataset *ds, const gs_eval_config *cfg,
                      gs_eval_result *out, gs_error *err);

/* The settings column gs_evaluate will write for this dataset and config
 * (the default split applied first, as gs_evaluate does): known before any
 * work, so a rerun of a cell already in a results file is found up front. */
gs_status gs_evaluate_settings(gs_dataset *ds, const gs_eval_config *cfg, char *settings, size_t size, gs_error *err);

/* The training samples an evaluation at this label fraction and seed uses:
 * the whole training split at 1 (or outside (0, 1)), else the nested
 * labelled subset of splits.h (gs_split_label_subset).  For segmentation a
 * sample is one tile (a Potsdam patch, a --tile crop) and every tile is one
 * stratum, so the fraction is counted in tiles: round(fraction x tiles),
 * and at least one tile.  That is GLCNet's 1 % subset, 138 of the 13,824
 * training tiles (../shared/specs/glcnet.md section 2, trainR1).  *train is
 * malloc'd. */
gs_status gs_evaluate_training_samples(const gs_dataset *ds, double label_fraction, uint64_t seed, int64_t **train,
                                       int64_t *n_train, gs_error *err);

/* That default split on its own (nothing changes when any sample already has
 * a split): `geossl run` fixes it once with its first seed, so that every
 * seed and a resumed run score on the same test set, and so that pretraining
 * on an evaluation dataset leaves its test images out. */
gs_status gs_evaluate_default_split(gs_dataset *ds, uint64_t seed, gs_error *err);

#endif
