/* Layers with parameters: a parameter list entry plus a forward call.  The
 * backbones (resnet.c, vit.c) and heads (mlp_head.c) are built from these. */
#ifndef GS_NN_LAYERS_H
#define GS_NN_LAYERS_H

#include "../core/context.h"
#include "../core/tensor.h"
#include "params.h"

typedef struct gs_conv_layer {
    gs_tensor *weight; /* (c_out, c_in, k, k) */
    gs_tensor *bias;   /* (c_out) or NULL */
    int stride, padding;
    int dilation;      /* 1 from gs_conv_layer_init; set it (and padding) after init for atrous layers */
} gs_conv_layer;

typedef struct gs_batchnorm_layer {
    gs_tensor *weight, *bias, *running_mean, *running_var;
    float momentum, eps;
} gs_batchnorm_layer;

typedef struct gs_linear_layer {
    gs_tensor *weight; /* (out, in) */
    gs_tensor *bias;   /* (out) or NULL */
} gs_linear_layer;

typedef struct gs_layernorm_layer {
    gs_tensor *weight, *bias;
    float eps;
} gs_layernorm_layer;

/* Parameters are named "<prefix>.weight", "<prefix>.bias", ...  Initial
 * values follow torchvision / torch defaults: convolutions kaiming-normal
 * (fan_out, relu gain), batchnorm weight 1 and bias 0, linear layers
 * uniform(+-1/sqrt(fan_in)), layernorm weight 1 and bias 0. */
gs_status gs_conv_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_conv_layer *layer,
                             int64_t c_in, int64_t c_out, int kernel, int stride, int padding, bool bias);
gs_status gs_batchnorm_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix,
                                  gs_batchnorm_layer *layer, int64_t channels);
gs_status gs_linear_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_linear_layer *layer,
                               int64_t in, int64_t out, bool bias);
gs_status gs_layernorm_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix,
                                  gs_layernorm_layer *layer, int64_t dim, float eps);

gs_tensor *gs_conv_layer_forward(gs_context *ctx, const gs_conv_layer *layer, gs_tensor *x);
gs_tensor *gs_batchnorm_layer_forward(gs_context *ctx, const gs_batchnorm_layer *layer, gs_tensor *x,
                                      bool training);
/* relu(batchnorm(x)) in one op (gs_batchnorm_relu). */
gs_tensor *gs_batchnorm_relu_layer_forward(gs_context *ctx, const gs_batchnorm_layer *layer, gs_tensor *x,
                                           bool training);
gs_tensor *gs_linear_layer_forward(gs_context *ctx, const gs_linear_layer *layer, gs_tensor *x);
gs_tensor *gs_layernorm_layer_forward(gs_context *ctx, const gs_layernorm_layer *layer, gs_tensor *x);

/* Fills with normal(0, std) truncated at +-2 std (timm's trunc_normal_). */
void gs_fill_trunc_normal(gs_context *ctx, gs_tensor *t, float std);

#endif
