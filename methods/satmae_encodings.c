/* SatMAE's fixed sin-cos encodings (spec 1.1-1.3): 2-d positions, group
 * indices and the temporal year / month / hour codes, for the encoder's
 * tokens and the decoder's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "satmae.h"
#include "satmae_internal.h"

/* [sin(pos w_k), cos(pos w_k)], w_k = 10000^(-k / (dim / 2)) (spec 1.1). */
void satmae_sincos_1d(float *out, int64_t dim, double pos) {
    int64_t half = dim / 2;
    for (int64_t k = 0; k < half; k++) {
        double omega = 1.0 / pow(10000.0, (double)k / (double)half);
        out[k] = (float)sin(pos * omega);
        out[half + k] = (float)cos(pos * omega);
    }
}

/* MAE's 2-d table: the first half encodes the column, the second the row. */
void satmae_sincos_2d(float *out, int64_t dim, int64_t grid, int64_t patch_index) {
    satmae_sincos_1d(out, dim / 2, (double)(patch_index % grid));
    satmae_sincos_1d(out + dim / 2, dim / 2, (double)(patch_index / grid));
}

/* The fixed encodings of the group tokens and of the decoder's. */
gs_status satmae_build_encodings(gs_context *ctx, gs_method *m, satmae *s) {
    int64_t d = m->encoder.vit.config.dim, dd = s->dec_dim, l = s->per_image, t = s->tokens;
    s->dec_embed = calloc((size_t)((1 + t) * dd), sizeof(float));
    if (s->variant == VARIANT_GROUP) s->enc_embed = calloc((size_t)(t * d), sizeof(float));
    if (!s->dec_embed || (s->variant == VARIANT_GROUP && !s->enc_embed))
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SatMAE's encodings");
    if (s->variant == VARIANT_RGB) {
        for (int64_t i = 0; i < l; i++) satmae_sincos_2d(s->dec_embed + (1 + i) * dd, dd, s->grid, i);
        return GS_OK;
    }
    if (s->variant == VARIANT_TEMPORAL) return GS_OK; /* per sample: temporal_encodings */
    int64_t chan = d / 4, dec_chan = dd / 4;
    for (int g = 0; g < s->n_groups; g++)
        for (int64_t i = 0; i < l; i++) {
            float *e = s->enc_embed + (g * l + i) * d, *de = s->dec_embed + (1 + g * l + i) * dd;
            satmae_sincos_2d(e, d - chan, s->grid, i);
            satmae_sincos_1d(e + d - chan, chan, g);
            satmae_sincos_2d(de, dd - dec_chan, s->grid, i);
            satmae_sincos_1d(de + dd - dec_chan, dec_chan, g);
        }
    satmae_sincos_1d(s->dec_embed + dd - dec_chan, dec_chan, s->n_groups); /* the cls slot */
    return GS_OK;
}

/* temporal (spec 1.3): position (5w/8, 2-d) then the year, month and hour
 * codes (w/8 each, 1-d) of a token of frame f of sample i, into row. */
void satmae_time_code(float *row, int64_t w, int64_t grid, int64_t patch_index, const int32_t *ymh) {
    int64_t part = w / 8, pos = w - 3 * part;
    satmae_sincos_2d(row, pos, grid, patch_index);
    for (int k = 0; k < 3; k++) satmae_sincos_1d(row + pos + k * part, part, ymh ? (double)ymh[k] : 0.0);
}

/* The encoder's (N, T, D) and the decoder's (N, 1 + T, Dd) encodings of
 * this step's samples (cls slot zero), from their dates. */
gs_status satmae_temporal_encodings(gs_context *ctx, satmae *s, int64_t n, int64_t d, gs_tensor **enc, gs_tensor **dec) {
    int64_t l = s->per_image, t = s->tokens, dd = s->dec_dim;
    *enc = gs_tensor_zeros(ctx, &ctx->activations, GS_DIMS(n, t, d));
    *dec = gs_tensor_zeros(ctx, &ctx->activations, GS_DIMS(n, 1 + t, dd));
    if (!*enc || !*dec) return ctx->status;
    for (int64_t i = 0; i < n; i++)
        for (int f = 0; f < SATMAE_FRAMES; f++) {
            const int32_t *ymh = s->time_rows == n ? s->times + (i * SATMAE_FRAMES + f) * 3 : NULL;
            for (int64_t p = 0; p < l; p++) {
                satmae_time_code((*enc)->data + (i * t + f * l + p) * d, d, s->grid, p, ymh);
                satmae_time_code((*dec)->data + (i * (1 + t) + 1 + f * l + p) * dd, dd, s->grid, p, ymh);
            }
        }
    return GS_OK;
}

