#include "results_store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const GS_RESULTS_COLUMNS[GS_RESULTS_N_COLUMNS] = {
    "run_id", "method",     "backbone",    "pretrain_data", "eval_data", "protocol", "label_fraction", "seed",
    "metric", "value",      "git_commit",  "config_hash",   "threads",   "date",     "wall_time_s",    "cpu",
    "settings"};

enum { C_RUN, C_METHOD, C_BACKBONE, C_PRETRAIN, C_EVAL, C_PROTOCOL, C_FRACTION, C_SEED,
       C_METRIC, C_VALUE, C_COMMIT, C_HASH, C_THREADS, C_DATE, C_WALL, C_CPU, C_SETTINGS };

bool gs_label_fraction_equal(double a, double b) {
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static bool fraction_valid(double f) { return f > 0.0 && f <= 1.0 + 1e-12; }

/* ---- reading ---- */

static gs_status field_error(gs_error *err, const char *name, const gs_csv_row *row, int col, const char *want) {
    return gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: column %s: '%s' is not %s", name, row->line,
                        GS_RESULTS_COLUMNS[col], row->fields[col], want);
}

static gs_status row_from_fields(const gs_csv_row *row, const char *name, gs_result_row *out, gs_error *err) {
    char *const *f = row->fields;
    long long seed, threads;
    double fraction, value, wall;
    if (!gs_csv_parse_double(f[C_FRACTION], &fraction) || !fraction_valid(fraction))
        return field_error(err, name, row, C_FRACTION, "a number in (0, 1]");
    if (!gs_csv_parse_int(f[C_SEED], &seed)) return field_error(err, name, row, C_SEED, "an integer");
    if (!gs_csv_parse_double(f[C_VALUE], &value)) return field_error(err, name, row, C_VALUE, "a number");
    if (!gs_csv_parse_int(f[C_THREADS], &threads) || threads < 0 || threads > 1 << 20)
        return field_error(err, name, row, C_THREADS, "a thread count");
    if (!gs_csv_parse_double(f[C_WALL], &wall) || !(wall >= 0))
        return field_error(err, name, row, C_WALL, "a non-negative number of seconds");
    static const int required[] = {C_METHOD, C_BACKBONE, C_EVAL, C_PROTOCOL, C_METRIC};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!f[required[i]][0])
            return gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: column %s is empty", name, row->line,
                                GS_RESULTS_COLUMNS[required[i]]);
    *out = (gs_result_row){
        .run_id = f[C_RUN], .method = f[C_METHOD], .backbone = f[C_BACKBONE], .pretrain_data = f[C_PRETRAIN],
        .eval_data = f[C_EVAL], .protocol = f[C_PROTOCOL], .label_fraction = fraction, .seed = seed,
        .metric = f[C_METRIC], .value = value, .git_commit = f[C_COMMIT], .config_hash = f[C_HASH],
        .threads = (int)threads, .date = f[C_DATE], .wall_time_s = wall, .cpu = f[C_CPU],
        .settings = row->n_fields > C_SETTINGS ? f[C_SETTINGS] : "", .line = row->line};
    return GS_OK;
}

/* True when the header is the one before the settings column. */
static bool legacy_header(const gs_csv_table *t) {
    if (t->n_rows == 0 || t->rows[0].n_fields != GS_RESULTS_N_LEGACY_COLUMNS) return false;
    for (size_t i = 0; i < GS_RESULTS_N_LEGACY_COLUMNS; i++)
        if (strcmp(t->rows[0].fields[i], GS_RESULTS_COLUMNS[i])) return false;
    return true;
}

static gs_status rows_from_table(gs_results *out, const char *name, gs_error *err) {
    gs_status s = gs_csv_expect_header(&out->table, name, GS_RESULTS_COLUMNS,
                                       legacy_header(&out->table) ? GS_RESULTS_N_LEGACY_COLUMNS : GS_RESULTS_N_COLUMNS,
                                       err);
    if (s != GS_OK) return s;
    size_t n = out->table.n_rows - 1;
    out->rows = n ? calloc(n, sizeof *out->rows) : NULL;
    if (n && !out->rows) return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", name);
    for (size_t i = 0; i < n; i++) {
        s = row_from_fields(&out->table.rows[i + 1], name, &out->rows[i], err);
        if (s != GS_OK) return s;
    }
    out->n_rows = n;
    return GS_OK;
}

gs_status gs_results_parse(const char *text, size_t len, const char *name, gs_results *out, gs_error *err) {
    *out = (gs_results){0};
    gs_status s = gs_csv_parse(text, len, name, &out->table, err);
    if (s == GS_OK) s = rows_from_table(out, name, err);
    if (s != GS_OK) gs_results_free(out);
    return s;
}

gs_status gs_results_load(const char *path, gs_results *out, gs_error *err) {
    *out = (gs_results){0};
    gs_status s = gs_csv_read_file(path, &out->table, err);
    if (s == GS_OK) s = rows_from_table(out, path, err);
    if (s != GS_OK) gs_results_free(out);
    return s;
}

gs_status gs_results_load_existing(const char *path, gs_results *out, gs_error *err) {
    *out = (gs_results){0};
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return GS_OK;
    return gs_results_load(path, out, err);
}

void gs_results_free(gs_results *r) {
    free(r->rows);
    gs_csv_table_free(&r->table);
    *r = (gs_results){0};
}

bool gs_results_has_cell(const gs_results *r, const gs_result_cell *c) {
    for (size_t i = 0; i < r->n_rows; i++) {
        const gs_result_row *x = &r->rows[i];
        if (x->seed == c->seed && gs_label_fraction_equal(x->label_fraction, c->label_fraction) &&
            !strcmp(x->method, c->method) && !strcmp(x->backbone, c->backbone) &&
            !strcmp(x->pretrain_data, c->pretrain_data) && !strcmp(x->eval_data, c->eval_data) &&
            !strcmp(x->protocol, c->protocol))
            return true;
    }
    return false;
}

static bool same(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

bool gs_result_same_key(const gs_result_row *a, const gs_result_row *b) {
    return a->seed == b->seed && gs_label_fraction_equal(a->label_fraction, b->label_fraction) &&
           same(a->method, b->method) && same(a->backbone, b->backbone) &&
           same(a->pretrain_data, b->pretrain_data) && same(a->eval_data, b->eval_data) &&
           same(a->protocol, b->protocol) && same(a->settings, b->settings) &&
           (!a->metric || !b->metric || same(a->metric, b->metric));
}

const gs_result_row *gs_results_find_key(const gs_results *r, const gs_result_row *row) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (gs_result_same_key(&r->rows[i], row)) return &r->rows[i];
    return NULL;
}

/* ---- appending ---- */

static const char *or_empty(const char *s) { return s ? s : ""; }

static gs_status format_rows(const gs_result_row *rows, size_t n, bool with_header, gs_text *out, gs_error *err) {
    if (with_header) gs_csv_append_row(out, GS_RESULTS_COLUMNS, GS_RESULTS_N_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        const gs_result_row *r = &rows[i];
        const char *need[] = {r->method, r->backbone, r->eval_data, r->protocol, r->metric};
        for (size_t k = 0; k < sizeof need / sizeof *need; k++)
            if (!need[k] || !need[k][0])
                return gs_error_set(err, GS_ERR_ARGUMENT,
                                    "results: row %zu has an empty method, backbone, eval_data, protocol or metric", i);
        if (!fraction_valid(r->label_fraction) || r->threads < 0 || !(r->wall_time_s >= 0))
            return gs_error_set(err, GS_ERR_ARGUMENT,
                                "results: row %zu: label_fraction must be in (0, 1], threads and wall_time_s >= 0", i);
        char fraction[GS_DOUBLE_TEXT_SIZE], seed[32], value[GS_DOUBLE_TEXT_SIZE], threads[32], wall[GS_DOUBLE_TEXT_SIZE];
        gs_format_double(fraction, r->label_fraction);
        snprintf(seed, sizeof seed, "%lld", r->seed);
        gs_format_double(value, r->value);
        snprintf(threads, sizeof threads, "%d", r->threads);
        gs_format_double(wall, r->wall_time_s);
        const char *fields[GS_RESULTS_N_COLUMNS] = {
            or_empty(r->run_id), r->method, r->backbone, or_empty(r->pretrain_data), r->eval_data, r->protocol,
            fraction, seed, r->metric, value, or_empty(r->git_commit), or_empty(r->config_hash), threads,
            or_empty(r->date), wall, or_empty(r->cpu), or_empty(r->settings)};
        gs_csv_append_row(out, fields, GS_RESULTS_N_COLUMNS);
    }
    if (!gs_text_ok(out)) return gs_error_set(err, GS_ERR_MEMORY, "results: out of memory formatting rows");
    return GS_OK;
}

static int lock_file(int fd) {
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int rc;
    while ((rc = fcntl(fd, F_SETLKW, &lock)) != 0 && errno == EINTR) {
    }
    return rc;
}

/* Reads the locked file through its own descriptor: closing any other
 * descriptor of the file would drop our fcntl lock. */
static gs_status read_locked(int fd, const char *path, size_t size, gs_text *out, gs_error *err) {
    char buf[65536];
    size_t done = 0;
    while (done < size) {
        size_t want = size - done < sizeof buf ? size - done : sizeof buf;
        ssize_t got = pread(fd, buf, want, (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return gs_error_set(err, GS_ERR_IO, "%s: read error (%s)", path, strerror(errno));
        gs_text_append_n(out, buf, (size_t)got);
        done += (size_t)got;
    }
    if (!gs_text_ok(out)) return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory reading the file", path);
    return GS_OK;
}

/* Reads and parses what the locked file holds; `existing` owns the rows
 * (free with gs_results_free) whenever this returns GS_OK. */
static gs_status load_existing(int fd, const char *path, size_t size, gs_results *existing, gs_error *err) {
    *existing = (gs_results){0};
    gs_text text = {0};
    gs_status s = read_locked(fd, path, size, &text, err);
    if (s == GS_OK && text.data[text.len - 1] != '\n') {
        size_t line = 1;
        for (size_t i = 0; i < text.len; i++) line += text.data[i] == '\n';
        s = gs_error_set(err, GS_ERR_FORMAT,
                         "%s:%zu: the last row has no line end (an interrupted write?); fix it by hand, "
                         "nothing was appended",
                         path, line);
    }
    if (s == GS_OK) s = gs_results_parse(text.data, text.len, path, existing, err);
    gs_text_free(&text);
    return s;
}

static gs_status check_existing(int fd, const char *path, size_t size, gs_error *err) {
    gs_results existing;
    gs_status s = load_existing(fd, path, size, &existing, err);
    gs_results_free(&existing);
    return s;
}

gs_status gs_results_check_appendable(const char *path, gs_error *err) {
    char folder[4096];
    int n = snprintf(folder, sizeof folder, "%s", path);
    if (n < 0 || (size_t)n >= sizeof folder) return gs_error_set(err, GS_ERR_ARGUMENT, "%.200s...: path too long", path);
    char *slash = strrchr(folder, '/');
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else if (slash == folder)
        folder[1] = '\0'; /* "/results.csv" */
    else
        *slash = '\0';
    struct stat st;
    if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
        return gs_error_set(err, GS_ERR_IO, "%s: the folder %s does not exist", path, folder);
    if (access(folder, W_OK | X_OK) != 0)
        return gs_error_set(err, GS_ERR_IO, "%s: the folder %s is not writable (%s)", path, folder, strerror(errno));
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return GS_OK;
        return gs_error_set(err, GS_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return gs_error_set(err, GS_ERR_IO, "%s: not a regular file", path);
    if (access(path, R_OK | W_OK) != 0)
        return gs_error_set(err, GS_ERR_IO, "%s: cannot be read and written (%s)", path, strerror(errno));
    if (st.st_size == 0) return GS_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gs_error_set(err, GS_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    gs_status s = check_existing(fd, path, (size_t)st.st_size, err);
    close(fd);
    return s;
}

static gs_status write_all(int fd, const char *path, const gs_text *text, gs_error *err) {
    size_t done = 0;
    while (done < text->len) {
        ssize_t n = write(fd, text->data + done, text->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return gs_error_set(err, GS_ERR_IO, "%s: write failed (%s)", path, strerror(errno));
        done += (size_t)n;
    }
    if (fsync(fd) != 0) return gs_error_set(err, GS_ERR_IO, "%s: fsync failed (%s)", path, strerror(errno));
    return GS_OK;
}

/* The file again, through a temporary file renamed over it: the header
 * with every column, the rows kept (their fields as they were, an empty
 * settings field added to a file from before that column), then the new
 * rows.  Writers waiting for the lock see the file replaced and reopen it. */
static gs_status rewrite(const char *path, const gs_results *existing, const bool *drop, const gs_text *new_rows,
                         gs_error *err) {
    gs_text text = {0};
    gs_csv_append_row(&text, GS_RESULTS_COLUMNS, GS_RESULTS_N_COLUMNS);
    for (size_t i = 0; i < existing->n_rows; i++) {
        if (drop[i]) continue;
        const gs_csv_row *raw = &existing->table.rows[i + 1];
        const char *fields[GS_RESULTS_N_COLUMNS];
        for (size_t c = 0; c < GS_RESULTS_N_COLUMNS; c++) fields[c] = c < raw->n_fields ? raw->fields[c] : "";
        gs_csv_append_row(&text, fields, GS_RESULTS_N_COLUMNS);
    }
    gs_text_append_n(&text, new_rows->data ? new_rows->data : "", new_rows->len);
    if (!gs_text_ok(&text)) {
        gs_text_free(&text);
        return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory rewriting the file", path);
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.rewrite-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    gs_status s = fd < 0 ? gs_error_set(err, GS_ERR_IO, "%s: cannot write (%s)", tmp, strerror(errno)) : GS_OK;
    if (s == GS_OK) s = write_all(fd, tmp, &text, err);
    if (fd >= 0) close(fd);
    if (s == GS_OK && rename(tmp, path) != 0)
        s = gs_error_set(err, GS_ERR_IO, "%s: cannot replace it (%s)", path, strerror(errno));
    if (s != GS_OK) unlink(tmp);
    gs_text_free(&text);
    return s;
}

gs_status gs_results_append(const char *path, const gs_result_row *rows, size_t n, gs_error *err) {
    return gs_results_append_ex(path, rows, n, NULL, err);
}

gs_status gs_results_append_ex(const char *path, const gs_result_row *rows, size_t n, gs_results_append_options *opt,
                               gs_error *err) {
    if (!path || (!rows && n)) return gs_error_set(err, GS_ERR_ARGUMENT, "results append: NULL path or rows");
    if (opt) opt->replaced = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (gs_result_same_key(&rows[i], &rows[j]))
                return gs_error_set(err, GS_ERR_ARGUMENT, "results append: rows %zu and %zu are the same measurement (%s)",
                                    j, i, rows[i].metric);
    gs_text probe = {0};
    gs_status s = format_rows(rows, n, false, &probe, err); /* validate before touching the file */
    gs_text_free(&probe);
    if (s != GS_OK) return s;

    for (int attempt = 0;; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) return gs_error_set(err, GS_ERR_IO, "%s: cannot open for appending (%s)", path, strerror(errno));
        if (lock_file(fd) != 0) {
            s = gs_error_set(err, GS_ERR_IO, "%s: cannot lock (%s)", path, strerror(errno));
            close(fd);
            return s;
        }
        struct stat st, now;
        if (fstat(fd, &st) != 0) {
            s = gs_error_set(err, GS_ERR_IO, "%s: cannot stat (%s)", path, strerror(errno));
            close(fd);
            return s;
        }
        /* Another writer replaced the file while we waited: append to the new one. */
        if ((stat(path, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) && attempt < 100) {
            close(fd);
            continue;
        }
        size_t size = (size_t)st.st_size;
        gs_results existing = {0};
        if (size > 0) s = load_existing(fd, path, size, &existing, err);
        bool legacy = s == GS_OK && size > 0 && legacy_header(&existing.table);
        bool *drop = s == GS_OK ? calloc(existing.n_rows + 1, sizeof *drop) : NULL;
        if (s == GS_OK && !drop) s = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
        size_t replaced = 0;
        for (size_t i = 0; s == GS_OK && i < existing.n_rows; i++)
            for (size_t j = 0; j < n && !drop[i]; j++) {
                if (!gs_result_same_key(&existing.rows[i], &rows[j])) continue;
                if (!opt || !opt->replace) {
                    s = gs_error_set(err, GS_ERR_ARGUMENT,
                                     "%s:%zu already holds %s of %s %s on %s, %s, labels %g, seed %lld, settings '%s': "
                                     "nothing was appended (replace it with --force)",
                                     path, existing.rows[i].line, rows[j].metric, rows[j].method, rows[j].backbone,
                                     rows[j].eval_data, rows[j].protocol, rows[j].label_fraction, rows[j].seed,
                                     rows[j].settings ? rows[j].settings : "");
                    break;
                }
                drop[i] = true;
                replaced++;
            }
        gs_text text = {0};
        if (s == GS_OK) s = format_rows(rows, n, size == 0, &text, err);
        if (s == GS_OK && (legacy || replaced > 0)) {
            s = rewrite(path, &existing, drop, &text, err);
        } else if (s == GS_OK) {
            s = write_all(fd, path, &text, err);
            /* A failed write (disk full) may leave part of a row: cut it off so
             * the file stays well-formed for the next writer. */
            if (s != GS_OK && ftruncate(fd, (off_t)size) == 0) fsync(fd);
        }
        if (s == GS_OK && opt) opt->replaced = replaced;
        gs_text_free(&text);
        free(drop);
        gs_results_free(&existing);
        close(fd); /* releases the lock */
        return s;
    }
}

/* The first KEY=VALUE of `settings` (';'-separated) whose key `other` also
 * has with another value: that key, and both values, copied out.  A key
 * only one side has (a column an older geossl did not write) is no
 * conflict. */
bool gs_settings_conflict(const char *settings, const char *other, char *key, char *mine, char *theirs,
                              size_t size) {
    for (const char *p = settings; p && *p;) {
        const char *end = strchr(p, ';'), *eq = strchr(p, '=');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (eq && eq < p + len) {
            size_t klen = (size_t)(eq - p);
            for (const char *q = other; q && *q;) {
                const char *qend = strchr(q, ';');
                size_t qlen = qend ? (size_t)(qend - q) : strlen(q);
                if (qlen > klen && !strncmp(q, p, klen) && q[klen] == '=' &&
                    (qlen != len || strncmp(q, p, len))) {
                    snprintf(key, size, "%.*s", (int)klen, p);
                    snprintf(mine, size, "%.*s", (int)(len - klen - 1), eq + 1);
                    snprintf(theirs, size, "%.*s", (int)(qlen - klen - 1), q + klen + 1);
                    return true;
                }
                q = qend ? qend + 1 : NULL;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}
