#include "mae_decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

gs_status gs_mae_decoder_init(gs_context *ctx, gs_param_list *list, gs_mae_decoder *dec, int encoder_dim, int dim,
                              int depth, int heads) {
    memset(dec, 0, sizeof *dec);
    if (gs_failed(ctx)) return ctx->status;
    if (dim < 1 || depth < 1 || heads < 1 || dim % heads)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "MAE decoder: width %d, depth %d, heads %d (must divide the width)", dim,
                       depth, heads);
    dec->dim = dim;
    dec->depth = depth;
    dec->heads = heads;
    dec->mask_token = gs_param_add(ctx, list, "mask_token", GS_PARAM_WEIGHT, GS_DIMS(1, 1, dim));
    gs_linear_layer_init(ctx, list, "decoder_embed", &dec->embed, encoder_dim, dim, true);
    dec->blocks = calloc((size_t)depth, sizeof *dec->blocks);
    if (!dec->blocks) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for %d decoder blocks", depth);
    for (int i = 0; i < depth; i++) {
        char name[64];
        snprintf(name, sizeof name, "decoder_blocks.%d", i);
        gs_vit_block_init(ctx, list, name, &dec->blocks[i], dim, 4 * dim, 1e-6f);
    }
    gs_layernorm_layer_init(ctx, list, "decoder_norm", &dec->norm, dim, 1e-6f);
    if (gs_failed(ctx)) return ctx->status;
    gs_fill_trunc_normal(ctx, dec->mask_token, 0.02f);
    return GS_OK;
}

gs_tensor *gs_mae_decoder_forward(gs_context *ctx, const gs_mae_decoder *dec, gs_tensor *latent, const int32_t *keep,
                                  int64_t t, gs_tensor *encodings) {
    if (gs_failed(ctx) || !latent) return NULL;
    if (latent->ndim != 3 || latent->shape[1] < 2) {
        char shape[96];
        gs_fail(ctx, GS_ERR_SHAPE, "MAE decoder: latent must be (N, 1 + K, D), got %s",
                gs_shape_str(latent, shape, sizeof shape));
        return NULL;
    }
    int64_t k = latent->shape[1] - 1;
    gs_tensor *h = gs_linear_layer_forward(ctx, &dec->embed, latent);
    gs_tensor *cls = gs_slice(ctx, h, 1, 0, 1);
    gs_tensor *all = gs_scatter_tokens(ctx, gs_slice(ctx, h, 1, 1, 1 + k), keep, t,
                                       gs_reshape(ctx, dec->mask_token, GS_DIMS(dec->dim)));
    h = gs_concat(ctx, (gs_tensor *[]){cls, all}, 2, 1);
    if (encodings) h = gs_add(ctx, h, encodings);
    for (int i = 0; i < dec->depth; i++) h = gs_vit_block_forward(ctx, &dec->blocks[i], dec->heads, h);
    return gs_layernorm_layer_forward(ctx, &dec->norm, h);
}

void gs_mae_decoder_free(gs_mae_decoder *dec) {
    free(dec->blocks);
    dec->blocks = NULL;
}
