/* What SatMAE's files share (satmae.c: the method; satmae_picture.c: the
 * run folder's picture of a reconstruction).  Internal to methods/. */
#ifndef GS_METHODS_SATMAE_INTERNAL_H
#define GS_METHODS_SATMAE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "method.h"
#include "nn/layers.h"
#include "nn/mae_decoder.h"

#define SATMAE_MAX_GROUPS 8
#define SATMAE_NORM_PIX_EPS 1e-6
#define SATMAE_ADAM_BETA2 0.95f

enum { VARIANT_RGB, VARIANT_GROUP, VARIANT_TEMPORAL };
#define SATMAE_FRAMES 3
#define SATMAE_YEAR0 2002 /* the authors' year offset (spec 1.3) */

typedef struct satmae {
    int variant;
    float mask_ratio;
    bool consistent, norm_pix;
    int dec_dim, dec_depth, dec_heads;
    int64_t patch, grid, per_image, tokens, kept; /* L = grid^2 patches, T = G L tokens, K kept */
    int n_groups;                                 /* G; 1 for rgb */
    int group_size[SATMAE_MAX_GROUPS];
    int group_bands[SATMAE_MAX_GROUPS][GS_MAX_BANDS];
    /* Output j of group g's head is compared with band target_band[g][j]
     * and weighted by the mask of group weight_group[g][j] (see pairing). */
    int target_band[SATMAE_MAX_GROUPS][GS_MAX_BANDS];
    int weight_group[SATMAE_MAX_GROUPS][GS_MAX_BANDS];
    gs_conv_layer group_embed[SATMAE_MAX_GROUPS];
    gs_mae_decoder decoder;
    gs_linear_layer decoder_pred[SATMAE_MAX_GROUPS];
    float *enc_embed;  /* group: (T, D), added to the group tokens */
    float *dec_embed;  /* (1 + T, Dd), added to the decoder's tokens */
    int32_t *keep;     /* (N, K) this step's kept tokens */
    float *removed;    /* (N, T) 1 where masked */
    int64_t keep_rows; /* N the buffers hold */
    bool keep_given;   /* gs_satmae_use_mask filled keep for the next step */
    int32_t *times;    /* temporal: (N, frames, 3) year - 2002, month - 1, hour of the next step */
    int64_t time_rows; /* N the times are for; 0: every frame at time 0 */
    /* The last step's first sample, for the run folder's picture
     * (satmae_picture.c): each group's (frame's) predicted and target
     * patches (L, W) and which tokens were hidden (T). */
    float *shown_pred[SATMAE_MAX_GROUPS], *shown_target[SATMAE_MAX_GROUPS], *shown_removed;
    int64_t shown_width[SATMAE_MAX_GROUPS];
    bool shown;
} satmae;

/* satmae_encodings.c.  [sin(pos w_k), cos(pos w_k)] over dim values; MAE's
 * 2-d table (column half, then row half); the fixed encodings of the group
 * tokens and the decoder's at init; a temporal row (position 5w/8, year,
 * month, hour w/8 each; ymh NULL: time 0); the per-sample temporal
 * encodings of the encoder (N, T, D) and the decoder (N, 1 + T, Dd). */
void satmae_sincos_1d(float *out, int64_t dim, double pos);
void satmae_sincos_2d(float *out, int64_t dim, int64_t grid, int64_t patch_index);
gs_status satmae_build_encodings(gs_context *ctx, gs_method *m, satmae *s);
void satmae_time_code(float *row, int64_t w, int64_t grid, int64_t patch_index, const int32_t *ymh);
gs_status satmae_temporal_encodings(gs_context *ctx, satmae *s, int64_t n, int64_t d, gs_tensor **enc,
                                    gs_tensor **dec);

/* satmae_masks.c.  The keep / removed buffers for n samples; this step's
 * masks drawn from the context's RNG. */
gs_status satmae_ensure_rows(gs_context *ctx, satmae *s, int64_t n);
gs_status satmae_draw_masks(gs_context *ctx, satmae *s, int64_t n);

/* Keeps sample 0's prediction and target of group (frame) g of this step. */
gs_status satmae_keep_shown(gs_context *ctx, satmae *s, int g, const float *pred, const float *target, int64_t width);
void satmae_free_shown(satmae *s);

#endif
