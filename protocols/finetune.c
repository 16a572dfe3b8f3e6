#include "finetune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "nn/decoder.h"
#include "ops/ops.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

/* Remote-sensing tiles have no up or down: crops, both flips, quarter turns. */
static gs_augment_config finetune_augment(void) {
    gs_augment_config a = gs_augment_identity();
    a.crop = true;
    a.crop_scale[0] = 0.5f;
    a.crop_scale[1] = 1.0f;
    a.crop_ratio[0] = 3.0f / 4.0f;
    a.crop_ratio[1] = 4.0f / 3.0f;
    a.hflip_p = a.vflip_p = 0.5f;
    a.rot90_p = 0.5f;
    return a;
}

typedef struct model {
    gs_backbone *encoder;
    gs_param_list head_params; /* the head's own tensors */
    gs_param_list all;         /* encoder + head, for the optimizer */
    gs_linear_layer head;
    gs_decoder decoder;
    bool segmentation;
} model;

static gs_tensor *model_forward(gs_context *ctx, model *m, gs_tensor *x, bool training) {
    if (m->segmentation) {
        gs_tensor *stages[5];
        gs_resnet_forward_stages(ctx, &m->encoder->resnet, x, training, stages);
        return gs_decoder_forward(ctx, &m->decoder, stages, x->shape[2], x->shape[3], training);
    }
    return gs_linear_layer_forward(ctx, &m->head, gs_backbone_forward(ctx, m->encoder, x, training));
}

static gs_tensor *batch_loss(gs_context *ctx, const gs_dataset *ds, const gs_batch *b, gs_tensor *logits) {
    if (ds->task == GS_TASK_SEGMENTATION) return gs_cross_entropy(ctx, logits, b->views[0].masks, GS_IGNORE_LABEL);
    if (ds->task == GS_TASK_MULTILABEL) {
        /* The loader's targets, read in place (valid until its next batch). */
        gs_tensor *t = gs_tensor_wrap(ctx, (float *)b->targets, GS_DIMS(b->n, ds->n_classes));
        return gs_bce_with_logits(ctx, logits, t);
    }
    return gs_cross_entropy(ctx, logits, b->labels, GS_IGNORE_LABEL);
}

static gs_status build(gs_context *ctx, model *m, gs_backbone *encoder, const gs_dataset *ds, gs_error *err) {
    memset(m, 0, sizeof *m);
    m->encoder = encoder;
    m->segmentation = ds->task == GS_TASK_SEGMENTATION;
    if (ds->task == GS_TASK_UNLABELED || ds->n_classes < 2)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning needs labels: %s has none", ds->root);
    if (m->segmentation) {
        if (encoder->kind != GS_BACKBONE_RESNET)
            return gs_error_set(err, GS_ERR_ARGUMENT, "segmentation uses the ResNet decoder: %s is not a ResNet",
                                encoder->arch);
        gs_decoder_init(ctx, &m->head_params, &m->decoder, encoder->resnet.stage_channels, 64, ds->n_classes);
    } else {
        gs_linear_layer_init(ctx, &m->head_params, "head", &m->head, encoder->feature_dim, ds->n_classes, true);
    }
    for (int i = 0; i < encoder->params->count; i++)
        gs_param_add_existing(ctx, &m->all, encoder->params->items[i]);
    for (int i = 0; i < m->head_params.count; i++) gs_param_add_existing(ctx, &m->all, m->head_params.items[i]);
    if (gs_failed(ctx)) return gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
    return GS_OK;
}

static gs_status evaluate(gs_context *ctx, model *m, const gs_dataset *ds, const int64_t *test, int64_t n_test,
                          const gs_band_stats *stats, int workers, gs_finetune_result *out, gs_error *err) {
    gs_loader_config lc = {.dataset = ds, .indices = test, .n_indices = n_test, .batch_size = 32, .workers = workers,
                           .epochs = 1, .normalize = stats};
    gs_loader *loader;
    if (gs_loader_create(&lc, &loader, err) != GS_OK) return err->status;
    bool multilabel = ds->task == GS_TASK_MULTILABEL;
    float *scores = multilabel ? malloc((size_t)(n_test * ds->n_classes) * sizeof(float)) : NULL;
    uint8_t *targets = multilabel ? malloc((size_t)(n_test * ds->n_classes)) : NULL;
    int32_t *predicted = NULL;
    int64_t predicted_cap = 0, row = 0;
    bool previous = gs_set_grad_enabled(ctx, false);
    const gs_batch *b;
    while (gs_loader_next(loader, &b, err) == GS_OK && b) {
        gs_step_begin(ctx);
        gs_tensor *logits = model_forward(ctx, m, gs_batch_view_tensor(ctx, b, 0), false);
        if (!logits) break;
        int64_t c = ds->n_classes, per = logits->numel / ((int64_t)b->n * c); /* pixels per sample */
        if (multilabel) {
            memcpy(scores + row * c, logits->data, (size_t)(b->n * c) * sizeof(float));
            for (int64_t i = 0; i < b->n * c; i++) targets[row * c + i] = b->targets[i] > 0.5f;
        } else {
            if (b->n * per > predicted_cap) { /* grows once, to the largest batch */
                predicted_cap = b->n * per;
                predicted = realloc(predicted, (size_t)predicted_cap * sizeof *predicted);
            }
            for (int64_t s = 0; s < b->n; s++)
                for (int64_t p = 0; p < per; p++) {
                    const float *l = logits->data + s * c * per + p;
                    int best = 0;
                    for (int k = 1; k < c; k++)
                        if (l[k * per] > l[best * per]) best = k;
                    predicted[s * per + p] = best;
                }
            const int32_t *truth = m->segmentation ? b->views[0].masks : b->labels;
            if (gs_confusion_add(&out->confusion, truth, predicted, b->n * per, err) != GS_OK) break;
        }
        row += b->n;
    }
    gs_set_grad_enabled(ctx, previous);
    gs_loader_destroy(loader);
    if (gs_failed(ctx) && err->status == GS_OK) gs_error_set(err, ctx->status, "evaluation: %s", ctx->error);
    if (err->status == GS_OK && multilabel)
        gs_multilabel_map(scores, targets, row, ds->n_classes, NULL, &out->map, err);
    free(scores);
    free(targets);
    free(predicted);
    return err->status;
}

gs_finetune_config gs_finetune_resolve(const gs_finetune_config *in, int64_t n_train) {
    gs_finetune_config cfg = *in;
    if (cfg.epochs <= 0) cfg.epochs = 10;
    if (cfg.batch <= 0) cfg.batch = 32;
    if (cfg.lr <= 0) cfg.lr = 0.01f;
    if (cfg.weight_decay <= 0) cfg.weight_decay = 1e-4f;
    if (cfg.workers <= 0) cfg.workers = 2;
    if (n_train >= 2 && n_train < cfg.batch) cfg.batch = (int)n_train;
    return cfg;
}

gs_status gs_finetune(gs_context *ctx, gs_backbone *encoder, const gs_dataset *ds, const int64_t *train,
                      int64_t n_train, const int64_t *test, int64_t n_test, const gs_band_stats *stats,
                      const gs_finetune_config *cfg_in, gs_finetune_result *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    gs_finetune_config cfg = gs_finetune_resolve(cfg_in, INT64_MAX);
    /* Checked before any work: batchnorm needs two samples per step, so a
     * step of one would be skipped and a model that never trained would be
     * scored as if it had. */
    if (cfg.batch < 2)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning: a batch of %d; batchnorm needs at least 2 samples "
                            "per step (use --batch 2 or more)", cfg.batch);
    if (n_train < 2)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning on %s: the training split has %lld sample%s; at least 2 "
                            "are needed (batchnorm statistics), so nothing could be trained", ds->root,
                            (long long)n_train, n_train == 1 ? "" : "s");
    if (n_test < 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning on %s: the test split is empty, nothing to score",
                            ds->root);
    if (n_train < cfg.batch) {
        fprintf(cfg.progress ? cfg.progress : stderr,
                "fine-tuning: the training split has %lld samples, fewer than a batch of %d: each step takes all %lld\n",
                (long long)n_train, cfg.batch, (long long)n_train);
        cfg.batch = (int)n_train;
    }
    model m;
    if (build(ctx, &m, encoder, ds, err) != GS_OK) goto done;
    if (ds->task != GS_TASK_MULTILABEL &&
        gs_confusion_init(&out->confusion, ds->n_classes, GS_IGNORE_LABEL, err) != GS_OK)
        goto done;
    gs_optimizer opt;
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_SGD);
    oc.lr = cfg.lr;
    oc.momentum = 0.9f;
    oc.weight_decay = cfg.weight_decay;
    if (gs_optimizer_init(ctx, &opt, &m.all, &oc) != GS_OK) {
        gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
        goto done;
    }
    out->epochs = cfg.epochs;
    out->batch = cfg.batch;
    out->lr = cfg.lr;
    out->weight_decay = cfg.weight_decay;
    gs_loader_config lc = {.dataset = ds, .indices = train, .n_indices = n_train, .batch_size = cfg.batch,
                           .workers = cfg.workers, .shuffle = true, .seed = cfg.seed, .drop_last = true,
                           .epochs = cfg.epochs, .n_views = 1, .normalize = stats};
    lc.views[0] = finetune_augment();
    gs_loader *loader;
    if (gs_loader_create(&lc, &loader, err) == GS_OK) {
        int64_t per_epoch = gs_loader_batches_per_epoch(loader), step = 0;
        gs_cosine_schedule schedule = {.base = cfg.lr, .final = 0.0, .warmup_steps = 0,
                                       .total_steps = per_epoch * cfg.epochs};
        double epoch_loss = 0.0;
        int64_t epoch_batches = 0;
        int epoch = 0;
        const gs_batch *b;
        while (gs_loader_next(loader, &b, err) == GS_OK && b) {
            if (b->epoch != epoch) {
                if (cfg.progress) fprintf(cfg.progress, "fine-tune epoch %d: loss %.4f\n", epoch + 1,
                                          epoch_loss / (double)(epoch_batches ? epoch_batches : 1));
                epoch = b->epoch;
                epoch_loss = 0.0;
                epoch_batches = 0;
            }
            gs_step_begin(ctx);
            gs_optimizer_zero_grad(&opt);
            gs_tensor *loss = batch_loss(ctx, ds, b, model_forward(ctx, &m, gs_batch_view_tensor(ctx, b, 0), true));
            if (gs_backward(ctx, loss) != GS_OK ||
                gs_optimizer_step(ctx, &opt, (float)gs_cosine_lr(&schedule, step++)) != GS_OK) {
                gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
                break;
            }
            epoch_loss += loss->data[0];
            epoch_batches++;
        }
        out->final_loss = epoch_loss / (double)(epoch_batches ? epoch_batches : 1);
        if (cfg.progress && err->status == GS_OK)
            fprintf(cfg.progress, "fine-tune epoch %d: loss %.4f\n", epoch + 1, out->final_loss);
        gs_loader_destroy(loader);
    }
    gs_optimizer_free(&opt);
    if (err->status == GS_OK) evaluate(ctx, &m, ds, test, n_test, stats, cfg.workers, out, err);
done:
    gs_param_list_free(&m.all);
    gs_param_list_free(&m.head_params);
    if (err->status != GS_OK) gs_confusion_free(&out->confusion);
    return err->status;
}
