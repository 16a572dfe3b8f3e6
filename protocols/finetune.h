/* Fine-tuning: the whole encoder plus a linear head (classification and
 * multi-label) or the dense decoder (segmentation) trained on a labelled
 * subset with augmentations on, then evaluated on the test samples.  The
 * label fractions (1%, 10%, 100%) and seeds are chosen by the caller
 * (splits.h's nested subsets); each call trains the encoder it is given, so
 * pass a fresh copy per run. */
#ifndef GS_PROTOCOLS_FINETUNE_H
#define GS_PROTOCOLS_FINETUNE_H

#include "dataset.h"
#include "metrics.h"
#include "nn/backbone.h"
#include "stats.h"

typedef struct gs_finetune_config {
    int epochs;         /* 0: 10 */
    int batch;          /* 0: 32 */
    float lr;           /* peak of a cosine schedule; 0: 0.01 (SGD, momentum 0.9) */
    float weight_decay; /* 0: 1e-4 */
    int workers;        /* 0: 2 */
    uint64_t seed;
    FILE *progress;     /* per-epoch loss lines; NULL: quiet */
} gs_finetune_config;

typedef struct gs_finetune_result {
    gs_confusion confusion; /* classification and segmentation (pixels); free with gs_confusion_free */
    gs_map map;             /* multi-label */
    double final_loss;      /* mean training loss of the last epoch */
    /* The settings it ran with, defaults resolved (the batch shrinks to a
     * training split smaller than it): for the results' settings column. */
    int epochs, batch;
    float lr, weight_decay;
} gs_finetune_result;

/* The configuration gs_finetune runs with: defaults filled in, and the batch
 * shrunk to a training split of n_train samples smaller than it. */
gs_finetune_config gs_finetune_resolve(const gs_finetune_config *cfg, int64_t n_train);

gs_status gs_finetune(gs_context *ctx, gs_backbone *encoder, const gs_dataset *ds, const int64_t *train,
                      int64_t n_train, const int64_t *test, int64_t n_test, const gs_band_stats *stats,
                      const gs_finetune_config *cfg, gs_finetune_result *out, gs_error *err);

#endif
