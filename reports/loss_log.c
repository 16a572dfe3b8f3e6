#include "loss_log.h"

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    enum { RUN_ID_SIZE = 256 };
    if (folder_log && !(out->folder_run_id = malloc(RUN_ID_SIZE)))
        s = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    if (out->folder_run_id) folder_name(path, out->folder_run_id, RUN_ID_SIZE);
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
        p->embedding_std = p->img_per_s = NAN;
        /* A diverged step may log "nan": kept, and drawn as a gap. */
        if (!gs_csv_parse_double(step, &p->step) || !gs_csv_parse_double(loss, &p->loss) ||
            (folder_log && (!gs_csv_parse_double(row->fields[4], &p->embedding_std) ||
                            !gs_csv_parse_double(row->fields[5], &p->img_per_s))))
            s = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: step, loss, embedding_std and img_per_s must be numbers",
                             path, row->line);
    }
    struct stat st;
    if (s == GS_OK && stat(path, &st) == 0) {
        out->file_device = (unsigned long long)st.st_dev;
        out->file_inode = (unsigned long long)st.st_ino;
    }
    if (s == GS_OK)
        out->n = n;
    else
        gs_loss_log_free(out);
    return s;
}

void gs_loss_log_free(gs_loss_log *log) {
    free(log->points);
    free(log->folder_run_id);
    gs_csv_table_free(&log->table);
    *log = (gs_loss_log){0};
}

bool gs_loss_log_run_starts_at(const gs_loss_log *log, size_t i) {
    const char *run = log->points[i].run_id;
    if (i && !strcmp(log->points[i - 1].run_id, run)) return false;
    for (size_t j = 0; j < i; j++) {
        bool starts = !j || strcmp(log->points[j - 1].run_id, log->points[j].run_id);
        if (starts && !strcmp(log->points[j].run_id, run)) return false;
    }
    return true;
}

void gs_loss_logs_free(gs_loss_logs *logs) {
    for (size_t i = 0; i < logs->n; i++) gs_loss_log_free(&logs->logs[i]);
    free(logs->logs);
    *logs = (gs_loss_logs){0};
}

gs_status gs_loss_logs_add(gs_loss_logs *logs, const char *path, gs_error *err) {
    gs_loss_log *grown = realloc(logs->logs, (logs->n + 1) * sizeof *grown);
    if (!grown) return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    logs->logs = grown;
    gs_status s = gs_loss_log_load(path, &logs->logs[logs->n], err);
    if (s == GS_OK) logs->n++;
    return s;
}

static bool already_read(const gs_loss_logs *logs, const struct stat *st) {
    for (size_t i = 0; i < logs->n; i++)
        if (logs->logs[i].file_device == (unsigned long long)st->st_dev &&
            logs->logs[i].file_inode == (unsigned long long)st->st_ino)
            return true;
    return false;
}

/* Whether the file starts as a pretraining run's log does. */
static bool run_log_header(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char line[64] = "";
    bool yes = fgets(line, sizeof line, f) && !strncmp(line, "step,epoch,loss,", 16);
    fclose(f);
    return yes;
}

typedef struct path_list {
    char **items;
    size_t n;
    bool failed;
} path_list;

/* Adds DIR/<each subfolder>/log.csv that exists to `found`. */
static void list_run_logs(const char *dir, path_list *found) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && !found->failed) {
        if (e->d_name[0] == '.') continue;
        size_t need = strlen(dir) + strlen(e->d_name) + 16;
        char *path = malloc(need);
        char **grown = path ? realloc(found->items, (found->n + 1) * sizeof *grown) : NULL;
        if (!grown) {
            free(path);
            found->failed = true;
            break;
        }
        found->items = grown;
        snprintf(path, need, "%s/%s/log.csv", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            found->items[found->n++] = path;
        else
            free(path);
    }
    closedir(d);
}

static int by_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

gs_status gs_loss_logs_discover(gs_loss_logs *logs, const char *results_path, gs_error *err) {
    char dir[4096], pretrain[4200];
    snprintf(dir, sizeof dir, "%s", results_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(pretrain, sizeof pretrain, "%s/pretrain", dir);
    path_list found = {0};
    list_run_logs(dir, &found);
    list_run_logs(pretrain, &found);
    gs_status s = found.failed ? gs_error_set(err, GS_ERR_MEMORY, "report: out of memory listing run folders") : GS_OK;
    if (found.n) qsort(found.items, found.n, sizeof *found.items, by_path);
    for (size_t i = 0; i < found.n && s == GS_OK; i++) {
        struct stat st;
        if (stat(found.items[i], &st) != 0 || already_read(logs, &st) || !run_log_header(found.items[i])) continue;
        gs_error local = {0};
        gs_status r = gs_loss_logs_add(logs, found.items[i], &local);
        if (r == GS_ERR_MEMORY) s = gs_error_set(err, r, "%s", local.message);
        else if (r != GS_OK && !logs->n_unreadable++)
            snprintf(logs->unreadable, sizeof logs->unreadable, "%s", local.message);
    }
    for (size_t i = 0; i < found.n; i++) free(found.items[i]);
    free(found.items);
    return s;
}
