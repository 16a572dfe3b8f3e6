#include "vit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

static gs_vit_config base_config(int img_size, int patch, int bands, int dim, int heads) {
    return (gs_vit_config){.img_size = img_size, .patch = patch, .in_bands = bands, .dim = dim, .depth = 12,
                           .heads = heads, .mlp_dim = 4 * dim, .pos = GS_POS_LEARNED, .num_classes = 0,
                           .ln_eps = 1e-6f};
}

gs_vit_config gs_vit_tiny_config(int img_size, int patch, int bands) {
    return base_config(img_size, patch, bands, 192, 3);
}

gs_vit_config gs_vit_small_config(int img_size, int patch, int bands) {
    return base_config(img_size, patch, bands, 384, 6);
}

/* MAE's fixed 2-d embedding: the first half of the width encodes the row,
 * the second the column; each half is [sin(p w_i), cos(p w_i)] with
 * w_i = 10000^(-i / (D/4)).  The cls row is zero. */
static void fill_sincos(gs_tensor *pos, int64_t grid, int64_t dim) {
    int64_t quarter = dim / 4;
    memset(pos->data, 0, (size_t)pos->numel * sizeof(float));
    for (int64_t r = 0; r < grid; r++)
        for (int64_t c = 0; c < grid; c++) {
            float *row = pos->data + (1 + r * grid + c) * dim;
            for (int64_t i = 0; i < quarter; i++) {
                double omega = pow(10000.0, -(double)i / (double)quarter);
                row[i] = (float)sin((double)r * omega);
                row[quarter + i] = (float)cos((double)r * omega);
                row[2 * quarter + i] = (float)sin((double)c * omega);
                row[3 * quarter + i] = (float)cos((double)c * omega);
            }
        }
}

gs_status gs_vit_init(gs_context *ctx, gs_vit *vit, const gs_vit_config *config) {
    memset(vit, 0, sizeof *vit);
    vit->config = *config;
    if (gs_failed(ctx)) return ctx->status;
    const gs_vit_config *c = config;
    if (c->patch < 1 || c->img_size < c->patch || c->img_size % c->patch || c->dim < 1 || c->heads < 1 ||
        c->dim % c->heads || c->depth < 1 || c->mlp_dim < 1 || c->in_bands < 1 || c->num_classes < 0)
        return gs_fail(ctx, GS_ERR_ARGUMENT,
                       "invalid ViT configuration: image %d, patch %d (must divide the image), width %d, heads %d "
                       "(must divide the width), depth %d",
                       c->img_size, c->patch, c->dim, c->heads, c->depth);
    if (c->pos == GS_POS_SINCOS && c->dim % 4)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "sin-cos position embeddings need a width divisible by 4, got %d",
                       c->dim);
    int64_t grid = c->img_size / c->patch, d = c->dim;
    vit->n_patches = grid * grid;
    gs_param_list *list = &vit->params;

    gs_conv_layer_init(ctx, list, "patch_embed.proj", &vit->patch_embed, c->in_bands, d, c->patch, c->patch, 0,
                       true);
    vit->cls_token = gs_param_add(ctx, list, "cls_token", GS_PARAM_NO_DECAY, GS_DIMS(1, 1, d));
    vit->pos_embed = gs_param_add(ctx, list, "pos_embed", c->pos == GS_POS_LEARNED ? GS_PARAM_NO_DECAY : GS_PARAM_BUFFER,
                                  GS_DIMS(1, vit->n_patches + 1, d));
    vit->blocks = calloc((size_t)c->depth, sizeof *vit->blocks);
    if (!vit->blocks) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for %d ViT blocks", c->depth);
    for (int i = 0; i < c->depth; i++) {
        gs_vit_block *b = &vit->blocks[i];
        char name[64];
#define LAYER(suffix) (snprintf(name, sizeof name, "blocks.%d.%s", i, suffix), name)
        gs_layernorm_layer_init(ctx, list, LAYER("norm1"), &b->norm1, d, c->ln_eps);
        gs_linear_layer_init(ctx, list, LAYER("attn.qkv"), &b->qkv, d, 3 * d, true);
        gs_linear_layer_init(ctx, list, LAYER("attn.proj"), &b->proj, d, d, true);
        gs_layernorm_layer_init(ctx, list, LAYER("norm2"), &b->norm2, d, c->ln_eps);
        gs_linear_layer_init(ctx, list, LAYER("mlp.fc1"), &b->fc1, d, c->mlp_dim, true);
        gs_linear_layer_init(ctx, list, LAYER("mlp.fc2"), &b->fc2, c->mlp_dim, d, true);
#undef LAYER
    }
    gs_layernorm_layer_init(ctx, list, "norm", &vit->norm, d, c->ln_eps);
    if (c->num_classes > 0) {
        vit->has_head = true;
        gs_linear_layer_init(ctx, list, "head", &vit->head, d, c->num_classes, true);
    }
    if (gs_failed(ctx)) return ctx->status;

    /* timm's initialization: truncated normal (std 0.02) for tokens and linear
     * weights, zero biases; the patch projection like a linear layer. */
    gs_fill_trunc_normal(ctx, vit->cls_token, 0.02f);
    if (c->pos == GS_POS_LEARNED)
        gs_fill_trunc_normal(ctx, vit->pos_embed, 0.02f);
    else
        fill_sincos(vit->pos_embed, grid, d);
    for (int i = 0; i < list->count; i++) {
        gs_tensor *t = list->items[i].tensor;
        size_t len = strlen(t->name);
        bool is_linear_weight = t->ndim == 2 && len > 7 && !strcmp(t->name + len - 7, ".weight");
        bool is_linear_bias = strstr(t->name, "blocks.") == t->name && t->ndim == 1 && len > 5 &&
                              !strcmp(t->name + len - 5, ".bias") && !strstr(t->name, "norm");
        if (is_linear_weight) gs_fill_trunc_normal(ctx, t, 0.02f);
        if (is_linear_bias) gs_tensor_fill(t, 0.0f);
    }
    gs_tensor_fill(vit->patch_embed.bias, 0.0f);
    if (vit->has_head) gs_tensor_fill(vit->head.bias, 0.0f);

    snprintf(vit->arch, sizeof vit->arch, "vit img=%d patch=%d bands=%d dim=%d depth=%d heads=%d mlp=%d pos=%s classes=%d",
             c->img_size, c->patch, c->in_bands, c->dim, c->depth, c->heads, c->mlp_dim,
             c->pos == GS_POS_LEARNED ? "learned" : "sincos", c->num_classes);
    return GS_OK;
}

void gs_vit_free(gs_vit *vit) {
    free(vit->blocks);
    vit->blocks = NULL;
    gs_param_list_free(&vit->params);
}

/* The patch rows of the position table for a g x g grid.  Another grid than
 * the table's (DINO's local crops) gets the table resampled bilinearly, with
 * gradients flowing back to the learned table.  (DINO resamples bicubically;
 * torch's bicubic has no counterpart here yet.) */
static gs_tensor *patch_positions(gs_context *ctx, gs_vit *vit, int64_t g) {
    int64_t d = vit->config.dim, table_grid = vit->config.img_size / vit->config.patch;
    gs_tensor *pos = gs_slice(ctx, vit->pos_embed, 1, 1, vit->n_patches + 1); /* (1, T, D) */
    if (g == table_grid) return pos;
    pos = gs_permute(ctx, gs_reshape(ctx, pos, GS_DIMS(1, table_grid, table_grid, d)), (const int[]){0, 3, 1, 2});
    pos = gs_upsample_bilinear(ctx, pos, g, g, false);                           /* (1, D, g, g) */
    pos = gs_permute(ctx, pos, (const int[]){0, 2, 3, 1});
    return gs_reshape(ctx, pos, GS_DIMS(1, g * g, d));
}

gs_tensor *gs_vit_patch_tokens(gs_context *ctx, gs_vit *vit, gs_tensor *x) {
    if (gs_failed(ctx) || !x) return NULL;
    const gs_vit_config *c = &vit->config;
    if (x->ndim != 4 || x->shape[1] != c->in_bands || x->shape[2] != x->shape[3] || x->shape[2] % c->patch ||
        x->shape[2] < c->patch) {
        char shape[96];
        gs_fail(ctx, GS_ERR_SHAPE, "%s expects square input (N, %d, S, S) with S a multiple of %d (trained at %d), got %s",
                vit->arch, c->in_bands, c->patch, c->img_size, gs_shape_str(x, shape, sizeof shape));
        return NULL;
    }
    int64_t n = x->shape[0], d = c->dim, g = x->shape[2] / c->patch;
    gs_tensor *p = gs_conv_layer_forward(ctx, &vit->patch_embed, x);           /* (N, D, g, g) */
    p = gs_reshape(ctx, p, GS_DIMS(n, d, g * g));
    p = gs_permute(ctx, p, (const int[]){0, 2, 1});                             /* (N, T, D) */
    return gs_add(ctx, p, patch_positions(ctx, vit, g));
}

gs_tensor *gs_vit_block_forward(gs_context *ctx, const gs_vit_block *b, int heads, gs_tensor *x) {
    gs_tensor *h = gs_linear_layer_forward(ctx, &b->qkv, gs_layernorm_layer_forward(ctx, &b->norm1, x));
    h = gs_linear_layer_forward(ctx, &b->proj, gs_attention_qkv(ctx, h, heads));
    x = gs_add(ctx, x, h);
    h = gs_gelu(ctx, gs_linear_layer_forward(ctx, &b->fc1, gs_layernorm_layer_forward(ctx, &b->norm2, x)));
    return gs_add(ctx, x, gs_linear_layer_forward(ctx, &b->fc2, h));
}

static gs_tensor *block_forward(gs_context *ctx, const gs_vit *vit, const gs_vit_block *b, gs_tensor *x) {
    return gs_vit_block_forward(ctx, b, vit->config.heads, x);
}

gs_status gs_vit_block_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_vit_block *b, int dim,
                            int mlp_dim, float ln_eps) {
    char name[160];
#define LAYER(suffix) (snprintf(name, sizeof name, "%s.%s", prefix, suffix), name)
    gs_layernorm_layer_init(ctx, list, LAYER("norm1"), &b->norm1, dim, ln_eps);
    gs_linear_layer_init(ctx, list, LAYER("attn.qkv"), &b->qkv, dim, 3 * dim, true);
    gs_linear_layer_init(ctx, list, LAYER("attn.proj"), &b->proj, dim, dim, true);
    gs_layernorm_layer_init(ctx, list, LAYER("norm2"), &b->norm2, dim, ln_eps);
    gs_linear_layer_init(ctx, list, LAYER("mlp.fc1"), &b->fc1, dim, mlp_dim, true);
    gs_linear_layer_init(ctx, list, LAYER("mlp.fc2"), &b->fc2, mlp_dim, dim, true);
#undef LAYER
    return ctx->status;
}

gs_tensor *gs_vit_encode(gs_context *ctx, gs_vit *vit, gs_tensor *tokens) {
    if (gs_failed(ctx) || !tokens) return NULL;
    int64_t d = vit->config.dim;
    if (tokens->ndim != 3 || tokens->shape[2] != d) {
        char shape[96];
        gs_fail(ctx, GS_ERR_SHAPE, "%s: tokens must be (N, T, %lld), got %s", vit->arch, (long long)d,
                gs_shape_str(tokens, shape, sizeof shape));
        return NULL;
    }
    int64_t n = tokens->shape[0];
    /* The cls token with its position embedding, broadcast over the batch. */
    gs_tensor *cls = gs_add(ctx, vit->cls_token, gs_slice(ctx, vit->pos_embed, 1, 0, 1));
    gs_tensor *zeros = gs_tensor_zeros(ctx, &ctx->activations, GS_DIMS(n, 1, d));
    gs_tensor *x = gs_concat(ctx, (gs_tensor *[]){gs_add(ctx, zeros, cls), tokens}, 2, 1);
    for (int i = 0; i < vit->config.depth; i++) {
        /* Without gradients each block's temporaries die with it. */
        gs_arena_mark mark = gs_arena_get_mark(&ctx->activations);
        x = gs_tensor_keep_since(ctx, mark, block_forward(ctx, vit, &vit->blocks[i], x));
    }
    return gs_layernorm_layer_forward(ctx, &vit->norm, x);
}

gs_tensor *gs_vit_forward(gs_context *ctx, gs_vit *vit, gs_tensor *x) {
    gs_tensor *y = gs_vit_encode(ctx, vit, gs_vit_patch_tokens(ctx, vit, x));
    if (!y) return NULL;
    int64_t n = y->shape[0], d = vit->config.dim;
    gs_tensor *cls = gs_reshape(ctx, gs_slice(ctx, y, 1, 0, 1), GS_DIMS(n, d));
    if (vit->has_head) cls = gs_linear_layer_forward(ctx, &vit->head, cls);
    return gs_failed(ctx) ? NULL : cls;
}

int gs_vit_layer_id(const char *param_name, int depth) {
    if (!strcmp(param_name, "cls_token") || !strcmp(param_name, "pos_embed") ||
        !strncmp(param_name, "patch_embed.", strlen("patch_embed.")))
        return 0;
    if (!strncmp(param_name, "blocks.", strlen("blocks."))) {
        char *end;
        long block = strtol(param_name + strlen("blocks."), &end, 10);
        if (end != param_name + strlen("blocks.") && *end == '.' && block >= 0 && block < depth) return (int)block + 1;
    }
    return depth + 1;
}
