/* SatMAE's picture for the run folder: the last step's first sample as
 * masked input | reconstruction | target, as the MAE papers show it.  The
 * patches are the loss's own (satmae.c make_targets): group heads predict
 * their bands channel-major (c * p^2 + row * p + col), the rgb and temporal
 * heads every band pixel-major, channel-last ((row * p + col) * C + c).  With
 * norm_pix_loss both sides are per-patch normalized values, so the picture
 * shows each patch's contrast, not its brightness. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "satmae.h"
#include "satmae_internal.h"

#define PICTURE_GAP 4     /* grey pixels between panels */
#define PICTURE_MIN_SIDE 192 /* small views are enlarged to about this, pixel by pixel */

gs_status satmae_keep_shown(gs_context *ctx, satmae *s, int g, const float *pred, const float *target, int64_t width) {
    int64_t l = s->per_image;
    if (!s->shown_removed) s->shown_removed = malloc((size_t)s->tokens * sizeof *s->shown_removed);
    if (s->shown_width[g] != width) {
        free(s->shown_pred[g]);
        free(s->shown_target[g]);
        s->shown_pred[g] = malloc((size_t)(l * width) * sizeof(float));
        s->shown_target[g] = malloc((size_t)(l * width) * sizeof(float));
        s->shown_width[g] = width;
    }
    if (!s->shown_removed || !s->shown_pred[g] || !s->shown_target[g])
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory keeping SatMAE's picture");
    memcpy(s->shown_pred[g], pred, (size_t)(l * width) * sizeof(float));
    memcpy(s->shown_target[g], target, (size_t)(l * width) * sizeof(float));
    memcpy(s->shown_removed, s->removed, (size_t)s->tokens * sizeof(float)); /* sample 0's row */
    s->shown = true;
    return GS_OK;
}

void satmae_free_shown(satmae *s) {
    for (int g = 0; g < SATMAE_MAX_GROUPS; g++) {
        free(s->shown_pred[g]);
        free(s->shown_target[g]);
    }
    free(s->shown_removed);
}

/* Where band `band` of the image is kept: its group (frame 0 for temporal)
 * and its place in that group's patch vectors.  False when no group has it. */
static bool locate(const satmae *s, int bands, int band, int *group, int *slot) {
    if (s->variant != VARIANT_GROUP) {
        *group = 0;
        *slot = band < bands ? band : -1;
        return *slot >= 0;
    }
    for (int g = 0; g < s->n_groups; g++)
        for (int j = 0; j < s->group_size[g]; j++)
            if (s->target_band[g][j] == band) {
                *group = g;
                *slot = j;
                return true;
            }
    return false;
}

/* Value of (slot, row, col) of patch p in group g's vectors. */
static float patch_value(const satmae *s, const float *vectors, int g, int slot, int bands, int64_t p, int64_t row,
                         int64_t col) {
    int64_t pp = s->patch * s->patch, w = s->shown_width[g];
    if (s->variant == VARIANT_GROUP) return vectors[p * w + slot * pp + row * s->patch + col];
    return vectors[p * w + (row * s->patch + col) * bands + slot];
}

gs_status gs_satmae_picture(gs_context *ctx, gs_method *m, uint8_t **rgb, int *width, int *height) {
    satmae *s = m->impl;
    *rgb = NULL;
    if (!s->shown) return gs_fail(ctx, GS_ERR_ARGUMENT, "satmae: no step has run, nothing to picture");
    int bands = m->encoder.vit.config.in_bands;
    /* B4, B3, B2: Sentinel-2's 13 bands in their order, or SatMAE's 10. */
    int show[3] = {0, 1, 2};
    if (bands == 13) show[0] = 3, show[1] = 2, show[2] = 1;
    else if (bands == 10) show[0] = 2, show[1] = 1, show[2] = 0;
    else if (bands < 3) show[1] = show[2] = 0;
    int64_t side = s->grid * s->patch, scale = side >= PICTURE_MIN_SIDE ? 1 : (PICTURE_MIN_SIDE + side - 1) / side;
    int64_t panel = side * scale, w = 3 * panel + 2 * PICTURE_GAP;
    uint8_t *out = malloc((size_t)(w * panel * 3));
    if (!out) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for SatMAE's picture");
    memset(out, 128, (size_t)(w * panel * 3));
    for (int c = 0; c < 3; c++) {
        int g, slot;
        if (!locate(s, bands, show[c], &g, &slot)) continue; /* a band no group holds stays grey */
        /* The target's range of this band sets the stretch of all three panels. */
        float lo = FLT_MAX, hi = -FLT_MAX;
        for (int64_t p = 0; p < s->per_image; p++)
            for (int64_t r = 0; r < s->patch; r++)
                for (int64_t q = 0; q < s->patch; q++) {
                    float v = patch_value(s, s->shown_target[g], g, slot, bands, p, r, q);
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
        float span = hi > lo ? hi - lo : 1.0f;
        for (int64_t p = 0; p < s->per_image; p++) {
            bool hidden = s->shown_removed[g * s->per_image + p] > 0.5f;
            int64_t top = (p / s->grid) * s->patch, left = (p % s->grid) * s->patch;
            for (int64_t r = 0; r < s->patch; r++)
                for (int64_t q = 0; q < s->patch; q++) {
                    float target = patch_value(s, s->shown_target[g], g, slot, bands, p, r, q);
                    float pred = patch_value(s, s->shown_pred[g], g, slot, bands, p, r, q);
                    float values[3] = {target, hidden ? pred : target, target};
                    for (int k = 0; k < 3; k++) {
                        if (k == 0 && hidden) continue; /* masked input: grey where the encoder saw nothing */
                        float t = (values[k] - lo) / span;
                        uint8_t byte = (uint8_t)(t <= 0 ? 0 : t >= 1 ? 255 : (int)(t * 255.0f + 0.5f));
                        for (int64_t dy = 0; dy < scale; dy++)
                            for (int64_t dx = 0; dx < scale; dx++) {
                                int64_t y = (top + r) * scale + dy, x = k * (panel + PICTURE_GAP) + (left + q) * scale + dx;
                                out[(y * w + x) * 3 + c] = byte;
                            }
                    }
                }
        }
    }
    *rgb = out;
    *width = (int)w;
    *height = (int)panel;
    return GS_OK;
}
