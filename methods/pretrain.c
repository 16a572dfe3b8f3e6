#include "pretrain.h"
#include "core/clock.h"
#include <math.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "dist/dist.h"
#include "io/checkpoint.h"
#include "io/run_config.h"
#include "loader.h"
#include "io/npy_file.h"
#include "ops/ops.h"
#include "optim/schedule.h"
#include "io/png_file.h"
#include "run_record.h"
#include "stats.h"

/* What evaluation needs to rebuild the encoder and label its rows, as
 * KEY=VALUE text (io/run_config.h): method, backbone settings, bands, view
 * size, pretraining data, the method's options. */
static void describe_run(const gs_pretrain_config *cfg, const gs_method *m, const gs_dataset *ds, char *text,
                         size_t size) {
    char number[32];
    snprintf(text, size, "pretrain");
    gs_run_config_add(text, size, "method", cfg->method);
    gs_run_config_add(text, size, "arch", m->encoder.arch);
    gs_run_config_add(text, size, "backbone", cfg->backbone.name ? cfg->backbone.name : "resnet18");
    snprintf(number, sizeof number, "%d", cfg->backbone.width);
    gs_run_config_add(text, size, "width", number);
    snprintf(number, sizeof number, "%d", cfg->backbone.patch);
    gs_run_config_add(text, size, "patch", number);
    gs_run_config_add(text, size, "stem", cfg->backbone.stem == GS_STEM_SMALL ? "small" : "imagenet");
    snprintf(number, sizeof number, "%d", m->config.bands);
    gs_run_config_add(text, size, "bands", number);
    char names[GS_MAX_BANDS * 17];
    gs_run_config_add(text, size, "band_names",
                      m->input_bands ? gs_dataset_band_names_at(ds, m->input_bands, m->n_input_bands, names, sizeof names)
                                     : gs_dataset_band_names(ds, names, sizeof names));
    snprintf(number, sizeof number, "%d", m->config.image_size);
    gs_run_config_add(text, size, "size", number);
    gs_run_config_add(text, size, "data", ds->format->name);
    gs_run_config_add(text, size, "data_path", ds->root);
    snprintf(number, sizeof number, "%d", cfg->batch);
    gs_run_config_add(text, size, "batch", number);
    snprintf(number, sizeof number, "%d", cfg->epochs);
    gs_run_config_add(text, size, "epochs", number);
    snprintf(number, sizeof number, "%llu", (unsigned long long)cfg->seed);
    gs_run_config_add(text, size, "seed", number);
    gs_run_config_add(text, size, "options", cfg->method_options ? cfg->method_options : "");
    /* Batchnorm over each rank's shard is another recipe than one process's
     * (its statistics see batch / ranks images): evaluation names it in
     * every row of this encoder.  --sync-bn is one process's recipe. */
    if (cfg->ranks > 1 && !cfg->sync_bn) {
        snprintf(number, sizeof number, "per-rank:%d", cfg->ranks);
        gs_run_config_add(text, size, "batchnorm", number);
    }
}

static gs_status save(gs_context *ctx, const gs_pretrain_config *cfg, gs_method *m, gs_optimizer *opt,
                      const char *description, int64_t step, gs_error *err) {
    gs_checkpoint_group groups[4] = {{"model", m->encoder.params}, {"heads", &m->heads}, {"optimizer", &opt->state},
                                     {"method_state", &m->state}};
    gs_checkpoint_meta meta = {.step = step, .rng = ctx->rng, .architecture = m->encoder.arch, .config = description};
    if (gs_checkpoint_save(ctx, cfg->checkpoint, groups, m->state.count ? 4 : 3, &meta) != GS_OK)
        return gs_error_set(err, ctx->status, "%s", ctx->error);
    return GS_OK;
}

/* The method's picture (SatMAE's reconstruction) beside the checkpoint,
 * renewed every epoch.  It only illustrates: a failure is said, not fatal. */
static void write_picture(gs_context *ctx, const gs_pretrain_config *cfg, gs_method *m) {
    if (!m->ops->picture || !m->ops->picture_name) return;
    char path[4200];
    const char *slash = strrchr(cfg->checkpoint, '/');
    if (slash)
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - cfg->checkpoint), cfg->checkpoint, m->ops->picture_name);
    else
        snprintf(path, sizeof path, "%s", m->ops->picture_name);
    uint8_t *rgb = NULL;
    int width = 0, height = 0;
    gs_error err = {0};
    if (m->ops->picture(ctx, m, &rgb, &width, &height) != GS_OK) {
        gs_error_set(&err, ctx->status, "%s", ctx->error);
        gs_clear_error(ctx);
    } else {
        gs_png_write_rgb(path, rgb, width, height, &err);
    }
    free(rgb);
    if (err.status != GS_OK && cfg->progress)
        fprintf(cfg->progress, "%s: no %s: %s (training goes on)\n", cfg->method, m->ops->picture_name, err.message);
}

/* checkpoint.h5's snapshot of this epoch kept beside it as
 * checkpoint-epochNNN.h5 (--keep-every): the same contents, another name. */
static gs_status keep_epoch(gs_context *ctx, const gs_pretrain_config *cfg, gs_method *m, gs_optimizer *opt,
                            const char *description, int64_t step, int64_t epoch, gs_error *err) {
    char path[4200], stem[4096];
    snprintf(stem, sizeof stem, "%s", cfg->checkpoint);
    char *dot = strrchr(stem, '.'), *slash = strrchr(stem, '/');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    snprintf(path, sizeof path, "%s-epoch%03lld.h5", stem, (long long)epoch);
    gs_pretrain_config kept = *cfg;
    kept.checkpoint = path;
    return save(ctx, &kept, m, opt, description, step, err);
}

static gs_status resume(gs_context *ctx, const gs_pretrain_config *cfg, gs_method *m, gs_optimizer *opt,
                        int64_t *step, gs_error *err) {
    gs_checkpoint_group groups[4] = {{"model", m->encoder.params}, {"heads", &m->heads}, {"optimizer", &opt->state},
                                     {"method_state", &m->state}};
    gs_checkpoint_info info;
    /* Another method's or backbone's checkpoint is named as such before its
     * tensors are compared one by one. */
    if (gs_checkpoint_read_info(ctx, cfg->checkpoint, &info) != GS_OK)
        return gs_error_set(err, ctx->status, "%s", ctx->error);
    char method[64] = "an unnamed method";
    const gs_method_ops *was = gs_run_config_get(info.config, "method", method, sizeof method) ? gs_method_find(method)
                                                                                               : NULL;
    bool other_method = was && strcmp(was->name, cfg->method);
    bool other_arch = info.architecture && strcmp(info.architecture, m->encoder.arch);
    if (other_method || other_arch) {
        gs_error_set(err, GS_ERR_ARGUMENT, "%s holds a %s run on %s; this run is %s on %s: resume with the same "
                     "settings, or start afresh with --force", cfg->checkpoint, was ? was->name : method,
                     info.architecture ? info.architecture : "?", cfg->method, m->encoder.arch);
        gs_checkpoint_info_free(&info);
        return err->status;
    }
    gs_checkpoint_info_free(&info);
    gs_checkpoint_load_options options = {.architecture = m->encoder.arch};
    if (gs_checkpoint_load(ctx, cfg->checkpoint, groups, m->state.count ? 4 : 3, &info, &options) != GS_OK)
        return gs_error_set(err, ctx->status, "%s", ctx->error);
    *step = info.step;
    ctx->rng = info.rng;
    opt->step = info.step;
    gs_checkpoint_info_free(&info);
    return GS_OK;
}

static gs_method_config method_config(const gs_pretrain_config *cfg, int bands, int size) {
    return (gs_method_config){.backbone = cfg->backbone, .image_size = size, .bands = bands,
                              .batch = cfg->batch, .temperature = cfg->temperature, .momentum = cfg->ema_momentum,
                              .proj_hidden = cfg->head_hidden, .proj_dim = cfg->head_dim,
                              .queue_size = cfg->queue_size, .local_crops = cfg->local_crops,
                              .options = cfg->method_options};
}

/* The method by name or alias, or an error listing the methods. */
static const gs_method_ops *find_method(const char *name, gs_error *err) {
    const gs_method_ops *ops = gs_method_find(name);
    char names[256];
    if (!ops)
        gs_error_set(err, GS_ERR_ARGUMENT, "unknown method '%s' (use %s)", name ? name : "",
                     gs_method_names(names, sizeof names));
    return ops;
}

gs_status gs_pretrain_views(const gs_pretrain_config *cfg, int bands, int size, gs_augment_config *views,
                            int *n_views, gs_error *err) {
    const gs_method_ops *ops = find_method(cfg->method, err);
    if (!ops) return err->status;
    if (gs_method_options_check(ops, cfg->method_options, err) != GS_OK) return err->status;
    gs_method_config mc = method_config(cfg, bands, size);
    if (ops->views(&mc, views, n_views, err) != GS_OK) return err->status;
    for (int v = 0; v < *n_views; v++)
        if (gs_augment_set(&views[v], cfg->augment, err) != GS_OK) return err->status;
    return GS_OK;
}

/* The optimizer as configured or as the method's paper has it (lr scaled by batch / 256). */
static gs_optimizer_config optimizer_config(const gs_pretrain_config *cfg, const gs_method_ops *ops) {
    gs_optimizer_config oc = gs_optimizer_defaults(cfg->optimizer >= 0 ? (gs_optimizer_kind)cfg->optimizer
                                                                       : ops->optimizer);
    oc.lr = cfg->lr > 0 ? cfg->lr : ops->lr * (float)cfg->batch / 256.0f;
    oc.weight_decay = cfg->weight_decay >= 0 ? cfg->weight_decay : ops->weight_decay;
    if (oc.kind != GS_OPTIM_ADAMW) oc.momentum = 0.9f;
    return oc;
}

gs_status gs_pretrain_resolve(const gs_pretrain_config *cfg, int bands, int size, int64_t train_samples,
                              gs_pretrain_resolved *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    const gs_method_ops *ops = find_method(cfg->method, err);
    if (!ops) return err->status;
    if (gs_method_options_check(ops, cfg->method_options, err) != GS_OK) return err->status;
    gs_method_config mc = method_config(cfg, bands, size);
    int64_t per_epoch = cfg->batch > 0 ? train_samples / cfg->batch : 0;
    mc.steps_per_epoch = per_epoch > 0 ? per_epoch : 1;
    mc.total_steps = mc.steps_per_epoch * (cfg->epochs > 0 ? cfg->epochs : 1);
    mc.dataset_size = train_samples > 0 ? train_samples : 1 << 20;
    /* Without data a step is taken for an epoch: the checks still hold. */
    int64_t known_per_epoch = per_epoch > 0 ? per_epoch : 1;
    if (gs_pretrain_warmup_steps(cfg, known_per_epoch, known_per_epoch * cfg->epochs, &out->warmup_steps, err) !=
        GS_OK)
        return err->status;
    if (per_epoch == 0) out->warmup_steps = 0;
    out->steps_per_epoch = per_epoch;
    out->own_schedule = ops->lr_at != NULL;
    out->optimizer = optimizer_config(cfg, ops);
    gs_context scratch;
    gs_context_options co = {.n_threads = 1, .seed = cfg->seed};
    gs_method m;
    memset(&m, 0, sizeof m);
    gs_status status = GS_OK;
    if (gs_context_init(&scratch, &co) == GS_OK && gs_method_init(&scratch, &m, ops, &mc) == GS_OK) {
        out->method = m.config;
        out->method.options = NULL; /* not needed, and not to outlive the method */
        snprintf(out->architecture, sizeof out->architecture, "%s", m.encoder.arch);
    } else {
        status = gs_error_set(err, scratch.status, "%s", scratch.error);
    }
    gs_method_free(&m);
    gs_context_free(&scratch);
    return status;
}

gs_status gs_pretrain_warmup_steps(const gs_pretrain_config *cfg, int64_t steps_per_epoch, int64_t total_steps,
                                   int64_t *warmup_steps, gs_error *err) {
    const gs_method_ops *ops = find_method(cfg->method, err);
    if (!ops) return err->status;
    *warmup_steps = 0;
    if (ops->lr_at) {
        if (cfg->has_warmup)
            return gs_error_set(err, GS_ERR_ARGUMENT, "%s follows its own schedule (%s): --warmup-epochs does not "
                                "apply to it", ops->name, ops->schedule ? ops->schedule : "the method's");
        return GS_OK;
    }
    if (!cfg->has_warmup) {
        *warmup_steps = total_steps / 10;
        return GS_OK;
    }
    double steps = cfg->warmup_epochs * (double)steps_per_epoch;
    if (!(steps >= 0.0 && steps <= (double)total_steps))
        return gs_error_set(err, GS_ERR_ARGUMENT, "a warm-up of %g epochs is longer than the %lld epochs of training",
                            cfg->warmup_epochs, (long long)(total_steps / (steps_per_epoch > 0 ? steps_per_epoch : 1)));
    *warmup_steps = llround(steps);
    return GS_OK;
}

/* The method's own schedule when it has one, else warm-up + cosine. */
static double lr_at(const gs_method_ops *ops, const gs_cosine_schedule *s, int64_t step) {
    return ops->lr_at ? ops->lr_at(s->base, step, s->total_steps) : gs_cosine_lr(s, step);
}

#define LOG_HEADER "step,epoch,loss,lr,embedding_std,img_per_s\n"

/* Opens the per-step log: truncated on a fresh start; on resume, the rows
 * up to the checkpoint's step kept (a killed run may have logged past it). */
/* Step `step`'s views, one .npy per view, as the method receives them. */
static gs_status dump_views(const char *dir, const gs_batch *b, int64_t step, gs_error *err) {
    for (int v = 0; v < b->n_views; v++) {
        const gs_batch_view *view = &b->views[v];
        char path[4200];
        snprintf(path, sizeof path, "%s/step-%06lld-view-%d.npy", dir, (long long)step, v);
        int64_t shape[4] = {b->n, (int64_t)b->dates * b->bands, view->height, view->width};
        if (gs_npy_write_f32(path, shape, 4, view->pixels, err) != GS_OK) return err->status;
    }
    return GS_OK;
}

static FILE *open_log(const char *path, int64_t resume_step, gs_error *err) {
    if (resume_step == 0) {
        FILE *f = fopen(path, "w");
        if (!f) gs_error_set(err, GS_ERR_IO, "cannot write the training log %s", path);
        else fputs(LOG_HEADER, f);
        return f;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
    if (!out) {
        if (in) fclose(in);
        gs_error_set(err, GS_ERR_IO, "cannot write the training log %s", tmp);
        return NULL;
    }
    fputs(LOG_HEADER, out);
    char line[512];
    if (in) {
        bool header = true;
        while (fgets(line, sizeof line, in)) {
            if (header) {
                header = false;
                continue;
            }
            long long step = atoll(line);
            if (step >= 1 && step <= resume_step) fputs(line, out);
        }
        fclose(in);
    }
    if (fflush(out) != 0 || rename(tmp, path) != 0) {
        fclose(out);
        gs_error_set(err, GS_ERR_IO, "cannot replace the training log %s", path);
        return NULL;
    }
    return out;
}

gs_status gs_pretrain(gs_context *ctx, gs_dataset *ds, const gs_pretrain_config *cfg_in, gs_pretrain_result *out,
                      gs_error *err) {
    memset(out, 0, sizeof *out);
    gs_pretrain_config cfg = *cfg_in;
    const gs_method_ops *ops = find_method(cfg.method, err);
    if (!ops) return err->status;
    cfg.method = ops->name; /* the checkpoint and the log carry the canonical name, never an alias */
    if (gs_method_options_check(ops, cfg.method_options, err) != GS_OK) return err->status;
    if (cfg.epochs < 1 || cfg.batch < 2) return gs_error_set(err, GS_ERR_ARGUMENT, "need epochs >= 1 and batch >= 2");
    if (cfg.workers <= 0) cfg.workers = 2;
    if (ds->dates > 1 && !ops->multi_date)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s has %d dates per sample, and %s takes single images: use a seasonal method",
                            ds->root, ds->dates, ops->name);
    int size = cfg.size > 0 ? cfg.size : (int)ds->height;
    /* Across ranks: each takes its shard of every global batch; rank 0
     * alone writes the checkpoint, the log, the record and progress. */
    gs_dist *dist = ctx->dist;
    int rank = dist ? dist->rank : 0, ranks = dist ? dist->size : 1;
    if (ranks > 1) {
        char names[256];
        if (!ops->data_parallel)
            return gs_error_set(err, GS_ERR_ARGUMENT, "%s does not run across processes yet (these do: %s): run it "
                                "as one process", ops->name, gs_method_data_parallel_names(names, sizeof names));
        if (cfg.batch % ranks)
            return gs_error_set(err, GS_ERR_ARGUMENT, "--batch %d is the global batch and must divide by the %d ranks",
                                cfg.batch, ranks);
        if (cfg.dump_views)
            return gs_error_set(err, GS_ERR_ARGUMENT, "--dump-views writes one process's views: run it as one process");
    }
    cfg.ranks = ranks;
    cfg.sync_bn = dist && dist->sync_bn;
    if (rank != 0) {
        cfg.progress = NULL;
        cfg.config_json = NULL;
    }

    gs_band_stats stats;
    if (gs_stats_get_in(ds, cfg.stats_dir, cfg.workers, NULL, &stats, err) != GS_OK) return err->status;

    int64_t *train = malloc((size_t)ds->n_samples * sizeof *train), n_train = 0;
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (ds->samples[i].split == GS_SPLIT_NONE || ds->samples[i].split == GS_SPLIT_TRAIN) train[n_train++] = i;
    int64_t per_epoch = n_train / cfg.batch;
    if (per_epoch < 1) {
        free(train);
        return gs_error_set(err, GS_ERR_ARGUMENT, "%lld training samples are fewer than one batch of %d",
                            (long long)n_train, cfg.batch);
    }
    int64_t warmup_steps;
    if (gs_pretrain_warmup_steps(&cfg, per_epoch, per_epoch * cfg.epochs, &warmup_steps, err) != GS_OK) {
        free(train);
        return err->status;
    }
    gs_method_config mc = method_config(&cfg, ds->bands, size);
    mc.total_steps = per_epoch * cfg.epochs;
    mc.steps_per_epoch = per_epoch;
    mc.dataset_size = n_train;
    gs_method m;
    gs_optimizer opt;
    memset(&opt, 0, sizeof opt);
    gs_loader *loader = NULL;
    FILE *log = NULL;
    if (gs_method_init(ctx, &m, ops, &mc) != GS_OK) {
        gs_error_set(err, ctx->status, "%s", ctx->error);
        goto done;
    }
    gs_optimizer_config oc = optimizer_config(&cfg, ops);
    if (gs_optimizer_init(ctx, &opt, &m.trainable, &oc) != GS_OK) {
        gs_error_set(err, ctx->status, "%s", ctx->error);
        goto done;
    }
    char description[2048];
    describe_run(&cfg, &m, ds, description, sizeof description);
    int64_t step = 0;
    if (cfg.resume && resume(ctx, &cfg, &m, &opt, &step, err) != GS_OK) goto done;
    out->start_step = step;

    gs_loader_config lc = {.dataset = ds, .indices = train, .n_indices = n_train, .batch_size = cfg.batch,
                           .workers = cfg.workers, .shuffle = true, .seed = cfg.seed, .drop_last = true,
                           .epochs = cfg.epochs, .start_epoch = (int)(step / per_epoch),
                           .start_batch = step % per_epoch, .normalize = &stats, .shard = rank, .shards = ranks};
    /* Each view's recipe carries its output size (DINO's local crops are smaller). */
    if (gs_pretrain_views(&cfg, ds->bands, size, lc.views, &lc.n_views, err) != GS_OK) goto done;
    if (rank == 0 && cfg.log_csv && !(log = open_log(cfg.log_csv, step, err))) goto done;
    if (gs_loader_create(&lc, &loader, err) != GS_OK) goto done;
    if (cfg.config_json) {
        gs_run_record record = {.cfg = &cfg, .method = &m, .optimizer = &oc, .data = ds, .views = lc.views,
                                .n_views = lc.n_views, .train_samples = n_train, .steps_per_epoch = per_epoch,
                                .start_step = step, .threads = ctx->n_threads, .warmup_steps = warmup_steps,
                                .ranks = ranks, .sync_bn = dist && dist->sync_bn};
        if (gs_run_record_write(cfg.config_json, &record, err) != GS_OK) goto done;
    }
    gs_cosine_schedule schedule = {.base = oc.lr, .final = 0.0, .warmup_steps = warmup_steps,
                                   .total_steps = per_epoch * cfg.epochs};
    /* Epoch 0 of the kept ones is the initialization: the same run's random
     * baseline, and the start another implementation can be given. */
    if (rank == 0 && cfg.checkpoint && cfg.keep_every > 0 && step == 0 &&
        keep_epoch(ctx, &cfg, &m, &opt, description, 0, 0, err) != GS_OK)
        goto done;
    double t_start = gs_now_s();
    int64_t images = 0;
    const gs_batch *b;
    while (gs_loader_next(loader, &b, err) == GS_OK && b) {
        double t0 = gs_now_s();
        /* A rank that died or hangs is named here, before the step's sums wait for it. */
        if (gs_dist_check_in(dist, step, err) != GS_OK) break;
        gs_step_begin(ctx);
        gs_tensor *views[GS_METHOD_MAX_VIEWS];
        for (int v = 0; v < b->n_views; v++) views[v] = gs_batch_view_tensor(ctx, b, v);
        if (cfg.dump_views && dump_views(cfg.dump_views, b, step + 1, err) != GS_OK) break;
        m.batch = b;
        gs_tensor *loss = gs_method_step(ctx, &m, &opt, views, b->n_views, step, (float)lr_at(ops, &schedule, step));
        m.batch = NULL;
        if (!loss) {
            /* A non-finite value's message names its step (gs_method_step). */
            if (ctx->status == GS_ERR_NONFINITE)
                gs_error_set(err, ctx->status, "%s", ctx->error);
            else
                gs_error_set(err, ctx->status, "step %lld: %s", (long long)step, ctx->error);
            break;
        }
        step++;
        images += (int64_t)b->n * ranks;
        if (step == out->start_step + 1) out->first_loss = loss->data[0];
        out->final_loss = loss->data[0];
        out->embedding_std = m.embedding_std;
        double dt = gs_now_s() - t0, rate = (double)b->n * ranks / dt;
        if (log)
            fprintf(log, "%lld,%lld,%.6f,%.6g,%.6f,%.2f\n", (long long)step, (long long)(step - 1) / per_epoch + 1,
                    (double)loss->data[0], lr_at(ops, &schedule, step - 1), (double)m.embedding_std, rate);
        if (cfg.progress && (step % 10 == 0 || step % per_epoch == 0))
            fprintf(cfg.progress, "%s epoch %lld/%d step %lld: loss %.4f  std %.4f  %.1f img/s  ETA %.0f s\n",
                    cfg.method, (long long)(step - 1) / per_epoch + 1, cfg.epochs, (long long)step,
                    (double)loss->data[0], (double)m.embedding_std, rate,
                    dt * (double)(per_epoch * cfg.epochs - step));
        if (rank == 0 && cfg.checkpoint && step % per_epoch == 0) {
            /* The log reaches the disk before the checkpoint that covers it. */
            if (log) fflush(log);
            if (save(ctx, &cfg, &m, &opt, description, step, err) != GS_OK) break;
            write_picture(ctx, &cfg, &m);
            int64_t epoch = step / per_epoch;
            if (cfg.keep_every > 0 && epoch % cfg.keep_every == 0 && keep_epoch(ctx, &cfg, &m, &opt, description, step,
                                                                              epoch, err) != GS_OK)
                break;
        }
        if (cfg.stop_after > 0 && step >= cfg.stop_after) break;
    }
    /* No rank leaves before rank 0 has written the last checkpoint: the
     * next thing a caller does (geossl run's evaluation) may read it. */
    if (ranks > 1 && err->status == GS_OK) gs_dist_check_in(dist, step, err);
    out->steps = step;
    out->seconds = gs_now_s() - t_start;
    out->img_per_s = out->seconds > 0 ? (double)images / out->seconds : 0.0;
done:
    if (log && fclose(log) != 0 && err->status == GS_OK)
        gs_error_set(err, GS_ERR_IO, "cannot finish the training log %s", cfg.log_csv);
    gs_loader_destroy(loader);
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    free(train);
    return err->status;
}
