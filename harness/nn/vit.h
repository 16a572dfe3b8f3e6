/* Vision Transformer (ViT-Tiny, ViT-Small or any size): patch embedding by a
 * stride-p convolution, a cls token, fixed 2-d sin-cos or learned position
 * embeddings, pre-norm transformer blocks (multi-head attention and a GELU
 * MLP), a final LayerNorm and an optional linear head.  Any number of input
 * bands.  Parameter names are timm's. */
#ifndef GS_NN_VIT_H
#define GS_NN_VIT_H

#include "layers.h"
#include "params.h"

typedef enum gs_pos_embed { GS_POS_LEARNED, GS_POS_SINCOS } gs_pos_embed;

typedef struct gs_vit_config {
    int img_size;   /* square inputs of this size; the position table has (img/patch)^2 + 1 rows */
    int patch;      /* 8 or 16 (any divisor of img_size works) */
    int in_bands;
    int dim, depth, heads, mlp_dim;
    gs_pos_embed pos;
    int num_classes; /* > 0 adds "head"; 0: the cls feature is the output */
    float ln_eps;    /* timm: 1e-6 */
} gs_vit_config;

typedef struct gs_vit_block {
    gs_layernorm_layer norm1, norm2;
    gs_linear_layer qkv, proj, fc1, fc2;
} gs_vit_block;

typedef struct gs_vit {
    gs_vit_config config;
    gs_param_list params;
    gs_conv_layer patch_embed;
    gs_tensor *cls_token; /* (1, 1, D) */
    gs_tensor *pos_embed; /* (1, T + 1, D); a buffer when fixed sin-cos */
    gs_vit_block *blocks;
    gs_layernorm_layer norm;
    bool has_head;
    gs_linear_layer head;
    int64_t n_patches;
    char arch[160];
} gs_vit;

/* ViT-Tiny (192 wide, 12 blocks, 3 heads, MLP 768) and ViT-Small (384, 12,
 * 6, 1536) with learned position embeddings and no head. */
gs_vit_config gs_vit_tiny_config(int img_size, int patch, int bands);
gs_vit_config gs_vit_small_config(int img_size, int patch, int bands);
gs_status gs_vit_init(gs_context *ctx, gs_vit *vit, const gs_vit_config *config);
void gs_vit_free(gs_vit *vit);

/* x (N, bands, S, S) -> patch tokens with their position embeddings
 * added, (N, T, D), no cls token.  Masked modelling gathers from these.
 * S is normally img_size; any other multiple of the patch (DINO's local
 * crops) gets the position table resampled bilinearly to its grid. */
gs_tensor *gs_vit_patch_tokens(gs_context *ctx, gs_vit *vit, gs_tensor *x);
/* tokens (N, T', D) (all or a subset of the patch tokens) -> the cls token
 * (with its position embedding) prepended, every block, the final norm:
 * (N, T' + 1, D). */
gs_tensor *gs_vit_encode(gs_context *ctx, gs_vit *vit, gs_tensor *tokens);
/* One pre-norm block on its own (MAE decoders reuse the encoder's block):
 * params "<prefix>.norm1.weight", "<prefix>.attn.qkv.weight", ... as timm
 * names them, initialized as gs_linear_layer_init / gs_layernorm_layer_init
 * do; x (N, T, dim) -> (N, T, dim). */
gs_status gs_vit_block_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_vit_block *b, int dim,
                            int mlp_dim, float ln_eps);
gs_tensor *gs_vit_block_forward(gs_context *ctx, const gs_vit_block *b, int heads, gs_tensor *x);
/* Image -> head logits (N, classes), or the cls feature (N, D) without head. */
gs_tensor *gs_vit_forward(gs_context *ctx, gs_vit *vit, gs_tensor *x);

/* Layer of a ViT parameter for layer-wise learning-rate decay, BEiT's rule
 * as MAE and SatMAE fine-tune with it (../shared/specs/satmae.md,
 * "Fine-tuning", util/lr_decay.py): 0 for cls_token, pos_embed and
 * patch_embed.*, i + 1 for blocks.i.*, depth + 1 for everything else (the
 * final norm, a head).  The parameter's lr is then decay^(depth + 1 - id). */
int gs_vit_layer_id(const char *param_name, int depth);

#endif
