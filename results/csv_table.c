#include "csv_table.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* State shared with libcsv's callbacks while one buffer is parsed. */
typedef struct parse_state {
    gs_csv_table *table;
    char **fields; /* the row being read */
    size_t n_fields, cap_fields;
    size_t line;       /* line of the chunk being fed */
    size_t row_start;  /* line where the current row began */
    int row_open;      /* a row has started and not ended */
    size_t cap_rows;
    int out_of_memory;
} parse_state;

static void on_field(void *data, size_t len, void *user) {
    parse_state *s = user;
    if (s->out_of_memory) return;
    if (s->n_fields == s->cap_fields) {
        size_t cap = s->cap_fields ? 2 * s->cap_fields : 16;
        char **grown = realloc(s->fields, cap * sizeof *grown);
        if (!grown) {
            s->out_of_memory = 1;
            return;
        }
        s->fields = grown;
        s->cap_fields = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        s->out_of_memory = 1;
        return;
    }
    if (len) memcpy(copy, data, len);
    copy[len] = '\0';
    s->fields[s->n_fields++] = copy;
}

static void on_row_end(int terminator, void *user) {
    (void)terminator;
    parse_state *s = user;
    s->row_open = 0;
    if (s->out_of_memory) return;
    gs_csv_table *t = s->table;
    if (t->n_rows == s->cap_rows) {
        size_t cap = s->cap_rows ? 2 * s->cap_rows : 64;
        gs_csv_row *grown = realloc(t->rows, cap * sizeof *grown);
        if (!grown) {
            s->out_of_memory = 1;
            return;
        }
        t->rows = grown;
        s->cap_rows = cap;
    }
    t->rows[t->n_rows++] = (gs_csv_row){.fields = s->fields, .n_fields = s->n_fields, .line = s->row_start};
    s->fields = NULL;
    s->n_fields = s->cap_fields = 0;
}

static void free_fields(char **fields, size_t n) {
    for (size_t i = 0; i < n; i++) free(fields[i]);
    free(fields);
}

static int is_blank_line(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\n' && p[i] != '\r') return 0;
    return 1;
}

gs_status gs_csv_parse(const char *text, size_t len, const char *name, gs_csv_table *out, gs_error *err) {
    *out = (gs_csv_table){0};
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory starting the CSV parser", name);
    parse_state s = {.table = out, .line = 1};
    gs_status status = GS_OK;
    /* Fed one line at a time so an error, and each row's start, can be
     * tied to a line number (libcsv itself does not count lines). */
    size_t pos = 0;
    while (pos < len && status == GS_OK) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t chunk = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
        if (!s.row_open && !is_blank_line(text + pos, chunk)) {
            s.row_open = 1;
            s.row_start = s.line;
        }
        if (csv_parse(&parser, text + pos, chunk, on_field, on_row_end, &s) != chunk)
            status = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: malformed CSV (%s); fix or remove that line", name,
                                  s.line, csv_strerror(csv_error(&parser)));
        pos += chunk;
        if (nl) s.line++;
    }
    if (status == GS_OK && csv_fini(&parser, on_field, on_row_end, &s) != 0)
        status = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: unterminated quoted field at the end of the file", name,
                              s.row_start);
    if (status == GS_OK && csv_error(&parser) == CSV_EPARSE)
        status = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: unterminated quoted field at the end of the file", name,
                              s.row_start);
    if (status == GS_OK && s.out_of_memory) status = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", name);
    csv_free(&parser);
    free_fields(s.fields, s.n_fields);
    if (status != GS_OK) gs_csv_table_free(out);
    return status;
}

gs_status gs_csv_read_file(const char *path, gs_csv_table *out, gs_error *err) {
    *out = (gs_csv_table){0};
    FILE *f = fopen(path, "rb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    gs_text text = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) gs_text_append_n(&text, buf, n);
    int read_error = ferror(f);
    fclose(f);
    gs_status status;
    if (read_error)
        status = gs_error_set(err, GS_ERR_IO, "%s: read error", path);
    else if (!gs_text_ok(&text))
        status = gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory reading the file", path);
    else
        status = gs_csv_parse(gs_text_str(&text), text.len, path, out, err);
    gs_text_free(&text);
    return status;
}

void gs_csv_table_free(gs_csv_table *t) {
    for (size_t i = 0; i < t->n_rows; i++) free_fields(t->rows[i].fields, t->rows[i].n_fields);
    free(t->rows);
    *t = (gs_csv_table){0};
}

gs_status gs_csv_expect_header(const gs_csv_table *t, const char *name, const char *const *names, size_t n,
                               gs_error *err) {
    if (t->n_rows == 0)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: empty file; expected the header %s,...", name, names[0]);
    const gs_csv_row *h = &t->rows[0];
    int same = h->n_fields == n;
    for (size_t i = 0; same && i < n; i++) same = !strcmp(h->fields[i], names[i]);
    if (!same) {
        gs_text want = {0};
        gs_csv_append_row(&want, names, n);
        if (want.len) want.data[--want.len] = '\0';
        gs_status s = gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: not the expected header (a foreign CSV?); expected: %s",
                                   name, h->line, gs_text_str(&want));
        gs_text_free(&want);
        return s;
    }
    for (size_t r = 1; r < t->n_rows; r++)
        if (t->rows[r].n_fields != n)
            return gs_error_set(err, GS_ERR_FORMAT, "%s:%zu: %zu fields where the header has %zu", name,
                                t->rows[r].line, t->rows[r].n_fields, n);
    return GS_OK;
}

void gs_csv_append_field(gs_text *out, const char *field) {
    size_t len = strlen(field);
    int quote = len > 0 && (field[0] == ' ' || field[0] == '\t' || field[len - 1] == ' ' || field[len - 1] == '\t');
    for (size_t i = 0; !quote && i < len; i++)
        quote = field[i] == ',' || field[i] == '"' || field[i] == '\r' || field[i] == '\n';
    if (!quote) {
        gs_text_append_n(out, field, len);
        return;
    }
    size_t need = csv_write(NULL, 0, field, len);
    char *quoted = malloc(need);
    if (!quoted) {
        out->failed = true;
        return;
    }
    csv_write(quoted, need, field, len);
    gs_text_append_n(out, quoted, need);
    free(quoted);
}

void gs_csv_append_row(gs_text *out, const char *const *fields, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i) gs_text_append(out, ",");
        gs_csv_append_field(out, fields[i] ? fields[i] : "");
    }
    gs_text_append(out, "\n");
}

int gs_csv_parse_double(const char *field, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(field, &end);
    if (!*field || *end || errno == ERANGE) return 0;
    *out = v;
    return 1;
}

int gs_csv_parse_int(const char *field, long long *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(field, &end, 10);
    if (!*field || *end || errno) return 0;
    *out = v;
    return 1;
}
