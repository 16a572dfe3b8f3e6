#include "run_record.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist.h"

static const char *or_default(const char *s, const char *fallback) { return s && *s ? s : fallback; }

/* One view's recipe as gs_augment_print writes it, one "key = value" per line. */
static cJSON *view_lines(const gs_augment_config *view) {
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return NULL;
    gs_augment_print(mem, "", view);
    fclose(mem);
    cJSON *lines = cJSON_CreateArray();
    for (char *line = strtok(text, "\n"); line && lines; line = strtok(NULL, "\n"))
        cJSON_AddItemToArray(lines, cJSON_CreateString(line));
    free(text);
    return lines;
}

gs_status gs_run_record_write(const char *path, const gs_run_record *r, gs_error *err) {
    const gs_pretrain_config *c = r->cfg;
    const gs_method_config *mc = &r->method->config;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "geossl", or_default(c->version, "unknown"));
    cJSON_AddStringToObject(root, "git_commit", or_default(c->git_commit, "unknown"));
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(root, "written", date);
    cJSON_AddStringToObject(root, "method", r->method->ops->name);
    cJSON_AddStringToObject(root, "method_options", or_default(c->method_options, ""));

    cJSON *bb = cJSON_AddObjectToObject(root, "backbone");
    cJSON_AddStringToObject(bb, "name", or_default(c->backbone.name, "resnet18"));
    cJSON_AddNumberToObject(bb, "width", c->backbone.width);
    cJSON_AddStringToObject(bb, "stem", c->backbone.stem == GS_STEM_SMALL ? "small" : "imagenet");
    cJSON_AddNumberToObject(bb, "patch", c->backbone.patch);
    cJSON_AddStringToObject(bb, "architecture", r->method->encoder.arch);

    cJSON *data = cJSON_AddObjectToObject(root, "data");
    char spec[4200];
    snprintf(spec, sizeof spec, "%s:%s", r->data->format->name, r->data->root);
    cJSON_AddStringToObject(data, "spec", spec);
    cJSON_AddNumberToObject(data, "bands", r->data->bands);
    cJSON_AddNumberToObject(data, "dates", r->data->dates);
    cJSON_AddNumberToObject(data, "view_size", mc->image_size);
    cJSON_AddNumberToObject(data, "train_samples", (double)r->train_samples);
    cJSON_AddStringToObject(data, "split", or_default(r->data->split_source, "all samples"));
    /* How the dataset was opened, so --config repeats it (absent: the defaults). */
    if (c->band_selection && *c->band_selection) cJSON_AddStringToObject(data, "band_names", c->band_selection);
    if (c->tile > 0) cJSON_AddNumberToObject(data, "tile", c->tile);

    cJSON *run = cJSON_AddObjectToObject(root, "training");
    cJSON_AddNumberToObject(run, "epochs", c->epochs);
    cJSON_AddNumberToObject(run, "batch", c->batch);
    cJSON_AddNumberToObject(run, "steps_per_epoch", (double)r->steps_per_epoch);
    cJSON_AddNumberToObject(run, "total_steps", (double)(r->steps_per_epoch * c->epochs));
    cJSON_AddNumberToObject(run, "start_step", (double)r->start_step);
    cJSON_AddNumberToObject(run, "seed", (double)c->seed);
    cJSON_AddNumberToObject(run, "threads", r->threads);
    /* Across ranks each rank runs `threads`; --batch is the global batch. */
    cJSON_AddNumberToObject(run, "ranks", r->ranks > 0 ? r->ranks : 1);
    cJSON_AddBoolToObject(run, "sync_bn", r->sync_bn);
    if (r->ranks > 1) cJSON_AddStringToObject(run, "collectives", gs_dist_library());
    cJSON_AddNumberToObject(run, "workers", c->workers);
    cJSON_AddNumberToObject(run, "keep_every", c->keep_every);

    cJSON *opt = cJSON_AddObjectToObject(root, "optimizer");
    cJSON_AddStringToObject(opt, "kind", gs_optimizer_kind_name(r->optimizer->kind));
    cJSON_AddNumberToObject(opt, "lr", r->optimizer->lr);
    cJSON_AddNumberToObject(opt, "weight_decay", r->optimizer->weight_decay);
    cJSON_AddNumberToObject(opt, "momentum", r->optimizer->momentum);
    char schedule[160];
    snprintf(schedule, sizeof schedule, "linear warm-up over %lld steps, then cosine to 0", (long long)r->warmup_steps);
    cJSON_AddStringToObject(opt, "schedule",
                            r->method->ops->lr_at ? or_default(r->method->ops->schedule, "the method's own") : schedule);
    /* The warm-up in epochs, as --warmup-epochs takes it (null: the method's own schedule). */
    cJSON *sched = cJSON_AddObjectToObject(root, "schedule");
    if (r->method->ops->lr_at || r->steps_per_epoch <= 0)
        cJSON_AddNullToObject(sched, "warmup_epochs");
    else
        cJSON_AddNumberToObject(sched, "warmup_epochs", (double)r->warmup_steps / (double)r->steps_per_epoch);

    /* The method's hyperparameters as the method resolved them (0: its
     * paper default, applied inside the method). */
    cJSON *hp = cJSON_AddObjectToObject(root, "method_config");
    cJSON_AddNumberToObject(hp, "temperature", mc->temperature);
    cJSON_AddNumberToObject(hp, "proj_hidden", mc->proj_hidden);
    cJSON_AddNumberToObject(hp, "proj_dim", mc->proj_dim);
    cJSON_AddNumberToObject(hp, "momentum", mc->momentum);
    cJSON_AddNumberToObject(hp, "queue_size", mc->queue_size);
    cJSON_AddNumberToObject(hp, "local_crops", mc->local_crops);
    cJSON_AddStringToObject(root, "augment_overrides", or_default(c->augment, ""));
    cJSON *views = cJSON_AddArrayToObject(root, "views");
    for (int v = 0; v < r->n_views; v++) cJSON_AddItemToArray(views, view_lines(&r->views[v]));

    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return gs_error_set(err, GS_ERR_MEMORY, "out of memory writing %s", path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    gs_status s = GS_OK;
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0)
        s = gs_error_set(err, GS_ERR_IO, "cannot write %s", tmp);
    else if (rename(tmp, path) != 0)
        s = gs_error_set(err, GS_ERR_IO, "cannot replace %s", path);
    free(text);
    return s;
}
