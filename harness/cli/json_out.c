#include "json_out.h"

#include <math.h>
#include <stdlib.h>

#include "provenance.h"

bool gs_cli_json_emit(const char *command, cJSON *object) {
    char *text = object ? cJSON_PrintUnformatted(object) : NULL;
    cJSON_Delete(object);
    if (!text) {
        fprintf(stderr, "geossl %s: out of memory writing the JSON result\n", command);
        return false;
    }
    puts(text);
    /* A reader at the other end of a pipe sees each result when it is ready,
     * not when the block buffer fills (an eval over seeds takes minutes). */
    fflush(stdout);
    free(text);
    return true;
}

void gs_cli_json_add_number(cJSON *object, const char *name, double value) {
    if (isfinite(value))
        cJSON_AddNumberToObject(object, name, value);
    else
        cJSON_AddNullToObject(object, name);
}

cJSON *gs_cli_eval_result_json(const gs_eval_identity *id, const gs_eval_result *r, const char *data_spec,
                               int threads, double wall_s) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "method", id->method);
    cJSON_AddStringToObject(o, "backbone", id->backbone);
    cJSON_AddStringToObject(o, "pretrain_data", id->pretrain_data ? id->pretrain_data : "none");
    cJSON_AddStringToObject(o, "eval_data", id->eval_data);
    if (data_spec) cJSON_AddStringToObject(o, "data", data_spec);
    cJSON_AddStringToObject(o, "protocol", gs_cli_store_protocol(id->protocol));
    cJSON_AddNumberToObject(o, "label_fraction", id->label_fraction);
    /* Seeds go up to 2^63-1, past what a double holds exactly: below 2^53
     * (every seed anyone types) they are plain numbers, above a string. */
    if (id->seed < (1ull << 53)) {
        cJSON_AddNumberToObject(o, "seed", (double)id->seed);
    } else {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)id->seed);
        cJSON_AddStringToObject(o, "seed", seed);
    }
    cJSON_AddStringToObject(o, "settings", r->settings);
    cJSON *metrics = cJSON_AddObjectToObject(o, "metrics");
    for (int i = 0; metrics && i < r->n_metrics; i++) gs_cli_json_add_number(metrics, r->metrics[i].name, r->metrics[i].value);
    if (r->n_metrics > 0) cJSON_AddStringToObject(o, "headline_metric", r->metrics[r->headline].name);
    cJSON_AddNumberToObject(o, "train_samples", (double)r->n_train);
    cJSON_AddNumberToObject(o, "test_samples", (double)r->n_test);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "wall_time_s", wall_s);
    char commit[64];
    gs_provenance_git_commit(commit, sizeof commit);
    cJSON_AddStringToObject(o, "git_commit", commit);
    return o;
}
