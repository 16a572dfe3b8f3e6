/* SatMAE: the first 5 training steps against the PyTorch model of
 * tools/reference/satmae_reference.py (written from the spec: the same
 * weights, views and masks, AdamW at the fixture's learning rates; every
 * loss within 1e-4 relative), its fixed position table, the masks it draws,
 * the tokenization it exports, and a pretraining run killed after one epoch
 * and resumed ending with the same weights as an uninterrupted one. */
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
#include "satmae.h"
#include "synthetic.h"
#include "test_paths.h"
#include "train/smoke.h"

#define STEPS 5

static double config_value(const fixture *fx, const char *key) {
    char name[96];
    snprintf(name, sizeof name, "config/%s", key);
    const fixture_tensor *t = fixture_get(fx, name);
    cr_assert_not_null(t, "fixture lacks %s", name);
    return (double)t->data[0];
}

/* The method configured as the fixture says. */
static void init_from_fixture(gs_context *ctx, const fixture *fx, gs_method *m, char *options, size_t size) {
    snprintf(options, size, "variant=%s,consistent_mask=%d,norm_pix_loss=%d,decoder_width=%d,decoder_depth=%d,"
             "decoder_heads=%d,mask_ratio=%g,pairing=%s",
             config_value(fx, "group") ? "group" : config_value(fx, "temporal") ? "temporal" : "rgb", (int)config_value(fx, "consistent_mask"),
             (int)config_value(fx, "norm_pix_loss"), (int)config_value(fx, "decoder_width"),
             (int)config_value(fx, "decoder_depth"), (int)config_value(fx, "decoder_heads"),
             config_value(fx, "mask_ratio"), config_value(fx, "authors_pairing") ? "authors" : "intended");
    gs_method_config mc = {
        .backbone = {.name = "vit-tiny", .width = (int)config_value(fx, "width"), .patch = (int)config_value(fx, "patch"),
                     .pos = GS_POS_LEARNED},
        .image_size = (int)config_value(fx, "size"), .bands = (int)config_value(fx, "bands"),
        .batch = (int)config_value(fx, "batch"), .total_steps = STEPS, .options = options};
    const gs_method_ops *ops = gs_method_find("satmae");
    cr_assert_not_null(ops, "satmae is not registered");
    cr_assert_eq(gs_method_init(ctx, m, ops, &mc), GS_OK, "%s", ctx->error);
}

static void run_reference(const char *fixture_name) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path(fixture_name, path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s (tools/reference/satmae_reference.py writes it)", path);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    char options[256];
    init_from_fixture(&ctx, fx, &m, options, sizeof options);

    /* Every trained weight comes from the fixture.  The encoder's own patch
     * embedding and position table are not trained by the group variant
     * (derived from the group embeddings); the fixed table of rgb (and of
     * temporal: one frame at time 0) must equal the one PyTorch built. */
    for (int i = 0; i < m.trainable.count; i++) {
        gs_tensor *t = m.trainable.items[i].tensor;
        char key[256], msg[256];
        snprintf(key, sizeof key, "param/%s", t->name);
        const fixture_tensor *want = fixture_get(fx, key);
        if (!want) {
            cr_assert(!t->requires_grad, "%s: trained parameter %s is not in the fixture", fixture_name, t->name);
            continue;
        }
        if (!strcmp(t->name, "pos_embed")) {
            cr_assert_eq(want->numel, t->numel);
            double worst = 0;
            for (int64_t j = 0; j < t->numel; j++) worst = fmax(worst, fabs((double)t->data[j] - want->data[j]));
            cr_expect_leq(worst, 1e-6, "sin-cos position table differs from PyTorch's by %g", worst);
            cr_expect(!t->requires_grad, "the sin-cos table must stay fixed");
        }
        cr_assert(reference_load_tensor(fx, key, t, msg, sizeof msg), "%s", msg);
    }

    gs_optimizer_config oc = gs_optimizer_defaults(m.ops->optimizer);
    oc.weight_decay = (float)config_value(fx, "weight_decay");
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    const fixture_tensor *lrs = fixture_get(fx, "lrs"), *want = fixture_get(fx, "losses");
    cr_assert(lrs && want && lrs->numel == STEPS && want->numel == STEPS);
    int64_t n = (int64_t)config_value(fx, "batch"), k = gs_satmae_kept(&m);
    int32_t *keep = malloc((size_t)(n * k) * sizeof *keep);
    for (int step = 0; step < STEPS; step++) {
        char name[64];
        snprintf(name, sizeof name, "keep/%d", step);
        const fixture_tensor *kt = fixture_get(fx, name);
        cr_assert(kt && kt->numel == n * k, "%s: %lld kept tokens per sample in C", name, (long long)k);
        for (int64_t j = 0; j < n * k; j++) keep[j] = (int32_t)kt->data[j];
        gs_step_begin(&ctx);
        snprintf(name, sizeof name, "view/%d/0", step);
        gs_tensor *view = reference_tensor(&ctx, fx, name);
        cr_assert_eq(gs_satmae_use_mask(&ctx, &m, keep, n, k), GS_OK, "%s", ctx.error);
        snprintf(name, sizeof name, "dates/%d", step);
        const fixture_tensor *dates = fixture_get(fx, name);
        if (dates) {
            int32_t ymh[64 * 9];
            cr_assert(dates->numel == n * 9 && dates->numel <= 64 * 9);
            for (int64_t j = 0; j < dates->numel; j++) ymh[j] = (int32_t)dates->data[j];
            cr_assert_eq(gs_satmae_use_dates(&ctx, &m, ymh, n), GS_OK, "%s", ctx.error);
        }
        gs_tensor *loss = gs_method_step(&ctx, &m, &opt, &view, 1, step, lrs->data[step]);
        cr_assert_not_null(loss, "%s step %d: %s", fixture_name, step, ctx.error);
        double got = loss->data[0], expected = want->data[step], rel = fabs(got - expected) / fabs(expected);
        cr_expect_leq(rel, 1e-4, "%s step %d: loss %.7f, PyTorch %.7f (relative error %.2g)", fixture_name, step, got,
                      expected, rel);
        fprintf(stderr, "%s step %d: %.7f vs %.7f (%.1e)\n", fixture_name, step, got, expected, rel);
    }
    cr_expect_float_eq(opt.config.beta2, 0.95f, 0.0f, "SatMAE's AdamW betas are (0.9, 0.95)");
    free(keep);
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
    fixture_free(fx);
}

Test(methods_satmae, group_matches_pytorch) { run_reference("satmae_group.gsfx"); }
Test(methods_satmae, group_consistent_norm_pix_matches_pytorch) { run_reference("satmae_group_consistent.gsfx"); }
Test(methods_satmae, rgb_norm_pix_matches_pytorch) { run_reference("satmae_rgb.gsfx"); }
/* The authors' code pairs heads and bands differently (spec 3.2); it is
 * available as pairing=authors and checked against the spec's formula. */
Test(methods_satmae, group_authors_pairing_matches_pytorch) { run_reference("satmae_group_authors.gsfx"); }
/* 3 dates per sample, each with its year, month and hour codes. */
Test(methods_satmae, temporal_norm_pix_matches_pytorch) { run_reference("satmae_temporal.gsfx"); }

/* A group method on 13 bands (the default groups) with a small decoder. */
static void init_group(gs_context *ctx, gs_method *m, const char *options) {
    gs_method_config mc = {.backbone = {.name = "vit-tiny", .width = 48, .patch = 4, .pos = GS_POS_LEARNED},
                           .image_size = 16, .bands = 13, .batch = 4, .total_steps = 1, .options = options};
    cr_assert_eq(gs_method_init(ctx, m, gs_method_find("satmae"), &mc), GS_OK, "%s", ctx->error);
}

static gs_tensor *random_view(gs_context *ctx, int64_t n, int64_t bands, int64_t size) {
    gs_tensor *x = gs_activation(ctx, GS_DIMS(n, bands, size, size));
    for (int64_t i = 0; i < x->numel; i++) x->data[i] = gs_rng_normal(&ctx->rng);
    return x;
}

/* Drawn masks keep int(T / 4) distinct tokens per sample, differ between
 * samples, and with consistent_mask=1 keep the same locations in every
 * group, location by location. */
static void check_drawn_masks(bool consistent) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_method m;
    init_group(&ctx, &m, consistent ? "decoder_width=16,decoder_depth=1,decoder_heads=2,consistent_mask=1"
                                    : "decoder_width=16,decoder_depth=1,decoder_heads=2");
    int64_t n = 4, t = gs_satmae_tokens(&m), k = gs_satmae_kept(&m), l = t / 3;
    cr_assert_eq(t, 3 * 16);
    cr_assert_eq(k, consistent ? 3 * 4 : 12);
    gs_step_begin(&ctx);
    gs_tensor *x = random_view(&ctx, n, 13, 16);
    cr_assert_not_null(m.ops->loss(&ctx, &m, &x, 1, 0), "%s", ctx.error);
    const int32_t *keep = gs_satmae_kept_tokens(&m);
    for (int64_t i = 0; i < n; i++) {
        char seen[48] = {0};
        for (int64_t j = 0; j < k; j++) {
            int32_t v = keep[i * k + j];
            cr_assert(v >= 0 && v < t && !seen[v], "sample %lld: token %d out of range or repeated", (long long)i, v);
            seen[v] = 1;
            if (consistent)
                cr_expect_eq(v, (j % 3) * l + keep[i * k + j - j % 3] % l, "sample %lld: kept token %lld is %d",
                             (long long)i, (long long)j, v);
        }
    }
    cr_expect(memcmp(keep, keep + k, (size_t)k * sizeof *keep), "two samples drew the same mask");
    gs_method_free(&m);
    gs_context_free(&ctx);
}

Test(methods_satmae, independent_masks_are_valid) { check_drawn_masks(false); }
Test(methods_satmae, consistent_masks_share_locations_across_groups) { check_drawn_masks(true); }

/* The encoder exported for evaluation (group variant) computes, per
 * location, the mean of the G group embeddings: its patch tokens minus
 * those of a zero image equal (1/G) sum_g conv_g(x[:, g's bands]). */
Test(methods_satmae, exported_encoder_averages_the_group_embeddings) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    gs_method m;
    init_group(&ctx, &m, "decoder_width=16,decoder_depth=1,decoder_heads=2");
    cr_assert_eq(m.ops->after_step(&ctx, &m, 0), GS_OK);
    static const int groups[3][4] = {{1, 2, 3, 7}, {4, 5, 6, 8}, {11, 12}};
    static const int sizes[3] = {4, 4, 2};
    gs_step_begin(&ctx);
    bool previous = gs_set_grad_enabled(&ctx, false);
    gs_tensor *x = random_view(&ctx, 2, 13, 16);
    gs_tensor *zero = gs_tensor_zeros(&ctx, &ctx.activations, GS_DIMS(2, 13, 16, 16));
    gs_tensor *got = gs_sub(&ctx, gs_vit_patch_tokens(&ctx, &m.encoder.vit, x),
                            gs_vit_patch_tokens(&ctx, &m.encoder.vit, zero)); /* (2, 16, 48) */
    cr_assert_not_null(got, "%s", ctx.error);
    double worst = 0, scale = 0;
    for (int g = 0; g < 3; g++) {
        char name[64];
        snprintf(name, sizeof name, "patch_embed.%d.proj.weight", g);
        gs_tensor *w = gs_param_find(&m.heads, name);
        cr_assert_not_null(w, "no %s among the heads", name);
        cr_assert_eq(w->shape[1], sizes[g]);
        for (int64_t i = 0; i < 2; i++)
            for (int64_t l = 0; l < 16; l++)
                for (int64_t o = 0; o < 48; o++) {
                    double sum = 0;
                    for (int j = 0; j < sizes[g]; j++)
                        for (int64_t pr = 0; pr < 4; pr++)
                            for (int64_t pc = 0; pc < 4; pc++)
                                sum += (double)w->data[((o * sizes[g] + j) * 4 + pr) * 4 + pc] *
                                       x->data[((i * 13 + groups[g][j]) * 16 + l / 4 * 4 + pr) * 16 + l % 4 * 4 + pc];
                    got->data[(i * 16 + l) * 48 + o] -= (float)(sum / 3.0);
                    scale = fmax(scale, fabs(sum / 3.0));
                }
    }
    for (int64_t i = 0; i < got->numel; i++) worst = fmax(worst, fabs(got->data[i]));
    cr_expect_leq(worst, 1e-5 * scale, "exported tokens differ from the group mean by %g (scale %g)", worst, scale);
    gs_set_grad_enabled(&ctx, previous);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* Kill and resume: a run stopped after its first epoch and resumed from the
 * checkpoint ends with the same encoder, decoder and group embeddings, bit
 * for bit, as an uninterrupted one (masks come from the checkpointed RNG). */
typedef struct run_dir {
    char dir[256], spec[320];
} run_dir;

#define RESUME_OPTIONS "decoder_width=32,decoder_depth=1,decoder_heads=2"

static gs_pretrain_result pretrain(const run_dir *r, const char *ckpt, bool resume, int64_t stop_after) {
    gs_error err = {0};
    gs_dataset ds;
    cr_assert_eq(gs_dataset_open(r->spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    gs_context ctx;
    gs_context_options co = {.n_threads = 2, .seed = 4};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {.method = "satmae", .backbone = {.name = "vit-tiny", .width = 48, .patch = 8},
                             .epochs = 2, .batch = 8, .size = 32, .weight_decay = -1, .optimizer = -1, .seed = 9,
                             .workers = 2, .checkpoint = ckpt, .resume = resume, .stop_after = stop_after,
                             .stats_dir = r->dir, .method_options = RESUME_OPTIONS};
    gs_pretrain_result out;
    cr_assert_eq(gs_pretrain(&ctx, &ds, &pc, &out, &err), GS_OK, "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
    return out;
}

/* Encoder and heads of a checkpoint, hashed. */
static uint64_t weights_hash(const char *ckpt) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "vit-tiny", .width = 48, .patch = 8}, .image_size = 32, .bands = 13,
                           .batch = 8, .options = RESUME_OPTIONS};
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("satmae"), &mc), GS_OK, "%s", ctx.error);
    gs_checkpoint_group groups[2] = {{"model", m.encoder.params}, {"heads", &m.heads}};
    gs_checkpoint_load_options lo = {.allow_unused = true};
    cr_assert_eq(gs_checkpoint_load(&ctx, ckpt, groups, 2, NULL, &lo), GS_OK, "%s", ctx.error);
    uint64_t h = gs_params_hash(&m.heads, gs_params_hash(m.encoder.params, 0));
    gs_method_free(&m);
    gs_context_free(&ctx);
    return h;
}

Test(methods_satmae, group_resumes_bit_identically) {
    run_dir r;
    test_temp_dir(r.dir, sizeof r.dir);
    char data[300], straight[400], split[400];
    snprintf(data, sizeof data, "%s/eurosat-ms", r.dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 4};
    cr_assert_eq(gs_synth_write("eurosat-ms", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(r.spec, sizeof r.spec, "eurosat-ms:%s", data);
    snprintf(straight, sizeof straight, "%s/straight.h5", r.dir);
    snprintf(split, sizeof split, "%s/split.h5", r.dir);
    gs_pretrain_result a = pretrain(&r, straight, false, 0);
    cr_expect(isfinite(a.final_loss));
    int64_t per_epoch = a.steps / 2;
    gs_pretrain_result k = pretrain(&r, split, false, per_epoch);
    cr_expect_eq(k.steps, per_epoch);
    gs_pretrain_result b = pretrain(&r, split, true, 0);
    cr_expect_eq(b.start_step, per_epoch, "resumed at step %lld", (long long)b.start_step);
    cr_expect_eq(b.steps, a.steps);
    cr_expect(b.final_loss == a.final_loss, "last loss %.7f after resume, %.7f straight", (double)b.final_loss,
              (double)a.final_loss);
    cr_expect_eq(weights_hash(split), weights_hash(straight), "resumed weights differ");
    test_remove_tree(r.dir);
}

/* Evaluation features: the mean of the encoder's patch tokens over the
 * pretrained tokenization.  rgb: the same as pooling the plain ViT that
 * evaluation loads (m->encoder); group: one D-vector per image that depends
 * on every group's bands. */
Test(methods_satmae, features_mean_pool_the_pretrained_tokens) {
    gs_context ctx;
    gradcheck_context(&ctx, 6);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "vit-tiny", .width = 48, .patch = 4, .pos = GS_POS_LEARNED},
                           .image_size = 16, .bands = 3, .batch = 2, .total_steps = 1,
                           .options = "decoder_width=16,decoder_depth=1,decoder_heads=2"};
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("satmae"), &mc), GS_OK, "%s", ctx.error);
    gs_step_begin(&ctx);
    bool previous = gs_set_grad_enabled(&ctx, false);
    gs_tensor *x = random_view(&ctx, 2, 3, 16);
    gs_tensor *f = gs_satmae_features(&ctx, &m, x);
    gs_tensor *y = gs_vit_encode(&ctx, &m.encoder.vit, gs_vit_patch_tokens(&ctx, &m.encoder.vit, x));
    cr_assert(f && y, "%s", ctx.error);
    cr_assert(f->ndim == 2 && f->shape[0] == 2 && f->shape[1] == 48);
    for (int64_t i = 0; i < 2; i++)
        for (int64_t c = 0; c < 48; c++) {
            double mean = 0;
            for (int64_t t = 1; t <= 16; t++) mean += y->data[(i * 17 + t) * 48 + c] / 16.0;
            cr_expect_float_eq(f->data[i * 48 + c], (float)mean, 1e-5f, "sample %lld dim %lld", (long long)i,
                               (long long)c);
        }
    gs_set_grad_enabled(&ctx, previous);
    gs_method_free(&m);

    init_group(&ctx, &m, "decoder_width=16,decoder_depth=1,decoder_heads=2");
    gs_step_begin(&ctx);
    previous = gs_set_grad_enabled(&ctx, false);
    x = random_view(&ctx, 1, 13, 16);
    f = gs_satmae_features(&ctx, &m, x);
    cr_assert(f && f->shape[1] == 48, "%s", ctx.error);
    float before = f->data[0];
    for (int64_t i = 11 * 256; i < 12 * 256; i++) x->data[i] += 1.0f; /* B11, the third group's */
    f = gs_satmae_features(&ctx, &m, x);
    cr_expect_neq(f->data[0], before, "the SWIR group does not reach the features");
    gs_set_grad_enabled(&ctx, previous);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* Evaluation rebuilds the method from its checkpoint (model and heads) and
 * asks ops->features: the same features as the method that was saved,
 * which a freshly initialized one does not give. */
Test(methods_satmae, a_checkpoint_rebuilds_the_methods_features) {
    char dir[256], path[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/satmae.h5", dir);
    const char *options = "decoder_width=16,decoder_depth=1,decoder_heads=2";
    gs_context ctx;
    gradcheck_context(&ctx, 21);
    gs_method saved;
    init_group(&ctx, &saved, options);
    cr_assert_not_null(saved.ops->features);
    cr_expect_str_eq(saved.ops->features_name, "mean_tokens");
    cr_expect_float_eq(saved.ops->finetune_layer_decay, 0.75f, 1e-7f);
    /* Heads away from their initialization, as after training. */
    for (int i = 0; i < saved.heads.count; i++) {
        gs_tensor *t = saved.heads.items[i].tensor;
        for (int64_t j = 0; j < t->numel; j++) t->data[j] += 0.01f * gs_rng_normal(&ctx.rng);
    }
    gs_checkpoint_group groups[2] = {{"model", saved.encoder.params}, {"heads", &saved.heads}};
    gs_checkpoint_meta meta = {.step = 1, .rng = ctx.rng, .architecture = saved.encoder.arch, .config = "pretrain"};
    cr_assert_eq(gs_checkpoint_save(&ctx, path, groups, 2, &meta), GS_OK, "%s", ctx.error);

    gs_context other;
    gradcheck_context(&other, 22);
    gs_method loaded;
    init_group(&other, &loaded, options);
    gs_step_begin(&ctx);
    gs_step_begin(&other);
    bool previous = gs_set_grad_enabled(&ctx, false), previous_other = gs_set_grad_enabled(&other, false);
    gs_tensor *x = random_view(&ctx, 2, 13, 16), *x2 = gs_activation(&other, GS_DIMS(2, 13, 16, 16));
    memcpy(x2->data, x->data, (size_t)x->numel * sizeof(float));
    gs_tensor *want = saved.ops->features(&ctx, &saved, x);
    gs_tensor *fresh = loaded.ops->features(&other, &loaded, x2);
    cr_assert(want && fresh, "%s %s", ctx.error, other.error);
    double differ = 0;
    for (int64_t i = 0; i < want->numel; i++) differ += fabs(want->data[i] - fresh->data[i]);
    cr_expect(differ > 1e-3, "a fresh method already gives the saved one's features");
    cr_assert_eq(gs_method_load_pretrained(&other, &loaded, path), GS_OK, "%s", other.error);
    gs_tensor *got = loaded.ops->features(&other, &loaded, x2);
    cr_assert_not_null(got, "%s", other.error);
    for (int64_t i = 0; i < want->numel; i++)
        cr_expect_float_eq(got->data[i], want->data[i], 1e-6f, "feature %lld", (long long)i);
    gs_set_grad_enabled(&ctx, previous);
    gs_set_grad_enabled(&other, previous_other);
    gs_method_free(&loaded);
    gs_method_free(&saved);
    gs_context_free(&other);
    gs_context_free(&ctx);
    test_remove_tree(dir);
}

/* The run folder's picture: masked input | reconstruction | target, each
 * panel at least 192 px; the masked panel is grey exactly where the mask
 * hid a patch of the RGB bands' group and equals the target elsewhere; the
 * reconstruction equals the target where the encoder saw the patch and
 * shows the prediction (not the target) where it did not. */
Test(methods_satmae, the_picture_shows_masked_input_reconstruction_and_target) {
    gs_context ctx;
    gradcheck_context(&ctx, 23);
    gs_method m;
    init_group(&ctx, &m, "decoder_width=16,decoder_depth=1,decoder_heads=2");
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    cr_expect_eq(gs_satmae_picture(&ctx, &m, &rgb, &w, &h), GS_ERR_ARGUMENT, "a picture before any step");
    gs_clear_error(&ctx);
    gs_step_begin(&ctx);
    gs_tensor *x = random_view(&ctx, 2, 13, 16);
    gs_tensor *loss = m.ops->loss(&ctx, &m, &x, 1, 0);
    cr_assert_not_null(loss, "%s", ctx.error);
    const int32_t *kept = gs_satmae_kept_tokens(&m);
    int64_t l = 16, k = gs_satmae_kept(&m); /* 16 x 16 at patch 4: 16 patches per group */
    bool seen[16] = {false};
    for (int64_t j = 0; j < k; j++)
        if (kept[j] < l) seen[kept[j]] = true; /* group 0 holds B2, B3, B4 */
    cr_assert_eq(gs_satmae_picture(&ctx, &m, &rgb, &w, &h), GS_OK, "%s", ctx.error);
    int panel = h, gap = (w - 3 * panel) / 2;
    cr_assert_geq(panel, 192);
    cr_assert_eq(w, 3 * panel + 2 * gap);
    int scale = panel / 16, hidden_differs = 0;
    for (int p = 0; p < 16; p++) {
        int y = (p / 4) * 4 * scale + scale, x = (p % 4) * 4 * scale + scale; /* inside patch p */
        const uint8_t *masked = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
        const uint8_t *recon = masked + (size_t)(panel + gap) * 3, *target = masked + (size_t)(2 * (panel + gap)) * 3;
        if (seen[p]) {
            cr_expect_eq(memcmp(masked, target, 3), 0, "visible patch %d differs from the target", p);
            cr_expect_eq(memcmp(recon, target, 3), 0, "visible patch %d is not the target in the reconstruction", p);
        } else {
            cr_expect(masked[0] == 128 && masked[1] == 128 && masked[2] == 128, "hidden patch %d is not grey", p);
            hidden_differs += memcmp(recon, target, 3) != 0;
        }
    }
    cr_expect_gt(hidden_differs, 0, "the reconstruction shows the target where the encoder saw nothing");
    free(rgb);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* temporal: the loader's acquisition dates (gs_batch.acquired: year, month,
 * day) reach the time codes: the loss equals the one with the same year and
 * month given through gs_satmae_use_dates (hour 0), and differs from the
 * loss at time 0, on the same view and mask. */
static double temporal_loss(gs_context *ctx, gs_method *m, const fixture *fx, const gs_batch *batch,
                            const int32_t *ymh) {
    int64_t n = (int64_t)config_value(fx, "batch"), k = gs_satmae_kept(m);
    const fixture_tensor *kt = fixture_get(fx, "keep/0");
    cr_assert(kt && kt->numel == n * k);
    int32_t *keep = malloc((size_t)(n * k) * sizeof *keep);
    for (int64_t j = 0; j < n * k; j++) keep[j] = (int32_t)kt->data[j];
    gs_step_begin(ctx);
    gs_tensor *view = reference_tensor(ctx, fx, "view/0/0");
    cr_assert_eq(gs_satmae_use_mask(ctx, m, keep, n, k), GS_OK, "%s", ctx->error);
    if (ymh) cr_assert_eq(gs_satmae_use_dates(ctx, m, ymh, n), GS_OK, "%s", ctx->error);
    m->batch = batch;
    gs_tensor *loss = m->ops->loss(ctx, m, &view, 1, 0);
    m->batch = NULL;
    cr_assert_not_null(loss, "%s", ctx->error);
    free(keep);
    return loss->data[0];
}

Test(methods_satmae, temporal_takes_the_dates_the_loader_passes) {
    char path[512], options[256];
    fixture *fx = fixture_load(test_fixture_path("satmae_temporal.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s", path);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    init_from_fixture(&ctx, fx, &m, options, sizeof options);
    int64_t n = (int64_t)config_value(fx, "batch");
    enum { DATES = 4 }; /* the loader's samples have a fourth date the method does not take */
    int32_t acquired[16 * DATES * 3], ymh[16 * 3 * 3];
    cr_assert(n <= 16);
    for (int64_t i = 0; i < n; i++)
        for (int d = 0; d < DATES; d++) {
            int32_t *a = acquired + (i * DATES + d) * 3;
            a[0] = 2016 + (int32_t)((i + d) % 5), a[1] = 1 + (int32_t)((3 * i + 4 * d) % 12), a[2] = 1 + d * 7;
            if (d < 3) {
                int32_t *t = ymh + (i * 3 + d) * 3;
                t[0] = a[0], t[1] = a[1], t[2] = 0;
            }
        }
    gs_batch batch = {.n = (int)n, .dates = DATES, .acquired = acquired};
    double from_batch = temporal_loss(&ctx, &m, fx, &batch, NULL);
    double given = temporal_loss(&ctx, &m, fx, NULL, ymh);
    double at_zero = temporal_loss(&ctx, &m, fx, NULL, NULL);
    cr_expect_float_eq(from_batch, given, 1e-6 * fabs(given), "batch dates %.7f, the same given %.7f", from_batch,
                       given);
    cr_expect_gt(fabs(from_batch - at_zero), 1e-4, "dates must change the loss: %.7f vs %.7f at time 0", from_batch,
                 at_zero);
    gs_method_free(&m);
    gs_context_free(&ctx);
    fixture_free(fx);
}
