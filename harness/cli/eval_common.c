#include "eval_common.h"
#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#include "cache.h"
#include "cache_dir.h"
#include "core/clock.h"
#include "io/checkpoint.h"
#include "io/run_config.h"
#include "io/weights_import.h"
#include "method.h"
#include "provenance.h"
#include "results_store.h"

gs_status gs_cli_load_encoder(gs_context *ctx, gs_backbone *bb, const gs_backbone_config *config,
                              const char *checkpoint, const char *weights) {
    gs_backbone_config bc = *config;
    bc.num_classes = 0;
    if (gs_backbone_init(ctx, bb, &bc) != GS_OK) return ctx->status;
    if (checkpoint) {
        gs_checkpoint_group group = {"model", bb->params};
        gs_checkpoint_load_options options = {.architecture = NULL, .allow_unused = true};
        return gs_checkpoint_load(ctx, checkpoint, &group, 1, NULL, &options);
    }
    if (weights) {
        gs_weights_import_report report;
        return gs_weights_import(ctx, weights, bb->params, NULL, &report);
    }
    return GS_OK;
}

/* Whether the checkpoint's "heads" group holds a pretrained ASPP (GLCNet's
 * "aspp.*" tensors); read from the file's index, as their shape depends on
 * the encoder that made them. */
static bool heads_hold_aspp(const char *path) {
    int64_t dims[4];
    return gs_checkpoint_tensor_shape(path, "heads/aspp.conv1x1.conv.weight", dims, 4) == 4;
}

bool gs_cli_checkpoint_read(const char *command, const char *path, gs_cli_checkpoint *out) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(out->path, sizeof out->path, "%s/checkpoint.h5", path);
    else
        snprintf(out->path, sizeof out->path, "%s", path);
    gs_context ctx;
    gs_context_init(&ctx, NULL);
    gs_checkpoint_info info;
    if (gs_checkpoint_read_info(&ctx, out->path, &info) != GS_OK) {
        fprintf(stderr, "geossl %s: --checkpoint: %s\n", command, ctx.error);
        gs_context_free(&ctx);
        return false;
    }
    gs_context_free(&ctx);
    char number[32];
    if (!gs_run_config_get(info.config, "method", out->method, sizeof out->method))
        snprintf(out->method, sizeof out->method, "checkpoint");
    if (!gs_run_config_get(info.config, "data", out->pretrain_data, sizeof out->pretrain_data))
        out->pretrain_data[0] = '\0';
    out->has_backbone = gs_run_config_get(info.config, "backbone", out->backbone, sizeof out->backbone) &&
                        gs_run_config_get(info.config, "stem", out->stem, sizeof out->stem);
    out->width = gs_run_config_get(info.config, "width", number, sizeof number) ? atoi(number) : 0;
    out->patch = gs_run_config_get(info.config, "patch", number, sizeof number) ? atoi(number) : 0;
    out->bands = gs_run_config_get(info.config, "bands", number, sizeof number) ? atoi(number) : 0;
    out->size = gs_run_config_get(info.config, "size", number, sizeof number) ? atoi(number) : 0;
    if (!gs_run_config_get(info.config, "options", out->options, sizeof out->options)) out->options[0] = '\0';
    if (!gs_run_config_get(info.config, "band_names", out->band_names, sizeof out->band_names))
        out->band_names[0] = '\0';
    out->deeplab_dilation = info.architecture && strstr(info.architecture, "dilation=deeplab");
    out->step = info.step;
    if (!gs_run_config_get(info.config, "batchnorm", out->batchnorm, sizeof out->batchnorm)) out->batchnorm[0] = '\0';
    gs_checkpoint_info_free(&info);
    out->has_aspp = heads_hold_aspp(out->path);
    return true;
}

const char *gs_cli_store_protocol(gs_protocol p) {
    /* The store says "segmentation" where the CLI says "segment". */
    return p == GS_PROTOCOL_SEGMENT ? "segmentation" : gs_protocol_name(p);
}

bool gs_cli_check_not_done(const char *command, const char *path, const gs_eval_identity *id, const char *settings,
                           bool replace) {
    gs_results existing;
    gs_error err = {0};
    if (gs_results_load_existing(path, &existing, &err) != GS_OK) {
        fprintf(stderr, "geossl %s: --results %s\n", command, err.message);
        return false;
    }
    gs_result_row key = {.method = id->method, .backbone = id->backbone,
                         .pretrain_data = id->pretrain_data ? id->pretrain_data : "none", .eval_data = id->eval_data,
                         .protocol = gs_cli_store_protocol(id->protocol), .label_fraction = id->label_fraction,
                         .seed = (long long)id->seed, .settings = settings, .metric = NULL};
    const gs_result_row *found = gs_results_find_key(&existing, &key);
    bool ok = true;
    if (found && !replace) {
        fprintf(stderr, "geossl %s: %s:%zu already holds %s %s (%s) on %s, %s, %g%% labels, seed %llu, settings '%s': "
                        "rerun with --force to replace it\n", command, path, found->line, id->method, id->backbone,
                key.pretrain_data, id->eval_data, key.protocol, 100.0 * id->label_fraction,
                (unsigned long long)id->seed, settings);
        ok = false;
    } else if (found) {
        fprintf(stderr, "geossl %s: --force: the rows of seed %llu in %s will be replaced\n", command,
                (unsigned long long)id->seed, path);
    }
    /* Reports average the seeds of one method, backbone and pretraining data
     * on one dataset, protocol and label fraction: rows measured another way
     * there would be averaged with these as if they were seeds. */
    for (size_t i = 0; ok && i < existing.n_rows; i++) {
        const gs_result_row *row = &existing.rows[i];
        char key_name[64], mine[256], theirs[256];
        if (strcmp(row->method, key.method) || strcmp(row->backbone, key.backbone) ||
            strcmp(row->pretrain_data, key.pretrain_data) || strcmp(row->eval_data, key.eval_data) ||
            strcmp(row->protocol, key.protocol) || !gs_label_fraction_equal(row->label_fraction, key.label_fraction))
            continue;
        if (gs_settings_conflict(settings, row->settings, key_name, mine, theirs, sizeof mine)) {
            fprintf(stderr, "geossl %s: %s:%zu holds %s %s (%s) on %s, %s, %g%% labels, seed %lld with %s=%s; this "
                            "run has %s=%s, and reports would average the two as seeds of one result: write it to "
                            "another --results file\n", command, path, row->line, id->method, id->backbone,
                    key.pretrain_data, id->eval_data, key.protocol, 100.0 * id->label_fraction, row->seed, key_name,
                    theirs, key_name, mine);
            ok = false;
        }
    }
    gs_results_free(&existing);
    return ok;
}

gs_status gs_cli_append_results(const char *path, const gs_eval_identity *id, const gs_eval_result *r, int threads,
                                double wall_s, bool replace, gs_error *err) {
    const char *protocol = gs_cli_store_protocol(id->protocol);
    char config[512], run_id[256];
    snprintf(config, sizeof config, "eval method=%s backbone=%s data=%s protocol=%s labels=%g seed=%llu", id->method,
             id->backbone, id->eval_data, protocol, id->label_fraction, (unsigned long long)id->seed);
    gs_provenance prov;
    gs_provenance_collect(&prov, config, threads, wall_s);
    snprintf(run_id, sizeof run_id, "%s-%s-%s-%s-%g-s%llu-%s", id->method, id->backbone, id->eval_data, protocol,
             id->label_fraction, (unsigned long long)id->seed, prov.date);
    gs_result_row *rows = calloc((size_t)(r->n_metrics > 0 ? r->n_metrics : 1), sizeof *rows);
    if (!rows) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for %d result rows", r->n_metrics);
    for (int i = 0; i < r->n_metrics; i++) {
        rows[i] = (gs_result_row){.run_id = run_id, .method = id->method, .backbone = id->backbone,
                                  .pretrain_data = id->pretrain_data ? id->pretrain_data : "none",
                                  .eval_data = id->eval_data, .protocol = protocol,
                                  .label_fraction = id->label_fraction, .seed = (long long)id->seed,
                                  .metric = r->metrics[i].name, .value = r->metrics[i].value,
                                  .settings = r->settings};
        gs_result_row_set_provenance(&rows[i], &prov);
    }
    gs_results_append_options options = {.replace = replace};
    gs_status status = gs_results_append_ex(path, rows, (size_t)r->n_metrics, &options, err);
    if (status == GS_OK && options.replaced)
        fprintf(stderr, "geossl: replaced %zu earlier row%s of this measurement in %s\n", options.replaced,
                options.replaced == 1 ? "" : "s", path);
    free(rows);
    return status;
}

bool gs_cli_check_results(const char *command, const char *results) {
    gs_error err = {0};
    if (gs_results_check_appendable(results, &err) == GS_OK) return true;
    fprintf(stderr, "geossl %s: --results %s\n", command, err.message);
    return false;
}

bool gs_cli_parse_fraction(const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end == text) return false;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    *out = v;
    return !*end && v > 0 && v <= 1;
}

void gs_cli_format_fraction(double fraction, char *out, size_t size) {
    snprintf(out, size, "%g%%", 100.0 * fraction);
}

void gs_cli_backbone_label(const char *backbone, int width, bool small_stem, int patch, char *out, size_t size) {
    bool vit = !strncmp(backbone, "vit", 3);
    int standard = !vit ? 64 : !strcmp(backbone, "vit-small") ? 384 : 192;
    char resized[24] = "";
    if (width > 0 && width != standard) snprintf(resized, sizeof resized, "-w%d", width);
    if (vit)
        snprintf(out, size, "%s%s/%d", backbone, resized, patch);
    else
        snprintf(out, size, "%s%s%s", backbone, resized, small_stem ? "-small" : "");
}

void gs_cli_eval_job_from_checkpoint(gs_cli_eval_job *job, const gs_cli_checkpoint *ckpt, float layer_decay) {
    job->pretrained = ckpt;
    const gs_method_ops *ops = ckpt ? gs_method_find(ckpt->method) : NULL;
    memset(&job->features, 0, sizeof job->features);
    if (ops && ops->features) job->features.name = ops->features_name;
    job->layer_decay = layer_decay >= 0.0f ? layer_decay : ops ? ops->finetune_layer_decay : 0.0f;
}

/* DeepLabv3+ on a checkpoint whose encoder was pretrained with DeepLab's
 * dilation (GLCNet's) is evaluated on the same network. */
static bool uses_deeplab_dilation(const gs_cli_eval_job *job) {
    return job->id.protocol == GS_PROTOCOL_SEGMENT && job->decoder == GS_SEGMENT_DECODER_DEEPLABV3PLUS &&
           job->pretrained && job->pretrained->deeplab_dilation;
}

gs_eval_config gs_cli_eval_config(const gs_cli_eval_job *job) {
    /* The method's own features serve every per-image protocol; segmentation
     * takes the encoder's stages. */
    bool per_image = job->id.protocol != GS_PROTOCOL_SEGMENT;
    return (gs_eval_config){.protocol = job->id.protocol, .label_fraction = job->id.label_fraction,
                            .seed = job->id.seed, .batch = job->batch, .workers = job->workers,
                            .knn_k = job->knn_k, .knn_temperature = job->knn_temperature, .progress = job->progress,
                            .features = per_image && job->features.name ? &job->features : NULL,
                            .from_checkpoint = job->checkpoint && job->pretrained,
                            .pretrain_steps = job->checkpoint && job->pretrained ? job->pretrained->step : 0,
                            .pretrain_batchnorm = job->checkpoint && job->pretrained && job->pretrained->batchnorm[0]
                                                      ? job->pretrained->batchnorm
                                                      : NULL,
                            .finetune = {.epochs = job->finetune_epochs, .iterations = job->iterations,
                                         .batch = job->batch, .freeze_encoder = job->freeze_encoder,
                                         .decoder = job->decoder, .aspp_checkpoint = job->aspp_checkpoint,
                                         .deeplab_dilation = uses_deeplab_dilation(job),
                                         .layer_decay = job->layer_decay},
                            .ranks = job->dist ? job->dist->size : 1,
                            .sync_bn = job->dist && job->dist->sync_bn};
}

static gs_tensor *method_features(gs_context *ctx, void *owner, gs_tensor *x) {
    gs_method *m = owner;
    return m->ops->features(ctx, m, x);
}

/* The pretraining method rebuilt from the checkpoint (the configuration it
 * was trained with, its model and heads), for ops->features. */
static gs_status build_method(gs_context *ctx, const gs_cli_eval_job *job, const gs_backbone_config *bc, gs_method *m,
                              gs_param_list *feature_params, gs_feature_extractor *fx) {
    const gs_cli_checkpoint *ck = job->pretrained;
    const gs_method_ops *ops = gs_method_find(ck->method);
    if (!ops || !ops->features) return gs_fail(ctx, GS_ERR_INTERNAL, "method %s has no features of its own", ck->method);
    gs_method_config mc = {.backbone = *bc, .image_size = ck->size > 0 ? ck->size : bc->img_size,
                           .bands = ck->bands > 0 ? ck->bands : bc->bands, .batch = 1, .total_steps = 1,
                           .steps_per_epoch = 1, .dataset_size = 1, .options = ck->options};
    if (gs_method_init(ctx, m, ops, &mc) != GS_OK || gs_method_load_pretrained(ctx, m, job->checkpoint) != GS_OK)
        return ctx->status;
    if (ops->feature_params && ops->feature_params(ctx, m, feature_params) != GS_OK) return ctx->status;
    *fx = (gs_feature_extractor){.compute = method_features, .owner = m, .dim = m->encoder.feature_dim,
                                 .name = ops->features_name, .params = feature_params};
    if (job->progress)
        fprintf(job->progress, "features: %s (%s's own evaluation; settings features=%s)\n",
                ops->describe_features ? ops->describe_features(m) : ops->features_name, ops->name,
                ops->features_name);
    return GS_OK;
}

gs_status gs_cli_evaluate(const gs_cli_eval_job *job, gs_eval_result *r, double *wall_s, gs_error *err) {
    memset(r, 0, sizeof *r);
    *wall_s = 0;
    gs_context ctx;
    gs_context_options co = {.n_threads = job->threads, .seed = job->id.seed};
    gs_context_init(&ctx, &co);
    ctx.dist = job->dist;
    double t0 = gs_now_s();
    gs_backbone_config bc = job->backbone;
    bc.bands = job->ds->bands;
    bc.img_size = (int)job->ds->height;
    /* DeepLabv3+ runs on the encoder at output stride 16, as GLCNet and
     * FALSE's heads expect: the same weights, the last stage dilated. */
    if (job->id.protocol == GS_PROTOCOL_SEGMENT && job->decoder == GS_SEGMENT_DECODER_DEEPLABV3PLUS) {
        bc.output_stride = 16;
        bc.deeplab_dilation = uses_deeplab_dilation(job);
    }
    gs_eval_config ec = gs_cli_eval_config(job);
    /* The encoder: the pretraining method's own, rebuilt from the checkpoint,
     * when its features are the method's (its model group is the encoder:
     * loaded once); otherwise the encoder alone. */
    gs_method method = {0};
    gs_backbone bb = {0};
    gs_backbone *encoder = &bb;
    gs_feature_extractor fx;
    gs_param_list feature_params = {0};
    if (ec.features && job->pretrained && job->checkpoint) {
        if (build_method(&ctx, job, &bc, &method, &feature_params, &fx) != GS_OK) {
            gs_error_set(err, ctx.status, "%s: rebuilding %s from %s: %s", gs_status_name(ctx.status),
                         job->pretrained->method, job->checkpoint, ctx.error);
            gs_param_list_free(&feature_params);
            gs_method_free(&method);
            gs_context_free(&ctx);
            return err->status;
        }
        ec.features = &fx;
        encoder = &method.encoder;
    } else {
        ec.features = NULL;
        if (gs_cli_load_encoder(&ctx, &bb, &bc, job->checkpoint, job->weights) != GS_OK) {
            gs_error_set(err, ctx.status, "%s: %s", gs_status_name(ctx.status), ctx.error);
            gs_backbone_free(&bb);
            gs_context_free(&ctx);
            return err->status;
        }
    }
    /* Features are cached per encoder: a file's path and mtime, or a random init's seed. */
    char encoder_key[4400], cache_dir[4000];
    struct stat src;
    const char *source = job->checkpoint ? job->checkpoint : job->weights;
    if (source && stat(source, &src) == 0)
        snprintf(encoder_key, sizeof encoder_key, "%s|%s|%lld.%09ld", encoder->arch, source,
                 (long long)src.st_mtim.tv_sec, src.st_mtim.tv_nsec);
    else
        snprintf(encoder_key, sizeof encoder_key, "%s|random|seed %llu|threads %d", encoder->arch,
                 (unsigned long long)job->id.seed, ctx.n_threads);
    gs_cache_default_dir(cache_dir, sizeof cache_dir);
    gs_error dir_err = {0};
    /* Across ranks rank 0 alone writes the feature cache (the others would write the same files). */
    bool use_cache = !(job->dist && job->dist->rank != 0) && gs_cache_make_dir(cache_dir, &dir_err) == GS_OK;
    ec.feature_cache_dir = use_cache ? cache_dir : NULL;
    ec.encoder_key = encoder_key;
    if (gs_evaluate(&ctx, encoder, job->ds, &ec, r, err) == GS_OK) {
        *wall_s = gs_now_s() - t0;
        if (job->results) gs_cli_append_results(job->results, &job->id, r, ctx.n_threads, *wall_s, job->replace, err);
    } else {
        r->n_metrics = 0;
    }
    gs_param_list_free(&feature_params);
    gs_method_free(&method);
    if (encoder == &bb) gs_backbone_free(&bb);
    gs_context_free(&ctx);
    return err->status;
}
