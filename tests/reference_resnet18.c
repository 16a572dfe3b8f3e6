/* ResNet-18 (base width 16, 4 bands, both stems) against torchvision:
 * logits, loss, every parameter gradient, eval-mode logits after the
 * running statistics moved, and 5 optimizer steps with SGD and AdamW.
 * Fixtures: tools/reference/resnet_reference.py. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "fixture.h"
#include "gradcheck.h"
#include "nn/resnet.h"
#include "ops/ops.h"
#include "reference_model.h"
#include "reference_steps.h"
#include "test_paths.h"

typedef struct resnet_case {
    gs_context ctx;
    gs_resnet net;
    fixture *fx;
    int32_t labels[64];
    int n;
} resnet_case;

static bool setup_case(resnet_case *c, const char *file, gs_stem stem) {
    char path[512];
    c->fx = fixture_load(test_fixture_path(file, path, sizeof path));
    cr_assert_not_null(c->fx, "missing fixture %s", path);
    gradcheck_context(&c->ctx, 1);
    gs_resnet_config cfg = {.depth = 18, .in_bands = 4, .width = 16, .stem = stem, .num_classes = 10};
    cr_assert_eq(gs_resnet_init(&c->ctx, &c->net, &cfg), GS_OK, "%s", c->ctx.error);
    char msg[256];
    cr_assert(reference_load_params(c->fx, &c->net.params, msg, sizeof msg), "%s", msg);
    const fixture_tensor *labels = fixture_get(c->fx, "labels");
    c->n = (int)labels->numel;
    for (int i = 0; i < c->n; i++) c->labels[i] = (int32_t)labels->data[i];
    return true;
}

static void teardown_case(resnet_case *c) {
    gs_resnet_free(&c->net);
    gs_context_free(&c->ctx);
    fixture_free(c->fx);
}

static gs_tensor *resnet_loss(gs_context *ctx, void *model, gs_tensor *x, const int32_t *labels) {
    gs_tensor *logits = gs_resnet_forward(ctx, model, x, true);
    return gs_cross_entropy(ctx, logits, labels, GS_NO_IGNORE_INDEX);
}

static void check_forward_backward(const char *file, gs_stem stem) {
    resnet_case c;
    setup_case(&c, file, stem);
    gs_context *ctx = &c.ctx;
    gs_step_begin(ctx);
    gs_tensor *x = reference_tensor(ctx, c.fx, "input");
    gs_tensor *logits = gs_resnet_forward(ctx, &c.net, x, true);
    gs_tensor *loss = gs_cross_entropy(ctx, logits, c.labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx->error);
    const fixture_tensor *ref = fixture_get(c.fx, "output");
    int64_t worst;
    double err = fixture_max_rel_error(logits->data, ref->data, ref->numel, fixture_output_floor(ref), &worst);
    cr_expect_leq(err, 1e-4, "logits differ: relative error %.3g at %lld (%g vs %g)", err, (long long)worst,
                  (double)logits->data[worst], (double)ref->data[worst]);
    double loss_err = fabs(loss->data[0] - fixture_get(c.fx, "loss")->data[0]) / fixture_get(c.fx, "loss")->data[0];
    cr_expect_leq(loss_err, 1e-4, "loss %g vs %g", (double)loss->data[0], (double)fixture_get(c.fx, "loss")->data[0]);

    gs_params_zero_grad(&c.net.params);
    cr_assert_eq(gs_backward(ctx, loss), GS_OK, "%s", ctx->error);
    char name[256] = "";
    double ratio = reference_worst_grad(c.fx, &c.net.params, 1e-3, name, sizeof name);
    cr_expect_leq(ratio, 1.0, "gradient of %s off by %.3g x the 1e-3 tolerance", name, ratio);
    fprintf(stderr, "%s: logits relative error %.2g, worst gradient %s at %.2g of the tolerance\n", __func__, err,
            name, ratio);

    /* The forward above moved the running statistics once, as torch's did. */
    gs_step_begin(ctx);
    bool previous = gs_set_grad_enabled(ctx, false);
    x = reference_tensor(ctx, c.fx, "input");
    gs_tensor *eval_logits = gs_resnet_forward(ctx, &c.net, x, false);
    gs_set_grad_enabled(ctx, previous);
    ref = fixture_get(c.fx, "eval_output");
    err = fixture_max_rel_error(eval_logits->data, ref->data, ref->numel, fixture_output_floor(ref), &worst);
    cr_expect_leq(err, 1e-4, "eval logits differ: relative error %.3g at %lld", err, (long long)worst);
    teardown_case(&c);
}

static void check_steps(const char *file, gs_stem stem, gs_optimizer_kind kind) {
    resnet_case c;
    setup_case(&c, file, stem);
    float losses[5];
    reference_run_steps(&c.ctx, &c.net.params, resnet_loss, &c.net, c.fx, c.labels, kind, losses);
    reference_expect_losses(c.fx, kind, losses);
    teardown_case(&c);
}

Test(reference_resnet18, imagenet_stem_forward_backward) { check_forward_backward("resnet18_imagenet.gsfx", GS_STEM_IMAGENET); }
Test(reference_resnet18, small_stem_forward_backward) { check_forward_backward("resnet18_small.gsfx", GS_STEM_SMALL); }
Test(reference_resnet18, imagenet_stem_sgd_steps) { check_steps("resnet18_imagenet.gsfx", GS_STEM_IMAGENET, GS_OPTIM_SGD); }
Test(reference_resnet18, imagenet_stem_adamw_steps) { check_steps("resnet18_imagenet.gsfx", GS_STEM_IMAGENET, GS_OPTIM_ADAMW); }
Test(reference_resnet18, small_stem_sgd_steps) { check_steps("resnet18_small.gsfx", GS_STEM_SMALL, GS_OPTIM_SGD); }
Test(reference_resnet18, small_stem_adamw_steps) { check_steps("resnet18_small.gsfx", GS_STEM_SMALL, GS_OPTIM_ADAMW); }

Test(reference_resnet18, parameter_count_matches_torchvision) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_resnet net;
    gs_resnet_config cfg = gs_resnet_default_config(18, 3);
    cfg.num_classes = 1000;
    cr_assert_eq(gs_resnet_init(&ctx, &net, &cfg), GS_OK);
    /* torchvision.models.resnet18(): 11,689,512 parameters; resnet50: 25,557,032. */
    cr_expect_eq(gs_params_count(&net.params), 11689512);
    gs_resnet_free(&net);
    cfg.depth = 50;
    cr_assert_eq(gs_resnet_init(&ctx, &net, &cfg), GS_OK);
    cr_expect_eq(gs_params_count(&net.params), 25557032);
    gs_resnet_free(&net);
    gs_context_free(&ctx);
}
