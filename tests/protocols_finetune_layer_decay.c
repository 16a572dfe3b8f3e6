/* Layer-wise learning-rate decay (BEiT's rule, as MAE and SatMAE fine-tune):
 * the layer each ViT parameter belongs to, the optimizer's per-parameter
 * learning-rate factors, and one fine-tuning step whose updates shrink by
 * the decay per layer below the head, exactly. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "dataset.h"
#include "finetune.h"
#include "gradcheck.h"
#include "nn/vit.h"
#include "optim/optimizer.h"
#include "synthetic.h"
#include "test_paths.h"

Test(protocols_finetune_layer_decay, vit_parameters_get_beits_layer_ids) {
    int depth = 12;
    cr_expect_eq(gs_vit_layer_id("cls_token", depth), 0);
    cr_expect_eq(gs_vit_layer_id("pos_embed", depth), 0);
    cr_expect_eq(gs_vit_layer_id("patch_embed.proj.weight", depth), 0);
    cr_expect_eq(gs_vit_layer_id("blocks.0.attn.qkv.weight", depth), 1);
    cr_expect_eq(gs_vit_layer_id("blocks.11.mlp.fc2.bias", depth), 12);
    cr_expect_eq(gs_vit_layer_id("norm.weight", depth), 13);
    cr_expect_eq(gs_vit_layer_id("head.weight", depth), 13);
    /* Not a block of this ViT, or not a block at all: the top layer. */
    cr_expect_eq(gs_vit_layer_id("blocks.12.norm1.weight", depth), 13);
    cr_expect_eq(gs_vit_layer_id("blocksX.1.weight", depth), 13);
    cr_expect_eq(gs_vit_layer_id("blocks..weight", depth), 13);
}

/* Two parameters with the same gradient, one at lr x 0.25: SGD and AdamW
 * move it a quarter as far (AdamW's decoupled decay scales with lr too). */
static void check_scaled_update(gs_optimizer_kind kind) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_param_list list = {0};
    gs_tensor *a = gs_param_add(&ctx, &list, "a", GS_PARAM_WEIGHT, GS_DIMS(4));
    gs_tensor *b = gs_param_add(&ctx, &list, "b", GS_PARAM_WEIGHT, GS_DIMS(4));
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    for (int i = 0; i < 4; i++) a->data[i] = b->data[i] = 0.5f + 0.1f * (float)i;
    gs_optimizer_config oc = gs_optimizer_defaults(kind);
    oc.lr = 0.1f;
    oc.weight_decay = 0.05f;
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &oc), GS_OK, "%s", ctx.error);
    cr_assert_eq(gs_optimizer_scale_lr(&ctx, &opt, 1, 0.25f), GS_OK, "%s", ctx.error);
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < 4; i++) a->grad[i] = b->grad[i] = 0.3f - 0.2f * (float)i;
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, 0.1f), GS_OK, "%s", ctx.error);
        if (step == 0)
            for (int i = 0; i < 4; i++) {
                float start = 0.5f + 0.1f * (float)i;
                cr_expect_float_eq(b->data[i] - start, 0.25f * (a->data[i] - start), 1e-7f, "%s element %d: %g vs %g",
                                   gs_optimizer_kind_name(kind), i, (double)(b->data[i] - start),
                                   (double)(a->data[i] - start));
            }
    }
    /* Out-of-range scales and indices are refused. */
    cr_expect_eq(gs_optimizer_scale_lr(&ctx, &opt, 2, 0.5f), GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    cr_expect_eq(gs_optimizer_scale_lr(&ctx, &opt, 0, NAN), GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    cr_expect_eq(gs_optimizer_scale_lr(&ctx, &opt, 0, -1.0f), GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

Test(protocols_finetune_layer_decay, optimizer_scales_one_parameters_learning_rate) {
    check_scaled_update(GS_OPTIM_SGD);
    check_scaled_update(GS_OPTIM_ADAMW);
}

typedef struct vit_run {
    char dir[256];
    gs_dataset ds;
    gs_band_stats stats;
    gs_context ctx;
    gs_backbone bb;
    float *before;
} vit_run;

static void setup(vit_run *v) {
    test_temp_dir(v->dir, sizeof v->dir);
    char data[300], spec[400];
    snprintf(data, sizeof data, "%s/eurosat", v->dir);
    gs_error err = {0};
    gs_synth_options opt = {.seed = 9, .count = 2};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &opt, &err), GS_OK, "%s", err.message);
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", data);
    cr_assert_eq(gs_dataset_open(spec, NULL, &v->ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_stats_get_in(&v->ds, v->dir, 1, NULL, &v->stats, &err), GS_OK, "%s", err.message);
    gradcheck_context(&v->ctx, 11);
    gs_backbone_config bc = {.name = "vit-tiny", .bands = 3, .img_size = 64, .patch = 16, .width = 48};
    cr_assert_eq(gs_backbone_init(&v->ctx, &v->bb, &bc), GS_OK, "%s", v->ctx.error);
}

static void teardown(vit_run *v) {
    gs_backbone_free(&v->bb);
    gs_context_free(&v->ctx);
    gs_dataset_close(&v->ds);
    test_remove_tree(v->dir);
}

/* Sum of |after - before| over the encoder parameter named `name`. */
static double moved(const vit_run *v, const float *before, const char *name) {
    int64_t offset = 0;
    for (int i = 0; i < v->bb.params->count; i++) {
        const gs_tensor *t = v->bb.params->items[i].tensor;
        if (!strcmp(t->name, name)) {
            double sum = 0;
            for (int64_t j = 0; j < t->numel; j++) sum += fabs((double)t->data[j] - (double)before[offset + j]);
            return sum;
        }
        offset += t->numel;
    }
    cr_assert_fail("no encoder parameter %s", name);
    return 0;
}

/* One SGD step (its first: the momentum buffer is the gradient) of the same
 * model on the same batch, with and without decay: each parameter's update
 * is the undecayed one times decay^(depth + 1 - layer). */
static void one_step(float layer_decay, float **weights_before, double *patch, double *block0, double *last_block,
                     double *norm) {
    vit_run v;
    setup(&v);
    int64_t total = 0;
    for (int i = 0; i < v.bb.params->count; i++) total += v.bb.params->items[i].tensor->numel;
    float *before = malloc((size_t)total * sizeof *before);
    int64_t offset = 0;
    for (int i = 0; i < v.bb.params->count; i++) {
        const gs_tensor *t = v.bb.params->items[i].tensor;
        memcpy(before + offset, t->data, (size_t)t->numel * sizeof(float));
        offset += t->numel;
    }
    int64_t train[8], test[4];
    for (int i = 0; i < 8; i++) train[i] = i;
    for (int i = 0; i < 4; i++) test[i] = 8 + i;
    gs_finetune_config fc = {.iterations = 1, .batch = 8, .lr = 0.1f, .seed = 3, .workers = 1,
                             .layer_decay = layer_decay};
    gs_finetune_result r;
    gs_error err = {0};
    cr_assert_eq(gs_finetune(&v.ctx, &v.bb, &v.ds, train, 8, test, 4, &v.stats, &fc, &r, &err), GS_OK, "%s",
                 err.message);
    cr_expect_float_eq(r.layer_decay, layer_decay, 1e-7f);
    gs_confusion_free(&r.confusion);
    int depth = v.bb.vit.config.depth;
    char last[64];
    snprintf(last, sizeof last, "blocks.%d.attn.qkv.weight", depth - 1);
    *patch = moved(&v, before, "patch_embed.proj.weight");
    *block0 = moved(&v, before, "blocks.0.attn.qkv.weight");
    *last_block = moved(&v, before, last);
    *norm = moved(&v, before, "norm.weight");
    *weights_before = before;
    teardown(&v);
}

Test(protocols_finetune_layer_decay, each_layer_below_the_head_moves_decay_times_less) {
    float *w0, *w1;
    double p0, b0, l0, n0, p1, b1, l1, n1;
    one_step(0.0f, &w0, &p0, &b0, &l0, &n0);
    double decay = 0.8; /* not smaller: 0.8^13 of an update still stands well above float's rounding */
    one_step((float)decay, &w1, &p1, &b1, &l1, &n1);
    cr_assert(p0 > 0 && b0 > 0 && l0 > 0 && n0 > 0, "the undecayed step moved nothing: %g %g %g %g", p0, b0, l0, n0);
    int depth = 12; /* vit-tiny */
    cr_expect(fabs(p1 / p0 - pow(decay, depth + 1)) < 1e-3 * pow(decay, depth + 1), "patch_embed: %g", p1 / p0);
    cr_expect(fabs(b1 / b0 - pow(decay, depth)) < 1e-3 * pow(decay, depth), "blocks.0: %g", b1 / b0);
    cr_expect(fabs(l1 / l0 - decay) < 1e-3, "last block: %g", l1 / l0);
    cr_expect(fabs(n1 / n0 - 1.0) < 1e-3, "final norm: %g", n1 / n0);
    free(w0);
    free(w1);
}

Test(protocols_finetune_layer_decay, refused_on_a_resnet_and_on_a_frozen_encoder) {
    vit_run v;
    setup(&v);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_backbone rn;
    gs_backbone_config bc = {.name = "resnet18", .bands = 3, .img_size = 64, .width = 8};
    cr_assert_eq(gs_backbone_init(&ctx, &rn, &bc), GS_OK, "%s", ctx.error);
    int64_t train[4] = {0, 1, 2, 3}, test[2] = {8, 9};
    gs_finetune_config fc = {.iterations = 1, .batch = 4, .workers = 1, .layer_decay = 0.75f};
    gs_finetune_result r;
    gs_error err = {0};
    cr_expect_eq(gs_finetune(&ctx, &rn, &v.ds, train, 4, test, 2, &v.stats, &fc, &r, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "not a ViT") != NULL, "message: %s", err.message);
    memset(&err, 0, sizeof err);
    fc.freeze_encoder = true;
    cr_expect_eq(gs_finetune(&v.ctx, &v.bb, &v.ds, train, 4, test, 2, &v.stats, &fc, &r, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "frozen") != NULL, "message: %s", err.message);
    gs_backbone_free(&rn);
    gs_context_free(&ctx);
    teardown(&v);
}
