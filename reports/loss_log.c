#include "loss_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name of the folder holding path ("runs/simclr/log.csv" -> "simclr"). */
static void folder_name(const char *path, char *out, size_t size) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    char *slash = strrchr(copy, '/');
    if (!slash) {
        snprintf(out, size, "run");
        return;
    }
    *slash = '\0';
    while (slash > copy && slash[-1] == '/') *--slash = '\0';
    const char *name = strrchr(copy, '/');
    snprintf(out, size, "%.200s", name ? name + 1 : copy[0] ? copy : "run");
}

static bool run_folder_log(const gs_csv_table *t) {
    return t->n_rows > 0 && t->rows[0].n_fields >= 3 && !strcmp(t->rows[0].fields[0], "step") &&
           !strcmp(t->rows[0].fields[1], "epoch") && !strcmp(t->rows[0].fields[2], "loss");
}

gs_status gs_loss_log_load(const char *path, gs_loss_log *out, gs_error *err) {
    static const char *const COLUMNS[] = {"run_id", "step", "loss"};
    static const char *const RUN_COLUMNS[] = {"step", "epoch", "loss", "lr", "embedding_std", "img_per_s"};
    *out = (gs_loss_log){0};
    gs_status s = gs_csv_read_file(path, &out->table, err);
    bool folder_log = s == GS_OK && run_folder_log(&out->table);
    if (s == GS_OK) s = gs_csv_expect_header(&out->table, path, folder_log ? RUN_COLUMNS : COLUMNS, folder_log ? 6 : 3, err);
    if (folder_log) folder_name(path, out->folder_run_id, sizeof out->folder_run_id);
    size_t n = s == GS_OK ? out->table.n_rows - 1 : 0;
    if (n) {
        out->points = calloc(n, sizeof *out->points);
        if (!out->points) s = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; s == GS_OK && i < n; i++) {
        const gs_csv_row *row = &out->table.rows[i + 1];
        gs_loss_point *p = &out->points[i];
        p->run_id = folder_log ? out->folder_run_id : row->fields[0];
        const char *step = row->fields[folder_log ? 0 : 1], *loss = row->fields[2];
        /* A diverged step may log "nan": kept, and drawn as a gap. */
        if (!gs_csv_parse_double(step, &p->step) || !gs_csv_parse_double(loss, &p->loss))
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
