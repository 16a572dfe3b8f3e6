#include "finetune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "loader.h"
#include "io/checkpoint.h"
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

const char *const GS_SEGMENT_DECODER_NAMES[] = {"fpn", "deeplabv3plus", NULL};

gs_tensor *gs_finetune_model_forward(gs_context *ctx, gs_finetune_model *m, gs_tensor *x, bool training) {
    /* A frozen encoder runs as at inference, outside the tape: its batchnorm
     * reads (and keeps) its running statistics, and no gradient reaches it. */
    bool encoder_training = training && !m->frozen;
    bool recording = m->frozen ? gs_set_grad_enabled(ctx, false) : ctx->grad_enabled;
    gs_tensor *stages[5] = {0}, *features = NULL;
    if (m->segmentation)
        gs_resnet_forward_stages(ctx, &m->encoder->resnet, x, encoder_training, stages);
    else if (m->features)
        features = m->features->compute(ctx, m->features->owner, x);
    else
        features = gs_backbone_forward(ctx, m->encoder, x, encoder_training);
    if (m->frozen) gs_set_grad_enabled(ctx, recording);
    if (gs_failed(ctx)) return NULL;
    if (m->features) features = gs_layernorm_layer_forward(ctx, &m->fc_norm, features);
    if (!m->segmentation) return gs_linear_layer_forward(ctx, &m->head, features);
    if (m->decoder == GS_SEGMENT_DECODER_FPN)
        return gs_decoder_forward(ctx, &m->fpn, stages, x->shape[2], x->shape[3], training);
    return gs_deeplab_forward(ctx, &m->deeplab, stages[1], stages[4], x->shape[2], x->shape[3], training, NULL);
}

static gs_tensor *batch_loss(gs_context *ctx, const gs_dataset *ds, const gs_batch *b, gs_tensor *logits) {
    if (!logits) return NULL;
    if (ds->task == GS_TASK_SEGMENTATION) return gs_cross_entropy(ctx, logits, b->views[0].masks, GS_IGNORE_LABEL);
    if (ds->task == GS_TASK_MULTILABEL) {
        /* The loader's targets, read in place (valid until its next batch). */
        gs_tensor *t = gs_tensor_wrap(ctx, (float *)b->targets, GS_DIMS(b->n, ds->n_classes));
        return gs_bce_with_logits(ctx, logits, t);
    }
    return gs_cross_entropy(ctx, logits, b->labels, GS_IGNORE_LABEL);
}

/* The DeepLabv3+ head at the encoder's output stride; the ASPP from the
 * checkpoint's "heads" group when one is given (other tensors there, a
 * pretraining decoder or projection heads, are left unread). */
static gs_status build_deeplab(gs_context *ctx, gs_finetune_model *m, const gs_dataset *ds,
                               const gs_finetune_config *cfg, gs_error *err) {
    const gs_resnet *r = &m->encoder->resnet;
    int os = r->config.output_stride;
    if (os != 16 && os != 8)
        return gs_error_set(err, GS_ERR_ARGUMENT, "the DeepLabv3+ head needs an encoder at output stride 16 or 8 "
                            "(gs_backbone_config.output_stride); this %s is at %d", m->encoder->arch,
                            os ? os : 32);
    if (cfg->deeplab_dilation != r->config.deeplab_dilation)
        return gs_error_set(err, GS_ERR_INTERNAL, "the DeepLabv3+ protocol was configured for %s dilation but the "
                            "encoder %s has the other", cfg->deeplab_dilation ? "DeepLab's" : "torchvision's",
                            m->encoder->arch);
    gs_deeplab_config dc = gs_deeplab_default_config(r->stage_channels[3], r->stage_channels[0], os, ds->n_classes);
    /* The head's widths scale with the encoder's, as GLCNet's pretraining
     * builds them (256 and 48 at the standard width 64), so a narrow run's
     * pretrained ASPP loads into the head that evaluates it. */
    int width = r->config.width > 0 ? r->config.width : 64;
    int head = 256 * width / 64 > 0 ? 256 * width / 64 : 1, low = (head * 48 + 128) / 256;
    dc.aspp_channels = dc.decoder_channels = head;
    dc.low_level_channels = low > 0 ? low : 1;
    /* A pretrained ASPP keeps the width it was trained at. */
    int64_t aspp_shape[4];
    if (cfg->aspp_checkpoint &&
        gs_checkpoint_tensor_shape(cfg->aspp_checkpoint, "heads/aspp.conv1x1.conv.weight", aspp_shape, 4) == 4)
        dc.aspp_channels = (int)aspp_shape[0];
    dc.decoder_dropout[0] = 0.5f; /* GLCNet's fine-tuning decoder (decoder_ft) */
    dc.decoder_dropout[1] = 0.1f;
    if (gs_deeplab_init(ctx, &m->aspp_params, &m->head_params, &m->deeplab, &dc) != GS_OK)
        return gs_error_set(err, ctx->status, "DeepLabv3+ head: %s", ctx->error);
    if (!cfg->aspp_checkpoint) return GS_OK;
    gs_checkpoint_group heads = {"heads", &m->aspp_params};
    gs_checkpoint_load_options options = {.architecture = NULL, .allow_unused = true};
    if (gs_checkpoint_load(ctx, cfg->aspp_checkpoint, &heads, 1, NULL, &options) != GS_OK)
        return gs_error_set(err, ctx->status, "the ASPP from %s: %s", cfg->aspp_checkpoint, ctx->error);
    m->aspp_from_checkpoint = true;
    return GS_OK;
}

gs_status gs_finetune_model_init(gs_context *ctx, gs_finetune_model *m, gs_backbone *encoder, const gs_dataset *ds,
                                 const gs_finetune_config *cfg, gs_error *err) {
    memset(m, 0, sizeof *m);
    m->encoder = encoder;
    m->segmentation = ds->task == GS_TASK_SEGMENTATION;
    m->frozen = cfg->freeze_encoder;
    m->decoder = cfg->decoder;
    if (ds->task == GS_TASK_UNLABELED || ds->n_classes < 2)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning needs labels: %s has none", ds->root);
    if (cfg->decoder != GS_SEGMENT_DECODER_FPN && cfg->decoder != GS_SEGMENT_DECODER_DEEPLABV3PLUS)
        return gs_error_set(err, GS_ERR_ARGUMENT, "segmentation decoder %d is not one of fpn, deeplabv3plus",
                            (int)cfg->decoder);
    if (!m->segmentation && cfg->decoder != GS_SEGMENT_DECODER_FPN)
        return gs_error_set(err, GS_ERR_ARGUMENT, "the %s decoder is for segmentation; %s has one label per image",
                            GS_SEGMENT_DECODER_NAMES[cfg->decoder], ds->root);
    if (cfg->aspp_checkpoint && cfg->decoder != GS_SEGMENT_DECODER_DEEPLABV3PLUS)
        return gs_error_set(err, GS_ERR_ARGUMENT, "a pretrained ASPP (from %s) needs the deeplabv3plus decoder",
                            cfg->aspp_checkpoint);
    bool layer_decay = cfg->layer_decay > 0.0f && cfg->layer_decay < 1.0f;
    if (!(cfg->layer_decay >= 0.0f && cfg->layer_decay <= 1.0f))
        return gs_error_set(err, GS_ERR_ARGUMENT, "layer-wise lr decay %g is outside (0, 1] (0: none)",
                            (double)cfg->layer_decay);
    if (layer_decay && (encoder->kind != GS_BACKBONE_VIT || cfg->freeze_encoder))
        return gs_error_set(err, GS_ERR_ARGUMENT, "layer-wise lr decay %g needs a ViT encoder that is trained; %s",
                            (double)cfg->layer_decay,
                            cfg->freeze_encoder ? "the encoder is frozen" : "this encoder is not a ViT");
    if (cfg->features && m->segmentation)
        return gs_error_set(err, GS_ERR_ARGUMENT, "features=%s are pooled per image: segmentation takes the encoder's "
                            "stages", cfg->features->name);
    if (m->segmentation) {
        if (encoder->kind != GS_BACKBONE_RESNET)
            return gs_error_set(err, GS_ERR_ARGUMENT, "segmentation decoders take a ResNet's stages: %s is not a "
                                "ResNet", encoder->arch);
        if (cfg->decoder == GS_SEGMENT_DECODER_DEEPLABV3PLUS) {
            if (build_deeplab(ctx, m, ds, cfg, err) != GS_OK) return err->status;
        } else {
            int os = encoder->resnet.config.output_stride;
            if (os && os != 32)
                return gs_error_set(err, GS_ERR_ARGUMENT, "the fpn decoder takes an encoder at output stride 32; "
                                    "this %s is at %d (use deeplabv3plus)", encoder->arch, os);
            gs_decoder_init(ctx, &m->head_params, &m->fpn, encoder->resnet.stage_channels, 64, ds->n_classes);
        }
    } else if (cfg->features) {
        /* The authors' fine-tuning head on pooled tokens (SatMAE's
         * global_pool): LayerNorm (timm's eps 1e-6), then a linear layer
         * whose weights start near zero. */
        m->features = cfg->features;
        gs_layernorm_layer_init(ctx, &m->head_params, "fc_norm", &m->fc_norm, cfg->features->dim, 1e-6f);
        gs_linear_layer_init(ctx, &m->head_params, "head", &m->head, cfg->features->dim, ds->n_classes, true);
        if (!gs_failed(ctx)) {
            gs_fill_trunc_normal(ctx, m->head.weight, 2e-5f);
            memset(m->head.bias->data, 0, (size_t)m->head.bias->numel * sizeof(float));
        }
    } else {
        gs_linear_layer_init(ctx, &m->head_params, "head", &m->head, encoder->feature_dim, ds->n_classes, true);
    }
    for (int i = 0; !m->frozen && i < encoder->params->count; i++)
        gs_param_add_existing(ctx, &m->trained, encoder->params->items[i]);
    for (int i = 0; !m->frozen && m->features && m->features->params && i < m->features->params->count; i++)
        gs_param_add_existing(ctx, &m->trained, m->features->params->items[i]);
    for (int i = 0; i < m->aspp_params.count; i++) gs_param_add_existing(ctx, &m->trained, m->aspp_params.items[i]);
    for (int i = 0; i < m->head_params.count; i++) gs_param_add_existing(ctx, &m->trained, m->head_params.items[i]);
    if (gs_failed(ctx)) return gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
    return GS_OK;
}

void gs_finetune_model_free(gs_finetune_model *m) {
    gs_param_list_free(&m->trained);
    gs_param_list_free(&m->head_params);
    gs_param_list_free(&m->aspp_params);
}

static gs_status evaluate(gs_context *ctx, gs_finetune_model *m, const gs_dataset *ds, const int64_t *test,
                          int64_t n_test, const gs_band_stats *stats, int workers, gs_finetune_result *out,
                          gs_error *err) {
    gs_loader_config lc = {.dataset = ds, .indices = test, .n_indices = n_test, .batch_size = 32, .workers = workers,
                           .epochs = 1, .normalize = stats};
    gs_loader *loader;
    if (gs_loader_create(&lc, &loader, err) != GS_OK) return err->status;
    bool multilabel = ds->task == GS_TASK_MULTILABEL;
    float *scores = multilabel ? malloc((size_t)(n_test * ds->n_classes) * sizeof(float)) : NULL;
    uint8_t *targets = multilabel ? malloc((size_t)(n_test * ds->n_classes)) : NULL;
    int32_t *predicted = NULL;
    int64_t predicted_cap = 0, row = 0;
    gs_tile_miou tiles = {0};
    if (m->segmentation && gs_tile_miou_init(&tiles, ds->n_classes, GS_IGNORE_LABEL, err) != GS_OK) {
        gs_loader_destroy(loader);
        return err->status;
    }
    bool previous = gs_set_grad_enabled(ctx, false);
    const gs_batch *b;
    while (gs_loader_next(loader, &b, err) == GS_OK && b) {
        gs_step_begin(ctx);
        gs_tensor *logits = gs_finetune_model_forward(ctx, m, gs_batch_view_tensor(ctx, b, 0), false);
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
            for (int64_t s = 0; m->segmentation && s < b->n; s++) /* each test sample is one tile */
                if (gs_tile_miou_add(&tiles, truth + s * per, predicted + s * per, per, err) != GS_OK) break;
            if (err->status != GS_OK) break;
        }
        row += b->n;
    }
    gs_set_grad_enabled(ctx, previous);
    gs_loader_destroy(loader);
    if (gs_failed(ctx) && err->status == GS_OK) gs_error_set(err, ctx->status, "evaluation: %s", ctx->error);
    if (err->status == GS_OK && multilabel)
        gs_multilabel_map(scores, targets, row, ds->n_classes, NULL, &out->map, err);
    if (m->segmentation) {
        out->miou_tile_mean = gs_tile_miou_mean(&tiles);
        out->miou_tile_present = gs_tile_miou_present_mean(&tiles);
    }
    gs_tile_miou_free(&tiles);
    free(scores);
    free(targets);
    free(predicted);
    return err->status;
}

gs_finetune_config gs_finetune_resolve(const gs_finetune_config *in, int64_t n_train) {
    gs_finetune_config cfg = *in;
    if (cfg.epochs <= 0) cfg.epochs = 10;
    if (cfg.iterations < 0) cfg.iterations = 0;
    if (cfg.batch <= 0) cfg.batch = 32;
    if (cfg.lr <= 0) cfg.lr = 0.01f;
    if (cfg.weight_decay <= 0) cfg.weight_decay = 1e-4f;
    if (cfg.layer_decay >= 1.0f) cfg.layer_decay = 0.0f; /* 1 is no decay */
    if (cfg.workers <= 0) cfg.workers = 2;
    if (n_train >= 2 && n_train < cfg.batch) cfg.batch = (int)n_train;
    return cfg;
}

gs_status gs_finetune_model_train(gs_context *ctx, gs_finetune_model *m, const gs_dataset *ds, const int64_t *train,
                                  int64_t n_train, const int64_t *test, int64_t n_test, const gs_band_stats *stats,
                                  const gs_finetune_config *cfg_in, gs_finetune_result *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    out->miou_tile_mean = out->miou_tile_present = NAN;
    gs_finetune_config cfg = gs_finetune_resolve(cfg_in, INT64_MAX);
    /* Checked before any work: batchnorm needs two samples per step, so a
     * step of one would be skipped and a model that never trained would be
     * scored as if it had. */
    if (cfg.batch < 2)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning: a batch of %d; batchnorm needs at least 2 samples "
                            "per step (use --batch 2 or more)", cfg.batch);
    if (cfg_in->iterations < 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning: %d iterations; give a count of 1 or more, or 0 for "
                            "epochs", cfg_in->iterations);
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
    /* Across ranks (mpirun) each rank trains on its shard of every global
     * batch and the gradients are averaged, as in pretraining; every rank
     * then scores the whole test split with the same weights. */
    int rank, ranks;
    gs_data_parallel_rank(ctx, &rank, &ranks);
    if (ranks > 1 && cfg.batch % ranks)
        return gs_error_set(err, GS_ERR_ARGUMENT, "fine-tuning: the batch of %d is the global batch and must divide by "
                            "the %d ranks", cfg.batch, ranks);
    gs_optimizer opt = {0};
    bool opt_ready = false;
    if (m->aspp_from_checkpoint && cfg.progress)
        fprintf(cfg.progress, "segment: the ASPP starts from %s (heads/aspp.*), the decoder fresh\n",
                cfg.aspp_checkpoint);
    if (ds->task != GS_TASK_MULTILABEL &&
        gs_confusion_init(&out->confusion, ds->n_classes, GS_IGNORE_LABEL, err) != GS_OK)
        goto done;
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_SGD);
    oc.lr = cfg.lr;
    oc.momentum = 0.9f;
    oc.weight_decay = cfg.weight_decay;
    if (gs_optimizer_init(ctx, &opt, &m->trained, &oc) != GS_OK) {
        gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
        goto done;
    }
    opt_ready = true;
    /* Layer-wise decay: the encoder's parameters come first in m->trained,
     * then those the features read besides (named as the ViT's). */
    if (cfg.layer_decay > 0.0f && m->encoder->kind == GS_BACKBONE_VIT && !m->frozen) {
        int depth = m->encoder->vit.config.depth;
        int n_features = m->features && m->features->params ? m->features->params->count : 0;
        for (int i = 0; i < m->encoder->params->count + n_features; i++) {
            int id = gs_vit_layer_id(m->trained.items[i].tensor->name, depth);
            gs_optimizer_scale_lr(ctx, &opt, i, powf(cfg.layer_decay, (float)(depth + 1 - id)));
        }
        if (gs_failed(ctx)) {
            gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
            goto done;
        }
    }
    out->layer_decay = cfg.layer_decay;
    out->epochs = cfg.iterations ? 0 : cfg.epochs;
    out->iterations = cfg.iterations;
    out->batch = cfg.batch;
    out->lr = cfg.lr;
    out->weight_decay = cfg.weight_decay;
    out->freeze_encoder = cfg.freeze_encoder;
    out->aspp_from_checkpoint = m->aspp_from_checkpoint;
    /* With iterations the loader runs without an epoch limit (0) and the
     * loop stops after exactly that many steps, mid-epoch if need be. */
    gs_loader_config lc = {.dataset = ds, .indices = train, .n_indices = n_train, .batch_size = cfg.batch,
                           .workers = cfg.workers, .shuffle = true, .seed = cfg.seed, .drop_last = true,
                           .epochs = cfg.iterations ? 0 : cfg.epochs, .n_views = 1, .normalize = stats,
                           .shard = rank, .shards = ranks};
    lc.views[0] = finetune_augment();
    gs_loader *loader;
    if (gs_loader_create(&lc, &loader, err) == GS_OK) {
        int64_t per_epoch = gs_loader_batches_per_epoch(loader), step = 0;
        int64_t total = cfg.iterations ? cfg.iterations : per_epoch * cfg.epochs;
        gs_cosine_schedule schedule = {.base = cfg.lr, .final = 0.0, .warmup_steps = 0, .total_steps = total};
        double epoch_loss = 0.0;
        int64_t epoch_batches = 0;
        int epoch = 0;
        const gs_batch *b;
        while (step < total && gs_loader_next(loader, &b, err) == GS_OK && b) {
            if (b->epoch != epoch) {
                if (cfg.progress) fprintf(cfg.progress, "fine-tune epoch %d: loss %.4f\n", epoch + 1,
                                          epoch_loss / (double)(epoch_batches ? epoch_batches : 1));
                epoch = b->epoch;
                epoch_loss = 0.0;
                epoch_batches = 0;
            }
            gs_step_begin(ctx);
            gs_optimizer_zero_grad(&opt);
            gs_tensor *loss =
                batch_loss(ctx, ds, b, gs_finetune_model_forward(ctx, m, gs_batch_view_tensor(ctx, b, 0), true));
            if (!loss || gs_data_parallel_mean(ctx, &loss->data[0]) != GS_OK ||
                gs_data_parallel_backward(ctx, loss, &m->trained) != GS_OK ||
                gs_optimizer_step(ctx, &opt, (float)gs_cosine_lr(&schedule, step)) != GS_OK ||
                gs_data_parallel_share_batchnorm_stats(ctx, m->encoder->params) != GS_OK ||
                gs_data_parallel_share_batchnorm_stats(ctx, &m->head_params) != GS_OK ||
                gs_data_parallel_share_batchnorm_stats(ctx, &m->aspp_params) != GS_OK) {
                gs_error_set(err, ctx->status, "fine-tuning: %s", ctx->error);
                break;
            }
            if (step == 0) out->first_loss = loss->data[0];
            step++;
            epoch_loss += loss->data[0];
            epoch_batches++;
        }
        out->steps = step;
        out->final_loss = epoch_loss / (double)(epoch_batches ? epoch_batches : 1);
        if (cfg.progress && err->status == GS_OK)
            fprintf(cfg.progress, "fine-tune epoch %d: loss %.4f (%lld step%s in all)\n", epoch + 1, out->final_loss,
                    (long long)step, step == 1 ? "" : "s");
        gs_loader_destroy(loader);
    }
    if (err->status == GS_OK) evaluate(ctx, m, ds, test, n_test, stats, cfg.workers, out, err);
done:
    if (opt_ready) gs_optimizer_free(&opt);
    if (err->status != GS_OK) gs_confusion_free(&out->confusion);
    return err->status;
}

gs_status gs_finetune(gs_context *ctx, gs_backbone *encoder, const gs_dataset *ds, const int64_t *train,
                      int64_t n_train, const int64_t *test, int64_t n_test, const gs_band_stats *stats,
                      const gs_finetune_config *cfg, gs_finetune_result *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    gs_finetune_model m;
    if (gs_finetune_model_init(ctx, &m, encoder, ds, cfg, err) == GS_OK)
        gs_finetune_model_train(ctx, &m, ds, train, n_train, test, n_test, stats, cfg, out, err);
    gs_finetune_model_free(&m);
    return err->status;
}
