/* The results store: one CSV row per metric, with provenance.
 *
 *   run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,
 *   seed,metric,value,git_commit,config_hash,threads,date,wall_time_s,cpu,
 *   settings
 *
 * settings holds every protocol setting that changes the number
 * ("k=20;knn_temperature=0.07;splits=official").  Files written before it
 * existed (16 columns) are read with empty settings, and the first append
 * rewrites such a file with the column added.
 *
 * Appends take an exclusive fcntl lock on the file, check that what is
 * already there is a well-formed results CSV, write whole rows in one
 * write() and fsync, so two runs appending at once never interleave or
 * tear rows.  A file with a foreign header, a wrong column count or an
 * unparsable number is reported (file and line) and left untouched.
 *
 * Vocabulary (see results/README.md): names as geossl spells them
 * (methods "simclr", "mocov2", ...; backbones "resnet18", "vit-small/16";
 * datasets "eurosat-ms", "bigearthnet", ...; protocols "knn", "linear",
 * "finetune", "segmentation"); label_fraction in (0, 1]; accuracy-like
 * metrics in percent, as papers print them. */
#ifndef GS_RESULTS_STORE_H
#define GS_RESULTS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "csv_table.h"

#define GS_RESULTS_N_COLUMNS 17
#define GS_RESULTS_N_LEGACY_COLUMNS 16 /* before settings */

/* The header, in file order. */
extern const char *const GS_RESULTS_COLUMNS[GS_RESULTS_N_COLUMNS];

typedef struct gs_result_row {
    const char *run_id;
    const char *method;
    const char *backbone;
    const char *pretrain_data;
    const char *eval_data;
    const char *protocol;
    double label_fraction;
    long long seed;
    const char *metric;
    double value;
    /* provenance (gs_provenance_collect / gs_result_row_set_provenance) */
    const char *git_commit;
    const char *config_hash;
    int threads;
    const char *date;   /* ISO 8601 UTC */
    double wall_time_s;
    const char *cpu;
    const char *settings; /* "KEY=VALUE;..."; NULL or "" when none */
    size_t line;        /* set by load: where the row is in the file */
} gs_result_row;

/* Loaded rows; their strings point into `table`, which owns them. */
typedef struct gs_results {
    gs_result_row *rows;
    size_t n_rows;
    gs_csv_table table;
} gs_results;

/* Appends rows to `path` (created with a header when missing or empty). */
gs_status gs_results_append(const char *path, const gs_result_row *rows, size_t n, gs_error *err);

/* Whether two rows are the same measurement: method, backbone,
 * pretrain_data, eval_data, protocol, label_fraction, seed, settings and
 * metric agree.  A results file holds each at most once. */
bool gs_result_same_key(const gs_result_row *a, const gs_result_row *b);

typedef struct gs_results_append_options {
    /* Rows already in the file with a new row's key are removed (the file is
     * rewritten under the lock); without it such a row is an error naming the cell
     * and nothing is written (GS_ERR_ARGUMENT). */
    bool replace;
    size_t replaced; /* out: rows removed */
} gs_results_append_options;
gs_status gs_results_append_ex(const char *path, const gs_result_row *rows, size_t n, gs_results_append_options *opt,
                               gs_error *err);

/* The first row of `r` with row's key (any metric when metric is NULL), or NULL. */
const gs_result_row *gs_results_find_key(const gs_results *r, const gs_result_row *row);

/* Whether rows can be appended to `path`, checked before the work that
 * makes them: its folder exists and is writable, and a file already there is
 * a readable, writable results file that an append would accept (the same
 * header, column, number and line-end checks).  A missing or empty file is
 * fine: the first append writes the header.  Errors name the path. */
gs_status gs_results_check_appendable(const char *path, gs_error *err);

/* Loads every row; a missing file is an error. */
gs_status gs_results_load(const char *path, gs_results *out, gs_error *err);
/* Like gs_results_load, but a missing file gives an empty set (resuming). */
gs_status gs_results_load_existing(const char *path, gs_results *out, gs_error *err);
/* Parses results CSV text already in memory; `name` is used in errors. */
gs_status gs_results_parse(const char *text, size_t len, const char *name, gs_results *out, gs_error *err);
void gs_results_free(gs_results *r);

/* What identifies one evaluation for resuming a suite: every field but
 * run_id, metric, value and provenance. */
typedef struct gs_result_cell {
    const char *method, *backbone, *pretrain_data, *eval_data, *protocol;
    double label_fraction;
    long long seed;
} gs_result_cell;

/* True when some row already has this cell (so the suite can skip it). */
bool gs_results_has_cell(const gs_results *r, const gs_result_cell *cell);

/* Label fractions are compared with a relative tolerance, so 0.1 read
 * back from "0.1" equals 1.0/10 computed in a loop. */
bool gs_label_fraction_equal(double a, double b);

/* Two settings columns ("k=20;splits=every-5th;data=...") that disagree:
 * the first key both have with different values, and the two values
 * (each copied into a buffer of `size`).  A key only one of them has (a
 * column an older geossl did not write) is no disagreement. */
bool gs_settings_conflict(const char *settings, const char *other, char *key, char *mine, char *theirs, size_t size);

#endif
