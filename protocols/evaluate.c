#include "evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "feature_set.h"
#include "knn.h"
#include "linear_probe.h"
#include "metrics.h"
#include "splits.h"
#include "stats.h"

const char *const GS_PROTOCOL_NAMES[] = {"knn", "linear", "finetune", "segment", NULL};

const char *gs_protocol_name(gs_protocol p) { return GS_PROTOCOL_NAMES[p]; }

bool gs_protocol_parse(const char *name, gs_protocol *out) {
    for (int i = 0; GS_PROTOCOL_NAMES[i]; i++)
        if (name && !strcmp(name, GS_PROTOCOL_NAMES[i])) {
            *out = (gs_protocol)i;
            return true;
        }
    return false;
}

/* Names and units follow results/README.md: accuracy-like metrics in
 * percent, kappa as a fraction. */
static void add_metric(gs_eval_result *r, const char *name, double value) {
    if (r->n_metrics >= GS_EVAL_MAX_METRICS) return;
    snprintf(r->metrics[r->n_metrics].name, sizeof r->metrics[r->n_metrics].name, "%s", name);
    r->metrics[r->n_metrics++].value = value;
}

/* Every metric a confusion matrix gives, per class where it makes sense. */
static void confusion_metrics(gs_eval_result *r, const gs_confusion *cm, const gs_dataset *ds, bool segmentation) {
    int c = cm->n_classes;
    double *per = malloc((size_t)c * sizeof *per);
    char name[64];
    r->headline = r->n_metrics;
    if (segmentation) {
        add_metric(r, "miou", 100.0 * gs_confusion_miou(cm));
        r->headline_label = "mIoU";
        add_metric(r, "oa", 100.0 * gs_confusion_accuracy(cm));
        gs_confusion_iou(cm, per);
        for (int k = 0; k < c; k++) {
            snprintf(name, sizeof name, "iou/%s", ds->class_names[k]);
            add_metric(r, name, 100.0 * per[k]);
        }
    } else {
        add_metric(r, "top1", 100.0 * gs_confusion_accuracy(cm));
        r->headline_label = "top-1";
        add_metric(r, "mean_class_accuracy", 100.0 * gs_confusion_mean_class_accuracy(cm));
        gs_confusion_class_accuracy(cm, per);
        for (int k = 0; k < c; k++) {
            snprintf(name, sizeof name, "accuracy/%s", ds->class_names[k]);
            add_metric(r, name, 100.0 * per[k]);
        }
    }
    add_metric(r, "f1_macro", 100.0 * gs_confusion_macro_f1(cm));
    gs_confusion_f1(cm, per);
    for (int k = 0; k < c; k++) {
        snprintf(name, sizeof name, "f1/%s", ds->class_names[k]);
        add_metric(r, name, 100.0 * per[k]);
    }
    add_metric(r, "kappa", gs_confusion_kappa(cm));
    free(per);
}

static void collect(const gs_dataset *ds, gs_split split, int64_t **idx, int64_t *n) {
    *idx = malloc((size_t)(ds->n_samples > 0 ? ds->n_samples : 1) * sizeof **idx);
    *n = 0;
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (ds->samples[i].split == (int)split) (*idx)[(*n)++] = i;
}

gs_status gs_evaluate_default_split(gs_dataset *ds, uint64_t seed, gs_error *err) {
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (ds->samples[i].split != GS_SPLIT_NONE) {
            /* Assigned by the format (BigEarthNet's CSVs, Potsdam's tiles) or earlier by split lists. */
            if (!ds->split_source[0]) snprintf(ds->split_source, sizeof ds->split_source, "official");
            return GS_OK;
        }
    bool listed;
    if (gs_split_apply_standard(ds, NULL, &listed, err) != GS_OK || listed) return err->status;
    if (ds->task == GS_TASK_CLASSIFICATION) return gs_split_every_nth(ds, 5, err);
    const double fractions[3] = {0.8, 0.0, 0.2};
    return gs_split_stratified(ds, fractions, seed, err);
}

static bool has_split(const gs_dataset *ds, gs_split split) {
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (ds->samples[i].split == (int)split) return true;
    return false;
}

gs_status gs_evaluate_training_samples(const gs_dataset *ds, double label_fraction, uint64_t seed, int64_t **train,
                                       int64_t *n_train, gs_error *err) {
    if (label_fraction > 0 && label_fraction < 1.0)
        return gs_split_label_subset(ds, GS_SPLIT_TRAIN, label_fraction, seed, train, n_train, err);
    collect(ds, GS_SPLIT_TRAIN, train, n_train);
    return GS_OK;
}

static gs_status training_samples(const gs_dataset *ds, const gs_eval_config *cfg, int64_t **train, int64_t *n_train,
                                  gs_error *err) {
    return gs_evaluate_training_samples(ds, cfg->label_fraction, cfg->seed, train, n_train, err);
}

/* With a label fraction below 1: how many classes got one labelled image
 * because the fraction rounded to none of theirs (1% of a small set).
 * Classification only; segmentation counts tiles as one stratum. */
static int classes_raised(const gs_dataset *ds, double fraction) {
    if (fraction >= 1.0) return 0;
    if (ds->task != GS_TASK_CLASSIFICATION) {
        int64_t n = 0;
        for (int64_t i = 0; i < ds->n_samples; i++) n += ds->samples[i].split == GS_SPLIT_TRAIN;
        return n > 0 && floor(fraction * (double)n + 0.5) < 1 && ds->task == GS_TASK_SEGMENTATION;
    }
    int64_t *count = calloc((size_t)(ds->n_classes > 0 ? ds->n_classes : 1), sizeof *count);
    if (!count) return 0;
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (ds->samples[i].split == GS_SPLIT_TRAIN && ds->samples[i].label >= 0 && ds->samples[i].label < ds->n_classes)
            count[ds->samples[i].label]++;
    int raised = 0;
    for (int c = 0; c < ds->n_classes; c++) raised += count[c] > 0 && floor(fraction * (double)count[c] + 0.5) < 1;
    free(count);
    return raised;
}

/* The settings column: every protocol setting that changes a number, as
 * used (defaults resolved, k capped by the training samples, the batch
 * shrunk to a small training split), and where the split came from. */
static void format_settings(const gs_dataset *ds, const gs_eval_config *cfg, int64_t n_train, char *out, size_t size) {
    if (cfg->protocol == GS_PROTOCOL_FINETUNE || cfg->protocol == GS_PROTOCOL_SEGMENT) {
        gs_finetune_config fc = gs_finetune_resolve(&cfg->finetune, n_train);
        /* iterations replaces epochs when set; encoder=frozen and
         * aspp=pretrained (and dilation=deeplab) appear only when they hold (a trained encoder and
         * a fresh head are what rows without them measured); segmentation
         * always names its decoder. */
        char length[48], head[96] = "";
        if (fc.iterations > 0)
            snprintf(length, sizeof length, "iterations=%d", fc.iterations);
        else
            snprintf(length, sizeof length, "epochs=%d", fc.epochs);
        if (cfg->protocol == GS_PROTOCOL_SEGMENT) {
            bool deeplab = fc.decoder == GS_SEGMENT_DECODER_DEEPLABV3PLUS;
            snprintf(head, sizeof head, ";decoder=%s%s%s", deeplab ? "deeplabv3plus" : "fpn",
                     deeplab && fc.aspp_checkpoint ? ";aspp=pretrained" : "",
                     deeplab && fc.deeplab_dilation ? ";dilation=deeplab" : "");
        }
        char decay[40] = "";
        if (fc.layer_decay > 0.0f) snprintf(decay, sizeof decay, ";layer_decay=%g", (double)fc.layer_decay);
        char shards[48] = "";
        if (cfg->ranks > 1 && !cfg->sync_bn) snprintf(shards, sizeof shards, ";batchnorm=per-rank;ranks=%d", cfg->ranks);
        snprintf(out, size, "%s;batch=%d;lr=%g;weight_decay=%g%s%s%s%s;splits=%s", length, fc.batch, (double)fc.lr,
                 (double)fc.weight_decay, decay, fc.freeze_encoder ? ";encoder=frozen" : "", head, shards,
                 ds->split_source);
    } else if (cfg->protocol == GS_PROTOCOL_KNN) {
        int64_t k = cfg->knn_k > 0 ? cfg->knn_k : GS_KNN_DEFAULT_K;
        snprintf(out, size, "k=%lld;knn_temperature=%g;splits=%s", (long long)(k < n_train ? k : n_train),
                 (double)(cfg->knn_temperature > 0 ? cfg->knn_temperature : GS_KNN_DEFAULT_TEMPERATURE),
                 ds->split_source);
    } else {
        snprintf(out, size, "validation=%s;splits=%s", has_split(ds, GS_SPLIT_VAL) ? "val-split" : "10%-of-train",
                 ds->split_source);
    }
    if (cfg->features && cfg->protocol != GS_PROTOCOL_SEGMENT) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, ";features=%s%s", cfg->features->name,
                 cfg->protocol == GS_PROTOCOL_FINETUNE ? ";head=fc_norm+linear" : "");
    }
    /* A labelled subset says how many samples it holds, and when rounding
     * gave some class none, that each such class got one anyway. */
    if (cfg->label_fraction < 1.0) {
        size_t used = strlen(out);
        int raised = classes_raised(ds, cfg->label_fraction);
        snprintf(out + used, size - used, ";labelled=%lld%s", (long long)n_train,
                 raised ? ";raised=one-per-class" : "");
    }
    if (cfg->from_checkpoint) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, ";pretrain_steps=%lld", (long long)cfg->pretrain_steps);
        if (cfg->pretrain_batchnorm && *cfg->pretrain_batchnorm) {
            used = strlen(out);
            snprintf(out + used, size - used, ";pretrain_batchnorm=%s", cfg->pretrain_batchnorm);
        }
    }
    /* Which data: the format's name alone does not tell two folders (a
     * sample and the full set, or two generations of synthetic images)
     * apart. */
    size_t used = strlen(out);
    snprintf(out + used, size - used, ";data=%lld:%08x", (long long)ds->n_samples,
             (unsigned)(gs_dataset_content_key(ds) >> 32));
}

gs_status gs_evaluate_settings(gs_dataset *ds, const gs_eval_config *cfg_in, char *settings, size_t size,
                               gs_error *err) {
    gs_eval_config cfg = *cfg_in;
    if (cfg.label_fraction <= 0 || cfg.label_fraction > 1) cfg.label_fraction = 1.0;
    if (gs_evaluate_default_split(ds, cfg.seed, err) != GS_OK) return err->status;
    int64_t *train = NULL, n_train = 0;
    if (training_samples(ds, &cfg, &train, &n_train, err) != GS_OK) return err->status;
    free(train);
    format_settings(ds, &cfg, n_train, settings, size);
    return GS_OK;
}

/* train minus a stratified 10% validation subset, when there is no val split. */
static gs_status probe_split(const gs_dataset *ds, const int64_t *train, int64_t n_train, uint64_t seed,
                             int64_t **fit, int64_t *n_fit, int64_t **val, int64_t *n_val, gs_error *err) {
    collect(ds, GS_SPLIT_VAL, val, n_val);
    if (*n_val > 0) {
        *fit = malloc((size_t)(n_train > 0 ? n_train : 1) * sizeof **fit);
        memcpy(*fit, train, (size_t)n_train * sizeof **fit);
        *n_fit = n_train;
        return GS_OK;
    }
    free(*val);
    if (gs_split_label_subset(ds, GS_SPLIT_TRAIN, 0.1, seed ^ 0x5eedULL, val, n_val, err) != GS_OK) return err->status;
    char *is_val = calloc((size_t)ds->n_samples, 1);
    for (int64_t i = 0; i < *n_val; i++) is_val[(*val)[i]] = 1;
    *fit = malloc((size_t)(n_train > 0 ? n_train : 1) * sizeof **fit);
    *n_fit = 0;
    for (int64_t i = 0; i < n_train; i++)
        if (!is_val[train[i]]) (*fit)[(*n_fit)++] = train[i];
    free(is_val);
    return GS_OK;
}

/* Features of the given samples: from the feature cache when it holds them
 * for this encoder, else extracted (and stored when a cache is set).  The
 * cache only saves time: when it cannot be written (a full disk) that is
 * said once and the evaluation goes on without it (cfg's cache unset). */
static gs_status features(gs_context *ctx, gs_backbone *encoder, const gs_dataset *ds, const int64_t *idx, int64_t n,
                          const gs_band_stats *stats, gs_eval_config *cfg, gs_feature_set *out, gs_error *err) {
    char path[4400], key[1400];
    bool cached = cfg->feature_cache_dir && cfg->encoder_key;
    if (cached) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a of the sample list: another split is another entry */
        for (int64_t i = 0; i < n; i++)
            for (int b = 0; b < 8; b++) h = (h ^ (uint64_t)((idx[i] >> (8 * b)) & 0xff)) * 1099511628211ULL;
        snprintf(key, sizeof key, "%s|%s|%s:%s|%lld|%016llx", cfg->encoder_key,
                 cfg->features ? cfg->features->name : "forward", ds->format->name, ds->root, (long long)n,
                 (unsigned long long)h);
        uint64_t k = 1469598103934665603ULL;
        for (const char *c = key; *c; c++) k = (k ^ (uint8_t)*c) * 1099511628211ULL;
        snprintf(path, sizeof path, "%s/features-%016llx.h5", cfg->feature_cache_dir, (unsigned long long)k);
        gs_error miss = {0};
        if (gs_feature_set_load(path, key, out, &miss) == GS_OK) return GS_OK;
    }
    if (gs_extract_features(ctx, encoder, cfg->features, ds, idx, n, stats, cfg->batch, cfg->workers, cfg->progress,
                            out, err) != GS_OK)
        return err->status;
    gs_error unsaved = {0};
    if (cached && gs_feature_set_save(path, key, out, &unsaved) != GS_OK) {
        fprintf(cfg->progress ? cfg->progress : stderr,
                "features: %s; evaluating without the feature cache (it only saves time)\n", unsaved.message);
        cfg->feature_cache_dir = NULL;
    }
    return err->status;
}

static gs_probe_split as_probe(const gs_feature_set *fs) {
    return (gs_probe_split){.features = fs->features, .labels = fs->labels, .targets = fs->targets, .n = fs->n};
}

gs_status gs_evaluate(gs_context *ctx, gs_backbone *encoder, gs_dataset *ds, const gs_eval_config *cfg_in,
                      gs_eval_result *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    gs_eval_config cfg = *cfg_in;
    if (cfg.label_fraction <= 0 || cfg.label_fraction > 1) cfg.label_fraction = 1.0;
    if (cfg.batch <= 0) cfg.batch = 64;
    if (cfg.workers <= 0) cfg.workers = 2;
    if (ds->task == GS_TASK_UNLABELED)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s has no labels: evaluation needs a labelled dataset", ds->root);
    if ((cfg.protocol == GS_PROTOCOL_SEGMENT) != (ds->task == GS_TASK_SEGMENTATION))
        return gs_error_set(err, GS_ERR_ARGUMENT, "protocol %s does not fit a %s dataset (segment is for per-pixel labels)",
                            gs_protocol_name(cfg.protocol), ds->task == GS_TASK_SEGMENTATION ? "segmentation" : "classification");
    if (gs_evaluate_default_split(ds, cfg.seed, err) != GS_OK) return err->status;

    gs_band_stats stats;
    if (gs_stats_get_in(ds, cfg.stats_dir, cfg.workers, cfg.progress, &stats, err) != GS_OK) return err->status;

    int64_t *train = NULL, *test = NULL, n_train = 0, n_test = 0;
    if (training_samples(ds, &cfg, &train, &n_train, err) != GS_OK) return err->status;
    if (cfg.protocol == GS_PROTOCOL_SEGMENT && cfg.label_fraction < 1.0 && cfg.progress) {
        int64_t *all, n_all;
        collect(ds, GS_SPLIT_TRAIN, &all, &n_all);
        free(all);
        fprintf(cfg.progress, "segment: %g%% of the %lld training tiles is %lld tile%s (rounded, at least one)\n",
                100.0 * cfg.label_fraction, (long long)n_all, (long long)n_train, n_train == 1 ? "" : "s");
    }
    format_settings(ds, &cfg, n_train, out->settings, sizeof out->settings);
    int raised = classes_raised(ds, cfg.label_fraction);
    if (raised)
        fprintf(cfg.progress ? cfg.progress : stderr,
                "labels: %g%% of the training split rounds to no image for %d class%s; each gets one (%lld labelled "
                "in all, recorded as raised=one-per-class)\n",
                100.0 * cfg.label_fraction, raised, raised == 1 ? "" : "es", (long long)n_train);
    collect(ds, GS_SPLIT_TEST, &test, &n_test);
    if (n_test == 0) { /* e.g. the Potsdam crops: train and val only */
        free(test);
        collect(ds, GS_SPLIT_VAL, &test, &n_test);
    }
    out->n_train = n_train;
    out->n_test = n_test;
    if (n_train == 0 || n_test == 0) {
        gs_error_set(err, GS_ERR_ARGUMENT, "%s: %lld training and %lld test samples; both are needed", ds->root,
                     (long long)n_train, (long long)n_test);
        goto done;
    }
    bool multilabel = ds->task == GS_TASK_MULTILABEL;

    if (cfg.protocol == GS_PROTOCOL_FINETUNE || cfg.protocol == GS_PROTOCOL_SEGMENT) {
        gs_finetune_config fc = cfg.finetune;
        fc.seed = cfg.seed;
        if (!fc.workers) fc.workers = cfg.workers;
        if (!fc.progress) fc.progress = cfg.progress;
        if (cfg.protocol == GS_PROTOCOL_FINETUNE) fc.features = cfg.features;
        gs_finetune_result fr;
        if (gs_finetune(ctx, encoder, ds, train, n_train, test, n_test, &stats, &fc, &fr, err) != GS_OK) goto done;
        if (multilabel) {
            out->headline = out->n_metrics;
            out->headline_label = "mAP";
            add_metric(out, "map_macro", 100.0 * fr.map.macro);
            add_metric(out, "map_micro", 100.0 * fr.map.micro);
        } else {
            confusion_metrics(out, &fr.confusion, ds, cfg.protocol == GS_PROTOCOL_SEGMENT);
        }
        if (cfg.protocol == GS_PROTOCOL_SEGMENT) {
            add_metric(out, "miou_tile_mean", 100.0 * fr.miou_tile_mean);
            add_metric(out, "miou_tile_present", 100.0 * fr.miou_tile_present);
        }
        add_metric(out, "loss", fr.final_loss);
        gs_confusion_free(&fr.confusion);
        goto done;
    }

    /* Frozen-feature protocols. */
    gs_feature_set f_train = {0}, f_test = {0}, f_fit = {0}, f_val = {0};
    int64_t *fit = NULL, *val = NULL, n_fit = 0, n_val = 0;
    if (cfg.protocol == GS_PROTOCOL_KNN) {
        if (multilabel) {
            gs_error_set(err, GS_ERR_ARGUMENT, "kNN votes for one class: use the linear probe on multi-label data");
            goto done;
        }
        if (features(ctx, encoder, ds, train, n_train, &stats, &cfg, &f_train, err) ||
            features(ctx, encoder, ds, test, n_test, &stats, &cfg, &f_test, err))
            goto features_done;
        int32_t *pred = malloc((size_t)n_test * sizeof *pred);
        gs_knn_options ko = {.k = cfg.knn_k > 0 ? cfg.knn_k : GS_KNN_DEFAULT_K,
                             .temperature = cfg.knn_temperature > 0 ? cfg.knn_temperature : GS_KNN_DEFAULT_TEMPERATURE};
        double top1;
        gs_confusion cm;
        if (gs_knn_classify(ctx, f_train.features, f_train.labels, n_train, f_test.features, n_test, f_train.dim,
                            ds->n_classes, &ko, pred, f_test.labels, &top1) != GS_OK) {
            gs_error_set(err, ctx->status, "kNN: %s", ctx->error);
        } else if (gs_confusion_init(&cm, ds->n_classes, GS_IGNORE_LABEL, err) == GS_OK) {
            if (gs_confusion_add(&cm, f_test.labels, pred, n_test, err) == GS_OK) confusion_metrics(out, &cm, ds, false);
            gs_confusion_free(&cm);
        }
        free(pred);
    } else {
        if (probe_split(ds, train, n_train, cfg.seed, &fit, &n_fit, &val, &n_val, err) != GS_OK) goto features_done;
        if (features(ctx, encoder, ds, fit, n_fit, &stats, &cfg, &f_fit, err) ||
            features(ctx, encoder, ds, val, n_val, &stats, &cfg, &f_val, err) ||
            features(ctx, encoder, ds, test, n_test, &stats, &cfg, &f_test, err))
            goto features_done;
        gs_probe_split p_fit = as_probe(&f_fit), p_val = as_probe(&f_val), p_test = as_probe(&f_test);
        gs_linear_probe_result lr;
        int32_t *pred = multilabel ? NULL : malloc((size_t)n_test * sizeof *pred);
        if (gs_linear_probe(ctx, f_fit.dim, ds->n_classes, multilabel, &p_fit, &p_val, &p_test, NULL, &lr, pred, NULL) !=
            GS_OK) {
            gs_error_set(err, ctx->status, "linear probe: %s", ctx->error);
        } else if (multilabel) {
            out->headline = out->n_metrics;
            out->headline_label = "mAP";
            add_metric(out, "map_macro", 100.0 * lr.test_map.macro);
            add_metric(out, "map_micro", 100.0 * lr.test_map.micro);
        } else {
            gs_confusion cm;
            if (gs_confusion_init(&cm, ds->n_classes, GS_IGNORE_LABEL, err) == GS_OK) {
                if (gs_confusion_add(&cm, f_test.labels, pred, n_test, err) == GS_OK) confusion_metrics(out, &cm, ds, false);
                gs_confusion_free(&cm);
            }
        }
        if (err->status == GS_OK) {
            add_metric(out, "chosen_l2", lr.lambda);
            add_metric(out, "val_metric", lr.val);
        }
        free(pred);
    }
features_done:
    gs_feature_set_free(&f_train);
    gs_feature_set_free(&f_test);
    gs_feature_set_free(&f_fit);
    gs_feature_set_free(&f_val);
    free(fit);
    free(val);
done:
    free(train);
    free(test);
    return err->status;
}
