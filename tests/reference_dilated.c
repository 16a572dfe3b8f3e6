/* Dilated convolution and ResNet output stride 16 / 8 against PyTorch:
 * F.conv2d(dilation=...) outputs and gradients on every backend built, a
 * narrow ResNet-18 at output stride 16 and 8 (torchvision's
 * replace_stride_with_dilation, both 3x3 convolutions of a BasicBlock
 * dilated) in train mode with every gradient, and a narrow ResNet-50 at
 * output stride 8 (torchvision's own Bottleneck) in eval mode, and the
 * ResNet-18 at output stride 16 with the DeepLab dilation of GLCNet's
 * authors (layer4's first block dilated too).
 * Fixtures: tools/reference/deeplab_reference.py. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "fixture.h"
#include "gradcheck.h"
#include "nn/backbone.h"
#include "nn/resnet.h"
#include "ops/ops.h"
#include "reference_model.h"
#include "test_paths.h"

static const char *const BACKENDS[] = {"cpu", "onednn"};
#define N_BACKENDS (sizeof BACKENDS / sizeof *BACKENDS)

static void backend_context(gs_context *ctx, const char *backend) {
    gs_context_options options = {.n_threads = 2, .seed = 1, .backend = gs_backend_by_name(backend)};
    cr_assert_eq(gs_context_init(ctx, &options), GS_OK, "%s", ctx->error);
}

static fixture *load(const char *file) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path(file, path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s", path);
    return fx;
}

/* A parameter-arena copy of a fixture entry (so it can take a gradient). */
static gs_tensor *leaf(gs_context *ctx, const fixture *fx, const char *name, bool requires_grad) {
    const fixture_tensor *ft = fixture_get(fx, name);
    cr_assert_not_null(ft, "fixture lacks %s", name);
    gs_tensor *t = gs_tensor_new(ctx, &ctx->params, ft->ndim, ft->shape);
    cr_assert_not_null(t);
    memcpy(t->data, ft->data, (size_t)t->numel * sizeof(float));
    t->requires_grad = requires_grad;
    return t;
}

/* max |got - ref| / max |ref| over a tensor (gradients: judged at their scale). */
static double scaled_error(const float *got, const fixture_tensor *ref) {
    double scale = 0.0, err = 0.0;
    for (int64_t i = 0; i < ref->numel; i++) {
        double d = fabs((double)got[i] - (double)ref->data[i]);
        if (fabs((double)ref->data[i]) > scale) scale = fabs((double)ref->data[i]);
        if (!(d <= err)) err = isnan(d) ? INFINITY : d;
    }
    return err / (scale > 0 ? scale : 1e-30);
}

static void check_conv_case(const fixture *fx, const char *name, const char *backend) {
    char key[64];
    gs_context ctx;
    backend_context(&ctx, backend);
#define KEY(suffix) (snprintf(key, sizeof key, "%s/%s", name, suffix), key)
    const fixture_tensor *cfg = fixture_get(fx, KEY("config"));
    cr_assert_not_null(cfg);
    const int stride = (int)cfg->data[0], padding = (int)cfg->data[1], dilation = (int)cfg->data[2];
    gs_tensor *x = leaf(&ctx, fx, KEY("x"), true), *w = leaf(&ctx, fx, KEY("w"), true);
    gs_tensor *b = fixture_get(fx, KEY("b")) ? leaf(&ctx, fx, KEY("b"), true) : NULL;
    gs_step_begin(&ctx);
    gs_tensor *y = gs_conv2d_dilated(&ctx, x, w, b, stride, padding, dilation);
    cr_assert_not_null(y, "%s", ctx.error);
    const fixture_tensor *ref = fixture_get(fx, KEY("y"));
    cr_assert_eq(y->numel, ref->numel, "%s: output has %lld values, torch %lld", name, (long long)y->numel,
                 (long long)ref->numel);
    for (int d = 0; d < 4; d++) cr_assert_eq(y->shape[d], ref->shape[d], "%s: output dim %d", name, d);
    int64_t worst;
    double err = fixture_max_rel_error(y->data, ref->data, ref->numel, fixture_output_floor(ref), &worst);
    cr_expect_leq(err, 1e-5, "%s on %s: output relative error %.3g at %lld", name, backend, err, (long long)worst);

    cr_assert_eq(gs_backward_from(&ctx, y, fixture_get(fx, KEY("r"))->data), GS_OK, "%s", ctx.error);
    double dx = scaled_error(x->grad, fixture_get(fx, KEY("dx")));
    double dw = scaled_error(w->grad, fixture_get(fx, KEY("dw")));
    double db = b ? scaled_error(b->grad, fixture_get(fx, KEY("db"))) : 0.0;
    cr_expect_leq(dx, 1e-5, "%s on %s: dx error %.3g of its scale", name, backend, dx);
    cr_expect_leq(dw, 1e-5, "%s on %s: dw error %.3g of its scale", name, backend, dw);
    cr_expect_leq(db, 1e-5, "%s on %s: db error %.3g of its scale", name, backend, db);
#undef KEY
    gs_context_free(&ctx);
}

static void check_conv(const char *name) {
    fixture *fx = load("deeplab_conv.gsfx");
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (gs_backend_by_name(BACKENDS[i])) check_conv_case(fx, name, BACKENDS[i]);
    fixture_free(fx);
}

Test(reference_dilated, conv_d2_s1_p2_bias) { check_conv("d2_s1_p2"); }
Test(reference_dilated, conv_d3_s2_p3) { check_conv("d3_s2_p3"); }
Test(reference_dilated, conv_d2_k5_no_padding) { check_conv("d2_s1_p0_k5"); }

typedef struct resnet_case {
    gs_context ctx;
    gs_resnet net;
    fixture *fx;
} resnet_case;

/* Fixtures named *_deeplab hold the DeepLab ResNet of GLCNet's authors
 * (gs_resnet_config.deeplab_dilation). */
static void setup_resnet(resnet_case *c, const char *file, const char *backend, int depth, int width, int os) {
    c->fx = load(file);
    backend_context(&c->ctx, backend);
    gs_resnet_config cfg = {.depth = depth, .in_bands = 4, .width = width, .stem = GS_STEM_IMAGENET,
                            .num_classes = 10, .output_stride = os,
                            .deeplab_dilation = strstr(file, "_deeplab.") != NULL};
    cr_assert_eq(gs_resnet_init(&c->ctx, &c->net, &cfg), GS_OK, "%s", c->ctx.error);
    char msg[256];
    cr_assert(reference_load_params(c->fx, &c->net.params, msg, sizeof msg), "%s", msg);
}

static void teardown_resnet(resnet_case *c) {
    gs_resnet_free(&c->net);
    gs_context_free(&c->ctx);
    fixture_free(c->fx);
}

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

static void check_resnet18(const char *file, int os, const char *backend) {
    resnet_case c;
    setup_resnet(&c, file, backend, 18, 8, os);
    gs_context *ctx = &c.ctx;
    const fixture_tensor *labels_ref = fixture_get(c.fx, "labels");
    int32_t labels[16];
    for (int64_t i = 0; i < labels_ref->numel; i++) labels[i] = (int32_t)labels_ref->data[i];

    gs_step_begin(ctx);
    gs_tensor *stages[5];
    gs_tensor *x = reference_tensor(ctx, c.fx, "input");
    gs_tensor *logits = gs_resnet_forward_stages(ctx, &c.net, x, true, stages);
    gs_tensor *loss = gs_cross_entropy(ctx, logits, labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx->error);
    cr_expect_eq(x->shape[2] / stages[4]->shape[2], os, "layer4 map %lld px for a %lld px input",
                 (long long)stages[4]->shape[2], (long long)x->shape[2]);
    expect_close(stages[4], c.fx, "stage4", 1e-4, "layer4 output");
    expect_close(logits, c.fx, "output", 1e-4, "logits");
    gs_params_zero_grad(&c.net.params);
    cr_assert_eq(gs_backward(ctx, loss), GS_OK, "%s", ctx->error);
    char name[256] = "";
    double ratio = reference_worst_grad(c.fx, &c.net.params, 1e-3, name, sizeof name);
    cr_expect_leq(ratio, 1.0, "%s: gradient of %s off by %.3g x the 1e-3 tolerance", backend, name, ratio);
    fprintf(stderr, "resnet18 os%d on %s: worst gradient %s at %.2g of the tolerance\n", os, backend, name, ratio);

    gs_step_begin(ctx);
    bool previous = gs_set_grad_enabled(ctx, false);
    gs_tensor *eval_logits = gs_resnet_forward(ctx, &c.net, reference_tensor(ctx, c.fx, "input"), false);
    gs_set_grad_enabled(ctx, previous);
    expect_close(eval_logits, c.fx, "eval_output", 1e-4, "eval logits");
    teardown_resnet(&c);
}

static void check_resnet18_every_backend(const char *file, int os) {
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (gs_backend_by_name(BACKENDS[i])) check_resnet18(file, os, BACKENDS[i]);
}

Test(reference_dilated, resnet18_os16) { check_resnet18_every_backend("deeplab_resnet18_os16.gsfx", 16); }
Test(reference_dilated, resnet18_os8) { check_resnet18_every_backend("deeplab_resnet18_os8.gsfx", 8); }

Test(reference_dilated, resnet18_os16_deeplab_dilation) {
    check_resnet18_every_backend("deeplab_resnet18_os16_deeplab.gsfx", 16);
}

Test(reference_dilated, deeplab_dilation_dilates_the_first_block_and_is_named) {
    gs_context ctx;
    backend_context(&ctx, "default");
    gs_resnet_config cfg = {.depth = 18, .in_bands = 3, .width = 8, .stem = GS_STEM_IMAGENET, .output_stride = 16};
    gs_resnet torchvision, deeplab;
    cr_assert_eq(gs_resnet_init(&ctx, &torchvision, &cfg), GS_OK, "%s", ctx.error);
    cfg.deeplab_dilation = true;
    cr_assert_eq(gs_resnet_init(&ctx, &deeplab, &cfg), GS_OK, "%s", ctx.error);
    int first4 = torchvision.stage_end[2]; /* layer4.0 */
    cr_expect_eq(torchvision.blocks[first4].conv2.dilation, 1);
    cr_expect_eq(deeplab.blocks[first4].conv1.dilation, 2);
    cr_expect_eq(deeplab.blocks[first4].conv2.dilation, 2);
    cr_expect_eq(deeplab.blocks[first4 + 1].conv2.dilation, 2);
    cr_expect_eq(deeplab.blocks[first4 - 1].conv2.dilation, 1, "layer3 stays undilated at stride 16");
    cr_expect_not_null(strstr(deeplab.arch, " os=16 dilation=deeplab"), "%s", deeplab.arch);
    cr_expect_null(strstr(torchvision.arch, "dilation"), "%s", torchvision.arch);
    gs_resnet_free(&torchvision);
    gs_resnet_free(&deeplab);
    gs_context_free(&ctx);
}

Test(reference_dilated, resnet50_os8_eval) {
    resnet_case c;
    setup_resnet(&c, "deeplab_resnet50_os8.gsfx", "default", 50, 8, 8);
    gs_context *ctx = &c.ctx;
    gs_step_begin(ctx);
    gs_set_grad_enabled(ctx, false);
    gs_tensor *stages[5];
    gs_tensor *logits = gs_resnet_forward_stages(ctx, &c.net, reference_tensor(ctx, c.fx, "input"), false, stages);
    cr_assert_not_null(logits, "%s", ctx->error);
    expect_close(stages[4], c.fx, "eval_stage4", 1e-4, "layer4 output");
    expect_close(logits, c.fx, "eval_output", 1e-4, "logits");
    teardown_resnet(&c);
}

/* Where the dilations sit, by torchvision's rule: the first block of a
 * dilated stage keeps the previous dilation and takes no stride. */
Test(reference_dilated, resnet_layout_at_each_output_stride) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    static const int strides[3] = {32, 16, 8};
    static const int expect_stage_stride[3][5] = {{2, 4, 8, 16, 32}, {2, 4, 8, 16, 16}, {2, 4, 8, 8, 8}};
    int64_t count32 = 0;
    for (int k = 0; k < 3; k++) {
        gs_resnet net;
        gs_resnet_config cfg = gs_resnet_default_config(50, 3);
        cfg.width = 8;
        cfg.output_stride = strides[k];
        cr_assert_eq(gs_resnet_init(&ctx, &net, &cfg), GS_OK, "%s", ctx.error);
        for (int s = 0; s < 5; s++) cr_expect_eq(net.stage_stride[s], expect_stage_stride[k][s]);
        if (k == 0) count32 = gs_params_count(&net.params);
        cr_expect_eq(gs_params_count(&net.params), count32, "dilation must not change the parameters");
        /* layer4.0 and layer4.1 (blocks 13 and 14 of 16). */
        const gs_resnet_block *l4_0 = &net.blocks[13], *l4_1 = &net.blocks[14], *l3_1 = &net.blocks[8];
        if (strides[k] == 32) {
            cr_expect(l4_0->conv2.stride == 2 && l4_0->conv2.dilation == 1 && l4_1->conv2.dilation == 1);
            cr_expect(strstr(net.arch, "os=") == NULL, "the default arch string must not change: %s", net.arch);
        } else if (strides[k] == 16) {
            cr_expect(l4_0->conv2.stride == 1 && l4_0->conv2.dilation == 1 && l4_0->downsample_conv.stride == 1);
            cr_expect(l4_1->conv2.dilation == 2 && l4_1->conv2.padding == 2 && l3_1->conv2.dilation == 1);
            cr_expect(strstr(net.arch, " os=16") != NULL, "%s", net.arch);
        } else {
            cr_expect(l3_1->conv2.dilation == 2 && l4_0->conv2.dilation == 2 && l4_1->conv2.dilation == 4);
            cr_expect(strstr(net.arch, " os=8") != NULL, "%s", net.arch);
        }
        gs_resnet_free(&net);
    }
    gs_context_free(&ctx);
}

Test(reference_dilated, resnet_rejects_other_output_strides) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_resnet net;
    gs_resnet_config cfg = gs_resnet_default_config(18, 3);
    cfg.output_stride = 4;
    cr_expect_eq(gs_resnet_init(&ctx, &net, &cfg), GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "output stride") != NULL, "%s", ctx.error);
    gs_resnet_free(&net);
    gs_context_free(&ctx);
}

/* The backbone handle passes the output stride through; 0 keeps today's network. */
Test(reference_dilated, backbone_config_carries_the_output_stride) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_backbone bb;
    gs_backbone_config bc = {.name = "resnet18", .bands = 3, .img_size = 64, .width = 8, .output_stride = 16};
    cr_assert_eq(gs_backbone_init(&ctx, &bb, &bc), GS_OK, "%s", ctx.error);
    cr_expect_eq(bb.resnet.stage_stride[4], 16);
    cr_expect(strstr(bb.arch, " os=16") != NULL, "%s", bb.arch);
    gs_backbone_free(&bb);
    bc.output_stride = 0;
    cr_assert_eq(gs_backbone_init(&ctx, &bb, &bc), GS_OK, "%s", ctx.error);
    cr_expect_eq(bb.resnet.stage_stride[4], 32);
    gs_backbone_free(&bb);
    gs_context_free(&ctx);
}
