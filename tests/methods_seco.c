/* SeCo (methods/seco.c): its first 5 training steps against the PyTorch
 * reference written from the spec (tools/reference/seco_reference.py, views
 * and date draws from the fixture); the date sampling; the RGB band choice;
 * the options; and a pretraining run on seasonal data killed after one epoch
 * and resumed ending bit-identical to an uninterrupted one (weights, heads,
 * key network, queues, step and RNG). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "fixture.h"
#include "gradcheck.h"
#include "io/checkpoint.h"
#include "method.h"
#include "ops/ops.h"
#include "pretrain.h"
#include "reference_model.h"
#include "seco.h"
#include "synthetic.h"
#include "test_paths.h"
#include "train/smoke.h"

#define STEPS 5

static const gs_backbone_config RESNET = {.name = "resnet18", .width = 4, .stem = GS_STEM_SMALL};

static double config_value(const fixture *fx, const char *key) {
    char name[96];
    snprintf(name, sizeof name, "config/%s", key);
    const fixture_tensor *t = fixture_get(fx, name);
    cr_assert_not_null(t, "fixture lacks %s", name);
    return (double)t->data[0];
}

Test(methods_seco, matches_pytorch) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path("seco.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s (tools/reference/seco_reference.py writes it)", path);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method_config mc = {.backbone = RESNET, .image_size = (int)config_value(fx, "size"), .bands = 3,
                           .batch = (int)config_value(fx, "batch"),
                           .proj_hidden = (int)config_value(fx, "proj_hidden"),
                           .proj_dim = (int)config_value(fx, "proj_dim"),
                           .temperature = (float)config_value(fx, "temperature"),
                           .momentum = (float)config_value(fx, "momentum"),
                           .queue_size = (int)config_value(fx, "queue_size")};
    gs_method m;
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("seco"), &mc), GS_OK, "%s", ctx.error);
    char msg[256];
    cr_assert(reference_load_params(fx, &m.trainable, msg, sizeof msg), "%s", msg);
    /* The key network starts as a copy of the query one; the queues from the fixture. */
    for (int i = 0; i < m.state.count; i++) {
        gs_tensor *t = m.state.items[i].tensor;
        char key[256];
        snprintf(key, sizeof key, "state/%s", t->name);
        if (!fixture_get(fx, key)) snprintf(key, sizeof key, "param/%s", t->name);
        cr_assert(reference_load_tensor(fx, key, t, msg, sizeof msg), "%s", msg);
    }
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_SGD);
    oc.weight_decay = (float)config_value(fx, "weight_decay");
    oc.momentum = 0.9f;
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    const fixture_tensor *lrs = fixture_get(fx, "lrs"), *want = fixture_get(fx, "losses");
    cr_assert(lrs && want && lrs->numel == STEPS && want->numel == STEPS);
    int64_t n = mc.batch;
    for (int step = 0; step < STEPS; step++) {
        gs_step_begin(&ctx);
        gs_tensor *views[4];
        for (int v = 0; v < 4; v++) {
            char name[64];
            snprintf(name, sizeof name, "view/%d/%d", step, v);
            views[v] = reference_tensor(&ctx, fx, name);
            cr_assert_eq(views[v]->ndim, 5, "views are (N, dates, C, H, W)");
        }
        char name[64];
        snprintf(name, sizeof name, "dates/%d", step);
        const fixture_tensor *d = fixture_get(fx, name);
        cr_assert(d && d->numel == n * 3);
        int32_t dates[64 * 3];
        for (int64_t i = 0; i < n * 3; i++) dates[i] = (int32_t)d->data[i];
        cr_assert_eq(gs_seco_set_dates(&ctx, &m, dates, n), GS_OK);
        gs_tensor *loss = gs_method_step(&ctx, &m, &opt, views, 4, step, lrs->data[step]);
        cr_assert_not_null(loss, "step %d: %s", step, ctx.error);
        double got = loss->data[0], expected = want->data[step], rel = fabs(got - expected) / fabs(expected);
        cr_expect_leq(rel, 1e-4, "seco step %d: loss %.7f, PyTorch %.7f (relative error %.2g)", step, got, expected,
                      rel);
        fprintf(stderr, "seco.gsfx step %d: %.7f vs %.7f (%.1e)\n", step, got, expected, rel);
        cr_expect(m.embedding_std > 0.0f && m.embedding_std < 1.0f, "collapse monitor %g", (double)m.embedding_std);
    }
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
    fixture_free(fx);
}

/* A method on 8 x 8 views of `bands` bands, or an error. */
static gs_status make_method(gs_context *ctx, gs_method *m, int bands, const char *options) {
    gs_method_config mc = {.backbone = RESNET, .image_size = 8, .bands = bands, .batch = 4, .proj_hidden = 8,
                           .proj_dim = 8, .queue_size = 8, .options = options};
    return gs_method_init(ctx, m, gs_method_find("seco"), &mc);
}

static void random_views(gs_context *ctx, gs_tensor **views, int64_t n, int dates, int bands, uint64_t seed) {
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    for (int v = 0; v < 4; v++) {
        views[v] = gs_activation(ctx, GS_DIMS(n, dates, bands, 8, 8));
        for (int64_t i = 0; i < views[v]->numel; i++) views[v]->data[i] = gs_rng_normal(&rng);
    }
}

/* The draws of `steps` loss calls on data of `dates` dates, checked row by row. */
static void check_draws(const char *options, int dates, bool distinct, int *coincide) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    cr_assert_eq(make_method(&ctx, &m, 3, options), GS_OK, "%s", ctx.error);
    *coincide = 0;
    for (int step = 0; step < 25; step++) {
        gs_step_begin(&ctx);
        gs_tensor *views[4];
        random_views(&ctx, views, 4, dates, 3, (uint64_t)step);
        cr_assert_not_null(m.ops->loss(&ctx, &m, views, 4, step), "%s", ctx.error);
        int64_t n;
        const int32_t *t = gs_seco_dates(&m, &n);
        cr_assert_eq(n, 4);
        for (int64_t i = 0; i < n; i++, t += 3) {
            for (int j = 0; j < 3; j++) cr_assert(t[j] >= 0 && t[j] < dates, "date %d of %d", t[j], dates);
            bool same = t[0] == t[1] || t[0] == t[2] || t[1] == t[2];
            *coincide += same;
            if (distinct && dates >= 3) cr_expect(!same, "%d dates: drew %d, %d, %d", dates, t[0], t[1], t[2]);
            if (distinct && dates == 2)
                cr_expect(t[1] == t[2] && t[1] != t[0], "2 dates: drew %d, %d, %d", t[0], t[1], t[2]);
        }
    }
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* Without replacement by default (the paper); with replacement as the
 * authors' code on request, where 100 draws of 3 among 5 dates coincide
 * somewhere with probability 1 - (12/25)^100. */
Test(methods_seco, date_sampling) {
    int coincide;
    check_draws(NULL, 5, true, &coincide);
    cr_expect_eq(coincide, 0);
    check_draws("date_sampling=distinct", 3, true, &coincide);
    check_draws("", 2, true, &coincide);
    check_draws("date_sampling=replacement", 5, false, &coincide);
    cr_expect_gt(coincide, 20, "with replacement, %d of 100 draws repeat a date", coincide);
}

/* bands=rgb (the default) on 12-band data: a 3-band encoder fed bands
 * 3, 2, 1 (B4, B3, B2), the same loss as a 3-band method given those bands. */
Test(methods_seco, rgb_from_sentinel2_bands) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method full, rgb;
    cr_assert_eq(make_method(&ctx, &full, 12, NULL), GS_OK, "%s", ctx.error);
    cr_assert_eq(make_method(&ctx, &rgb, 3, NULL), GS_OK, "%s", ctx.error);
    cr_expect(strstr(full.encoder.arch, "bands=3"), "arch %s", full.encoder.arch);
    cr_assert_eq(gs_params_copy(&ctx, &full.trainable, &rgb.trainable), GS_OK, "%s", ctx.error);
    cr_assert_eq(gs_params_copy(&ctx, &full.state, &rgb.state), GS_OK, "%s", ctx.error);

    gs_step_begin(&ctx);
    gs_tensor *views12[4], *views3[4];
    random_views(&ctx, views12, 4, 3, 12, 5);
    for (int v = 0; v < 4; v++) {
        views3[v] = gs_activation(&ctx, GS_DIMS(4, 3, 3, 8, 8));
        for (int64_t i = 0; i < 4 * 3; i++)
            for (int b = 0; b < 3; b++)
                memcpy(views3[v]->data + (i * 3 + b) * 64, views12[v]->data + (i * 12 + (3 - b)) * 64,
                       64 * sizeof(float));
    }
    const int32_t dates[12] = {0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 2, 1};
    cr_assert_eq(gs_seco_set_dates(&ctx, &full, dates, 4), GS_OK);
    cr_assert_eq(gs_seco_set_dates(&ctx, &rgb, dates, 4), GS_OK);
    gs_tensor *a = full.ops->loss(&ctx, &full, views12, 4, 0), *b = rgb.ops->loss(&ctx, &rgb, views3, 4, 0);
    cr_assert(a && b, "%s", ctx.error);
    cr_expect_eq(a->data[0], b->data[0], "12 bands: %.7f, their RGB: %.7f", (double)a->data[0], (double)b->data[0]);
    gs_method_free(&full);
    gs_method_free(&rgb);

    /* bands=all keeps every band; 4 to 11 bands need rgb_bands. */
    gs_method all;
    cr_assert_eq(make_method(&ctx, &all, 12, "bands=all"), GS_OK, "%s", ctx.error);
    cr_expect(strstr(all.encoder.arch, "bands=12"), "arch %s", all.encoder.arch);
    gs_method_free(&all);
    gs_context_free(&ctx);

    gradcheck_context(&ctx, 1);
    gs_method m;
    cr_expect_eq(make_method(&ctx, &m, 4, NULL), GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "rgb_bands"), "%s", ctx.error);
    gs_method_free(&m);
    gs_context_free(&ctx);
    gradcheck_context(&ctx, 1);
    cr_expect_eq(make_method(&ctx, &m, 4, "rgb_bands=2:1:0"), GS_OK, "%s", ctx.error);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

Test(methods_seco, refuses_bad_options) {
    const char *bad[] = {"date_sampling=sometimes", "bands=nir", "rgb_bands=3:2", "rgb_bands=3:2:12", "decay=none",
                         "queue=5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gs_context ctx;
        gradcheck_context(&ctx, 1);
        gs_method m;
        cr_expect_eq(make_method(&ctx, &m, 12, bad[i]), GS_ERR_ARGUMENT, "%s accepted", bad[i]);
        gs_method_free(&m);
        gs_context_free(&ctx);
    }
}

/* ---- kill and resume ------------------------------------------------------ */

typedef struct run_dir {
    char dir[256], spec[320];
} run_dir;

static gs_pretrain_result pretrain(run_dir *r, const char *ckpt, bool resume, int64_t stop_after) {
    gs_error err = {0};
    gs_dataset ds;
    cr_assert_eq(gs_dataset_open(r->spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.dates, 4);
    gs_context ctx;
    gs_context_options co = {.n_threads = 2, .seed = 4};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {.method = "seco", .backbone = {.name = "resnet18", .width = 8}, .epochs = 2,
                             .batch = 4, .size = 24, .weight_decay = -1, .optimizer = -1, .seed = 9, .workers = 2,
                             .checkpoint = ckpt, .resume = resume, .stop_after = stop_after, .stats_dir = r->dir,
                             .head_hidden = 32, .head_dim = 16};
    gs_pretrain_result out;
    cr_assert_eq(gs_pretrain(&ctx, &ds, &pc, &out, &err), GS_OK, "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
    return out;
}

typedef struct saved {
    uint64_t encoder, heads, state;
    int64_t step;
    gs_rng rng;
} saved;

/* Everything a checkpoint holds but the optimizer, hashed. */
static saved read_checkpoint(const char *ckpt) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = 8}, .image_size = 24, .bands = 12,
                           .batch = 4, .proj_hidden = 32, .proj_dim = 16, .dataset_size = 12};
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("seco"), &mc), GS_OK, "%s", ctx.error);
    gs_checkpoint_group groups[3] = {{"model", m.encoder.params}, {"heads", &m.heads}, {"method_state", &m.state}};
    gs_checkpoint_info info;
    gs_checkpoint_load_options lo = {.architecture = m.encoder.arch};
    cr_assert_eq(gs_checkpoint_load(&ctx, ckpt, groups, 3, &info, &lo), GS_OK, "%s", ctx.error);
    saved s = {.encoder = gs_params_hash(m.encoder.params, 0), .heads = gs_params_hash(&m.heads, 0),
               .state = gs_params_hash(&m.state, 0), .step = info.step, .rng = info.rng};
    gs_checkpoint_info_free(&info);
    gs_method_free(&m);
    gs_context_free(&ctx);
    return s;
}

/* 12 locations of 4 dates, batch 4: 3 steps an epoch; the queue (half an
 * epoch, capped at a whole batch) wraps every step. */
Test(methods_seco, resumes_bit_identically) {
    run_dir r;
    test_temp_dir(r.dir, sizeof r.dir);
    char data[300];
    snprintf(data, sizeof data, "%s/seasonal", r.dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 12, .size = 24, .dates = 4};
    cr_assert_eq(gs_synth_write("seco", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(r.spec, sizeof r.spec, "seco:%s", data);
    char straight[400], split[400];
    snprintf(straight, sizeof straight, "%s/straight.h5", r.dir);
    snprintf(split, sizeof split, "%s/split.h5", r.dir);

    gs_pretrain_result a = pretrain(&r, straight, false, 0);
    cr_expect_eq(a.steps, 6);
    cr_expect(isfinite(a.final_loss));
    cr_expect(a.embedding_std > 0.0f, "collapse monitor %g", (double)a.embedding_std);
    gs_pretrain_result k = pretrain(&r, split, false, 3); /* killed after its first epoch */
    cr_expect_eq(k.steps, 3);
    saved mid = read_checkpoint(split);
    cr_expect_eq(mid.step, 3);
    gs_pretrain_result b = pretrain(&r, split, true, 0);
    cr_expect_eq(b.start_step, 3, "resumed at step %lld", (long long)b.start_step);
    cr_expect_eq(b.steps, a.steps);
    cr_expect(b.final_loss == a.final_loss, "final loss %.7f resumed, %.7f straight", (double)b.final_loss,
              (double)a.final_loss);

    saved x = read_checkpoint(straight), y = read_checkpoint(split);
    cr_expect_eq(y.step, x.step);
    cr_expect_eq(y.encoder, x.encoder, "resumed encoder differs");
    cr_expect_eq(y.heads, x.heads, "resumed heads differ");
    cr_expect_eq(y.state, x.state, "resumed key network or queues differ");
    cr_expect(!memcmp(&y.rng, &x.rng, sizeof x.rng), "resumed RNG differs");
    cr_expect_neq(mid.state, x.state, "the queues moved in the second epoch");
    test_remove_tree(r.dir);
}

/* The released step schedule (spec §5): 0.03 until 60% of the steps
 * (epoch 120 of 200), x 0.1 until 80% (epoch 160), x 0.01 after; no warm-up. */
Test(methods_seco, learning_rate_follows_the_released_step_schedule) {
    const gs_method_ops *ops = gs_method_find("seco");
    cr_assert(ops && ops->lr_at && ops->schedule);
    const int64_t total = 200 * 7; /* 200 epochs of 7 steps */
    cr_expect_float_eq(ops->lr_at(0.03, 0, total), 0.03, 1e-12, "no warm-up");
    cr_expect_float_eq(ops->lr_at(0.03, 120 * 7 - 1, total), 0.03, 1e-12, "the last step of epoch 119");
    cr_expect_float_eq(ops->lr_at(0.03, 120 * 7, total), 0.003, 1e-12, "epoch 120");
    cr_expect_float_eq(ops->lr_at(0.03, 160 * 7 - 1, total), 0.003, 1e-12);
    cr_expect_float_eq(ops->lr_at(0.03, 160 * 7, total), 0.0003, 1e-12, "epoch 160");
    cr_expect_float_eq(ops->lr_at(0.03, total - 1, total), 0.0003, 1e-12);
}
