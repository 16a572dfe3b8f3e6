/* ResNet-18 and ResNet-50 with torchvision's architecture (v1.5: the stride
 * of a bottleneck sits on its 3x3 convolution) for any number of input bands
 * and any input size.  The default stem is torchvision's (7x7 stride-2
 * convolution, batchnorm, relu, 3x3 stride-2 max-pool); the opt-in small
 * stem (a 3x3 stride-1 convolution, no max-pool) suits 32-64 px inputs but no
 * benchmark uses it by default.  Parameter names are torchvision's.
 *
 * Dense prediction (DeepLab) wants finer features: output_stride 16 or 8
 * replaces the stride 2 of layer4 (and of layer3 for 8) by dilation, as
 * torchvision's replace_stride_with_dilation does: in a dilated stage the
 * first block keeps the previous dilation and the others double it; the
 * 1x1 downsample loses its stride; the parameters do not change.  torchvision
 * refuses dilation in BasicBlock; ResNet-18 here dilates both 3x3
 * convolutions of a block by the block's dilation (padding = dilation), the
 * place where torchvision's Bottleneck puts it on its one 3x3.
 * deeplab_dilation instead runs the first block of a dilated stage at the
 * stage's own rate too, as the DeepLab ResNet of GLCNet's authors does
 * (../shared/specs/glcnet.md section 1: "the first block of layer4 also
 * dilated 2"); the architecture string then ends in "dilation=deeplab". */
#ifndef GS_NN_RESNET_H
#define GS_NN_RESNET_H

#include "layers.h"
#include "params.h"

typedef enum gs_stem { GS_STEM_IMAGENET, GS_STEM_SMALL } gs_stem;
/* "imagenet", "small", indexed by gs_stem, NULL-terminated. */
extern const char *const GS_STEM_NAMES[];

typedef struct gs_resnet_config {
    int depth;       /* 18 or 50 */
    int in_bands;    /* input channels, any number >= 1 */
    int width;       /* channels of the first stage; torchvision: 64 */
    gs_stem stem;
    int num_classes; /* > 0 adds the "fc" layer; 0: the pooled features are the output */
    int output_stride; /* 0 or 32: torchvision's network; 16: layer4 dilated; 8: layer3 and layer4 dilated.
                          (The figures of the imagenet stem; the small stem does not downsample, so its
                          strides are 4 times smaller.) */
    bool deeplab_dilation; /* a dilated stage's first block at the stage's rate (DeepLab's ResNet), not at the
                              previous one (torchvision's) */
} gs_resnet_config;

/* True for the output strides gs_resnet_config accepts: 0 (meaning 32), 32, 16, 8. */
bool gs_resnet_output_stride_valid(int output_stride);

typedef struct gs_resnet_block {
    gs_conv_layer conv1, conv2, conv3; /* conv3 only in bottlenecks */
    gs_batchnorm_layer bn1, bn2, bn3;
    bool has_downsample;
    gs_conv_layer downsample_conv;     /* "downsample.0" */
    gs_batchnorm_layer downsample_bn;  /* "downsample.1" */
} gs_resnet_block;

typedef struct gs_resnet {
    gs_resnet_config config;
    gs_param_list params;
    gs_conv_layer conv1;
    gs_batchnorm_layer bn1;
    gs_resnet_block blocks[16];
    int n_blocks;
    int stage_end[4];          /* blocks [stage_end[s-1], stage_end[s]) form stage s */
    int64_t stage_channels[4]; /* output channels of each stage */
    int stage_stride[5];       /* input pixels per feature pixel after the stem [0] and each stage [1..4] */
    bool has_fc;
    gs_linear_layer fc;
    int64_t feature_dim;       /* channels of the pooled features */
    char arch[128];            /* e.g. "resnet18 bands=3 width=64 stem=imagenet classes=0" */
} gs_resnet;

/* The configuration of torchvision's resnet<depth> for `bands` inputs. */
gs_resnet_config gs_resnet_default_config(int depth, int bands);
gs_status gs_resnet_init(gs_context *ctx, gs_resnet *net, const gs_resnet_config *config);
void gs_resnet_free(gs_resnet *net);

/* x (N, in_bands, H, W) -> logits (N, num_classes), or the pooled features
 * (N, feature_dim) when there is no fc layer.  `training` selects batchnorm
 * batch statistics (and updates the running ones). */
gs_tensor *gs_resnet_forward(gs_context *ctx, gs_resnet *net, gs_tensor *x, bool training);
/* The same, also returning the feature map after the stem (stages[0], before
 * the max-pool) and after each of the 4 stages (stages[1..4]), for dense
 * decoders.  stages may be NULL. */
gs_tensor *gs_resnet_forward_stages(gs_context *ctx, gs_resnet *net, gs_tensor *x, bool training,
                                    gs_tensor *stages[5]);

#endif
