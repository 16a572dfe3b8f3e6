#include "decoder.h"

#include <stdio.h>

#include "../ops/ops.h"

gs_status gs_decoder_init(gs_context *ctx, gs_param_list *list, gs_decoder *dec, const int64_t stage_channels[4],
                          int64_t dim, int n_classes) {
    if (gs_failed(ctx)) return ctx->status;
    if (dim < 1 || n_classes < 1)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "decoder: width %lld and classes %d must be positive", (long long)dim,
                       n_classes);
    dec->dim = dim;
    dec->n_classes = n_classes;
    char name[64];
    for (int s = 0; s < 4; s++) {
        snprintf(name, sizeof name, "decoder.lateral.%d", s + 1);
        gs_conv_layer_init(ctx, list, name, &dec->lateral[s], stage_channels[s], dim, 1, 1, 0, false);
    }
    for (int r = 0; r < 3; r++) {
        snprintf(name, sizeof name, "decoder.refine.%d.conv", r + 1);
        gs_conv_layer_init(ctx, list, name, &dec->refine[r], dim, dim, 3, 1, 1, false);
        snprintf(name, sizeof name, "decoder.refine.%d.bn", r + 1);
        gs_batchnorm_layer_init(ctx, list, name, &dec->refine_bn[r], dim);
    }
    gs_conv_layer_init(ctx, list, "decoder.classifier", &dec->classifier, dim, n_classes, 1, 1, 0, true);
    return ctx->status;
}

gs_tensor *gs_decoder_forward(gs_context *ctx, const gs_decoder *dec, gs_tensor *const stages[5], int64_t out_h,
                              int64_t out_w, bool training) {
    if (gs_failed(ctx)) return NULL;
    gs_tensor *p = gs_conv_layer_forward(ctx, &dec->lateral[3], stages[4]);
    /* Top-down: stage 3, 2, 1 (refine[0] merges into stage 3). */
    for (int s = 2; s >= 0; s--) {
        gs_tensor *skip = gs_conv_layer_forward(ctx, &dec->lateral[s], stages[s + 1]);
        if (!skip || !p) return NULL;
        gs_tensor *up = gs_upsample_bilinear(ctx, p, skip->shape[2], skip->shape[3], false);
        gs_tensor *merged = gs_add(ctx, skip, up);
        int r = 2 - s;
        p = gs_batchnorm_relu_layer_forward(ctx, &dec->refine_bn[r], gs_conv_layer_forward(ctx, &dec->refine[r], merged),
                                            training);
    }
    gs_tensor *logits = gs_conv_layer_forward(ctx, &dec->classifier, p);
    return gs_upsample_bilinear(ctx, logits, out_h, out_w, false);
}
