#include "reference.h"

#include <stdlib.h>

const char *const GS_REFERENCE_COLUMNS[GS_REFERENCE_N_COLUMNS] = {
    "method", "backbone", "pretrain_data", "eval_data", "protocol", "label_fraction",
    "metric", "value",    "paper",         "table",     "citation", "notes"};

enum { R_METHOD, R_BACKBONE, R_PRETRAIN, R_EVAL, R_PROTOCOL, R_FRACTION, R_METRIC, R_VALUE, R_PAPER, R_TABLE,
       R_CITATION, R_NOTES };

static gs_status parse_row(const gs_csv_row *row, const char *path, gs_reference_row *out, gs_error *err) {
    char *const *f = row->fields;
    double fraction, value;
    if (!gs_csv_parse_double(f[R_FRACTION], &fraction) || !(fraction > 0 && fraction <= 1))
        return gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: label_fraction '%s' is not a number in (0, 1]", path,
                            row->line, f[R_FRACTION]);
    if (!gs_csv_parse_double(f[R_VALUE], &value))
        return gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: value '%s' is not a number", path, row->line, f[R_VALUE]);
    static const int required[] = {R_METHOD, R_BACKBONE, R_EVAL, R_PROTOCOL, R_METRIC, R_PAPER, R_TABLE, R_CITATION};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!f[required[i]][0])
            return gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: %s is empty; every reference number needs its setting "
                                "and a citation", path, row->line, GS_REFERENCE_COLUMNS[required[i]]);
    *out = (gs_reference_row){.method = f[R_METHOD], .backbone = f[R_BACKBONE], .pretrain_data = f[R_PRETRAIN],
                              .eval_data = f[R_EVAL], .protocol = f[R_PROTOCOL], .label_fraction = fraction,
                              .metric = f[R_METRIC], .value = value, .paper = f[R_PAPER], .table = f[R_TABLE],
                              .citation = f[R_CITATION], .notes = f[R_NOTES], .line = row->line};
    return GS_OK;
}

gs_status gs_reference_load(const char *path, gs_reference *out, gs_error *err) {
    *out = (gs_reference){0};
    gs_status s = gs_csv_read_file(path, &out->table, err);
    if (s == GS_OK) s = gs_csv_expect_header(&out->table, path, GS_REFERENCE_COLUMNS, GS_REFERENCE_N_COLUMNS, err);
    size_t n = s == GS_OK ? out->table.n_rows - 1 : 0;
    if (s == GS_OK && n) {
        out->rows = calloc(n, sizeof *out->rows);
        if (!out->rows) s = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; s == GS_OK && i < n; i++) s = parse_row(&out->table.rows[i + 1], path, &out->rows[i], err);
    if (s == GS_OK)
        out->n_rows = n;
    else
        gs_reference_free(out);
    return s;
}

void gs_reference_free(gs_reference *r) {
    free(r->rows);
    gs_csv_table_free(&r->table);
    *r = (gs_reference){0};
}
