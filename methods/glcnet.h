/* GLCNet (glcnet.c): the region matcher, the loss and hooks, exposed for tests. */
#ifndef GS_METHODS_GLCNET_H
#define GS_METHODS_GLCNET_H

#include <stdbool.h>
#include <stdint.h>

#include "augment.h"
#include "core/context.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "ops/box_pool.h"

/* The side of the matched regions for views of `image_size` pixels: 48 at
 * 224 (the released default), scaled and rounded, at least 1. */
int gs_glcnet_patch_size(int image_size);

/* Draws `count` pairs of matched patch x patch regions of one image's two
 * views: view 1 of h1 x w1 pixels made by rec1, view 2 of h2 x w2 by rec2
 * (crop box, flips, quarter turns: gs_augment_to_source's geometry).  The
 * i-th box of view 1 and the i-th box of view 2 are centred on the same
 * source point; when both views keep the source's scale (a flip, a turn, a
 * crop of the output's size) they cover exactly the same source pixels.
 * Each region's centre is drawn uniformly among the view-1 windows whose
 * centre maps inside view 2's interior (where a whole window fits), avoiding
 * the centres of the windows drawn before (as the released code removes
 * them, up to 64 redraws).  When the two interiors share no source point (two
 * thin crops at opposite edges), the view-1 centre nearest to view 2's
 * interior is taken and view 2's window is pushed inside its image: such a
 * pair only partly overlaps.  Boxes are written with `sample` as their
 * sample index.  Returns how many of the `count` pairs are exact matches
 * (count, unless that fallback was needed), or -1 when a view is smaller
 * than the patch. */
int gs_glcnet_match_regions(const gs_augment_record *rec1, int h1, int w1, const gs_augment_record *rec2, int h2,
                            int w2, int patch, int count, int32_t sample, gs_rng *rng, gs_box *boxes1,
                            gs_box *boxes2);

/* NT-Xent over z (2R, D): rows i and i + R are a positive pair; cosine
 * similarities / temperature; the diagonal is left out.  With
 * positive_in_denominator false (GLCNet's released loss) row i is
 * -log( exp(s_ip) / sum_{j != i, p} exp(s_ij) ); true gives SimCLR's
 * (gs_nt_xent). */
gs_tensor *gs_glcnet_nt_xent(gs_context *ctx, gs_tensor *z, float temperature, bool positive_in_denominator);

struct gs_method;
/* Regions for the next loss only (tests): n = batch x patches pairs, sample
 * major, boxes1 in view 1 and boxes2 in view 2.  Without them the loss
 * matches regions itself: from m->batch's records in pretraining, else
 * for two views of identical geometry. */
gs_status gs_glcnet_set_regions(gs_context *ctx, struct gs_method *m, const gs_box *boxes1, const gs_box *boxes2,
                                int64_t n);

/* What the last loss of a GLCNet method computed. */
typedef struct gs_glcnet_stats {
    float global_loss, local_loss;
    int regions;   /* matched pairs (batch x patches) */
    int unmatched; /* of those, pairs whose views' interiors shared no source point (the fallback) */
    int grayed;    /* second views turned to one band copied into all */
} gs_glcnet_stats;
gs_glcnet_stats gs_glcnet_last_stats(const struct gs_method *m);

/* Band-to-gray on n images of `bands` planes of `plane` values each: every
 * image with probability p gets one band, drawn uniformly, copied into all
 * bands.  Returns how many were changed. */
int gs_glcnet_band_to_gray(float *x, int64_t n, int bands, int64_t plane, float p, gs_rng *rng);

#endif
