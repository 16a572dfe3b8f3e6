/* DeepLabv3+ head (harness/nn/deeplab.c) against a PyTorch module written
 * from the spec (tools/reference/deeplab_reference.py, deeplab_head.gsfx):
 * the ASPP output, the decoder's features and the full-resolution output in
 * train mode, every parameter gradient and both input gradients, and the
 * eval-mode output after the running statistics moved; on every backend
 * built.  Also: dropout, the default layout's parameter count, and a
 * ResNet-18 at output stride 16 feeding the head end to end. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "fixture.h"
#include "gradcheck.h"
#include "nn/deeplab.h"
#include "nn/resnet.h"
#include "ops/ops.h"
#include "reference_model.h"
#include "test_paths.h"

static const char *const BACKENDS[] = {"cpu", "onednn"};
#define N_BACKENDS (sizeof BACKENDS / sizeof *BACKENDS)

static void expect_close(const gs_tensor *got, const fixture *fx, const char *key, double tol, const char *what) {
    const fixture_tensor *ref = fixture_get(fx, key);
    cr_assert_not_null(ref, "fixture lacks %s", key);
    cr_assert_not_null(got, "%s: no tensor", what);
    cr_assert_eq(got->numel, ref->numel, "%s: %lld values, torch %lld", what, (long long)got->numel,
                 (long long)ref->numel);
    for (int d = 0; d < ref->ndim; d++) cr_assert_eq(got->shape[d], ref->shape[d], "%s: dim %d", what, d);
    int64_t worst;
    double err = fixture_max_rel_error(got->data, ref->data, ref->numel, fixture_output_floor(ref), &worst);
    cr_expect_leq(err, tol, "%s: relative error %.3g at %lld (%g vs %g)", what, err, (long long)worst,
                  (double)got->data[worst], (double)ref->data[worst]);
}

/* max |got - ref| / max |ref| (gradients: judged at their own scale). */
static double scaled_error(const float *got, const fixture_tensor *ref) {
    double scale = 0.0, err = 0.0;
    for (int64_t i = 0; i < ref->numel; i++) {
        double d = fabs((double)got[i] - (double)ref->data[i]);
        if (fabs((double)ref->data[i]) > scale) scale = fabs((double)ref->data[i]);
        if (!(d <= err)) err = isnan(d) ? INFINITY : d;
    }
    return err / (scale > 0 ? scale : 1e-30);
}

static gs_tensor *leaf(gs_context *ctx, const fixture *fx, const char *name) {
    const fixture_tensor *ft = fixture_get(fx, name);
    cr_assert_not_null(ft, "fixture lacks %s", name);
    gs_tensor *t = gs_tensor_new(ctx, &ctx->params, ft->ndim, ft->shape);
    cr_assert_not_null(t);
    memcpy(t->data, ft->data, (size_t)t->numel * sizeof(float));
    t->requires_grad = true;
    return t;
}

static void check_head(const char *backend) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path("deeplab_head.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s", path);
    gs_context ctx;
    gs_context_options options = {.n_threads = 2, .seed = 1, .backend = gs_backend_by_name(backend)};
    cr_assert_eq(gs_context_init(&ctx, &options), GS_OK);
    gs_tensor *low = leaf(&ctx, fx, "low"), *high = leaf(&ctx, fx, "high");
    const float *c = fixture_get(fx, "config")->data;
    const fixture_tensor *r = fixture_get(fx, "r");
    gs_deeplab_config cfg = {
        .in_channels = high->shape[1], .low_level_in = low->shape[1], .aspp_channels = (int64_t)c[0],
        .rates = {(int)c[1], (int)c[2], (int)c[3]}, .aspp_dropout = 0.0f, .low_level_channels = (int64_t)c[4],
        .decoder_channels = (int64_t)c[5], .decoder_dropout = {0.0f, 0.0f}, .n_classes = (int)c[6],
        .align_corners = true,
    };
    gs_param_list params = {0};
    gs_deeplab head;
    cr_assert_eq(gs_deeplab_init(&ctx, &params, &params, &head, &cfg), GS_OK, "%s", ctx.error);
    char msg[256];
    cr_assert(reference_load_params(fx, &params, msg, sizeof msg), "%s", msg);

    gs_step_begin(&ctx);
    gs_deeplab_outputs out;
    gs_tensor *y = gs_deeplab_forward(&ctx, &head, low, high, r->shape[2], r->shape[3], true, &out);
    cr_assert_not_null(y, "%s", ctx.error);
    expect_close(out.aspp, fx, "aspp", 1e-4, "ASPP output");
    expect_close(out.features, fx, "features", 1e-4, "decoder features");
    expect_close(out.output, fx, "output", 1e-4, "output");
    cr_assert_eq(gs_backward_from(&ctx, y, r->data), GS_OK, "%s", ctx.error);
    char name[256] = "";
    double ratio = reference_worst_grad(fx, &params, 1e-3, name, sizeof name);
    cr_expect_leq(ratio, 1.0, "%s: gradient of %s off by %.3g x the 1e-3 tolerance", backend, name, ratio);
    double d_low = scaled_error(low->grad, fixture_get(fx, "grad_input/low"));
    double d_high = scaled_error(high->grad, fixture_get(fx, "grad_input/high"));
    cr_expect_leq(d_low, 1e-4, "%s: low-level input gradient error %.3g of its scale", backend, d_low);
    cr_expect_leq(d_high, 1e-4, "%s: high-level input gradient error %.3g of its scale", backend, d_high);
    fprintf(stderr, "deeplab head on %s: worst parameter gradient %s at %.2g of the tolerance, inputs %.2g / %.2g\n",
            backend, name, ratio, d_low, d_high);

    gs_step_begin(&ctx);
    gs_set_grad_enabled(&ctx, false);
    gs_tensor *eval = gs_deeplab_forward(&ctx, &head, low, high, r->shape[2], r->shape[3], false, NULL);
    expect_close(eval, fx, "eval_output", 1e-4, "eval output");
    gs_param_list_free(&params);
    gs_context_free(&ctx);
    fixture_free(fx);
}

Test(reference_deeplab, head_matches_pytorch) {
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (gs_backend_by_name(BACKENDS[i])) check_head(BACKENDS[i]);
}

Test(reference_deeplab, dropout_keeps_half_scaled_and_passes_gradients_through_the_mask) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(4, 5, 20, 25), 1.0f, true);
    gs_step_begin(&ctx);
    gs_tensor *y = gs_dropout(&ctx, x, 0.5f, true);
    cr_assert_not_null(y, "%s", ctx.error);
    int64_t zeros = 0, bad = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        if (y->data[i] == 0.0f) zeros++;
        else if (y->data[i] != 2.0f * x->data[i]) bad++;
    }
    cr_expect_eq(bad, 0, "kept elements must be scaled by 1 / (1 - p)");
    /* 10000 draws: the fraction dropped is 0.5 +- 0.005 (1 sd). */
    cr_expect(zeros > 4700 && zeros < 5300, "%lld of 10000 dropped", (long long)zeros);
    static float ones[10000];
    for (int i = 0; i < 10000; i++) ones[i] = 1.0f;
    cr_assert_eq(gs_backward_from(&ctx, y, ones), GS_OK, "%s", ctx.error);
    for (int64_t i = 0; i < x->numel; i++)
        if (x->grad[i] != (y->data[i] == 0.0f ? 0.0f : 2.0f)) bad++;
    cr_expect_eq(bad, 0, "the gradient is the mask");
    /* Eval mode and p = 0 are the identity. */
    cr_expect_eq(gs_dropout(&ctx, x, 0.5f, false), x);
    cr_expect_eq(gs_dropout(&ctx, x, 0.0f, true), x);
    gs_context_free(&ctx);
}

Test(reference_deeplab, default_layout_matches_the_pytorch_module) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_deeplab_config cfg = gs_deeplab_default_config(2048, 256, 16, 7);
    cr_expect(cfg.rates[0] == 6 && cfg.rates[1] == 12 && cfg.rates[2] == 18);
    cr_expect_eq(cfg.aspp_channels, 256);
    cr_expect_eq(cfg.low_level_channels, 48);
    cr_expect_eq(cfg.aspp_dropout, 0.5f);
    gs_deeplab_config os8 = gs_deeplab_default_config(2048, 256, 8, 7);
    cr_expect(os8.rates[0] == 12 && os8.rates[1] == 24 && os8.rates[2] == 36);
    gs_param_list aspp = {0}, decoder = {0};
    gs_deeplab head;
    cr_assert_eq(gs_deeplab_init(&ctx, &aspp, &decoder, &head, &cfg), GS_OK, "%s", ctx.error);
    /* The reference script's Head(256, 2048, 256, (6, 12, 18), 48, 256, 7):
     * 16,840,551 parameters, of which the decoder's 1x1 / 3x3 / classifier
     * make 1,305,447. */
    cr_expect_eq(gs_params_count(&aspp) + gs_params_count(&decoder), 16840551);
    cr_expect_eq(gs_params_count(&decoder), 1305447);
    for (int i = 0; i < aspp.count; i++)
        cr_expect(!strncmp(aspp.items[i].tensor->name, "aspp.", 5), "%s", aspp.items[i].tensor->name);
    gs_param_list_free(&aspp);
    gs_param_list_free(&decoder);
    /* Batchnorm momentum: torch's 0.1 by default, GLCNet's 0.9 on request, on every layer. */
    cr_expect_eq(head.aspp.atrous_bn[2].momentum, 0.1f);
    gs_deeplab_config glc = gs_deeplab_default_config(32, 16, 16, 64);
    glc.bn_momentum = 0.9f;
    gs_deeplab small;
    gs_param_list both = {0};
    cr_assert_eq(gs_deeplab_init(&ctx, &both, &both, &small, &glc), GS_OK, "%s", ctx.error);
    cr_expect(small.aspp.conv1x1_bn.momentum == 0.9f && small.aspp.pool_bn.momentum == 0.9f &&
              small.aspp.project_bn.momentum == 0.9f && small.decoder.low_level_bn.momentum == 0.9f &&
              small.decoder.fuse_bn[1].momentum == 0.9f);
    gs_param_list_free(&both);
    cfg.rates[1] = 0;
    cr_expect_eq(gs_deeplab_init(&ctx, &aspp, &decoder, &head, &cfg), GS_ERR_ARGUMENT);
    gs_param_list_free(&aspp);
    gs_param_list_free(&decoder);
    gs_context_free(&ctx);
}

/* ResNet-18 at output stride 16 + the head in train mode (dropout on): the
 * shapes a method sees, and a gradient reaching the stem through both the
 * ASPP path and the low-level path. */
Test(reference_deeplab, resnet18_os16_end_to_end) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    gs_resnet net;
    gs_resnet_config rc = {.depth = 18, .in_bands = 4, .width = 8, .stem = GS_STEM_IMAGENET, .output_stride = 16};
    cr_assert_eq(gs_resnet_init(&ctx, &net, &rc), GS_OK, "%s", ctx.error);
    gs_deeplab_config cfg = gs_deeplab_default_config(net.stage_channels[3], net.stage_channels[0], 16, 64);
    cfg.aspp_channels = 16;
    cfg.decoder_channels = 16;
    cfg.low_level_channels = 8;
    gs_deeplab head;
    cr_assert_eq(gs_deeplab_init(&ctx, &net.params, &net.params, &head, &cfg), GS_OK, "%s", ctx.error);
    gs_step_begin(&ctx);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 4, 64, 48), 1.0f, false);
    gs_tensor *stages[5];
    gs_resnet_forward_stages(&ctx, &net, x, true, stages);
    gs_deeplab_outputs out;
    gs_tensor *y = gs_deeplab_forward(&ctx, &head, stages[1], stages[4], 64, 48, true, &out);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_expect(out.aspp->shape[1] == 16 && out.aspp->shape[2] == 4 && out.aspp->shape[3] == 3);
    cr_expect(out.features->shape[1] == 16 && out.features->shape[2] == 16 && out.features->shape[3] == 12);
    cr_expect(out.logits->shape[1] == 64 && out.logits->shape[2] == 16);
    cr_expect(y->shape[0] == 2 && y->shape[1] == 64 && y->shape[2] == 64 && y->shape[3] == 48);
    int64_t dropped = 0;
    for (int64_t i = 0; i < out.aspp->numel; i++) dropped += out.aspp->data[i] == 0.0f;
    cr_expect_gt(dropped, out.aspp->numel / 4, "dropout 0.5 (and relu) zero part of the ASPP output in training");
    gs_params_zero_grad(&net.params);
    cr_assert_eq(gs_backward(&ctx, gs_mean(&ctx, gs_mul(&ctx, y, y))), GS_OK, "%s", ctx.error);
    double stem = 0.0, atrous = 0.0;
    for (int64_t i = 0; i < net.conv1.weight->numel; i++) stem += fabs(net.conv1.weight->grad[i]);
    for (int64_t i = 0; i < head.aspp.atrous[2].weight->numel; i++) atrous += fabs(head.aspp.atrous[2].weight->grad[i]);
    cr_expect_gt(stem, 0.0);
    cr_expect_gt(atrous, 0.0);
    gs_resnet_free(&net);
    gs_context_free(&ctx);
}
