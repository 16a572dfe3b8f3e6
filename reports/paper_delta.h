/* Paper reproduction: each of our leaderboard entries next to the published
 * number for the same method, evaluation data and metric, with the
 * difference and the setting fields (backbone, pretraining data, protocol,
 * label fraction) that differ.  A comparison only counts as a reproduction
 * when nothing differs. */
#ifndef GS_PAPER_DELTA_H
#define GS_PAPER_DELTA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "leaderboard.h"
#include "reference.h"

typedef struct gs_paper_comparison {
    const gs_leaderboard *board;
    const gs_leader_entry *ours;
    const gs_reference_row *paper;
    double difference;    /* ours - paper */
    bool settings_match;
    char differs[512];    /* "" or "backbone: ours resnet18, paper resnet50; ..." */
} gs_paper_comparison;

typedef struct gs_paper_comparisons {
    gs_paper_comparison *items;
    size_t n;
    size_t n_reference_unmatched; /* reference rows no entry was compared with */
} gs_paper_comparisons;

/* For each entry, the reference row of the same method, eval data and
 * metric with the fewest differing setting fields (the first such row in
 * the file on ties).  Entries with no such row are left out. */
gs_status gs_paper_compare(const gs_leaderboards *ours, const gs_reference *reference, gs_paper_comparisons *out,
                           gs_error *err);
void gs_paper_comparisons_free(gs_paper_comparisons *c);

#endif
