/* Feature extraction with a frozen encoder (eval mode, no gradients) and an
 * HDF5 feature cache, for the kNN and linear-probe protocols.  (Not named
 * features.h: that would shadow glibc's <features.h>.) */
#ifndef GS_PROTOCOLS_FEATURE_SET_H
#define GS_PROTOCOLS_FEATURE_SET_H

#include <stdio.h>

#include "dataset.h"
#include "nn/backbone.h"
#include "stats.h"

typedef struct gs_feature_set {
    float *features;  /* n x dim */
    int64_t n, dim;
    int32_t *labels;  /* n class indices (classification) */
    uint8_t *targets; /* multi-label: n x n_classes of 0/1; else NULL */
    int n_classes;
} gs_feature_set;

/* Features computed another way than the encoder's forward: a pretraining
 * method's own (SatMAE pools every spectral-group token, as its authors'
 * fine-tuning does).  compute maps a normalized batch (N, C, H, W) to
 * (N, dim) in the context's arena; it records on the tape when gradients are
 * on (fine-tuning), so its result is differentiable in the encoder's
 * parameters and in `params`. */
typedef struct gs_feature_extractor {
    gs_tensor *(*compute)(gs_context *ctx, void *owner, gs_tensor *x);
    void *owner;
    int64_t dim;
    const char *name; /* the results' settings column says features=<name> ("mean_tokens") */
    /* What compute reads besides the encoder's parameters (fine-tuning trains
     * them with the encoder); NULL: nothing else. */
    const gs_param_list *params;
} gs_feature_extractor;

/* Runs the encoder (or fx, when not NULL) over the given samples at their
 * source size, normalized by `stats`; rows follow `indices`.  progress:
 * a line every few seconds and a closing one (NULL: quiet). */
gs_status gs_extract_features(gs_context *ctx, gs_backbone *encoder, const gs_feature_extractor *fx,
                              const gs_dataset *ds, const int64_t *indices, int64_t n, const gs_band_stats *stats,
                              int batch, int workers, FILE *progress, gs_feature_set *out, gs_error *err);
void gs_feature_set_free(gs_feature_set *fs);

/* The cache: one HDF5 file per key (checkpoint, dataset, split).  Load
 * returns GS_ERR_MISMATCH when the file holds another key (recompute). */
gs_status gs_feature_set_save(const char *path, const char *key, const gs_feature_set *fs, gs_error *err);
gs_status gs_feature_set_load(const char *path, const char *key, gs_feature_set *out, gs_error *err);

#endif
