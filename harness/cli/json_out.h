/* --json on `eval`, `bench` and `data check`: each result is one JSON object
 * on one line of stdout (JSON Lines), so a script or a notebook reads the
 * results with `jq` or pandas.read_json(lines=True) instead of parsing
 * tables; the human text those commands print goes to stderr then, so
 * stdout holds nothing but the objects.  The objects carry the fields the
 * results CSV and the printed tables have, under the same names. */
#ifndef GS_CLI_JSON_OUT_H
#define GS_CLI_JSON_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "eval_common.h"

/* The --json entry of a command's option table (one help text everywhere). */
#define GS_JSON_OPTION(flag)                                                                                       \
    {"json", GS_OPT_FLAG, &(flag), "", "one JSON object per result on stdout (JSON Lines); the text goes to stderr", \
     GS_NO_VALUE}

/* Where a command's human-readable results go: stderr with --json, so that
 * stdout is only JSON, else stdout. */
static inline FILE *gs_cli_text_stream(bool json) { return json ? stderr : stdout; }

/* Prints `object` as one line on stdout, flushes, and frees it.  False after
 * a message naming the command when cJSON ran out of memory (object NULL
 * included: a builder's allocation failed). */
bool gs_cli_json_emit(const char *command, cJSON *object);

/* A number field, or null when it is not finite (JSON has no NaN or Inf). */
void gs_cli_json_add_number(cJSON *object, const char *name, double value);

/* One evaluation (one seed) as `eval --json` prints it: the identity the
 * results rows carry (method, backbone, pretrain_data, eval_data, protocol
 * in the store's words, label_fraction, seed, settings), "metrics" {name:
 * value} with every metric the rows hold, the headline metric's name, the
 * sample counts, threads, wall_time_s and the git commit.  NULL when memory
 * ran out. */
cJSON *gs_cli_eval_result_json(const gs_eval_identity *id, const gs_eval_result *r, const char *data_spec,
                               int threads, double wall_s);

#endif
