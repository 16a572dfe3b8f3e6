#include "deeplab.h"
#include "dist/data_parallel.h"

#include <stdio.h>

#include "../ops/ops.h"

gs_deeplab_config gs_deeplab_default_config(int64_t in_channels, int64_t low_level_in, int output_stride,
                                            int n_classes) {
    /* Chen et al. 2018: rates 6/12/18 at output stride 16, doubled at 8. */
    const int scale = output_stride == 8 ? 2 : 1;
    return (gs_deeplab_config){
        .in_channels = in_channels, .low_level_in = low_level_in, .aspp_channels = 256,
        .rates = {6 * scale, 12 * scale, 18 * scale}, .aspp_dropout = 0.5f,
        .low_level_channels = 48, .decoder_channels = 256, .decoder_dropout = {0.0f, 0.0f},
        .n_classes = n_classes, .align_corners = true, .bn_momentum = 0.1f,
    };
}

static bool valid_dropout(float p) { return p >= 0.0f && p < 1.0f; }

static gs_status check_config(gs_context *ctx, const gs_deeplab_config *c) {
    if (gs_failed(ctx)) return ctx->status;
    if (c->in_channels < 1 || c->low_level_in < 1 || c->aspp_channels < 1 || c->low_level_channels < 1 ||
        c->decoder_channels < 1 || c->n_classes < 1)
        return gs_fail(ctx, GS_ERR_ARGUMENT,
                       "DeepLabv3+: every channel count must be positive (in %lld, low-level %lld, aspp %lld, "
                       "projection %lld, decoder %lld, classes %d)",
                       (long long)c->in_channels, (long long)c->low_level_in, (long long)c->aspp_channels,
                       (long long)c->low_level_channels, (long long)c->decoder_channels, c->n_classes);
    for (int i = 0; i < 3; i++)
        if (c->rates[i] < 1)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "DeepLabv3+: ASPP rates must be >= 1 (got %d, %d, %d)", c->rates[0],
                           c->rates[1], c->rates[2]);
    if (c->bn_momentum < 0.0f || c->bn_momentum > 1.0f)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "DeepLabv3+: batchnorm momentum must lie in [0, 1] (got %g)",
                       (double)c->bn_momentum);
    if (!valid_dropout(c->aspp_dropout) || !valid_dropout(c->decoder_dropout[0]) ||
        !valid_dropout(c->decoder_dropout[1]))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "DeepLabv3+: dropout probabilities must lie in [0, 1) (got %g, %g, %g)",
                       (double)c->aspp_dropout, (double)c->decoder_dropout[0], (double)c->decoder_dropout[1]);
    return GS_OK;
}

/* "<prefix>.conv" (no bias) and "<prefix>.bn". */
static void conv_bn_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_conv_layer *conv,
                         gs_batchnorm_layer *bn, int64_t c_in, int64_t c_out, int kernel, int dilation,
                         float momentum) {
    char name[96];
    snprintf(name, sizeof name, "%s.conv", prefix);
    /* A 3x3 at dilation d keeps the map's size with padding d. */
    int padding = dilation * (kernel / 2);
    gs_conv_layer_init(ctx, list, name, conv, c_in, c_out, kernel, 1, padding, false);
    conv->dilation = dilation;
    snprintf(name, sizeof name, "%s.bn", prefix);
    gs_batchnorm_layer_init(ctx, list, name, bn, c_out);
    if (momentum > 0.0f) bn->momentum = momentum;
}

gs_status gs_aspp_init(gs_context *ctx, gs_param_list *list, gs_aspp *aspp, const gs_deeplab_config *config) {
    if (check_config(ctx, config) != GS_OK) return ctx->status;
    const int64_t c_in = config->in_channels, ch = config->aspp_channels;
    const float m = config->bn_momentum;
    conv_bn_init(ctx, list, "aspp.conv1x1", &aspp->conv1x1, &aspp->conv1x1_bn, c_in, ch, 1, 1, m);
    for (int i = 0; i < 3; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "aspp.atrous.%d", i);
        conv_bn_init(ctx, list, prefix, &aspp->atrous[i], &aspp->atrous_bn[i], c_in, ch, 3, config->rates[i], m);
    }
    conv_bn_init(ctx, list, "aspp.pool", &aspp->pool, &aspp->pool_bn, c_in, ch, 1, 1, m);
    conv_bn_init(ctx, list, "aspp.project", &aspp->project, &aspp->project_bn, 5 * ch, ch, 1, 1, m);
    aspp->dropout = config->aspp_dropout;
    aspp->align_corners = config->align_corners;
    return ctx->status;
}

gs_status gs_deeplab_decoder_init(gs_context *ctx, gs_param_list *list, gs_deeplab_decoder *dec,
                                  const gs_deeplab_config *config) {
    if (check_config(ctx, config) != GS_OK) return ctx->status;
    const int64_t ch = config->decoder_channels;
    const float m = config->bn_momentum;
    conv_bn_init(ctx, list, "decoder.low_level", &dec->low_level, &dec->low_level_bn, config->low_level_in,
                 config->low_level_channels, 1, 1, m);
    conv_bn_init(ctx, list, "decoder.fuse.0", &dec->fuse[0], &dec->fuse_bn[0],
                 config->aspp_channels + config->low_level_channels, ch, 3, 1, m);
    conv_bn_init(ctx, list, "decoder.fuse.1", &dec->fuse[1], &dec->fuse_bn[1], ch, ch, 3, 1, m);
    gs_conv_layer_init(ctx, list, "decoder.classifier", &dec->classifier, ch, config->n_classes, 1, 1, 0, true);
    dec->dropout[0] = config->decoder_dropout[0];
    dec->dropout[1] = config->decoder_dropout[1];
    dec->align_corners = config->align_corners;
    return ctx->status;
}

gs_status gs_deeplab_init(gs_context *ctx, gs_param_list *aspp_list, gs_param_list *decoder_list, gs_deeplab *net,
                          const gs_deeplab_config *config) {
    if (check_config(ctx, config) != GS_OK) return ctx->status;
    net->config = *config;
    gs_aspp_init(ctx, aspp_list, &net->aspp, config);
    gs_deeplab_decoder_init(ctx, decoder_list, &net->decoder, config);
    return ctx->status;
}

gs_tensor *gs_dropout(gs_context *ctx, gs_tensor *x, float p, bool training) {
    if (gs_failed(ctx) || !x) return NULL;
    if (!training || p <= 0.0f) return x;
    gs_tensor *mask = gs_activation_like(ctx, x);
    if (!mask) return NULL;
    const float keep_scale = 1.0f / (1.0f - p);
    /* Serial draws: the mask depends on the seed only, not on threads.
     * Across ranks x holds this rank's shard of the global batch's rows;
     * each rank draws past the other shards' values, so the masks and the
     * generator are one process's (one draw per value). */
    gs_data_parallel_skip_before(ctx, &ctx->rng, mask->numel);
    for (int64_t i = 0; i < mask->numel; i++) mask->data[i] = gs_rng_uniform(&ctx->rng) < p ? 0.0f : keep_scale;
    gs_data_parallel_skip_after(ctx, &ctx->rng, mask->numel);
    return gs_mul(ctx, x, mask);
}

static gs_tensor *conv_bn_relu(gs_context *ctx, const gs_conv_layer *conv, const gs_batchnorm_layer *bn,
                               gs_tensor *x, bool training) {
    return gs_batchnorm_relu_layer_forward(ctx, bn, gs_conv_layer_forward(ctx, conv, x), training);
}

gs_tensor *gs_aspp_forward(gs_context *ctx, const gs_aspp *aspp, gs_tensor *high, bool training) {
    if (gs_failed(ctx) || !high) return NULL;
    if (high->ndim != 4 || high->shape[1] != aspp->conv1x1.weight->shape[1]) {
        char shape[96];
        gs_fail(ctx, GS_ERR_SHAPE, "ASPP expects (N, %lld, h, w) features, got %s",
                (long long)aspp->conv1x1.weight->shape[1], gs_shape_str(high, shape, sizeof shape));
        return NULL;
    }
    const int64_t n = high->shape[0], c = high->shape[1], h = high->shape[2], w = high->shape[3];
    gs_tensor *branches[5];
    branches[0] = conv_bn_relu(ctx, &aspp->conv1x1, &aspp->conv1x1_bn, high, training);
    for (int i = 0; i < 3; i++)
        branches[i + 1] = conv_bn_relu(ctx, &aspp->atrous[i], &aspp->atrous_bn[i], high, training);
    /* Image pooling: one value per channel, spread back over the map. */
    gs_tensor *pooled = gs_reshape(ctx, gs_global_avgpool(ctx, high), GS_DIMS(n, c, 1, 1));
    pooled = conv_bn_relu(ctx, &aspp->pool, &aspp->pool_bn, pooled, training);
    branches[4] = gs_upsample_bilinear(ctx, pooled, h, w, aspp->align_corners);
    if (gs_failed(ctx)) return NULL;
    gs_tensor *y = conv_bn_relu(ctx, &aspp->project, &aspp->project_bn, gs_concat(ctx, branches, 5, 1), training);
    return gs_dropout(ctx, y, aspp->dropout, training);
}

gs_tensor *gs_deeplab_decoder_forward(gs_context *ctx, const gs_deeplab_decoder *dec, gs_tensor *aspp,
                                      gs_tensor *low, int64_t out_h, int64_t out_w, bool training,
                                      gs_tensor **features, gs_tensor **logits) {
    if (gs_failed(ctx) || !aspp || !low) return NULL;
    if (low->ndim != 4 || aspp->ndim != 4 || low->shape[0] != aspp->shape[0] ||
        low->shape[1] != dec->low_level.weight->shape[1]) {
        char a[96], b[96];
        gs_fail(ctx, GS_ERR_SHAPE, "DeepLabv3+ decoder expects low-level features (N, %lld, H, W) and the ASPP "
                "output (N, C, h, w), got %s and %s", (long long)dec->low_level.weight->shape[1],
                gs_shape_str(low, a, sizeof a), gs_shape_str(aspp, b, sizeof b));
        return NULL;
    }
    gs_tensor *projected = conv_bn_relu(ctx, &dec->low_level, &dec->low_level_bn, low, training);
    gs_tensor *up = gs_upsample_bilinear(ctx, aspp, low->shape[2], low->shape[3], dec->align_corners);
    gs_tensor *y = gs_concat(ctx, (gs_tensor *[]){up, projected}, 2, 1);
    for (int i = 0; i < 2; i++)
        y = gs_dropout(ctx, conv_bn_relu(ctx, &dec->fuse[i], &dec->fuse_bn[i], y, training), dec->dropout[i], training);
    gs_tensor *scores = gs_conv_layer_forward(ctx, &dec->classifier, y);
    gs_tensor *output = gs_upsample_bilinear(ctx, scores, out_h, out_w, dec->align_corners);
    if (gs_failed(ctx)) return NULL;
    if (features) *features = y;
    if (logits) *logits = scores;
    return output;
}

gs_tensor *gs_deeplab_forward(gs_context *ctx, const gs_deeplab *net, gs_tensor *low, gs_tensor *high,
                              int64_t out_h, int64_t out_w, bool training, gs_deeplab_outputs *out) {
    gs_deeplab_outputs local;
    if (!out) out = &local;
    *out = (gs_deeplab_outputs){0};
    out->aspp = gs_aspp_forward(ctx, &net->aspp, high, training);
    out->output = gs_deeplab_decoder_forward(ctx, &net->decoder, out->aspp, low, out_h, out_w, training,
                                             &out->features, &out->logits);
    return gs_failed(ctx) ? NULL : out->output;
}
