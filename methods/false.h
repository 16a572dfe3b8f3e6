/* FALSE's loss (false.c), exposed for tests. */
#ifndef GS_METHODS_FALSE_H
#define GS_METHODS_FALSE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/context.h"
#include "core/tensor.h"

typedef enum gs_false_mode {
    GS_FALSE_GLOBAL,     /* the released code: the closest pair(s) of the whole batch */
    GS_FALSE_PER_ANCHOR, /* one closest negative per anchor */
} gs_false_mode;

typedef struct gs_false_settings {
    gs_false_mode mode;
    float temperature;      /* T: similarities are exp(cos / T) */
    float alpha;            /* confidence weight: a calibrated pair counts alpha as positive, 1 - alpha as negative */
    float threshold;        /* calibrate only when the anchor's positive cosine is >= this (0.9) */
    bool released_sentinel; /* global mode: reproduce the released code's sentinel 3 (false.c) */
} gs_false_settings;

/* What the last selection found. */
typedef struct gs_false_stats {
    int selected;   /* (anchor, negative) pairs picked by the self-determination step */
    int calibrated; /* of those, the ones whose anchor passed the threshold (moved towards the positives) */
} gs_false_stats;

/* The false-negative self-determination step and the confidence
 * calibration on logits (R x R, cosine similarity / T; rows i and i + R/2
 * are the two views of one image): writes into weight (R x R) the share of
 * each entry counted as positive: 1 at each row's positive, alpha at each
 * calibrated pair, 0 elsewhere.  stats may be NULL.  False when out of
 * memory. */
bool gs_false_select(const float *logits, int64_t r, const gs_false_settings *s, float *weight,
                     gs_false_stats *stats);

/* The FALSE loss of logits = cos / T (R x R, on the tape):
 *   -1/R sum_i log( sum_j w_ij exp(l_ij) / sum_{j != i} exp(l_ij) )
 * with w from gs_false_select; rows without a calibrated pair are NT-Xent's. */
gs_tensor *gs_false_loss(gs_context *ctx, gs_tensor *logits, const gs_false_settings *s, gs_false_stats *stats);

struct gs_method;
/* What the last loss of a FALSE method (gs_method_false) selected. */
gs_false_stats gs_false_last_stats(const struct gs_method *m);

#endif
