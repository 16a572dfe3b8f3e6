#include "reference_steps.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "reference_model.h"

void reference_run_steps(gs_context *ctx, const gs_param_list *params, reference_loss_fn loss_fn, void *model,
                         const fixture *fx, const int32_t *labels, gs_optimizer_kind kind, float losses[5]) {
    gs_optimizer_config cfg = gs_optimizer_defaults(kind);
    // The learning rate is the one the fixture was recorded with: the
    // generator picks it so that 5 steps stay well conditioned.
    const fixture_tensor *lr = fixture_get(fx, kind == GS_OPTIM_SGD ? "sgd_lr" : "adamw_lr");
    cr_assert_not_null(lr, "the fixture has no learning rate: regenerate it with tools/reference/");
    cfg.lr = lr->data[0];
    if (kind == GS_OPTIM_SGD) {
        cfg.momentum = 0.9f;
        cfg.weight_decay = 5e-4f;
    } else {
        cfg.weight_decay = 0.05f;
    }
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(ctx, &opt, params, &cfg), GS_OK, "%s", ctx->error);
    for (int step = 0; step < 5; step++) {
        gs_step_begin(ctx);
        gs_optimizer_zero_grad(&opt);
        gs_tensor *x = reference_tensor(ctx, fx, "input");
        gs_tensor *loss = loss_fn(ctx, model, x, labels);
        cr_assert_not_null(loss, "step %d: %s", step, ctx->error);
        losses[step] = loss->data[0];
        cr_assert_eq(gs_backward(ctx, loss), GS_OK, "step %d: %s", step, ctx->error);
        cr_assert_eq(gs_optimizer_step(ctx, &opt, cfg.lr), GS_OK, "step %d: %s", step, ctx->error);
    }
    gs_optimizer_free(&opt);
}

void reference_expect_losses(const fixture *fx, gs_optimizer_kind kind, const float losses[5]) {
    const fixture_tensor *ref = fixture_get(fx, kind == GS_OPTIM_SGD ? "sgd_losses" : "adamw_losses");
    cr_assert_not_null(ref);
    double worst = 0.0;
    for (int i = 0; i < 5; i++) {
        double rel = fabs((double)losses[i] - (double)ref->data[i]) / fabs((double)ref->data[i]);
        /* The first steps are held to 1e-4.  The last two sit near relu
         * kinks that rounding may or may not cross: in torch's own float64,
         * eight random nudges of 1e-6 of every weight moved these 5-step
         * losses by up to 2.5e-3 (SGD, ImageNet stem) and 1.6e-3 (AdamW,
         * small stem), and oneDNN's AVX-512 convolutions (an AMD EPYC with
         * AVX-512) land the small stem's AdamW step 5 2.5e-4 away where its
         * AVX2 ones land 2e-6 away.  A wrong update rule misses by far more
         * (tests/optim_updates.c checks the rules themselves). */
        double tolerance = i < 3 ? 1e-4 : 3e-3;
        cr_expect_leq(rel, tolerance, "%s step %d: loss %.7g, torch %.7g (relative %.2g)",
                      kind == GS_OPTIM_SGD ? "SGD" : "AdamW", i, (double)losses[i], (double)ref->data[i], rel);
        if (rel > worst) worst = rel;
        if (getenv("GEOSSL_VERBOSE")) fprintf(stderr, "  step %d: %.8g vs torch %.8g\n", i, (double)losses[i], (double)ref->data[i]);
    }
    fprintf(stderr, "%s 5 steps: worst loss relative error %.2g\n", kind == GS_OPTIM_SGD ? "SGD" : "AdamW", worst);
}
