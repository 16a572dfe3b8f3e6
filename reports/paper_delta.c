#include "paper_delta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric_units.h"

/* Appends "field: ours X, paper Y" to the list of differences. */
static void note_difference(int *n, char *text, size_t size, size_t *used, const char *field, const char *ours,
                            const char *theirs) {
    ++*n;
    if (!text || *used >= size) return;
    /* A long list is cut at the end of `text`, and *used then stops at size;
     * a value is shown up to 64 characters (names and fractions are short). */
    int wanted = snprintf(text + *used, size - *used, "%s%s: ours %.64s, paper %.64s", *n > 1 ? "; " : "", field,
                          ours, theirs);
    if (wanted > 0) *used += (size_t)wanted < size - *used ? (size_t)wanted : size - *used;
}

/* Counts (and, given `text`, describes) the setting fields that make the
 * paper's number a different experiment from ours; method, backbone, data,
 * protocol and metric are the same by construction. */
static int count_differences(const gs_leaderboard *b, const gs_leader_entry *e, const gs_reference_row *r,
                             char *text, size_t size) {
    int n = 0;
    size_t used = 0;
    if (text && size) text[0] = '\0';
    if (strcmp(e->pretrain_data, r->pretrain_data))
        note_difference(&n, text, size, &used, "pretraining data", e->pretrain_data[0] ? e->pretrain_data : "none",
                        r->pretrain_data[0] ? r->pretrain_data : "none");
    if (!gs_label_fraction_equal(b->label_fraction, r->label_fraction)) {
        char ours[32], theirs[32];
        gs_format_fraction(ours, sizeof ours, b->label_fraction);
        gs_format_fraction(theirs, sizeof theirs, r->label_fraction);
        note_difference(&n, text, size, &used, "labels", ours, theirs);
    }
    return n;
}

static bool comparable(const gs_leaderboard *b, const gs_leader_entry *e, const gs_reference_row *r) {
    return !strcmp(r->method, e->method) && !strcmp(r->backbone, e->backbone) && !strcmp(r->eval_data, b->eval_data) &&
           !strcmp(r->protocol, b->protocol) && !strcmp(r->metric, b->metric);
}

/* A whole-dataset board of ours for the paper's method, backbone, data and
 * protocol, whatever its metric (the closest label fraction), or NULL. */
static const gs_leaderboard *measured_elsewhere(const gs_leaderboards *ours, const gs_reference_row *r) {
    const gs_leaderboard *found = NULL;
    double found_gap = 0;
    for (size_t i = 0; i < ours->n_boards; i++) {
        const gs_leaderboard *b = &ours->boards[i];
        gs_metric_tier tier = gs_metric_tier_of(b->metric);
        if (tier == GS_METRIC_PER_CLASS || tier == GS_METRIC_DIAGNOSTIC || strcmp(b->eval_data, r->eval_data) ||
            strcmp(b->protocol, r->protocol))
            continue;
        for (size_t j = 0; j < b->n_entries; j++) {
            if (strcmp(b->entries[j].method, r->method) || strcmp(b->entries[j].backbone, r->backbone)) continue;
            double gap = fabs(log(b->label_fraction / r->label_fraction));
            if (!found || gap < found_gap) {
                found = b;
                found_gap = gap;
            }
        }
    }
    return found;
}

void gs_paper_comparisons_free(gs_paper_comparisons *c) {
    free(c->items);
    *c = (gs_paper_comparisons){0};
}

gs_status gs_paper_compare(const gs_leaderboards *ours, const gs_reference *reference, gs_paper_comparisons *out,
                           gs_error *err) {
    *out = (gs_paper_comparisons){0};
    out->items = reference->n_rows ? calloc(reference->n_rows, sizeof *out->items) : NULL;
    if (reference->n_rows && !out->items) return gs_error_set(err, GS_ERR_MEMORY, "paper comparison: out of memory");
    for (size_t k = 0; k < reference->n_rows; k++) {
        const gs_reference_row *r = &reference->rows[k];
        const gs_leaderboard *best_board = NULL;
        const gs_leader_entry *best = NULL;
        int best_diff = 0;
        double best_gap = 0;
        for (size_t i = 0; i < ours->n_boards; i++) {
            const gs_leaderboard *b = &ours->boards[i];
            for (size_t j = 0; j < b->n_entries; j++) {
                if (!comparable(b, &b->entries[j], r)) continue;
                int d = count_differences(b, &b->entries[j], r, NULL, 0);
                double gap = fabs(log(b->label_fraction / r->label_fraction));
                if (!best || d < best_diff || (d == best_diff && gap < best_gap)) {
                    best_board = b;
                    best = &b->entries[j];
                    best_diff = d;
                    best_gap = gap;
                }
            }
        }
        if (!best) {
            const gs_leaderboard *other = measured_elsewhere(ours, r);
            if (!other) {
                out->n_reference_unmatched++;
                continue;
            }
            gs_paper_comparison *c = &out->items[out->n++];
            *c = (gs_paper_comparison){.board = other, .paper = r, .difference = NAN};
            snprintf(c->differs, sizeof c->differs, "metric: we did not measure %.64s there", r->metric);
            continue;
        }
        gs_paper_comparison *c = &out->items[out->n++];
        c->board = best_board;
        c->ours = best;
        c->paper = r;
        c->difference = best->mean - r->value;
        c->settings_match = count_differences(best_board, best, r, c->differs, sizeof c->differs) == 0;
    }
    return GS_OK;
}
