/* Published numbers to compare against (results/reference.csv): each row
 * is one number from one paper's table, with the setting it was measured
 * in and a citation.  Rows without paper, table or citation are rejected. */
#ifndef GS_REFERENCE_H
#define GS_REFERENCE_H

#include <stddef.h>

#include "core/error.h"
#include "csv_table.h"

#define GS_REFERENCE_N_COLUMNS 12
extern const char *const GS_REFERENCE_COLUMNS[GS_REFERENCE_N_COLUMNS];

typedef struct gs_reference_row {
    const char *method, *backbone, *pretrain_data, *eval_data, *protocol;
    double label_fraction;
    const char *metric;
    double value;
    const char *paper;    /* short name: "SSL4EO-S12 (Wang et al. 2023)" */
    const char *table;    /* where in the paper */
    const char *citation; /* full reference */
    const char *notes;    /* what else about the setting matters (splits, bands, epochs) */
    size_t line;
} gs_reference_row;

typedef struct gs_reference {
    gs_reference_row *rows;
    size_t n_rows;
    gs_csv_table table; /* owns the strings */
} gs_reference;

gs_status gs_reference_load(const char *path, gs_reference *out, gs_error *err);
void gs_reference_free(gs_reference *r);

#endif
