#include "resnet.h"

#include <stdio.h>
#include <string.h>

#include "../ops/ops.h"

const char *const GS_STEM_NAMES[] = {"imagenet", "small", NULL};

gs_resnet_config gs_resnet_default_config(int depth, int bands) {
    return (gs_resnet_config){.depth = depth, .in_bands = bands, .width = 64, .stem = GS_STEM_IMAGENET,
                              .num_classes = 0};
}

bool gs_resnet_output_stride_valid(int output_stride) {
    return output_stride == 0 || output_stride == 32 || output_stride == 16 || output_stride == 8;
}

/* Makes a 3x3 convolution atrous: padding = dilation keeps the map's size. */
static void dilate(gs_conv_layer *conv, int dilation) {
    conv->dilation = dilation;
    conv->padding = dilation;
}

static gs_status init_block(gs_context *ctx, gs_resnet *net, gs_resnet_block *b, const char *prefix,
                            int64_t in_ch, int64_t planes, int stride, int dilation, bool bottleneck) {
    char name[128];
    int64_t out_ch = bottleneck ? planes * 4 : planes;
    memset(b, 0, sizeof *b);
#define LAYER(suffix) (snprintf(name, sizeof name, "%s.%s", prefix, suffix), name)
    if (bottleneck) {
        gs_conv_layer_init(ctx, &net->params, LAYER("conv1"), &b->conv1, in_ch, planes, 1, 1, 0, false);
        gs_batchnorm_layer_init(ctx, &net->params, LAYER("bn1"), &b->bn1, planes);
        gs_conv_layer_init(ctx, &net->params, LAYER("conv2"), &b->conv2, planes, planes, 3, stride, 1, false);
        gs_batchnorm_layer_init(ctx, &net->params, LAYER("bn2"), &b->bn2, planes);
        gs_conv_layer_init(ctx, &net->params, LAYER("conv3"), &b->conv3, planes, out_ch, 1, 1, 0, false);
        gs_batchnorm_layer_init(ctx, &net->params, LAYER("bn3"), &b->bn3, out_ch);
        dilate(&b->conv2, dilation);
    } else {
        gs_conv_layer_init(ctx, &net->params, LAYER("conv1"), &b->conv1, in_ch, planes, 3, stride, 1, false);
        gs_batchnorm_layer_init(ctx, &net->params, LAYER("bn1"), &b->bn1, planes);
        gs_conv_layer_init(ctx, &net->params, LAYER("conv2"), &b->conv2, planes, planes, 3, 1, 1, false);
        gs_batchnorm_layer_init(ctx, &net->params, LAYER("bn2"), &b->bn2, planes);
        dilate(&b->conv1, dilation);
        dilate(&b->conv2, dilation);
    }
    if (stride != 1 || in_ch != out_ch) {
        b->has_downsample = true;
        gs_conv_layer_init(ctx, &net->params, LAYER("downsample.0"), &b->downsample_conv, in_ch, out_ch, 1, stride,
                           0, false);
        gs_batchnorm_layer_init(ctx, &net->params, LAYER("downsample.1"), &b->downsample_bn, out_ch);
    }
#undef LAYER
    return ctx->status;
}

gs_status gs_resnet_init(gs_context *ctx, gs_resnet *net, const gs_resnet_config *config) {
    memset(net, 0, sizeof *net);
    net->config = *config;
    if (gs_failed(ctx)) return ctx->status;
    if (config->depth != 18 && config->depth != 50)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "ResNet depth %d is not supported (use 18 or 50)", config->depth);
    if (config->in_bands < 1 || config->width < 1 || config->num_classes < 0)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "invalid ResNet configuration: bands %d, width %d, classes %d",
                       config->in_bands, config->width, config->num_classes);
    if (!gs_resnet_output_stride_valid(config->output_stride))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "ResNet output stride %d is not supported (use 32, 16 or 8)",
                       config->output_stride);
    /* Stages 3 and 4 (index 2, 3) that dilate instead of striding. */
    const int os = config->output_stride ? config->output_stride : 32;
    const bool dilated_stage[4] = {false, false, os == 8, os <= 16};
    bool bottleneck = config->depth == 50;
    static const int blocks_per_stage[2][4] = {{2, 2, 2, 2}, {3, 4, 6, 3}};
    const int *counts = blocks_per_stage[bottleneck];
    int64_t width = config->width;

    if (config->stem == GS_STEM_IMAGENET)
        gs_conv_layer_init(ctx, &net->params, "conv1", &net->conv1, config->in_bands, width, 7, 2, 3, false);
    else
        gs_conv_layer_init(ctx, &net->params, "conv1", &net->conv1, config->in_bands, width, 3, 1, 1, false);
    gs_batchnorm_layer_init(ctx, &net->params, "bn1", &net->bn1, width);

    int64_t in_ch = width;
    int dilation = 1;
    net->stage_stride[0] = config->stem == GS_STEM_IMAGENET ? 2 : 1;
    int stride_so_far = config->stem == GS_STEM_IMAGENET ? 4 : 1; /* the max-pool */
    for (int s = 0; s < 4; s++) {
        int64_t planes = width << s;
        int stage_stride = s > 0 ? 2 : 1, first_dilation = dilation;
        if (dilated_stage[s]) {
            dilation *= stage_stride;
            stage_stride = 1;
            if (config->deeplab_dilation) first_dilation = dilation;
        }
        stride_so_far *= stage_stride;
        for (int i = 0; i < counts[s]; i++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "layer%d.%d", s + 1, i);
            init_block(ctx, net, &net->blocks[net->n_blocks++], prefix, in_ch, planes, i == 0 ? stage_stride : 1,
                       i == 0 ? first_dilation : dilation, bottleneck);
            in_ch = bottleneck ? planes * 4 : planes;
        }
        net->stage_end[s] = net->n_blocks;
        net->stage_channels[s] = in_ch;
        net->stage_stride[s + 1] = stride_so_far;
    }
    net->feature_dim = in_ch;
    if (config->num_classes > 0) {
        net->has_fc = true;
        gs_linear_layer_init(ctx, &net->params, "fc", &net->fc, in_ch, config->num_classes, true);
    }
    /* The default network keeps the string checkpoints already carry. */
    char os_note[40] = "";
    if (os != 32)
        snprintf(os_note, sizeof os_note, " os=%d%s", os, config->deeplab_dilation ? " dilation=deeplab" : "");
    snprintf(net->arch, sizeof net->arch, "resnet%d bands=%d width=%d stem=%s classes=%d%s", config->depth,
             config->in_bands, config->width, config->stem == GS_STEM_IMAGENET ? "imagenet" : "small",
             config->num_classes, os_note);
    return ctx->status;
}

void gs_resnet_free(gs_resnet *net) { gs_param_list_free(&net->params); }

static gs_tensor *block_forward(gs_context *ctx, const gs_resnet_block *b, gs_tensor *x, bool training,
                                bool bottleneck) {
    gs_tensor *y = gs_batchnorm_relu_layer_forward(ctx, &b->bn1, gs_conv_layer_forward(ctx, &b->conv1, x), training);
    if (bottleneck) {
        y = gs_batchnorm_relu_layer_forward(ctx, &b->bn2, gs_conv_layer_forward(ctx, &b->conv2, y), training);
        y = gs_batchnorm_layer_forward(ctx, &b->bn3, gs_conv_layer_forward(ctx, &b->conv3, y), training);
    } else {
        y = gs_batchnorm_layer_forward(ctx, &b->bn2, gs_conv_layer_forward(ctx, &b->conv2, y), training);
    }
    gs_tensor *identity = x;
    if (b->has_downsample)
        identity = gs_batchnorm_layer_forward(ctx, &b->downsample_bn,
                                              gs_conv_layer_forward(ctx, &b->downsample_conv, x), training);
    return gs_relu(ctx, gs_add(ctx, y, identity));
}

gs_tensor *gs_resnet_forward_stages(gs_context *ctx, gs_resnet *net, gs_tensor *x, bool training,
                                    gs_tensor *stages[5]) {
    if (gs_failed(ctx) || !x) return NULL;
    if (x->ndim != 4 || x->shape[1] != net->config.in_bands) {
        char shape[96];
        gs_fail(ctx, GS_ERR_SHAPE, "%s expects input (N, %d, H, W), got %s", net->arch, net->config.in_bands,
                gs_shape_str(x, shape, sizeof shape));
        return NULL;
    }
    bool bottleneck = net->config.depth == 50;
    gs_arena_mark mark = gs_arena_get_mark(&ctx->activations);
    gs_tensor *y = gs_batchnorm_relu_layer_forward(ctx, &net->bn1, gs_conv_layer_forward(ctx, &net->conv1, x),
                                                   training);
    y = gs_tensor_keep_since(ctx, mark, y); /* inference: drop the convolution's output */
    if (stages) stages[0] = y;
    if (net->config.stem == GS_STEM_IMAGENET && !stages) {
        mark = gs_arena_get_mark(&ctx->activations);
        y = gs_tensor_keep_since(ctx, mark, gs_maxpool2d(ctx, y, 3, 2, 1));
    } else if (net->config.stem == GS_STEM_IMAGENET) {
        y = gs_maxpool2d(ctx, y, 3, 2, 1);
    }
    int block = 0;
    for (int s = 0; s < 4; s++) {
        for (; block < net->stage_end[s]; block++) {
            /* Without gradients each block's temporaries die with it. */
            gs_arena_mark mark = gs_arena_get_mark(&ctx->activations);
            y = gs_tensor_keep_since(ctx, mark, block_forward(ctx, &net->blocks[block], y, training, bottleneck));
        }
        if (stages) stages[s + 1] = y;
    }
    y = gs_global_avgpool(ctx, y);
    if (net->has_fc) y = gs_linear_layer_forward(ctx, &net->fc, y);
    return gs_failed(ctx) ? NULL : y;
}

gs_tensor *gs_resnet_forward(gs_context *ctx, gs_resnet *net, gs_tensor *x, bool training) {
    return gs_resnet_forward_stages(ctx, net, x, training, NULL);
}
