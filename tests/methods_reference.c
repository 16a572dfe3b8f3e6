/* Each method's first 5 training steps against the PyTorch reference of
 * tools/reference/methods_reference.py: the same initial weights, the same
 * fixed views, the method's optimizer at the fixture's learning rates, and
 * its targets, queue, center and schedules; every loss within 1e-4
 * relative. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"
#include "method.h"
#include "ops/ops.h"
#include "reference_model.h"
#include "test_paths.h"

#define STEPS 5

static double config_value(const fixture *fx, const char *key, double fallback) {
    char name[96];
    snprintf(name, sizeof name, "config/%s", key);
    const fixture_tensor *t = fixture_get(fx, name);
    return t ? (double)t->data[0] : fallback;
}

/* Each state entry from "state/<name>", else from "param/<name>" (targets
 * start as copies of the online network). */
static void load_state(const fixture *fx, const gs_param_list *state) {
    for (int i = 0; i < state->count; i++) {
        gs_tensor *t = state->items[i].tensor;
        char key[256], msg[256];
        snprintf(key, sizeof key, "state/%s", t->name);
        if (!fixture_get(fx, key)) snprintf(key, sizeof key, "param/%s", t->name);
        cr_assert(reference_load_tensor(fx, key, t, msg, sizeof msg), "%s", msg);
    }
}

static void run_reference(const char *method, const char *fixture_name, gs_backbone_config backbone) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path(fixture_name, path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s (tools/reference/methods_reference.py writes it)", path);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method_config mc = {
        .backbone = backbone, .image_size = 16, .bands = 3,
        .total_steps = (int64_t)config_value(fx, "total_steps", 0),
        .steps_per_epoch = (int64_t)config_value(fx, "steps_per_epoch", 0),
        .batch = (int)config_value(fx, "batch", 0),
        .proj_hidden = (int)config_value(fx, "proj_hidden", 0), .proj_dim = (int)config_value(fx, "proj_dim", 0),
        .temperature = (float)config_value(fx, "temperature", 0), .momentum = (float)config_value(fx, "momentum", 0),
        .queue_size = (int)config_value(fx, "queue_size", 0), .local_crops = (int)config_value(fx, "local_crops", 0)};
    const gs_method_ops *ops = gs_method_find(method);
    cr_assert_not_null(ops);
    gs_method m;
    cr_assert_eq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s", ctx.error);
    char msg[256];
    cr_assert(reference_load_params(fx, &m.trainable, msg, sizeof msg), "%s", msg);
    load_state(fx, &m.state);

    gs_optimizer_config oc = gs_optimizer_defaults(ops->optimizer);
    oc.weight_decay = (float)config_value(fx, "weight_decay", 0);
    if (oc.kind != GS_OPTIM_ADAMW) oc.momentum = 0.9f;
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    const fixture_tensor *lrs = fixture_get(fx, "lrs"), *want = fixture_get(fx, "losses");
    cr_assert(lrs && want && lrs->numel == STEPS && want->numel == STEPS);
    for (int step = 0; step < STEPS; step++) {
        gs_step_begin(&ctx);
        gs_tensor *views[GS_METHOD_MAX_VIEWS];
        int n_views = 0;
        for (; n_views < GS_METHOD_MAX_VIEWS; n_views++) {
            char name[64];
            snprintf(name, sizeof name, "view/%d/%d", step, n_views);
            if (!fixture_get(fx, name)) break;
            views[n_views] = reference_tensor(&ctx, fx, name);
        }
        cr_assert_geq(n_views, 2);
        gs_tensor *loss = gs_method_step(&ctx, &m, &opt, views, n_views, step, lrs->data[step]);
        cr_assert_not_null(loss, "%s step %d: %s", method, step, ctx.error);
        double got = loss->data[0], expected = want->data[step];
        double rel = fabs(got - expected) / fabs(expected);
        cr_expect_leq(rel, 1e-4, "%s step %d: loss %.7f, PyTorch %.7f (relative error %.2g)", method, step, got,
                      expected, rel);
        fprintf(stderr, "%s step %d: %.7f vs %.7f (%.1e)\n", fixture_name, step, got, expected, rel);
    }
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
    fixture_free(fx);
}

static const gs_backbone_config RESNET = {.name = "resnet18", .width = 4, .stem = GS_STEM_SMALL};

Test(methods_reference, simclr_matches_pytorch) { run_reference("simclr", "method_simclr.gsfx", RESNET); }
Test(methods_reference, moco_matches_pytorch) { run_reference("mocov2", "method_moco.gsfx", RESNET); }
Test(methods_reference, byol_matches_pytorch) { run_reference("byol", "method_byol.gsfx", RESNET); }
Test(methods_reference, dino_resnet_matches_pytorch) { run_reference("dino", "method_dino_resnet.gsfx", RESNET); }
Test(methods_reference, dino_vit_matches_pytorch) {
    gs_backbone_config vit = {.name = "vit-tiny", .width = 24, .patch = 4, .pos = GS_POS_LEARNED};
    run_reference("dino", "method_dino_vit.gsfx", vit);
}
