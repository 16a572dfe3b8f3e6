/* DeepLabv3+ head for a ResNet encoder (Chen et al., ECCV 2018), laid out as
 * the GLCNet authors' code has it (../shared/specs/glcnet.md section 1):
 *
 *   ASPP on the last stage (stride 16 or 8): five branches, each conv (no
 *   bias) + batchnorm + relu to `aspp_channels`: a 1x1, three 3x3 at dilation
 *   rates[0..2], and image pooling (global mean, 1x1, bilinear back to the
 *   map's size); concatenated in that order; a 1x1 projection + batchnorm +
 *   relu; dropout in training.
 *
 *   Decoder: the stage-1 features (stride 4) projected by a 1x1 to
 *   `low_level_channels` + batchnorm + relu; the ASPP output upsampled
 *   bilinearly to their size and concatenated before them; two 3x3 conv +
 *   batchnorm + relu to `decoder_channels` (optional dropout after each, the
 *   authors' fine-tuning decoder has 0.5 and 0.1); a 1x1 classifier with bias;
 *   bilinear upsampling to the input size.
 *
 * Every bilinear resampling uses align_corners = true by default, as the
 * authors' code does.  The ASPP and the decoder are separate structs with
 * their own parameter names ("aspp.*", "decoder.*") so a method can put the
 * ASPP in its encoder's parameter list (GLCNet pretrains backbone + ASPP and
 * fine-tuning re-initialises the decoder).  Initialisation: convolutions
 * kaiming-normal (fan_out), batchnorm 1 / 0, classifier bias 0. */
#ifndef GS_NN_DEEPLAB_H
#define GS_NN_DEEPLAB_H

#include "layers.h"
#include "params.h"

typedef struct gs_deeplab_config {
    int64_t in_channels;        /* channels of the encoder's last stage (ResNet-18: 512, ResNet-50: 2048) */
    int64_t low_level_in;       /* channels of the stage-1 features (ResNet-18: 64, ResNet-50: 256) */
    int64_t aspp_channels;      /* 256 */
    int rates[3];               /* 6, 12, 18 at output stride 16; 12, 24, 36 at 8 */
    float aspp_dropout;         /* after the projection, in training only: 0.5 */
    int64_t low_level_channels; /* the stage-1 projection: 48 */
    int64_t decoder_channels;   /* the two 3x3 convolutions: 256 */
    float decoder_dropout[2];   /* after each 3x3 convolution, in training: 0 and 0 (fine-tuning: 0.5, 0.1) */
    int n_classes;              /* classifier outputs (GLCNet pretraining: 64) */
    bool align_corners;         /* bilinear resampling: true (the authors' code) */
    float bn_momentum;          /* torch's convention (new = (1 - m) old + m batch); 0 means torch's 0.1.
                                   GLCNet's code uses 0.9 (spec section 9, item 3) */
} gs_deeplab_config;

/* The standard head for an encoder with those channels at output stride 16
 * or 8 (rates 6/12/18, doubled at 8), 256 channels, n_classes outputs. */
gs_deeplab_config gs_deeplab_default_config(int64_t in_channels, int64_t low_level_in, int output_stride,
                                            int n_classes);

typedef struct gs_aspp {
    gs_conv_layer conv1x1, atrous[3], pool, project;
    gs_batchnorm_layer conv1x1_bn, atrous_bn[3], pool_bn, project_bn;
    float dropout;
    bool align_corners;
} gs_aspp;

typedef struct gs_deeplab_decoder {
    gs_conv_layer low_level, fuse[2], classifier;
    gs_batchnorm_layer low_level_bn, fuse_bn[2];
    float dropout[2];
    bool align_corners;
} gs_deeplab_decoder;

typedef struct gs_deeplab {
    gs_deeplab_config config;
    gs_aspp aspp;
    gs_deeplab_decoder decoder;
} gs_deeplab;

/* What one forward pass produced; any field the caller does not need can be
 * ignored.  GLCNet's global branch takes `aspp`, its local branch `output`
 * (with n_classes = 64, the full-resolution map). */
typedef struct gs_deeplab_outputs {
    gs_tensor *aspp;     /* (N, aspp_channels, H/os, W/os), after the dropout in training */
    gs_tensor *features; /* (N, decoder_channels, H/4, W/4): the second 3x3 conv + BN + relu (+ its dropout) */
    gs_tensor *logits;   /* (N, n_classes, H/4, W/4): the classifier before upsampling */
    gs_tensor *output;   /* (N, n_classes, out_h, out_w) */
} gs_deeplab_outputs;

/* Adds the ASPP's parameters ("aspp.*") to aspp_list and the decoder's
 * ("decoder.*") to decoder_list (the same list is fine). */
gs_status gs_deeplab_init(gs_context *ctx, gs_param_list *aspp_list, gs_param_list *decoder_list, gs_deeplab *net,
                          const gs_deeplab_config *config);
gs_status gs_aspp_init(gs_context *ctx, gs_param_list *list, gs_aspp *aspp, const gs_deeplab_config *config);
gs_status gs_deeplab_decoder_init(gs_context *ctx, gs_param_list *list, gs_deeplab_decoder *dec,
                                  const gs_deeplab_config *config);

/* high (N, in_channels, h, w) -> (N, aspp_channels, h, w).  `training`:
 * batch statistics and dropout (the mask is drawn from ctx->rng). */
gs_tensor *gs_aspp_forward(gs_context *ctx, const gs_aspp *aspp, gs_tensor *high, bool training);
/* aspp (N, aspp_channels, h, w), low (N, low_level_in, H/4, W/4) ->
 * (N, n_classes, out_h, out_w).  features / logits may be NULL. */
gs_tensor *gs_deeplab_decoder_forward(gs_context *ctx, const gs_deeplab_decoder *dec, gs_tensor *aspp,
                                      gs_tensor *low, int64_t out_h, int64_t out_w, bool training,
                                      gs_tensor **features, gs_tensor **logits);
/* Both: low = the encoder's stage 1, high = its last stage (stages[1] and
 * stages[4] of gs_resnet_forward_stages).  Returns outputs->output (out may
 * be NULL). */
gs_tensor *gs_deeplab_forward(gs_context *ctx, const gs_deeplab *net, gs_tensor *low, gs_tensor *high,
                              int64_t out_h, int64_t out_w, bool training, gs_deeplab_outputs *out);

/* Inverted dropout: in training each element is kept with probability
 * 1 - p and scaled by 1 / (1 - p), the mask drawn from ctx->rng; otherwise
 * (or p = 0) x itself.  A product with a constant mask, so its gradient
 * comes from gs_mul. */
gs_tensor *gs_dropout(gs_context *ctx, gs_tensor *x, float p, bool training);

#endif
