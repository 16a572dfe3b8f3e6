/* CSV files read and written through libcsv (strict mode), with the line
 * each row starts on kept for error messages.  Every CSV this project reads
 * (results, reference numbers, kernel timings, loss logs) goes through here
 * so a malformed file is always reported as "FILE:LINE: what is wrong". */
#ifndef GS_CSV_TABLE_H
#define GS_CSV_TABLE_H

#include <stddef.h>

#include "core/error.h"
#include "text_buffer.h"

typedef struct gs_csv_row {
    char **fields;
    size_t n_fields;
    size_t line; /* 1-based line of the file where the row starts */
} gs_csv_row;

typedef struct gs_csv_table {
    gs_csv_row *rows; /* rows[0] is the header for files that have one */
    size_t n_rows;
} gs_csv_table;

/* Parses `len` bytes of CSV; `name` (the file) is used in error messages. */
gs_status gs_csv_parse(const char *text, size_t len, const char *name, gs_csv_table *out, gs_error *err);
/* Reads and parses a whole file.  A missing file is GS_ERR_IO. */
gs_status gs_csv_read_file(const char *path, gs_csv_table *out, gs_error *err);
void gs_csv_table_free(gs_csv_table *t);

/* Checks that the first row is exactly `names` (in order) and that every
 * later row has that many fields; errors name the file and line.  An empty
 * table (no header) is a format error too. */
gs_status gs_csv_expect_header(const gs_csv_table *t, const char *name, const char *const *names, size_t n,
                               gs_error *err);

/* Appends one field, quoted by libcsv when it holds a comma, quote, CR/LF or
 * leading/trailing blanks (which an unquoted field would lose). */
void gs_csv_append_field(gs_text *out, const char *field);
/* Appends the fields joined by commas and a terminating "\n". */
void gs_csv_append_row(gs_text *out, const char *const *fields, size_t n);

/* Number parsing for fields: the whole field must be the number. */
int gs_csv_parse_double(const char *field, double *out);       /* 1: ok */
int gs_csv_parse_int(const char *field, long long *out);       /* 1: ok */

#endif
