#include "layers.h"

#include <math.h>
#include <stdio.h>

#include "../ops/ops.h"

static gs_tensor *add_named(gs_context *ctx, gs_param_list *list, const char *prefix, const char *suffix,
                            gs_param_kind kind, int ndim, const int64_t *shape) {
    char name[256];
    snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", suffix);
    return gs_param_add(ctx, list, name, kind, ndim, shape);
}

gs_status gs_conv_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_conv_layer *layer,
                             int64_t c_in, int64_t c_out, int kernel, int stride, int padding, bool bias) {
    layer->weight = add_named(ctx, list, prefix, "weight", GS_PARAM_WEIGHT, GS_DIMS(c_out, c_in, kernel, kernel));
    layer->bias = bias ? add_named(ctx, list, prefix, "bias", GS_PARAM_NO_DECAY, GS_DIMS(c_out)) : NULL;
    layer->stride = stride;
    layer->padding = padding;
    layer->dilation = 1;
    if (gs_failed(ctx)) return ctx->status;
    /* torchvision ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu") */
    gs_tensor_fill_normal(ctx, layer->weight, sqrtf(2.0f / (float)(c_out * kernel * kernel)));
    if (layer->bias) gs_tensor_fill(layer->bias, 0.0f);
    return GS_OK;
}

gs_status gs_batchnorm_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix,
                                  gs_batchnorm_layer *layer, int64_t channels) {
    layer->weight = add_named(ctx, list, prefix, "weight", GS_PARAM_NO_DECAY, GS_DIMS(channels));
    layer->bias = add_named(ctx, list, prefix, "bias", GS_PARAM_NO_DECAY, GS_DIMS(channels));
    layer->running_mean = add_named(ctx, list, prefix, "running_mean", GS_PARAM_BUFFER, GS_DIMS(channels));
    layer->running_var = add_named(ctx, list, prefix, "running_var", GS_PARAM_BUFFER, GS_DIMS(channels));
    layer->momentum = 0.1f; /* torch defaults */
    layer->eps = 1e-5f;
    if (gs_failed(ctx)) return ctx->status;
    gs_tensor_fill(layer->weight, 1.0f);
    gs_tensor_fill(layer->bias, 0.0f);
    gs_tensor_fill(layer->running_mean, 0.0f);
    gs_tensor_fill(layer->running_var, 1.0f);
    return GS_OK;
}

gs_status gs_linear_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_linear_layer *layer,
                               int64_t in, int64_t out, bool bias) {
    layer->weight = add_named(ctx, list, prefix, "weight", GS_PARAM_WEIGHT, GS_DIMS(out, in));
    layer->bias = bias ? add_named(ctx, list, prefix, "bias", GS_PARAM_NO_DECAY, GS_DIMS(out)) : NULL;
    if (gs_failed(ctx)) return ctx->status;
    float bound = 1.0f / sqrtf((float)in);
    gs_tensor_fill_uniform(ctx, layer->weight, bound);
    if (layer->bias) gs_tensor_fill_uniform(ctx, layer->bias, bound);
    return GS_OK;
}

gs_status gs_layernorm_layer_init(gs_context *ctx, gs_param_list *list, const char *prefix,
                                  gs_layernorm_layer *layer, int64_t dim, float eps) {
    layer->weight = add_named(ctx, list, prefix, "weight", GS_PARAM_NO_DECAY, GS_DIMS(dim));
    layer->bias = add_named(ctx, list, prefix, "bias", GS_PARAM_NO_DECAY, GS_DIMS(dim));
    layer->eps = eps;
    if (gs_failed(ctx)) return ctx->status;
    gs_tensor_fill(layer->weight, 1.0f);
    gs_tensor_fill(layer->bias, 0.0f);
    return GS_OK;
}

gs_tensor *gs_conv_layer_forward(gs_context *ctx, const gs_conv_layer *layer, gs_tensor *x) {
    /* A layer filled in by hand (dilation 0) is an ordinary convolution. */
    int dilation = layer->dilation > 1 ? layer->dilation : 1;
    return gs_conv2d_dilated(ctx, x, layer->weight, layer->bias, layer->stride, layer->padding, dilation);
}

gs_tensor *gs_batchnorm_layer_forward(gs_context *ctx, const gs_batchnorm_layer *layer, gs_tensor *x,
                                      bool training) {
    return gs_batchnorm(ctx, x, layer->weight, layer->bias, layer->running_mean, layer->running_var, training,
                        layer->momentum, layer->eps);
}

gs_tensor *gs_batchnorm_relu_layer_forward(gs_context *ctx, const gs_batchnorm_layer *layer, gs_tensor *x,
                                           bool training) {
    return gs_batchnorm_relu(ctx, x, layer->weight, layer->bias, layer->running_mean, layer->running_var, training,
                             layer->momentum, layer->eps);
}

gs_tensor *gs_linear_layer_forward(gs_context *ctx, const gs_linear_layer *layer, gs_tensor *x) {
    return gs_linear(ctx, x, layer->weight, layer->bias);
}

gs_tensor *gs_layernorm_layer_forward(gs_context *ctx, const gs_layernorm_layer *layer, gs_tensor *x) {
    return gs_layernorm(ctx, x, layer->weight, layer->bias, layer->eps);
}

void gs_fill_trunc_normal(gs_context *ctx, gs_tensor *t, float std) {
    for (int64_t i = 0; i < t->numel; i++) {
        float v;
        do {
            v = gs_rng_normal(&ctx->rng);
        } while (v < -2.0f || v > 2.0f);
        t->data[i] = std * v;
    }
}
