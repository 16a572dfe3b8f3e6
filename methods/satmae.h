/* SatMAE's hooks for tests: masks given instead of drawn. */
#ifndef GS_METHODS_SATMAE_H
#define GS_METHODS_SATMAE_H

#include <stdint.h>

#include "method.h"

/* The next loss call of a SatMAE method keeps the tokens keep[n * k + j]
 * (j < k, in the order the encoder sees them) of sample n instead of drawing
 * a mask from the context's RNG; k must be the count the mask ratio keeps.
 * Token t of the sequence is group t / L (or the image, rgb), patch t % L
 * in row-major order.  The indices are copied; used once. */
gs_status gs_satmae_use_mask(gs_context *ctx, gs_method *m, const int32_t *keep, int64_t n, int64_t k);
/* temporal: the next loss (or features) call encodes frame f of sample n
 * with the calendar year, month (1-12) and hour at year_month_hour[(n * 3 +
 * f) * 3 + 0..2] (3 frames per sample); without it every frame is at time 0
 * (2002-01, hour 0), unless the step's batch carries acquisition dates
 * (gs_batch.acquired), which are then used.  Copied; used once. */
gs_status gs_satmae_use_dates(gs_context *ctx, gs_method *m, const int32_t *year_month_hour, int64_t n);
/* Tokens per sample (G * L) and how many of them the encoder sees. */
int64_t gs_satmae_tokens(const gs_method *m);
int64_t gs_satmae_kept(const gs_method *m);
/* The tokens the last loss call kept, (N, K) for its N samples. */
const int32_t *gs_satmae_kept_tokens(const gs_method *m);

/* Evaluation features as the authors' fine-tuning pools them: every token
 * of x (N, C, S, S) through the pretrained tokenization (group: the G x L
 * group tokens with their encodings; rgb: the ViT's own), no mask, the
 * encoder, then the mean of the patch tokens (cls left out): (N, D).
 * Fine-tuning trains through it (the group embeddings too: ops->
 * feature_params) and adds the authors' fresh LayerNorm, fc_norm, before its
 * head (protocols/finetune.h).  One difference stays: MAE's fine-tuning
 * model drops the encoder's final norm when it pools; these are the tokens
 * after it, the same features kNN and the linear probe see. */
gs_tensor *gs_satmae_features(gs_context *ctx, gs_method *m, gs_tensor *x);

/* The last training step's first sample as three panels side by side,
 * masked input | reconstruction | target (satmae_picture.c): the red,
 * green and blue bands (B4, B3, B2 of Sentinel-2 data; the first three
 * otherwise), hidden patches grey in the first, predicted in the second,
 * each band stretched over the target's range.  *rgb (malloc'd) holds
 * height rows of width pixels, 3 bytes each.  GS_ERR_ARGUMENT before any
 * step has run. */
gs_status gs_satmae_picture(gs_context *ctx, gs_method *m, uint8_t **rgb, int *width, int *height);

#endif
