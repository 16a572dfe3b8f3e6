/* ViT-Tiny topology (12 blocks, patch 8, 3 heads) at width 48 against the
 * PyTorch ViT of tools/reference/vit_reference.py: logits, loss, every
 * parameter gradient, and 5 optimizer steps with SGD and AdamW. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "fixture.h"
#include "gradcheck.h"
#include "nn/vit.h"
#include "ops/ops.h"
#include "reference_model.h"
#include "reference_steps.h"
#include "test_paths.h"

typedef struct vit_case {
    gs_context ctx;
    gs_vit vit;
    fixture *fx;
    int32_t labels[64];
} vit_case;

static void setup_case(vit_case *c) {
    char path[512];
    c->fx = fixture_load(test_fixture_path("vit_tiny.gsfx", path, sizeof path));
    cr_assert_not_null(c->fx, "missing fixture %s", path);
    gradcheck_context(&c->ctx, 1);
    gs_vit_config cfg = gs_vit_tiny_config(32, 8, 4);
    cfg.dim = 48;
    cfg.mlp_dim = 192;
    cfg.num_classes = 10;
    cr_assert_eq(gs_vit_init(&c->ctx, &c->vit, &cfg), GS_OK, "%s", c->ctx.error);
    char msg[256];
    cr_assert(reference_load_params(c->fx, &c->vit.params, msg, sizeof msg), "%s", msg);
    const fixture_tensor *labels = fixture_get(c->fx, "labels");
    for (int64_t i = 0; i < labels->numel; i++) c->labels[i] = (int32_t)labels->data[i];
}

static void teardown_case(vit_case *c) {
    gs_vit_free(&c->vit);
    gs_context_free(&c->ctx);
    fixture_free(c->fx);
}

static gs_tensor *vit_loss(gs_context *ctx, void *model, gs_tensor *x, const int32_t *labels) {
    return gs_cross_entropy(ctx, gs_vit_forward(ctx, model, x), labels, GS_NO_IGNORE_INDEX);
}

Test(reference_vit_tiny, forward_backward) {
    vit_case c;
    setup_case(&c);
    gs_context *ctx = &c.ctx;
    gs_step_begin(ctx);
    gs_tensor *x = reference_tensor(ctx, c.fx, "input");
    gs_tensor *logits = gs_vit_forward(ctx, &c.vit, x);
    gs_tensor *loss = gs_cross_entropy(ctx, logits, c.labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx->error);
    const fixture_tensor *ref = fixture_get(c.fx, "output");
    int64_t worst;
    double err = fixture_max_rel_error(logits->data, ref->data, ref->numel, fixture_output_floor(ref), &worst);
    cr_expect_leq(err, 1e-4, "logits differ: relative error %.3g at %lld (%g vs %g)", err, (long long)worst,
                  (double)logits->data[worst], (double)ref->data[worst]);
    float ref_loss = fixture_get(c.fx, "loss")->data[0];
    cr_expect_leq(fabs(loss->data[0] - ref_loss) / ref_loss, 1e-4, "loss %g vs %g", (double)loss->data[0],
                  (double)ref_loss);
    gs_params_zero_grad(&c.vit.params);
    cr_assert_eq(gs_backward(ctx, loss), GS_OK, "%s", ctx->error);
    char name[256] = "";
    double ratio = reference_worst_grad(c.fx, &c.vit.params, 1e-3, name, sizeof name);
    cr_expect_leq(ratio, 1.0, "gradient of %s off by %.3g x the 1e-3 tolerance", name, ratio);
    fprintf(stderr, "%s: logits relative error %.2g, worst gradient %s at %.2g of the tolerance\n", __func__, err,
            name, ratio);
    teardown_case(&c);
}

static void check_steps(gs_optimizer_kind kind) {
    vit_case c;
    setup_case(&c);
    float losses[5];
    reference_run_steps(&c.ctx, &c.vit.params, vit_loss, &c.vit, c.fx, c.labels, kind, losses);
    reference_expect_losses(c.fx, kind, losses);
    teardown_case(&c);
}

Test(reference_vit_tiny, sgd_steps) { check_steps(GS_OPTIM_SGD); }
Test(reference_vit_tiny, adamw_steps) { check_steps(GS_OPTIM_ADAMW); }

Test(reference_vit_tiny, parameter_counts) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_vit vit;
    /* timm vit_tiny_patch16_224 with a 1000-class head: 5,717,416;
     * vit_small_patch16_224: 22,050,664. */
    gs_vit_config cfg = gs_vit_tiny_config(224, 16, 3);
    cfg.num_classes = 1000;
    cr_assert_eq(gs_vit_init(&ctx, &vit, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_eq(gs_params_count(&vit.params), 5717416);
    gs_vit_free(&vit);
    cfg = gs_vit_small_config(224, 16, 3);
    cfg.num_classes = 1000;
    cr_assert_eq(gs_vit_init(&ctx, &vit, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_eq(gs_params_count(&vit.params), 22050664);
    gs_vit_free(&vit);
    gs_context_free(&ctx);
}
