/* FALSE (methods/false.c): the self-determination and calibration on a
 * similarity matrix worked out by hand, its first 5 training steps against
 * the PyTorch reference of tools/reference/false_reference.py (losses within
 * 1e-4 relative, the pairs selected and calibrated at each step, every
 * gradient of the first step), its options, and a pretraining run killed
 * after one epoch and resumed ending with the same weights as an
 * uninterrupted one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dataset.h"
#include "false.h"
#include "fixture.h"
#include "gradcheck.h"
#include "io/checkpoint.h"
#include "method.h"
#include "nn/backbone.h"
#include "ops/ops.h"
#include "pretrain.h"
#include "reference_model.h"
#include "simclr.h"
#include "synthetic.h"
#include "train/smoke.h"
#include "test_paths.h"

/* ---- the selection and calibration by hand ----
 *
 * Four embeddings, N = 2: rows 0 and 2 are the two views of image 0, rows 1
 * and 3 those of image 1.  Cosine similarities (symmetric, 1 on the
 * diagonal) and S = exp(cos / T) at T = 0.5:
 *      pair   cos    S = e^(2 cos)
 *     (0,1)  0.90    e^1.8 = 6.049647
 *     (0,2)  0.95    e^1.9 = 6.685894   positive of 0 and 2
 *     (0,3)  0.20    e^0.4 = 1.491825
 *     (1,2)  0.10    e^0.2 = 1.221403
 *     (1,3)  0.50    e^1.0 = 2.718282   positive of 1 and 3
 *     (2,3)  0.30    e^0.6 = 1.822119
 * s+ = 6.685894 for rows 0 and 2, 2.718282 for rows 1 and 3.
 *
 * Global (released): D = |S_ij - s+_i| over j > i, positives excluded:
 *     (0,1) |6.049647 - 6.685894| = 0.636247   <- the minimum
 *     (0,3) |1.491825 - 6.685894| = 5.194069
 *     (1,2) |1.221403 - 2.718282| = 1.496879
 *     (2,3) |1.822119 - 6.685894| = 4.863775
 * Row 0's positive cosine is 0.95 >= 0.9: (0,1) is calibrated.  With alpha 1
 * row 0 becomes -ln((6.685894 + 6.049647) / (6.049647 + 6.685894 + 1.491825))
 * = -ln(12.735542 / 14.227367) = 0.110771 instead of SimCLR's
 * -ln(6.685894 / 14.227367) = 0.755167; the other rows keep theirs:
 *     row 1: -ln(2.718282 / (6.049647 + 1.221403 + 2.718282)) = -ln(2.718282 / 9.989332) = 1.301518
 *     row 2: -ln(6.685894 / (6.685894 + 1.221403 + 1.822119)) = -ln(6.685894 / 9.729416) = 0.375154
 *     row 3: -ln(2.718282 / (1.491825 + 2.718282 + 1.822119)) = -ln(2.718282 / 6.032225) = 0.797116
 * Loss (0.110771 + 1.301518 + 0.375154 + 0.797116) / 4 = 0.646140
 * (SimCLR: (0.755167 + 1.301518 + 0.375154 + 0.797116) / 4 = 0.807239).
 * alpha 0.5: row 0 is -ln((6.685894 + 3.024824) / 14.227367) = 0.381937,
 * loss (0.381937 + 1.301518 + 0.375154 + 0.797116) / 4 = 0.713931.
 *
 * Per anchor: D over every j other than i and its positive:
 *     row 0: (0,1) 0.636247, (0,3) 5.194069                 -> (0,1), cos+ 0.95: calibrated
 *     row 1: (1,0) |6.049647 - 2.718282| = 3.331365, (1,2) 1.496879 -> (1,2), cos+ 0.50: not
 *     row 2: (2,1) |1.221403 - 6.685894| = 5.464491, (2,3) 4.863775 -> (2,3), cos+ 0.95: calibrated
 *     row 3: (3,0) |1.491825 - 2.718282| = 1.226457, (3,2) |1.822119 - 2.718282| = 0.896163
 *                                                           -> (3,2), cos+ 0.50: not
 * Row 2 becomes -ln((6.685894 + 1.822119) / 9.729416) = -ln(0.874463) = 0.134145;
 * loss (0.110771 + 1.301518 + 0.134145 + 0.797116) / 4 = 0.585887. */
static const float HAND_COS[4][4] = {
    {1.00f, 0.90f, 0.95f, 0.20f},
    {0.90f, 1.00f, 0.10f, 0.50f},
    {0.95f, 0.10f, 1.00f, 0.30f},
    {0.20f, 0.50f, 0.30f, 1.00f},
};

static gs_tensor *logits_of(gs_context *ctx, const float cos[4][4], float temperature) {
    gs_tensor *l = gs_activation(ctx, GS_DIMS(4, 4));
    cr_assert_not_null(l);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) l->data[i * 4 + j] = cos[i][j] / temperature;
    return l;
}

/* weight must be 1 at the positives, `calibrated` entries at their value, 0 elsewhere. */
static void expect_weights(const float *w, int n_cal, const int (*cal)[2], float alpha, const char *what) {
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            float want = j == (i + 2) % 4 ? 1.0f : 0.0f;
            for (int k = 0; k < n_cal; k++)
                if (cal[k][0] == i && cal[k][1] == j) want = alpha;
            cr_expect_float_eq(w[i * 4 + j], want, 1e-7f, "%s: weight (%d,%d) %g, expected %g", what, i, j,
                               (double)w[i * 4 + j], (double)want);
        }
}

static float hand_loss(gs_false_mode mode, float alpha, gs_false_stats *stats) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_step_begin(&ctx);
    gs_false_settings s = {.mode = mode, .temperature = 0.5f, .alpha = alpha, .threshold = 0.9f};
    gs_tensor *loss = gs_false_loss(&ctx, logits_of(&ctx, HAND_COS, 0.5f), &s, stats);
    cr_assert_not_null(loss, "%s", ctx.error);
    float value = loss->data[0];
    gs_context_free(&ctx);
    return value;
}

Test(methods_false, global_selection_and_calibration_by_hand) {
    float logits[16], w[16];
    for (int i = 0; i < 16; i++) logits[i] = HAND_COS[i / 4][i % 4] / 0.5f;
    gs_false_settings s = {.mode = GS_FALSE_GLOBAL, .temperature = 0.5f, .alpha = 1.0f, .threshold = 0.9f};
    gs_false_stats st;
    cr_assert(gs_false_select(logits, 4, &s, w, &st));
    cr_expect_eq(st.selected, 1);
    cr_expect_eq(st.calibrated, 1);
    expect_weights(w, 1, (const int[][2]){{0, 1}}, 1.0f, "global");
    /* A gate above row 0's 0.95: the pair is found but stays a negative. */
    s.threshold = 0.96f;
    cr_assert(gs_false_select(logits, 4, &s, w, &st));
    cr_expect_eq(st.selected, 1);
    cr_expect_eq(st.calibrated, 0);
    expect_weights(w, 0, NULL, 0.0f, "gate closed");

    cr_expect_float_eq(hand_loss(GS_FALSE_GLOBAL, 1.0f, &st), 0.646140f, 2e-6f);
    cr_expect_float_eq(hand_loss(GS_FALSE_GLOBAL, 0.5f, &st), 0.713931f, 2e-6f);
    /* alpha 0 leaves the pair a full negative: SimCLR's NT-Xent. */
    cr_expect_float_eq(hand_loss(GS_FALSE_GLOBAL, 0.0f, &st), 0.807239f, 2e-6f);
}

Test(methods_false, per_anchor_selection_and_calibration_by_hand) {
    float logits[16], w[16];
    for (int i = 0; i < 16; i++) logits[i] = HAND_COS[i / 4][i % 4] / 0.5f;
    gs_false_settings s = {.mode = GS_FALSE_PER_ANCHOR, .temperature = 0.5f, .alpha = 0.25f, .threshold = 0.9f};
    gs_false_stats st;
    cr_assert(gs_false_select(logits, 4, &s, w, &st));
    cr_expect_eq(st.selected, 4, "one pair per anchor");
    cr_expect_eq(st.calibrated, 2, "rows 0 and 2 pass the gate, rows 1 and 3 (cos+ 0.5) do not");
    expect_weights(w, 2, (const int[][2]){{0, 1}, {2, 3}}, 0.25f, "per anchor");
    cr_expect_float_eq(hand_loss(GS_FALSE_PER_ANCHOR, 1.0f, &st), 0.585887f, 2e-6f);
}

/* A well-separated batch: positives at cos 0.95 (S = 6.685894), negatives
 * at 0.1, 0.2, 0.3 and 0 (S = 1.221403, 1.491825, 1.822119, 1).  Every real
 * candidate is more than 3 from its row's positive:
 *     (0,1) |1.221403 - 6.685894| = 5.464491   (0,3) |1.491825 - 6.685894| = 5.194069
 *     (1,2) |1.822119 - 6.685894| = 4.863775   (2,3) |1 - 6.685894| = 5.685894
 * geossl takes the closest real pair, (1,2).  The released D keeps 3 at the
 * excluded entries and its minimum is that sentinel: every entry of the
 * lower triangle that is not a positive, (1,0), (2,1), (3,0), (3,2), is
 * selected, and all four anchors are confident, so all four move to the
 * positives (released_sentinel). */
Test(methods_false, released_sentinel_selects_the_lower_triangle) {
    static const float cos[4][4] = {
        {1.00f, 0.10f, 0.95f, 0.20f},
        {0.10f, 1.00f, 0.30f, 0.95f},
        {0.95f, 0.30f, 1.00f, 0.00f},
        {0.20f, 0.95f, 0.00f, 1.00f},
    };
    float logits[16], w[16];
    for (int i = 0; i < 16; i++) logits[i] = cos[i / 4][i % 4] / 0.5f;
    gs_false_settings s = {.mode = GS_FALSE_GLOBAL, .temperature = 0.5f, .alpha = 1.0f, .threshold = 0.9f};
    gs_false_stats st;
    cr_assert(gs_false_select(logits, 4, &s, w, &st));
    cr_expect_eq(st.selected, 1);
    expect_weights(w, 1, (const int[][2]){{1, 2}}, 1.0f, "closest real pair");
    s.released_sentinel = true;
    cr_assert(gs_false_select(logits, 4, &s, w, &st));
    cr_expect_eq(st.selected, 4);
    cr_expect_eq(st.calibrated, 4);
    expect_weights(w, 4, (const int[][2]){{1, 0}, {2, 1}, {3, 0}, {3, 2}}, 1.0f, "released sentinel");
    /* The hand matrix's minimum (0.636) is below 3: the option changes nothing there. */
    for (int i = 0; i < 16; i++) logits[i] = HAND_COS[i / 4][i % 4] / 0.5f;
    cr_assert(gs_false_select(logits, 4, &s, w, &st));
    expect_weights(w, 1, (const int[][2]){{0, 1}}, 1.0f, "sentinel unused");
}

/* With no pair calibrated (a threshold above every cosine), FALSE's loss
 * is SimCLR's NT-Xent at the same temperature. */
Test(methods_false, without_calibration_it_is_nt_xent) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_step_begin(&ctx);
    gs_tensor *z = gs_activation(&ctx, GS_DIMS(8, 5));
    gs_tensor_fill_uniform(&ctx, z, 1.0f);
    z->requires_grad = true;
    gs_false_settings s = {.mode = GS_FALSE_PER_ANCHOR, .temperature = 0.5f, .alpha = 1.0f, .threshold = 1.5f};
    gs_tensor *zn = gs_l2_normalize(&ctx, z, 1e-12f);
    gs_tensor *a = gs_false_loss(&ctx, gs_scale(&ctx, gs_matmul(&ctx, zn, zn, false, true), 2.0f), &s, NULL);
    gs_tensor *b = gs_nt_xent(&ctx, z, 0.5f);
    cr_assert(a && b, "%s", ctx.error);
    cr_expect_float_eq(a->data[0], b->data[0], 1e-6f, "FALSE %g, NT-Xent %g", (double)a->data[0], (double)b->data[0]);
    gs_context_free(&ctx);
}

/* ---- 5 steps against PyTorch ---- */

#define STEPS 5

static double config_value(const fixture *fx, const char *key) {
    char name[96];
    snprintf(name, sizeof name, "config/%s", key);
    const fixture_tensor *t = fixture_get(fx, name);
    cr_assert_not_null(t, "fixture has no %s", name);
    return (double)t->data[0];
}

static void run_reference(const char *fixture_name) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path(fixture_name, path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s (tools/reference/false_reference.py writes it)", path);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    char options[128];
    snprintf(options, sizeof options, "false_negative=%s,alpha=%g,head_relu=%d",
             config_value(fx, "per_anchor") != 0 ? "per-anchor" : "global", config_value(fx, "alpha"),
             (int)config_value(fx, "head_relu"));
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = 4, .stem = GS_STEM_SMALL},
                           .image_size = 16, .bands = 3, .batch = (int)config_value(fx, "batch"),
                           .proj_hidden = (int)config_value(fx, "proj_hidden"),
                           .proj_dim = (int)config_value(fx, "proj_dim"),
                           .temperature = (float)config_value(fx, "temperature"), .options = options};
    const gs_method_ops *ops = gs_method_find("false");
    cr_assert_not_null(ops);
    cr_assert_eq(ops->optimizer, GS_OPTIM_LARC, "FALSE trains with LARC as released");
    gs_method m;
    cr_assert_eq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s", ctx.error);
    char msg[256];
    cr_assert(reference_load_params(fx, &m.trainable, msg, sizeof msg), "%s", msg);

    gs_optimizer_config oc = gs_optimizer_defaults(ops->optimizer);
    oc.weight_decay = (float)config_value(fx, "weight_decay");
    oc.momentum = (float)config_value(fx, "momentum");
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    const fixture_tensor *lrs = fixture_get(fx, "lrs"), *want = fixture_get(fx, "losses");
    const fixture_tensor *selected = fixture_get(fx, "selected"), *calibrated = fixture_get(fx, "calibrated");
    cr_assert(lrs && want && selected && calibrated && lrs->numel == STEPS && want->numel == STEPS);
    for (int step = 0; step < STEPS; step++) {
        gs_step_begin(&ctx);
        gs_tensor *views[2];
        for (int v = 0; v < 2; v++) {
            char name[64];
            snprintf(name, sizeof name, "view/%d/%d", step, v);
            views[v] = reference_tensor(&ctx, fx, name);
        }
        gs_tensor *loss = gs_method_step(&ctx, &m, &opt, views, 2, step, lrs->data[step]);
        cr_assert_not_null(loss, "step %d: %s", step, ctx.error);
        double got = loss->data[0], expected = want->data[step];
        double rel = fabs(got - expected) / fabs(expected);
        gs_false_stats st = gs_false_last_stats(&m);
        cr_expect_leq(rel, 1e-4, "%s step %d: loss %.7f, PyTorch %.7f (relative error %.2g)", fixture_name, step,
                      got, expected, rel);
        cr_expect_eq(st.selected, (int)selected->data[step], "step %d: %d pairs selected, PyTorch %d", step,
                     st.selected, (int)selected->data[step]);
        cr_expect_eq(st.calibrated, (int)calibrated->data[step], "step %d: %d pairs calibrated, PyTorch %d", step,
                     st.calibrated, (int)calibrated->data[step]);
        fprintf(stderr, "%s step %d: %.7f vs %.7f (%.1e), selected %d, calibrated %d\n", fixture_name, step, got,
                expected, rel, st.selected, st.calibrated);
        if (step == 0) {
            /* LARC leaves the gradients as backward made them. */
            char name[256] = "";
            double ratio = reference_worst_grad(fx, &m.trainable, 1e-3, name, sizeof name);
            cr_expect_leq(ratio, 1.0, "step 0: gradient of %s off by %.3g x the 1e-3 tolerance", name, ratio);
            fprintf(stderr, "%s step 0: worst gradient %s at %.2g of the tolerance\n", fixture_name, name, ratio);
        }
    }
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
    fixture_free(fx);
}

/* As released: one pair per batch, alpha 1, linear-linear head. */
Test(methods_false, global_matches_pytorch) { run_reference("false_global.gsfx"); }
/* The other choices: one pair per anchor, alpha 0.5, SimCLR's ReLU head. */
Test(methods_false, per_anchor_matches_pytorch) { run_reference("false_per_anchor.gsfx"); }

/* ---- options ---- */

Test(methods_false, options_are_declared_and_checked) {
    const gs_method_ops *ops = gs_method_find("false");
    cr_assert_not_null(ops);
    gs_error err = {0};
    cr_expect_eq(gs_method_options_check(ops, "false_negative=per-anchor,alpha=0.5,head_relu=1,threshold=0.8,"
                                              "released_sentinel=1",
                                         &err),
                 GS_OK, "%s", err.message);
    cr_expect_eq(gs_method_options_check(ops, "beta=1", &err), GS_ERR_ARGUMENT);
    const char *bad[] = {"false_negative=local", "alpha=1.5", "head_relu=2", "threshold=abc"};
    for (int i = 0; i < 4; i++) {
        gs_context ctx;
        gradcheck_context(&ctx, 1);
        gs_method m;
        gs_method_config mc = {.backbone = {.name = "resnet18", .width = 4, .stem = GS_STEM_SMALL},
                               .image_size = 16, .bands = 3, .batch = 4, .options = bad[i]};
        cr_expect_eq(gs_method_init(&ctx, &m, ops, &mc), GS_ERR_ARGUMENT, "%s accepted", bad[i]);
        gs_method_free(&m);
        gs_context_free(&ctx);
    }
    /* Defaults: T 0.5, a 128-d head of two linear layers, decayed biases. */
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = 4, .stem = GS_STEM_SMALL}, .image_size = 16,
                           .bands = 3, .batch = 4};
    cr_assert_eq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s", ctx.error);
    cr_expect_float_eq(m.config.temperature, 0.5f, 1e-7f);
    cr_expect_eq(m.heads.count, 4);
    gs_tensor *out = gs_param_find(&m.heads, "projector.2.weight");
    cr_assert_not_null(out);
    cr_expect_eq(out->shape[0], 128);
    for (int i = 0; i < m.heads.count; i++)
        cr_expect_eq(m.heads.items[i].kind, GS_PARAM_WEIGHT, "%s", m.heads.items[i].tensor->name);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* ---- kill and resume ---- */

typedef struct run_dir {
    char dir[256], spec[320];
    gs_dataset ds;
} run_dir;

static gs_pretrain_result pretrain(run_dir *r, const char *options, int epochs, const char *ckpt, bool resume,
                                   int64_t stop_after) {
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(r->spec, NULL, &r->ds, &err), GS_OK, "%s", err.message);
    gs_context ctx;
    gs_context_options co = {.n_threads = 2, .seed = 4};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {.method = "false", .backbone = {.name = "resnet18", .width = 16}, .epochs = epochs,
                             .batch = 16, .weight_decay = -1, .optimizer = -1, .seed = 9, .workers = 2,
                             .checkpoint = ckpt, .resume = resume, .stop_after = stop_after, .stats_dir = r->dir,
                             .head_hidden = 64, .head_dim = 32, .method_options = options};
    gs_pretrain_result out;
    cr_assert_eq(gs_pretrain(&ctx, &r->ds, &pc, &out, &err), GS_OK, "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&r->ds);
    return out;
}

/* The encoder, the head and the optimizer state (LARC's momentum buffers)
 * in a checkpoint, each hashed. */
static void checkpoint_hashes(const char *ckpt, const char *options, uint64_t hashes[3]) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = 16}, .image_size = 64, .bands = 3, .batch = 16,
                           .proj_hidden = 64, .proj_dim = 32, .options = options};
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("false"), &mc), GS_OK, "%s", ctx.error);
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_LARC);
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    gs_checkpoint_group groups[3] = {{"model", m.encoder.params}, {"heads", &m.heads}, {"optimizer", &opt.state}};
    cr_assert_eq(gs_checkpoint_load(&ctx, ckpt, groups, 3, NULL, NULL), GS_OK, "%s", ctx.error);
    for (int g = 0; g < 3; g++) hashes[g] = gs_params_hash(groups[g].params, 0);
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

static void resume_matches(const char *options) {
    run_dir r;
    test_temp_dir(r.dir, sizeof r.dir);
    char data[300];
    snprintf(data, sizeof data, "%s/eurosat", r.dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 8};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(r.spec, sizeof r.spec, "eurosat-rgb:%s", data);
    char straight[400], split[400];
    snprintf(straight, sizeof straight, "%s/straight.h5", r.dir);
    snprintf(split, sizeof split, "%s/split.h5", r.dir);
    gs_pretrain_result a = pretrain(&r, options, 2, straight, false, 0);
    cr_expect(isfinite(a.final_loss));
    /* The same run killed after its first epoch (80 images, batch 16: 5 steps)... */
    gs_pretrain_result k = pretrain(&r, options, 2, split, false, 5);
    cr_expect_eq(k.steps, 5);
    /* ...and resumed from its checkpoint. */
    gs_pretrain_result b = pretrain(&r, options, 2, split, true, 0);
    cr_expect_eq(b.start_step, a.steps / 2, "resumed at step %lld", (long long)b.start_step);
    cr_expect_eq(b.steps, a.steps);
    cr_expect(b.final_loss == a.final_loss, "final loss %.7f after resume, %.7f straight", (double)b.final_loss,
              (double)a.final_loss);
    const char *groups[] = {"encoder", "head", "optimizer state"};
    uint64_t want[3], got[3];
    checkpoint_hashes(straight, options, want);
    checkpoint_hashes(split, options, got);
    for (int g = 0; g < 3; g++) cr_expect_eq(got[g], want[g], "'%s': the resumed %s differs", options, groups[g]);
    test_remove_tree(r.dir);
}

/* LARC's momentum buffers travel in the checkpoint; the selection has no
 * state of its own. */
Test(methods_false, resumes_bit_identically) { resume_matches(""); }
