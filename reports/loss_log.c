#include "loss_log.h"

#include <stdlib.h>

gs_status gs_loss_log_load(const char *path, gs_loss_log *out, gs_error *err) {
    static const char *const COLUMNS[] = {"run_id", "step", "loss"};
    *out = (gs_loss_log){0};
    gs_status s = gs_csv_read_file(path, &out->table, err);
    if (s == GS_OK) s = gs_csv_expect_header(&out->table, path, COLUMNS, 3, err);
    size_t n = s == GS_OK ? out->table.n_rows - 1 : 0;
    if (n) {
        out->points = calloc(n, sizeof *out->points);
        if (!out->points) s = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; s == GS_OK && i < n; i++) {
        const gs_csv_row *row = &out->table.rows[i + 1];
        gs_loss_point *p = &out->points[i];
        p->run_id = row->fields[0];
        /* A diverged step may log "nan": kept, and drawn as a gap. */
        if (!gs_csv_parse_double(row->fields[1], &p->step) || !gs_csv_parse_double(row->fields[2], &p->loss))
            s = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: step and loss must be numbers", path, row->line);
    }
    if (s == GS_OK)
        out->n = n;
    else
        gs_loss_log_free(out);
    return s;
}

void gs_loss_log_free(gs_loss_log *log) {
    free(log->points);
    gs_csv_table_free(&log->table);
    *log = (gs_loss_log){0};
}
