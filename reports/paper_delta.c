#include "paper_delta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * paper's number a different experiment from ours. */
static int count_differences(const gs_leaderboard *b, const gs_leader_entry *e, const gs_reference_row *r,
                             char *text, size_t size) {
    int n = 0;
    size_t used = 0;
    if (text && size) text[0] = '\0';
    if (strcmp(e->backbone, r->backbone)) note_difference(&n, text, size, &used, "backbone", e->backbone, r->backbone);
    if (strcmp(e->pretrain_data, r->pretrain_data))
        note_difference(&n, text, size, &used, "pretrain_data", e->pretrain_data, r->pretrain_data);
    if (strcmp(b->protocol, r->protocol)) note_difference(&n, text, size, &used, "protocol", b->protocol, r->protocol);
    if (!gs_label_fraction_equal(b->label_fraction, r->label_fraction)) {
        char ours[GS_DOUBLE_TEXT_SIZE], theirs[GS_DOUBLE_TEXT_SIZE];
        gs_format_double(ours, b->label_fraction);
        gs_format_double(theirs, r->label_fraction);
        note_difference(&n, text, size, &used, "label_fraction", ours, theirs);
    }
    return n;
}

void gs_paper_comparisons_free(gs_paper_comparisons *c) {
    free(c->items);
    *c = (gs_paper_comparisons){0};
}

gs_status gs_paper_compare(const gs_leaderboards *ours, const gs_reference *reference, gs_paper_comparisons *out,
                           gs_error *err) {
    *out = (gs_paper_comparisons){0};
    size_t n_entries = 0;
    for (size_t i = 0; i < ours->n_boards; i++) n_entries += ours->boards[i].n_entries;
    bool *used = calloc(reference->n_rows ? reference->n_rows : 1, sizeof *used);
    out->items = n_entries ? calloc(n_entries, sizeof *out->items) : NULL;
    if (!used || (n_entries && !out->items)) {
        free(used);
        gs_paper_comparisons_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "paper comparison: out of memory");
    }
    for (size_t i = 0; i < ours->n_boards; i++) {
        const gs_leaderboard *b = &ours->boards[i];
        for (size_t j = 0; j < b->n_entries; j++) {
            const gs_leader_entry *e = &b->entries[j];
            size_t best = reference->n_rows;
            int best_diff = 1 << 30;
            for (size_t k = 0; k < reference->n_rows; k++) {
                const gs_reference_row *r = &reference->rows[k];
                if (strcmp(r->method, e->method) || strcmp(r->eval_data, b->eval_data) || strcmp(r->metric, b->metric))
                    continue;
                int d = count_differences(b, e, r, NULL, 0);
                if (d < best_diff) {
                    best_diff = d;
                    best = k;
                }
            }
            if (best == reference->n_rows) continue;
            gs_paper_comparison *c = &out->items[out->n++];
            c->board = b;
            c->ours = e;
            c->paper = &reference->rows[best];
            c->difference = e->mean - c->paper->value;
            c->settings_match = count_differences(b, e, c->paper, c->differs, sizeof c->differs) == 0;
            used[best] = true;
        }
    }
    for (size_t k = 0; k < reference->n_rows; k++) out->n_reference_unmatched += !used[k];
    free(used);
    return GS_OK;
}
