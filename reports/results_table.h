/* The table a report opens with, in the shape papers print: one row per
 * method, backbone and pretraining data; one column per evaluation dataset,
 * protocol and label fraction, holding that column's headline metric (in %)
 * as mean ± std over seeds.  The random-init baseline is a row like any
 * other (first, as papers put their baselines), the best of our rows in each
 * column is marked, and published numbers for the same dataset, protocol,
 * label fraction and metric follow as their own rows, marked as published.
 * The same table is written as CSV beside the report. */
#ifndef GS_RESULTS_TABLE_H
#define GS_RESULTS_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "leaderboard.h"
#include "reference.h"
#include "text_buffer.h"

typedef struct gs_results_column {
    const char *eval_data, *protocol, *metric;
    double label_fraction;
} gs_results_column;

typedef struct gs_results_cell {
    double mean, std; /* a published number has no std: NAN */
    int n_seeds;      /* ours: seeds averaged; published: 1; 0: no number in this column */
    bool best;        /* the best of our rows in its column (ties all marked) */
} gs_results_cell;

typedef struct gs_results_row {
    const char *method, *backbone, *pretrain_data;
    const gs_reference_row *published; /* NULL: measured by us; else the first reference row of this row */
    gs_results_cell *cells;            /* one per column */
} gs_results_row;

typedef struct gs_results_table {
    gs_results_column *columns;
    size_t n_columns;
    gs_results_row *rows; /* ours (random init first, then by name), then published in reference-file order */
    size_t n_rows, n_ours;
    size_t n_published_not_shown; /* reference numbers for columns this table does not have */
    gs_results_cell *cell_storage;
} gs_results_table;

/* `reference` may be NULL.  Strings point into the leaderboards' results
 * and the reference, which must outlive the table.  Columns come from the
 * headline boards (top1, miou, map_micro, map_macro: the first measured, in
 * that order, per dataset, protocol and fraction) and from published
 * numbers for datasets we evaluated on, so a paper's fine-tuning number
 * shows next to our linear probe of the same dataset. */
gs_status gs_results_table_build(const gs_leaderboards *boards, const gs_reference *reference,
                                 gs_results_table *out, gs_error *err);
void gs_results_table_free(gs_results_table *t);

/* "eurosat-rgb · kNN · 100% labels · top-1 (%)" */
void gs_results_column_label(char *buf, size_t size, const gs_results_column *c);
/* "random init" for the baseline, the method's name otherwise. */
const char *gs_results_row_method(const gs_results_row *r);
/* "geossl, 3 seeds", "geossl, 1-3 seeds" or "published: <paper>". */
void gs_results_row_source(char *buf, size_t size, const gs_results_table *t, const gs_results_row *r);

/* The table as CSV: method, backbone, pretrain_data, source, then per
 * column its mean, std and seeds (empty where there is no number). */
void gs_results_table_csv(const gs_results_table *t, gs_text *out);

#endif
