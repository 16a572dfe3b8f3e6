/* Fine-tuning on a pretraining method's own features (SatMAE's group
 * tokens, mean-pooled, as its authors fine-tune): the head reads the
 * authors' fc_norm of those features, gradients reach the group patch
 * embeddings that live outside the exported encoder, and the optimizer
 * trains them at layer 0's decayed rate (and not at all when the encoder
 * is frozen). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "dataset.h"
#include "finetune.h"
#include "gradcheck.h"
#include "method.h"
#include "ops/ops.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct method_features {
    gs_method method;
    gs_param_list params;
    gs_feature_extractor fx;
} method_features;

static gs_tensor *compute_features(gs_context *ctx, void *owner, gs_tensor *x) {
    gs_method *m = owner;
    return m->ops->features(ctx, m, x);
}

/* A SatMAE group method on 13 bands (the default groups) and its features
 * as evaluation builds them (harness/cli/eval_common.c). */
static void init_method(gs_context *ctx, method_features *mf, int size, int patch) {
    memset(mf, 0, sizeof *mf);
    gs_method_config mc = {.backbone = {.name = "vit-tiny", .width = 48, .patch = patch, .pos = GS_POS_LEARNED},
                           .image_size = size, .bands = 13, .batch = 4, .total_steps = 1,
                           .options = "decoder_width=16,decoder_depth=1,decoder_heads=2"};
    cr_assert_eq(gs_method_init(ctx, &mf->method, gs_method_find("satmae"), &mc), GS_OK, "%s", ctx->error);
    cr_assert_not_null(mf->method.ops->feature_params);
    cr_assert_eq(mf->method.ops->feature_params(ctx, &mf->method, &mf->params), GS_OK, "%s", ctx->error);
    mf->fx = (gs_feature_extractor){.compute = compute_features, .owner = &mf->method,
                                    .dim = mf->method.encoder.feature_dim, .name = "mean_tokens",
                                    .params = &mf->params};
}

static void free_method(method_features *mf) {
    gs_param_list_free(&mf->params);
    gs_method_free(&mf->method);
}

/* A 4-class head on the method's features at 16 px (the dataset is only
 * read for its task and class count). */
static void init_classifier(gs_context *ctx, method_features *mf, gs_finetune_model *fm) {
    init_method(ctx, mf, 16, 4);
    gs_dataset ds = {.root = "generated", .task = GS_TASK_CLASSIFICATION, .n_classes = 4};
    gs_finetune_config fc = {.features = &mf->fx};
    gs_error err = {0};
    cr_assert_eq(gs_finetune_model_init(ctx, fm, &mf->method.encoder, &ds, &fc, &err), GS_OK, "%s", err.message);
}

static void fill_normal(gs_context *ctx, gs_tensor *t, float scale) {
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = scale * gs_rng_normal(&ctx->rng);
}

Test(protocols_finetune_method_features, the_feature_parameters_are_the_group_embeddings) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    method_features mf;
    init_method(&ctx, &mf, 16, 4);
    cr_assert_eq(mf.params.count, 6, "three groups, weight and bias each: %d", mf.params.count);
    for (int g = 0; g < 3; g++) {
        char weight[64], bias[64];
        snprintf(weight, sizeof weight, "patch_embed.%d.proj.weight", g);
        snprintf(bias, sizeof bias, "patch_embed.%d.proj.bias", g);
        cr_expect_not_null(gs_param_find(&mf.params, weight), "%s is missing", weight);
        cr_expect_not_null(gs_param_find(&mf.params, bias), "%s is missing", bias);
    }
    free_method(&mf);
    gs_context_free(&ctx);
}

/* logits = head(LayerNorm(features(x))), checked against the features and a
 * LayerNorm and linear layer computed here in double. */
Test(protocols_finetune_method_features, the_head_reads_fc_norm_of_the_pooled_group_tokens) {
    gs_context ctx;
    gradcheck_context(&ctx, 2);
    method_features mf;
    gs_finetune_model fm;
    init_classifier(&ctx, &mf, &fm);
    /* The authors' head starts near zero (trunc normal, std 2e-5), bias 0. */
    double largest = 0, total = 0;
    for (int64_t i = 0; i < fm.head.weight->numel; i++) {
        largest = fmax(largest, fabs(fm.head.weight->data[i]));
        total += fabs(fm.head.weight->data[i]);
    }
    cr_expect(largest <= 4e-5 && total > 0, "head weights: largest %g, sum %g", largest, total);
    for (int64_t i = 0; i < fm.head.bias->numel; i++) cr_expect_eq(fm.head.bias->data[i], 0.0f);
    /* Away from their initialization, so that every part shows. */
    fill_normal(&ctx, fm.fc_norm.weight, 0.5f);
    fill_normal(&ctx, fm.fc_norm.bias, 0.5f);
    fill_normal(&ctx, fm.head.weight, 0.3f);
    fill_normal(&ctx, fm.head.bias, 0.3f);

    gs_step_begin(&ctx);
    bool previous = gs_set_grad_enabled(&ctx, false);
    gs_tensor *x = gs_activation(&ctx, GS_DIMS(2, 13, 16, 16));
    fill_normal(&ctx, x, 1.0f);
    gs_tensor *logits = gs_finetune_model_forward(&ctx, &fm, x, false);
    gs_tensor *f = mf.method.ops->features(&ctx, &mf.method, x);
    cr_assert(logits && f, "%s", ctx.error);
    cr_assert(logits->ndim == 2 && logits->shape[0] == 2 && logits->shape[1] == 4);
    int64_t d = f->shape[1];
    for (int64_t n = 0; n < 2; n++) {
        double mean = 0, var = 0;
        for (int64_t c = 0; c < d; c++) mean += f->data[n * d + c] / (double)d;
        for (int64_t c = 0; c < d; c++) var += pow(f->data[n * d + c] - mean, 2) / (double)d;
        double normed[64];
        for (int64_t c = 0; c < d; c++)
            normed[c] = (f->data[n * d + c] - mean) / sqrt(var + 1e-6) * fm.fc_norm.weight->data[c] +
                        fm.fc_norm.bias->data[c];
        for (int k = 0; k < 4; k++) {
            double want = fm.head.bias->data[k];
            for (int64_t c = 0; c < d; c++) want += fm.head.weight->data[k * d + c] * normed[c];
            cr_expect(fabs(logits->data[n * 4 + k] - want) <= 1e-4 * (1 + fabs(want)), "sample %lld class %d: %g vs %g",
                      (long long)n, k, (double)logits->data[n * 4 + k], want);
        }
    }
    gs_set_grad_enabled(&ctx, previous);
    gs_finetune_model_free(&fm);
    free_method(&mf);
    gs_context_free(&ctx);
}

typedef struct forward_user {
    gs_finetune_model *model;
    const float *x;
} forward_user;

static gs_tensor *finetune_logits(gs_context *ctx, gs_tensor *const *inputs, void *user) {
    (void)inputs; /* they are the model's own parameters, perturbed in place */
    forward_user *u = user;
    gs_tensor *x = gs_activation(ctx, GS_DIMS(2, 13, 16, 16));
    if (!x) return NULL;
    memcpy(x->data, u->x, (size_t)x->numel * sizeof(float));
    return gs_finetune_model_forward(ctx, u->model, x, true);
}

/* The gradient of the logits in a group embedding's bias (outside the
 * exported encoder) and in fc_norm's, against finite differences; and it
 * is not zero (a zero gradient would pass the comparison). */
Test(protocols_finetune_method_features, gradients_reach_the_group_embeddings_through_the_features) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    method_features mf;
    gs_finetune_model fm;
    init_classifier(&ctx, &mf, &fm);
    fill_normal(&ctx, fm.head.weight, 0.3f);
    float x[2 * 13 * 16 * 16];
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = gs_rng_normal(&ctx.rng);
    gs_tensor *swir_bias = gs_param_find(&mf.params, "patch_embed.2.proj.bias");
    cr_assert_not_null(swir_bias);
    forward_user u = {.model = &fm, .x = x};

    gs_step_begin(&ctx);
    gs_params_zero_grad(&fm.trained);
    gs_tensor *logits = finetune_logits(&ctx, NULL, &u);
    cr_assert_not_null(logits, "%s", ctx.error);
    cr_assert_eq(gs_backward(&ctx, gs_sum(&ctx, gs_mul(&ctx, logits, logits))), GS_OK, "%s", ctx.error);
    double reached = 0;
    for (int64_t i = 0; i < swir_bias->numel; i++) reached += fabs(swir_bias->grad[i]);
    cr_expect(reached > 1e-6, "no gradient reaches the SWIR group's embedding: %g", reached);

    gs_tensor *inputs[2] = {swir_bias, fm.fc_norm.bias};
    gradcheck_report report;
    gradcheck_options opt = {.eps = 1e-2f, .rtol = 2e-2, .atol = 1e-4};
    cr_expect(gradcheck_run(&ctx, finetune_logits, inputs, 2, &u, &opt, &report), "%s", report.message);
    cr_expect_eq(report.checked, 96);
    gs_finetune_model_free(&fm);
    free_method(&mf);
    gs_context_free(&ctx);
}

typedef struct ms_data {
    char dir[256];
    gs_dataset ds;
    gs_band_stats stats;
} ms_data;

static void open_ms(ms_data *d) {
    test_temp_dir(d->dir, sizeof d->dir);
    char data[300], spec[400];
    snprintf(data, sizeof data, "%s/eurosat-ms", d->dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 4, .count = 2};
    cr_assert_eq(gs_synth_write("eurosat-ms", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(spec, sizeof spec, "eurosat-ms:%s", data);
    cr_assert_eq(gs_dataset_open(spec, NULL, &d->ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(d->ds.bands, 13);
    cr_assert_eq(gs_stats_get_in(&d->ds, d->dir, 1, NULL, &d->stats, &err), GS_OK, "%s", err.message);
}

/* |after - before| summed over the first group's patch kernels and over
 * fc_norm's weight, after one fine-tuning step (SGD's first: the update is
 * lr x the gradient's direction, so decay scales it exactly). */
static void one_step(const ms_data *d, float layer_decay, bool frozen, double *group, double *norm) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    method_features mf;
    init_method(&ctx, &mf, (int)d->ds.height, 16);
    gs_tensor *kernels = gs_param_find(&mf.params, "patch_embed.0.proj.weight");
    cr_assert_not_null(kernels);
    float *before = malloc((size_t)kernels->numel * sizeof *before);
    memcpy(before, kernels->data, (size_t)kernels->numel * sizeof *before);
    int64_t train[8], test[2] = {8, 9};
    for (int i = 0; i < 8; i++) train[i] = i;
    gs_finetune_config fc = {.iterations = 1, .batch = 8, .lr = 0.1f, .seed = 3, .workers = 1,
                             .layer_decay = layer_decay, .freeze_encoder = frozen, .features = &mf.fx};
    gs_finetune_model fm;
    gs_finetune_result r;
    gs_error err = {0};
    cr_assert_eq(gs_finetune_model_init(&ctx, &fm, &mf.method.encoder, &d->ds, &fc, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_finetune_model_train(&ctx, &fm, &d->ds, train, 8, test, 2, &d->stats, &fc, &r, &err), GS_OK, "%s",
                 err.message);
    cr_expect_eq(r.steps, 1);
    gs_confusion_free(&r.confusion);
    *group = 0;
    for (int64_t i = 0; i < kernels->numel; i++) *group += fabs((double)kernels->data[i] - (double)before[i]);
    *norm = 0;
    for (int64_t i = 0; i < fm.fc_norm.weight->numel; i++) *norm += fabs(fm.fc_norm.weight->data[i] - 1.0);
    free(before);
    gs_finetune_model_free(&fm);
    free_method(&mf);
    gs_context_free(&ctx);
}

Test(protocols_finetune_method_features, the_group_embeddings_train_at_layer_zeros_rate) {
    ms_data d;
    open_ms(&d);
    double group0, norm0, group1, norm1, group_frozen, norm_frozen;
    one_step(&d, 0.0f, false, &group0, &norm0);
    double decay = 0.8;
    one_step(&d, (float)decay, false, &group1, &norm1);
    one_step(&d, 0.0f, true, &group_frozen, &norm_frozen);
    cr_assert(group0 > 0 && norm0 > 0, "the undecayed step moved nothing: group %g, fc_norm %g", group0, norm0);
    int depth = 12; /* vit-tiny: the group embeddings are layer 0, decayed depth + 1 times */
    cr_expect(fabs(group1 / group0 - pow(decay, depth + 1)) < 1e-3 * pow(decay, depth + 1), "group embedding: %g",
              group1 / group0);
    cr_expect(fabs(norm1 / norm0 - 1.0) < 1e-3, "fc_norm is above the blocks (scale 1): %g", norm1 / norm0);
    cr_expect_eq(group_frozen, 0.0, "a frozen encoder's group embeddings moved by %g", group_frozen);
    cr_expect(norm_frozen > 0, "with the encoder frozen, fc_norm still trains");
    gs_dataset_close(&d.ds);
    test_remove_tree(d.dir);
}

Test(protocols_finetune_method_features, segmentation_refuses_pooled_features) {
    gs_context ctx;
    gradcheck_context(&ctx, 6);
    method_features mf;
    init_method(&ctx, &mf, 16, 4);
    gs_dataset ds = {.root = "tiles", .task = GS_TASK_SEGMENTATION, .n_classes = 6};
    gs_finetune_config fc = {.features = &mf.fx};
    gs_finetune_model fm;
    gs_error err = {0};
    cr_expect_eq(gs_finetune_model_init(&ctx, &fm, &mf.method.encoder, &ds, &fc, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "features=mean_tokens") != NULL, "message: %s", err.message);
    gs_finetune_model_free(&fm);
    free_method(&mf);
    gs_context_free(&ctx);
}
