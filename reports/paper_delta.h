/* Paper reproduction: every published number whose method, backbone,
 * evaluation data and protocol we measured, next to our closest measurement
 * of its metric, with the difference and the setting fields (pretraining
 * data, label fraction) that differ; where we did not measure that metric
 * there, the row says so and has no difference.  A comparison only counts as a
 * reproduction when nothing differs.  Published numbers for anything we did
 * not measure are only counted: the reference file holds numbers for
 * datasets we never evaluate, kept to check the methods against. */
#ifndef GS_PAPER_DELTA_H
#define GS_PAPER_DELTA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "leaderboard.h"
#include "reference.h"

typedef struct gs_paper_comparison {
    const gs_leaderboard *board;
    const gs_leader_entry *ours; /* NULL: we measured this method there, but not this metric */
    const gs_reference_row *paper;
    double difference;    /* ours - paper; NAN without ours */
    bool settings_match;
    char differs[512];    /* "" or "pretrain_data: ours eurosat-rgb, paper ssl4eo-s12; ..." */
} gs_paper_comparison;

typedef struct gs_paper_comparisons {
    gs_paper_comparison *items; /* in reference-file order */
    size_t n;
    size_t n_reference_unmatched; /* reference rows with no measurement of ours to compare with */
} gs_paper_comparisons;

/* For each reference row, the entry of the same method, backbone, eval
 * data, protocol and metric with the fewest differing setting fields, the
 * nearest label fraction on ties (then the first in board order); failing
 * that, any board of ours with that method, backbone, data and protocol. */
gs_status gs_paper_compare(const gs_leaderboards *ours, const gs_reference *reference, gs_paper_comparisons *out,
                           gs_error *err);
void gs_paper_comparisons_free(gs_paper_comparisons *c);

#endif
