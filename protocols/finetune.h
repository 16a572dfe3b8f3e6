/* Fine-tuning: the encoder plus a linear head (classification and
 * multi-label) or a dense decoder (segmentation) trained on a labelled
 * subset with augmentations on, then evaluated on the test samples.  The
 * label fractions (1%, 10%, 100%) and seeds are chosen by the caller
 * (splits.h's nested subsets); each call trains the encoder it is given, so
 * pass a fresh copy per run.
 *
 * Segmentation heads:
 *  - fpn: the light FPN-style decoder of nn/decoder.h on the four stages of
 *    an encoder at output stride 32;
 *  - deeplabv3plus: ASPP + DeepLabv3+ decoder (nn/deeplab.h) on an encoder
 *    built at output stride 16 (or 8), as GLCNet and FALSE evaluate
 *    (../shared/specs/glcnet.md section 7, ../shared/specs/false.md section
 *    7).  256 channels, rates 6/12/18 at stride 16; the decoder has
 *    GLCNet's fine-tuning dropouts (0.5 and 0.1 after its two 3x3
 *    convolutions); batchnorm momentum torch's 0.1, as the encoder's (GLCNet's
 *    code uses 0.9).  GLCNet initializes backbone + ASPP from pretraining and
 *    re-initializes the decoder: aspp_checkpoint does that.
 *
 * freeze_encoder is FALSE's protocol (frozen_stages=4, norm_eval=True in its
 * deleted MMSegmentation config): the encoder runs in inference mode
 * (batchnorm on its running statistics, no gradient), and only the head is
 * trained; the encoder's weights and statistics come out bit-identical. */
#ifndef GS_PROTOCOLS_FINETUNE_H
#define GS_PROTOCOLS_FINETUNE_H

#include "dataset.h"
#include "feature_set.h"
#include "metrics.h"
#include "nn/backbone.h"
#include "nn/deeplab.h"
#include "nn/decoder.h"
#include "stats.h"

typedef enum gs_segment_decoder { GS_SEGMENT_DECODER_FPN, GS_SEGMENT_DECODER_DEEPLABV3PLUS } gs_segment_decoder;

/* "fpn", "deeplabv3plus", indexed by gs_segment_decoder, NULL-terminated. */
extern const char *const GS_SEGMENT_DECODER_NAMES[];

typedef struct gs_finetune_config {
    int epochs;         /* 0: 10 */
    int iterations;     /* > 0: exactly this many optimizer steps, cycling over the (reshuffled) training
                           batches, instead of epochs; the cosine schedule spans them.  0: epochs */
    int batch;          /* 0: 32 */
    float lr;           /* peak of a cosine schedule; 0: 0.01 (SGD, momentum 0.9) */
    float weight_decay; /* 0: 1e-4 */
    int workers;        /* 0: 2 */
    uint64_t seed;
    bool freeze_encoder;         /* train the head only (see above) */
    gs_segment_decoder decoder;  /* segmentation only; fpn by default */
    /* deeplabv3plus only: a geossl checkpoint whose "heads" group holds the
     * pretrained ASPP ("aspp.*", e.g. GLCNet's); they initialize the ASPP,
     * the decoder stays fresh.  NULL: both fresh. */
    const char *aspp_checkpoint;
    /* deeplabv3plus only: the encoder's dilated stages start at their own
     * rate (gs_resnet_config.deeplab_dilation, GLCNet's pretraining network);
     * must match the encoder, and the settings column says it. */
    bool deeplab_dilation;
    /* ViT encoders: layer-wise learning-rate decay in (0, 1), BEiT's rule
     * (nn/vit.h gs_vit_layer_id): block i learns at decay^(depth - i) of the
     * head's rate, the patch embedding at decay^(depth + 1).  SatMAE and MAE
     * fine-tune at 0.75.  0 (or 1): every parameter at the same rate. */
    float layer_decay;
    /* Classification: the encoder's features computed as its pretraining
     * method's authors fine-tune (SatMAE: every group token, mean-pooled;
     * feature_set.h), then their fc_norm LayerNorm, then the linear head
     * (initialized N(0, 2e-5^2) truncated, as theirs).  fx->params train
     * with the encoder (layer ids by name: patch_embed.* is layer 0).
     * NULL: the encoder's forward straight into the head. */
    const gs_feature_extractor *features;
    FILE *progress;     /* per-epoch loss lines; NULL: quiet */
} gs_finetune_config;

typedef struct gs_finetune_result {
    gs_confusion confusion; /* classification and segmentation (pixels); free with gs_confusion_free */
    gs_map map;             /* multi-label */
    /* Segmentation: GLCNet's tile-averaged mIoU and its present-classes
     * variant (metrics.h, gs_tile_miou), fractions; NaN otherwise. */
    double miou_tile_mean, miou_tile_present;
    double final_loss;      /* mean training loss of the last epoch (of the steps since it began) */
    double first_loss;      /* the loss of the first step */
    int64_t steps;          /* optimizer steps taken */
    /* The settings it ran with, defaults resolved (the batch shrinks to a
     * training split smaller than it): for the results' settings column. */
    int epochs, iterations, batch;
    float lr, weight_decay, layer_decay; /* layer_decay 0: none */
    bool freeze_encoder, aspp_from_checkpoint;
} gs_finetune_result;

/* The configuration gs_finetune runs with: defaults filled in, and the batch
 * shrunk to a training split of n_train samples smaller than it. */
gs_finetune_config gs_finetune_resolve(const gs_finetune_config *cfg, int64_t n_train);

/* The encoder with the head gs_finetune trains on it: built, trained and
 * freed in steps so a caller (or a test) can see the weights it starts from
 * and ends with. */
typedef struct gs_finetune_model {
    gs_backbone *encoder;
    bool segmentation, frozen;
    gs_segment_decoder decoder;
    gs_linear_layer head;        /* classification, multi-label */
    const gs_feature_extractor *features; /* cfg->features; NULL: the encoder's forward */
    gs_layernorm_layer fc_norm;  /* with features: before the head */
    gs_decoder fpn;
    gs_deeplab deeplab;
    gs_param_list aspp_params;   /* deeplabv3plus: the ASPP's ("aspp.*") */
    gs_param_list head_params;   /* the rest of the head: "head.*" or "decoder.*" */
    gs_param_list trained;       /* what the optimizer updates: head (+ ASPP) (+ encoder unless frozen) */
    bool aspp_from_checkpoint;
} gs_finetune_model;

/* Builds the head for ds on `encoder` as cfg says (and loads the ASPP from
 * cfg->aspp_checkpoint).  GS_ERR_ARGUMENT for a head that does not fit the
 * data or the encoder (a decoder on classification data, deeplabv3plus on an
 * encoder at output stride 32 or on a ViT); the checkpoint's errors as
 * gs_checkpoint_load gives them. */
gs_status gs_finetune_model_init(gs_context *ctx, gs_finetune_model *m, gs_backbone *encoder, const gs_dataset *ds,
                                 const gs_finetune_config *cfg, gs_error *err);
void gs_finetune_model_free(gs_finetune_model *m);
/* x (N, bands, H, W) -> logits (N, n_classes) or (N, n_classes, H, W). */
gs_tensor *gs_finetune_model_forward(gs_context *ctx, gs_finetune_model *m, gs_tensor *x, bool training);

/* Trains m (built with the same cfg) on the training samples and scores it
 * on the test samples; m keeps its trained weights. */
gs_status gs_finetune_model_train(gs_context *ctx, gs_finetune_model *m, const gs_dataset *ds, const int64_t *train,
                                  int64_t n_train, const int64_t *test, int64_t n_test, const gs_band_stats *stats,
                                  const gs_finetune_config *cfg, gs_finetune_result *out, gs_error *err);

/* gs_finetune_model_init + gs_finetune_model_train + gs_finetune_model_free. */
gs_status gs_finetune(gs_context *ctx, gs_backbone *encoder, const gs_dataset *ds, const int64_t *train,
                      int64_t n_train, const int64_t *test, int64_t n_test, const gs_band_stats *stats,
                      const gs_finetune_config *cfg, gs_finetune_result *out, gs_error *err);

#endif
