/* The segmentation protocol's options, each changing what it should, on
 * generated Potsdam cut into 64 px tiles (2 official train tiles: 32
 * samples; 1 test tile: 16):
 *  - freeze_encoder: every encoder tensor (weights and batchnorm statistics)
 *    bit-identical after training while every trained tensor of the head
 *    moved; without it the encoder moves;
 *  - iterations: exactly that many optimizer steps, fewer than an epoch or
 *    across epochs;
 *  - deeplabv3plus: trains on an encoder at output stride 16 (the loss fell),
 *    and gs_evaluate reports OA, kappa, mIoU, miou_tile_mean and the
 *    settings; it refuses an encoder at stride 32 as fpn refuses one at 16;
 *  - aspp_checkpoint: the ASPP takes the checkpoint's heads/aspp.* values, the
 *    decoder does not take the checkpoint's decoder.* ones;
 *  - freeze_encoder in classification fine-tuning too. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "dataset.h"
#include "evaluate.h"
#include "finetune.h"
#include "gradcheck.h"
#include "io/checkpoint.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct seg_run {
    char dir[256], spec[320];
    gs_dataset ds;
    gs_band_stats stats;
    int64_t train[64], test[64], n_train, n_test;
    gs_context ctx;
    gs_backbone bb;
} seg_run;

static void setup(seg_run *r, int width, int output_stride) {
    test_temp_dir(r->dir, sizeof r->dir);
    char data[300];
    snprintf(data, sizeof data, "%s/potsdam", r->dir);
    gs_error err = {0};
    gs_synth_options opt = {.seed = 5, .count = 2, .size = 256};
    cr_assert_eq(gs_synth_write("potsdam", data, &opt, &err), GS_OK, "%s", err.message);
    snprintf(r->spec, sizeof r->spec, "potsdam:%s", data);
    gs_dataset_options dopt = {.patch_size = 64};
    cr_assert_eq(gs_dataset_open(r->spec, &dopt, &r->ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_stats_get_in(&r->ds, r->dir, 1, NULL, &r->stats, &err), GS_OK, "%s", err.message);
    r->n_train = r->n_test = 0;
    for (int64_t i = 0; i < r->ds.n_samples; i++) {
        if (r->ds.samples[i].split == GS_SPLIT_TRAIN) r->train[r->n_train++] = i;
        if (r->ds.samples[i].split == GS_SPLIT_TEST) r->test[r->n_test++] = i;
    }
    cr_assert_eq(r->n_train, 32);
    cr_assert_eq(r->n_test, 16);
    gradcheck_context(&r->ctx, 4);
    gs_backbone_config bc = {.name = "resnet18", .bands = 4, .img_size = 64, .width = width,
                             .output_stride = output_stride};
    cr_assert_eq(gs_backbone_init(&r->ctx, &r->bb, &bc), GS_OK, "%s", r->ctx.error);
}

static void teardown(seg_run *r) {
    gs_backbone_free(&r->bb);
    gs_context_free(&r->ctx);
    gs_dataset_close(&r->ds);
    test_remove_tree(r->dir);
}

/* Copies of every tensor's values in a list. */
static float **snapshot(const gs_param_list *list) {
    float **copy = calloc((size_t)list->count + 1, sizeof *copy);
    for (int i = 0; i < list->count; i++) {
        const gs_tensor *t = list->items[i].tensor;
        copy[i] = malloc((size_t)t->numel * sizeof(float));
        memcpy(copy[i], t->data, (size_t)t->numel * sizeof(float));
    }
    return copy;
}

static void free_snapshot(float **copy, int n) {
    for (int i = 0; i < n; i++) free(copy[i]);
    free(copy);
}

/* Tensors of the list whose values differ from the snapshot (trainable
 * ones only when `trainable_only`); *first names the first such tensor. */
static int changed(const gs_param_list *list, float *const *before, bool trainable_only, int *considered) {
    int n = 0;
    *considered = 0;
    for (int i = 0; i < list->count; i++) {
        if (trainable_only && list->items[i].kind == GS_PARAM_BUFFER) continue;
        const gs_tensor *t = list->items[i].tensor;
        (*considered)++;
        n += memcmp(t->data, before[i], (size_t)t->numel * sizeof(float)) != 0;
    }
    return n;
}

static gs_finetune_result train(seg_run *r, gs_finetune_model *m, const gs_finetune_config *fc) {
    gs_finetune_result out;
    gs_error err = {0};
    cr_assert_eq(gs_finetune_model_init(&r->ctx, m, &r->bb, &r->ds, fc, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_finetune_model_train(&r->ctx, m, &r->ds, r->train, r->n_train, r->test, r->n_test, &r->stats, fc,
                                         &out, &err),
                 GS_OK, "%s", err.message);
    return out;
}

Test(protocols_segment_options, a_frozen_encoder_stays_bit_identical_while_the_head_moves) {
    seg_run r;
    setup(&r, 8, 0);
    gs_finetune_config fc = {.iterations = 3, .batch = 8, .seed = 1, .workers = 1, .freeze_encoder = true};
    float **encoder_before = snapshot(r.bb.params);
    gs_finetune_model m;
    gs_error err = {0};
    cr_assert_eq(gs_finetune_model_init(&r.ctx, &m, &r.bb, &r.ds, &fc, &err), GS_OK, "%s", err.message);
    float **head_before = snapshot(&m.head_params);
    int n_head = m.head_params.count;
    gs_finetune_result out;
    cr_assert_eq(gs_finetune_model_train(&r.ctx, &m, &r.ds, r.train, r.n_train, r.test, r.n_test, &r.stats, &fc, &out,
                                         &err),
                 GS_OK, "%s", err.message);
    int considered;
    cr_expect_eq(changed(r.bb.params, encoder_before, false, &considered), 0,
                 "a frozen encoder's weights or batchnorm statistics changed");
    cr_expect_gt(considered, 20);
    int moved = changed(&m.head_params, head_before, true, &considered);
    cr_expect_eq(moved, considered, "%d of the head's %d trained tensors moved", moved, considered);
    cr_expect_eq(out.steps, 3);
    cr_expect(out.freeze_encoder);
    gs_confusion_free(&out.confusion);
    gs_finetune_model_free(&m);

    /* The same without freezing: the encoder moves (so the check above can fail). */
    fc.freeze_encoder = false;
    out = train(&r, &m, &fc);
    cr_expect_gt(changed(r.bb.params, encoder_before, true, &considered), 0, "a trained encoder did not move");
    gs_confusion_free(&out.confusion);
    gs_finetune_model_free(&m);
    free_snapshot(encoder_before, r.bb.params->count);
    free_snapshot(head_before, n_head);
    teardown(&r);
}

Test(protocols_segment_options, iterations_are_optimizer_steps) {
    seg_run r;
    setup(&r, 8, 0);
    /* 32 training tiles in batches of 8: 4 steps an epoch. */
    const int asked[] = {3, 6};
    for (int i = 0; i < 2; i++) {
        gs_finetune_config fc = {.iterations = asked[i], .epochs = 7, .batch = 8, .seed = 1, .workers = 1};
        gs_finetune_model m;
        gs_finetune_result out = train(&r, &m, &fc);
        cr_expect_eq(out.steps, asked[i], "asked for %d iterations, %lld steps were taken", asked[i],
                     (long long)out.steps);
        cr_expect_eq(out.iterations, asked[i]);
        gs_confusion_free(&out.confusion);
        gs_finetune_model_free(&m);
    }
    gs_finetune_config fc = {.epochs = 2, .batch = 8, .seed = 1, .workers = 1};
    gs_finetune_model m;
    gs_finetune_result out = train(&r, &m, &fc);
    cr_expect_eq(out.steps, 8, "2 epochs of 4 batches");
    gs_confusion_free(&out.confusion);
    gs_finetune_model_free(&m);
    teardown(&r);
}

static const gs_metric *find(const gs_eval_result *r, const char *name) {
    for (int i = 0; i < r->n_metrics; i++)
        if (!strcmp(r->metrics[i].name, name)) return &r->metrics[i];
    return NULL;
}

Test(protocols_segment_options, deeplab_trains_at_output_stride_16_and_reports_the_metrics) {
    seg_run r;
    setup(&r, 16, 16);
    /* Frozen encoder: the ASPP and the decoder learn on their own. */
    gs_finetune_config fc = {.iterations = 8, .batch = 8, .seed = 2, .workers = 1,
                             .decoder = GS_SEGMENT_DECODER_DEEPLABV3PLUS, .freeze_encoder = true};
    gs_finetune_model m;
    gs_finetune_result out = train(&r, &m, &fc);
    cr_expect_gt(m.aspp_params.count, 10, "the ASPP was built");
    cr_expect(!m.aspp_from_checkpoint);
    cr_expect_lt(out.final_loss, out.first_loss, "the loss did not fall: first step %.4f, last epoch %.4f",
                 out.first_loss, out.final_loss);
    cr_expect(out.miou_tile_mean >= 0 && out.miou_tile_mean <= 1, "miou_tile_mean %g", out.miou_tile_mean);
    gs_confusion_free(&out.confusion);
    gs_finetune_model_free(&m);

    /* Through gs_evaluate: the metrics and the settings. */
    gs_eval_config ec = {.protocol = GS_PROTOCOL_SEGMENT, .label_fraction = 1.0, .seed = 1, .stats_dir = r.dir,
                         .workers = 1, .finetune = {.iterations = 4, .batch = 8,
                                                    .decoder = GS_SEGMENT_DECODER_DEEPLABV3PLUS}};
    gs_eval_result er;
    gs_error err = {0};
    cr_assert_eq(gs_evaluate(&r.ctx, &r.bb, &r.ds, &ec, &er, &err), GS_OK, "%s", err.message);
    const char *names[] = {"miou", "oa", "kappa", "miou_tile_mean", "miou_tile_present", "f1_macro"};
    for (int i = 0; i < 6; i++) {
        const gs_metric *mt = find(&er, names[i]);
        cr_assert(mt, "no %s", names[i]);
        cr_expect(isfinite(mt->value), "%s is %g", names[i], mt->value);
    }
    cr_expect(find(&er, "oa")->value > 0 && find(&er, "oa")->value <= 100);
    cr_expect(find(&er, "miou_tile_mean")->value <= find(&er, "miou_tile_present")->value + 1e-9,
              "absent classes count 0 in GLCNet's figure, so it cannot exceed the present-classes one");
    const char *want = "iterations=4;batch=8;lr=0.01;weight_decay=0.0001;decoder=deeplabv3plus;splits=official;"
                       "data=48:";
    cr_expect(!strncmp(er.settings, want, strlen(want)) && strlen(er.settings) == strlen(want) + 8, "settings: %s",
              er.settings);

    /* The heads need the right encoder: deeplab at stride 16, fpn at 32. */
    gs_backbone os32;
    gs_backbone_config bc = {.name = "resnet18", .bands = 4, .img_size = 64, .width = 8};
    cr_assert_eq(gs_backbone_init(&r.ctx, &os32, &bc), GS_OK, "%s", r.ctx.error);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_finetune_model_init(&r.ctx, &m, &os32, &r.ds, &fc, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "output stride 16") != NULL, "%s", err.message);
    gs_finetune_model_free(&m);
    fc.decoder = GS_SEGMENT_DECODER_FPN;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_finetune_model_init(&r.ctx, &m, &r.bb, &r.ds, &fc, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "output stride 32") != NULL, "%s", err.message);
    gs_finetune_model_free(&m);
    gs_backbone_free(&os32);
    teardown(&r);
}

/* A "pretraining" checkpoint: the encoder in "model", and in "heads" an ASPP
 * and a decoder of the fine-tuning head's shapes holding recognisable
 * values (GLCNet's heads group carries both; only the ASPP is to be used). */
static void write_pretrained_heads(seg_run *r, const char *path, bool with_aspp) {
    gs_context ctx;
    gradcheck_context(&ctx, 99);
    const gs_resnet *net = &r->bb.resnet;
    gs_deeplab_config dc = gs_deeplab_default_config(net->stage_channels[3], net->stage_channels[0], 16,
                                                     r->ds.n_classes);
    gs_param_list aspp = {0}, decoder = {0}, heads = {0};
    gs_deeplab dl;
    cr_assert_eq(gs_deeplab_init(&ctx, &aspp, &decoder, &dl, &dc), GS_OK, "%s", ctx.error);
    for (int i = 0; i < aspp.count; i++)
        for (int64_t j = 0; j < aspp.items[i].tensor->numel; j++)
            aspp.items[i].tensor->data[j] = 0.25f + 1e-3f * (float)((i * 7 + j) % 97);
    for (int i = 0; i < decoder.count; i++)
        for (int64_t j = 0; j < decoder.items[i].tensor->numel; j++)
            decoder.items[i].tensor->data[j] = -0.5f - 1e-3f * (float)((i * 5 + j) % 89);
    for (int i = 0; with_aspp && i < aspp.count; i++) gs_param_add_existing(&ctx, &heads, aspp.items[i]);
    for (int i = 0; i < decoder.count; i++) gs_param_add_existing(&ctx, &heads, decoder.items[i]);
    gs_checkpoint_group groups[2] = {{"model", r->bb.params}, {"heads", &heads}};
    gs_checkpoint_meta meta = {.architecture = r->bb.arch, .config = "pretrain method=glcnet"};
    cr_assert_eq(gs_checkpoint_save(&ctx, path, groups, 2, &meta), GS_OK, "%s", ctx.error);
    gs_param_list_free(&heads);
    gs_param_list_free(&aspp);
    gs_param_list_free(&decoder);
    gs_context_free(&ctx);
}

static bool same_as_written(const gs_tensor *t, int list_index, bool aspp) {
    for (int64_t j = 0; j < t->numel; j++) {
        float want = aspp ? 0.25f + 1e-3f * (float)((list_index * 7 + j) % 97)
                          : -0.5f - 1e-3f * (float)((list_index * 5 + j) % 89);
        if (t->data[j] != want) return false;
    }
    return true;
}

Test(protocols_segment_options, the_aspp_comes_from_the_checkpoint_and_the_decoder_stays_fresh) {
    seg_run r;
    setup(&r, 8, 16);
    char path[400], no_aspp[400];
    snprintf(path, sizeof path, "%s/pretrained.h5", r.dir);
    snprintf(no_aspp, sizeof no_aspp, "%s/no-aspp.h5", r.dir);
    write_pretrained_heads(&r, path, true);
    write_pretrained_heads(&r, no_aspp, false);
    gs_finetune_config fc = {.decoder = GS_SEGMENT_DECODER_DEEPLABV3PLUS, .aspp_checkpoint = path};
    gs_finetune_model m;
    gs_error err = {0};
    cr_assert_eq(gs_finetune_model_init(&r.ctx, &m, &r.bb, &r.ds, &fc, &err), GS_OK, "%s", err.message);
    cr_expect(m.aspp_from_checkpoint);
    const gs_tensor *w = gs_param_find(&m.aspp_params, "aspp.conv1x1.conv.weight");
    cr_assert(w, "the ASPP has no aspp.conv1x1.conv.weight");
    for (int i = 0; i < m.aspp_params.count; i++)
        cr_expect(same_as_written(m.aspp_params.items[i].tensor, i, true), "%s was not loaded",
                  m.aspp_params.items[i].tensor->name);
    for (int i = 0; i < m.head_params.count; i++)
        cr_expect(!same_as_written(m.head_params.items[i].tensor, i, false), "%s came from the checkpoint",
                  m.head_params.items[i].tensor->name);
    gs_finetune_model_free(&m);

    /* Without the option: a fresh ASPP. */
    fc.aspp_checkpoint = NULL;
    cr_assert_eq(gs_finetune_model_init(&r.ctx, &m, &r.bb, &r.ds, &fc, &err), GS_OK, "%s", err.message);
    cr_expect(!m.aspp_from_checkpoint);
    cr_expect(!same_as_written(gs_param_find(&m.aspp_params, "aspp.conv1x1.conv.weight"), 0, true));
    gs_finetune_model_free(&m);

    /* Asked of a checkpoint holding none: an error naming the tensor. */
    fc.aspp_checkpoint = no_aspp;
    cr_expect_eq(gs_finetune_model_init(&r.ctx, &m, &r.bb, &r.ds, &fc, &err), GS_ERR_MISMATCH);
    cr_expect(strstr(err.message, "aspp.") != NULL, "%s", err.message);
    gs_finetune_model_free(&m);
    teardown(&r);
}

/* --freeze-encoder is also the classification fine-tuning's: there too the
 * encoder comes out bit-identical and the linear head moves. */
Test(protocols_segment_options, a_frozen_encoder_in_classification_fine_tuning) {
    char dir[256], data[300], spec[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(data, sizeof data, "%s/eurosat", dir);
    gs_error err = {0};
    gs_synth_options opt = {.seed = 5, .count = 2};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &opt, &err), GS_OK, "%s", err.message);
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", data);
    gs_dataset ds;
    gs_band_stats stats;
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_stats_get_in(&ds, dir, 1, NULL, &stats, &err), GS_OK, "%s", err.message);
    gs_context ctx;
    gradcheck_context(&ctx, 8);
    gs_backbone bb;
    gs_backbone_config bc = {.name = "resnet18", .bands = 3, .img_size = 64, .width = 8};
    cr_assert_eq(gs_backbone_init(&ctx, &bb, &bc), GS_OK, "%s", ctx.error);
    int64_t train[10], test[10];
    for (int64_t i = 0; i < 10; i++) train[i] = i, test[i] = 10 + i;
    gs_finetune_config fc = {.iterations = 2, .batch = 5, .seed = 1, .workers = 1, .freeze_encoder = true};
    float **encoder_before = snapshot(bb.params);
    gs_finetune_model m;
    cr_assert_eq(gs_finetune_model_init(&ctx, &m, &bb, &ds, &fc, &err), GS_OK, "%s", err.message);
    float **head_before = snapshot(&m.head_params);
    int n_head = m.head_params.count, considered;
    gs_finetune_result out;
    cr_assert_eq(gs_finetune_model_train(&ctx, &m, &ds, train, 10, test, 10, &stats, &fc, &out, &err), GS_OK, "%s",
                 err.message);
    cr_expect_eq(changed(bb.params, encoder_before, false, &considered), 0, "the frozen encoder changed");
    int moved = changed(&m.head_params, head_before, true, &considered);
    cr_expect_eq(moved, considered, "%d of the linear head's %d tensors moved", moved, considered);
    cr_expect_eq(out.steps, 2);
    gs_confusion_free(&out.confusion);
    gs_finetune_model_free(&m);
    free_snapshot(encoder_before, bb.params->count);
    free_snapshot(head_before, n_head);
    gs_backbone_free(&bb);
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}
