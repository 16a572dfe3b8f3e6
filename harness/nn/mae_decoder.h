/* The decoder of a masked autoencoder (MAE, He et al. 2022; SatMAE, Cong et
 * al. 2022, ../shared/specs/satmae.md section 1): the encoder's output
 * projected to the decoder width, a learned mask token put wherever the
 * encoder saw nothing, fixed encodings added, pre-norm ViT blocks and a
 * final LayerNorm.  The prediction layers stay with the method (one per
 * spectral group in SatMAE).  Parameter names are the authors':
 * mask_token, decoder_embed.*, decoder_blocks.<i>.*, decoder_norm.*. */
#ifndef GS_NN_MAE_DECODER_H
#define GS_NN_MAE_DECODER_H

#include "vit.h"

typedef struct gs_mae_decoder {
    int dim, depth, heads;
    gs_tensor *mask_token; /* (1, 1, dim) */
    gs_linear_layer embed; /* encoder width -> dim */
    gs_vit_block *blocks;
    gs_layernorm_layer norm;
} gs_mae_decoder;

/* Adds the parameters to `list` (MLP 4 x dim, LayerNorm eps 1e-6) and
 * initializes them as gs_vit_block_init does, the mask token N(0, 0.02)
 * truncated at 2 sigma.  The mask token is decayed (timm's rule for
 * parameters of more than one dimension, as MAE's optimizer groups do). */
gs_status gs_mae_decoder_init(gs_context *ctx, gs_param_list *list, gs_mae_decoder *dec, int encoder_dim, int dim,
                              int depth, int heads);
/* latent (N, 1 + K, encoder_dim): the encoder's cls token then its K kept
 * tokens, which are tokens keep[n * K + j] of t; encodings (1 or N,
 * 1 + t, dim), added after the mask tokens are in (NULL: none).
 * Returns (N, 1 + t, dim), cls first. */
gs_tensor *gs_mae_decoder_forward(gs_context *ctx, const gs_mae_decoder *dec, gs_tensor *latent, const int32_t *keep,
                                  int64_t t, gs_tensor *encodings);
void gs_mae_decoder_free(gs_mae_decoder *dec);

#endif
