/* GLCNet (methods/glcnet.c): the region matcher on hand-made geometry (a
 * flip, quarter turns, crops: the matched boxes cover the same source
 * pixels) and on random views (the same source point at both centres), the
 * loss whose denominator leaves the positive out, its first 5 training
 * steps against the PyTorch reference of tools/reference/glcnet_reference.py
 * (losses within 1e-4 relative, every gradient of the first step), its
 * options and layout, and a pretraining run killed after one epoch and
 * resumed ending with the same weights as an uninterrupted one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "fixture.h"
#include "glcnet.h"
#include "gradcheck.h"
#include "io/checkpoint.h"
#include "method.h"
#include "nn/backbone.h"
#include "ops/ops.h"
#include "pretrain.h"
#include "reference_model.h"
#include "simclr.h"
#include "synthetic.h"
#include "test_paths.h"
#include "train/smoke.h"

/* ---- the region matcher ---- */

static int compare_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The source pixels (y * 10000 + x) under each pixel of a box, sorted:
 * nearest sampling, the pixel whose area holds the output pixel's centre. */
static void source_pixels(const gs_augment_record *rec, int h, int w, const gs_box *box, int *out) {
    int k = 0;
    for (int i = 0; i < box->height; i++)
        for (int j = 0; j < box->width; j++) {
            float sx, sy;
            gs_augment_to_source(rec, h, w, box->left + j + 0.5f, box->top + i + 0.5f, &sx, &sy);
            out[k++] = (int)floorf(sy) * 10000 + (int)floorf(sx);
        }
    qsort(out, (size_t)k, sizeof *out, compare_int);
}

static void expect_inside(const gs_box *b, int h, int w, int patch, const char *what) {
    cr_expect(b->height == patch && b->width == patch, "%s: box %dx%d", what, b->width, b->height);
    cr_expect(b->top >= 0 && b->left >= 0 && b->top + b->height <= h && b->left + b->width <= w,
              "%s: box at (%d, %d) leaves the %dx%d view", what, b->left, b->top, w, h);
}

/* Every matched pair covers exactly the same source pixels. */
static void expect_same_pixels(const gs_augment_record *r1, int h1, int w1, const gs_augment_record *r2, int h2,
                               int w2, int patch, uint64_t seed, const char *what) {
    enum { J = 4 };
    gs_box b1[J], b2[J];
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    int exact = gs_glcnet_match_regions(r1, h1, w1, r2, h2, w2, patch, J, 3, &rng, b1, b2);
    cr_assert_eq(exact, J, "%s: %d of %d exact matches", what, exact, J);
    int *p1 = malloc((size_t)(patch * patch) * sizeof *p1), *p2 = malloc((size_t)(patch * patch) * sizeof *p2);
    for (int j = 0; j < J; j++) {
        cr_expect_eq(b1[j].sample, 3);
        cr_expect_eq(b2[j].sample, 3);
        expect_inside(&b1[j], h1, w1, patch, what);
        expect_inside(&b2[j], h2, w2, patch, what);
        source_pixels(r1, h1, w1, &b1[j], p1);
        source_pixels(r2, h2, w2, &b2[j], p2);
        int differ = 0;
        for (int k = 0; k < patch * patch; k++) differ += p1[k] != p2[k];
        cr_expect_eq(differ, 0, "%s: pair %d, view 1 (%d, %d), view 2 (%d, %d): %d of %d source pixels differ", what,
                     j, b1[j].left, b1[j].top, b2[j].left, b2[j].top, differ, patch * patch);
    }
    free(p1);
    free(p2);
}

Test(methods_glcnet, patch_size_scales_with_the_view) {
    cr_expect_eq(gs_glcnet_patch_size(224), 48);
    cr_expect_eq(gs_glcnet_patch_size(256), 55);
    cr_expect_eq(gs_glcnet_patch_size(128), 27);
    cr_expect_eq(gs_glcnet_patch_size(64), 14);
    cr_expect_eq(gs_glcnet_patch_size(32), 7);
    cr_expect_eq(gs_glcnet_patch_size(2), 1);
}

/* View 2 is view 1 mirrored: a window at columns [l, l + P) of view 1 is at
 * [W - l - P, W - l) of view 2, same rows. */
Test(methods_glcnet, a_flip_maps_windows_onto_the_same_pixels) {
    enum { S = 40, P = 8 };
    gs_augment_record r1 = {.box = {0, 0, S, S}}, r2 = r1;
    r2.hflip = true;
    gs_box b1[4], b2[4];
    gs_rng rng;
    gs_rng_seed(&rng, 1);
    cr_assert_eq(gs_glcnet_match_regions(&r1, S, S, &r2, S, S, P, 4, 0, &rng, b1, b2), 4);
    for (int j = 0; j < 4; j++) {
        cr_expect_eq(b2[j].left, S - b1[j].left - P, "pair %d: view-1 left %d, view-2 left %d", j, b1[j].left,
                     b2[j].left);
        cr_expect_eq(b2[j].top, b1[j].top);
    }
    expect_same_pixels(&r1, S, S, &r2, S, S, P, 2, "left-right flip");
    r2.hflip = false, r2.vflip = true;
    expect_same_pixels(&r1, S, S, &r2, S, S, P, 3, "up-down flip");
    r2.hflip = true;
    expect_same_pixels(&r1, S, S, &r2, S, S, 7, 4, "both flips, odd patch");
}

Test(methods_glcnet, quarter_turns_map_windows_onto_the_same_pixels) {
    enum { S = 36 };
    gs_augment_record r1 = {.box = {0, 0, S, S}};
    for (int k = 1; k < 4; k++)
        for (int f = 0; f < 2; f++) {
            gs_augment_record r2 = {.box = {0, 0, S, S}, .rot90 = k, .vflip = f};
            char what[64];
            snprintf(what, sizeof what, "%d quarter turns%s", k, f ? " after an up-down flip" : "");
            expect_same_pixels(&r1, S, S, &r2, S, S, 8, (uint64_t)(10 * k + f), what);
            expect_same_pixels(&r1, S, S, &r2, S, S, 5, (uint64_t)(20 * k + f), what);
        }
    /* One quarter turn, by hand: numpy.rot90 (counter-clockwise) takes
     * source (x, y) of a 36 px image to (y, 35 - x): the window at view-1
     * (left 2, top 10) is at view-2 (left 10, top 36 - 2 - 8 = 26). */
    gs_augment_record r2 = {.box = {0, 0, S, S}, .rot90 = 1};
    float sx, sy;
    gs_augment_to_source(&r2, S, S, 10 + 0.5f, 26 + 0.5f, &sx, &sy);
    cr_expect(floorf(sx) == 2 + 7 && floorf(sy) == 10, "view-2 (10, 26) comes from source (%g, %g)", sx, sy);
}

/* Crops of the output's size (no scaling) at different offsets, then a crop
 * combined with a flip and a turn: each view-2 window is its view-1 window
 * moved by the offset. */
Test(methods_glcnet, crops_map_windows_onto_the_same_pixels) {
    enum { S = 32, P = 6 };
    gs_augment_record r1 = {.box = {5, 9, S, S}}, r2 = {.box = {17, 2, S, S}};
    gs_box b1[4], b2[4];
    gs_rng rng;
    gs_rng_seed(&rng, 7);
    cr_assert_eq(gs_glcnet_match_regions(&r1, S, S, &r2, S, S, P, 4, 0, &rng, b1, b2), 4);
    for (int j = 0; j < 4; j++) {
        /* source x = 5 + left1 = 17 + left2; source y = 9 + top1 = 2 + top2 */
        cr_expect_eq(b2[j].left, b1[j].left - 12);
        cr_expect_eq(b2[j].top, b1[j].top + 7);
        /* Only the shared source area [17, 37) x [9, 34) is drawn from. */
        cr_expect(b1[j].left >= 12 && b1[j].top + P <= 25, "pair %d outside the overlap: (%d, %d)", j, b1[j].left,
                  b1[j].top);
    }
    expect_same_pixels(&r1, S, S, &r2, S, S, P, 8, "two crops");
    gs_augment_record r3 = {.box = {17, 2, S, S}, .hflip = true, .rot90 = 3};
    expect_same_pixels(&r1, S, S, &r3, S, S, P, 9, "a crop, a flip and three turns");
    /* The same crops at twice the output resolution (64 px views of 32 px
     * boxes): a view pixel is a quarter of a source pixel; windows of an
     * even number of source pixels still match exactly. */
    expect_same_pixels(&r1, 2 * S, 2 * S, &r3, 2 * S, 2 * S, 2 * P, 10, "crops upsampled twice");
}

/* The later windows of one image avoid the centres of the earlier ones (the
 * released code removes those candidates) while room remains. */
Test(methods_glcnet, windows_of_one_image_avoid_each_others_centres) {
    enum { S = 64, P = 8 };
    gs_augment_record r = {.box = {0, 0, S, S}};
    gs_rng rng;
    gs_rng_seed(&rng, 11);
    for (int trial = 0; trial < 50; trial++) {
        gs_box b1[4], b2[4];
        cr_assert_eq(gs_glcnet_match_regions(&r, S, S, &r, S, S, P, 4, 0, &rng, b1, b2), 4);
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < j; k++)
                cr_expect(2 * abs(b1[j].left - b1[k].left) >= P || 2 * abs(b1[j].top - b1[k].top) >= P,
                          "trial %d: window %d at (%d, %d) holds the centre of window %d at (%d, %d)", trial, k,
                          b1[k].left, b1[k].top, j, b1[j].left, b1[j].top);
    }
}

/* Random crops (scale 0.4-1 of a 256 px image, resized to 224), flips and
 * turns, as GLCNet's views: both boxes of a pair are centred on the same
 * source point (within half a view-2 pixel, the rounding), and when the two
 * interiors overlap (nearly always) every pair is exact. */
Test(methods_glcnet, random_views_share_the_source_point_at_the_centres) {
    enum { SRC = 256, S = 224, P = 48 };
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    const float scale[2] = {0.4f, 1.0f}, ratio[2] = {3.0f / 4.0f, 4.0f / 3.0f};
    int exact_pairs = 0, pairs = 0;
    for (int trial = 0; trial < 200; trial++) {
        gs_augment_record r1 = {.box = gs_augment_random_crop_box(&rng, SRC, SRC, scale, ratio)};
        gs_augment_record r2 = {.box = gs_augment_random_crop_box(&rng, SRC, SRC, scale, ratio),
                                .hflip = gs_rng_uniform(&rng) < 0.4f, .vflip = gs_rng_uniform(&rng) < 0.4f,
                                .rot90 = (int)gs_rng_below(&rng, 4)};
        gs_box b1[4], b2[4];
        int exact = gs_glcnet_match_regions(&r1, S, S, &r2, S, S, P, 4, 0, &rng, b1, b2);
        exact_pairs += exact;
        pairs += 4;
        for (int j = 0; j < 4 && exact == 4; j++) {
            expect_inside(&b1[j], S, S, P, "random view 1");
            expect_inside(&b2[j], S, S, P, "random view 2");
            float x1, y1, x2, y2;
            gs_augment_to_source(&r1, S, S, b1[j].left + P / 2.0f, b1[j].top + P / 2.0f, &x1, &y1);
            gs_augment_to_source(&r2, S, S, b2[j].left + P / 2.0f, b2[j].top + P / 2.0f, &x2, &y2);
            /* Half a view-2 pixel in source units, per axis (turns swap them). */
            float tol = 0.5f * fmaxf((float)r2.box.width, (float)r2.box.height) / S + 1e-3f;
            cr_expect(fabsf(x1 - x2) <= tol && fabsf(y1 - y2) <= tol,
                      "trial %d pair %d: centres at source (%g, %g) and (%g, %g)", trial, j, x1, y1, x2, y2);
        }
    }
    cr_expect_geq(exact_pairs, pairs * 95 / 100, "%d of %d pairs exact", exact_pairs, pairs);
}

/* Thin crops at opposite edges: no source point lies in both interiors
 * (the released code raises there).  The pair falls back to the nearest
 * windows, inside both views, and is reported. */
Test(methods_glcnet, disjoint_interiors_fall_back_to_the_nearest_windows) {
    enum { S = 32, P = 8 };
    gs_augment_record r1 = {.box = {0, 0, 64, 20}}, r2 = {.box = {0, 18, 64, 20}};
    gs_box b1[2], b2[2];
    gs_rng rng;
    gs_rng_seed(&rng, 3);
    cr_expect_eq(gs_glcnet_match_regions(&r1, S, S, &r2, S, S, P, 2, 0, &rng, b1, b2), 0);
    for (int j = 0; j < 2; j++) {
        expect_inside(&b1[j], S, S, P, "fallback view 1");
        expect_inside(&b2[j], S, S, P, "fallback view 2");
        cr_expect_eq(b1[j].top, S - P, "view 1's window sits at its bottom edge, nearest to view 2");
        cr_expect_eq(b2[j].top, 0, "view 2's window sits at its top edge");
    }
    cr_expect_eq(gs_glcnet_match_regions(&r1, S, S, &r2, S, S, S + 1, 2, 0, &rng, b1, b2), -1, "patch > view");
}

/* ---- the loss ---- */

/* Row i: -log(e^(c_ip / T) / sum_{j != i, p} e^(c_ij / T)), in double. */
static double negatives_only(const float *z, int r, int d, double temperature) {
    double total = 0;
    for (int i = 0; i < r; i++) {
        int p = i < r / 2 ? i + r / 2 : i - r / 2;
        double den = 0, pos = 0;
        for (int j = 0; j < r; j++) {
            double dot = 0, ni = 0, nj = 0;
            for (int k = 0; k < d; k++) {
                dot += (double)z[i * d + k] * z[j * d + k];
                ni += (double)z[i * d + k] * z[i * d + k];
                nj += (double)z[j * d + k] * z[j * d + k];
            }
            double s = exp(dot / sqrt(ni * nj) / temperature);
            if (j == p) pos = s;
            else if (j != i) den += s;
        }
        total += -log(pos / den);
    }
    return total / r;
}

Test(methods_glcnet, nt_xent_leaves_the_positive_out_of_the_denominator) {
    /* By hand first: unit vectors at 0, 90, 45 and 180 degrees, T = 0.5:
     * cos(0,1) 0, cos(0,2) 0.7071 (positive), cos(0,3) -1, cos(1,2) 0.7071,
     * cos(1,3) 0 (positive), cos(2,3) -0.7071.
     *   row 0: -1.414214 + ln(e^0 + e^-2)                = -1.414214 + 0.126928 = -1.287286
     *   row 1: -0        + ln(e^0 + e^1.414214)           = 1.631835
     *   row 2: -1.414214 + ln(e^1.414214 + e^-1.414214)   = -1.414214 + 1.471638 = 0.057425
     *   row 3: -0        + ln(e^-2 + e^-1.414214)         = -0.971666
     *   mean (-1.287286 + 1.631835 + 0.057425 - 0.971666) / 4 = -0.142423 */
    const float h = 0.70710678f;
    const float hand[8] = {1, 0, 0, 1, h, h, -1, 0};
    gs_context ctx;
    gradcheck_context(&ctx, 2);
    gs_step_begin(&ctx);
    gs_tensor *z = gs_activation(&ctx, GS_DIMS(4, 2));
    memcpy(z->data, hand, sizeof hand);
    gs_tensor *loss = gs_glcnet_nt_xent(&ctx, z, 0.5f, false);
    cr_assert_not_null(loss, "%s", ctx.error);
    cr_expect_float_eq(loss->data[0], -0.142423f, 2e-6f, "%.6f", (double)loss->data[0]);
    cr_expect_float_eq(loss->data[0], (float)negatives_only(hand, 4, 2, 0.5), 1e-6f);

    /* Random rows: the formula in double, and its gradient by finite differences. */
    gs_tensor *x = gs_activation(&ctx, GS_DIMS(10, 6));
    gs_tensor_fill_uniform(&ctx, x, 1.0f);
    loss = gs_glcnet_nt_xent(&ctx, x, 0.5f, false);
    cr_assert_not_null(loss, "%s", ctx.error);
    cr_expect_float_eq(loss->data[0], (float)negatives_only(x->data, 10, 6, 0.5), 2e-6f);
    /* denominator=all is SimCLR's NT-Xent. */
    gs_tensor *all = gs_glcnet_nt_xent(&ctx, x, 0.5f, true), *simclr = gs_nt_xent(&ctx, x, 0.5f);
    cr_assert(all && simclr);
    cr_expect_float_eq(all->data[0], simclr->data[0], 1e-7f);
    cr_expect_gt(all->data[0], loss->data[0], "the positive in the denominator makes every row larger");
    gs_context_free(&ctx);
}

static gs_tensor *nt_xent_forward(gs_context *ctx, gs_tensor *const *in, void *arg) {
    (void)arg;
    return gs_glcnet_nt_xent(ctx, in[0], 0.5f, false);
}

Test(methods_glcnet, nt_xent_gradient) {
    gs_context ctx;
    gradcheck_context(&ctx, 2);
    gs_tensor *z = gradcheck_input(&ctx, GS_DIMS(8, 5), 1.0f, true);
    gradcheck_options o = {.eps = 1e-2f, .rtol = 1e-2, .atol = 1e-4, .max_skip_fraction = 0.0};
    gradcheck_report report;
    cr_expect(gradcheck_run(&ctx, nt_xent_forward, &z, 1, NULL, &o, &report), "%s", report.message);
    cr_expect_gt(report.checked, 0);
    gs_context_free(&ctx);
}

Test(methods_glcnet, band_to_gray_copies_one_band_into_all) {
    enum { N = 400, B = 4, PLANE = 3 };
    static float x[N * B * PLANE];
    for (int i = 0; i < N * B * PLANE; i++) x[i] = (float)i;
    gs_rng rng;
    gs_rng_seed(&rng, 2);
    int changed = gs_glcnet_band_to_gray(x, N, B, PLANE, 0.1f, &rng);
    cr_expect(changed > 20 && changed < 60, "%d of %d images grayed at p 0.1", changed, N);
    int seen = 0, used[B] = {0};
    for (int i = 0; i < N; i++) {
        const float *img = x + i * B * PLANE;
        bool same = true;
        for (int b = 1; b < B; b++)
            for (int k = 0; k < PLANE; k++) same = same && img[b * PLANE + k] == img[k];
        if (!same) {
            for (int k = 0; k < B * PLANE; k++) cr_assert_eq(img[k], (float)(i * B * PLANE + k), "image %d changed", i);
            continue;
        }
        seen++;
        int source = (int)(img[0] - (float)(i * B * PLANE)) / PLANE;
        cr_assert(source >= 0 && source < B && img[0] == (float)(i * B * PLANE + source * PLANE));
        used[source]++;
    }
    cr_expect_eq(seen, changed);
    for (int b = 0; b < B; b++) cr_expect_gt(used[b], 0, "band %d never drawn", b);
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

Test(methods_glcnet, matches_pytorch) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path("glcnet.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s (tools/reference/glcnet_reference.py writes it)", path);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    const int batch = (int)config_value(fx, "batch"), patch = (int)config_value(fx, "patch");
    const int patches = (int)config_value(fx, "patches"), size = (int)config_value(fx, "size");
    cr_assert_eq(gs_glcnet_patch_size(size), patch, "the default patch side at %d px", size);
    char options[128];
    snprintf(options, sizeof options, "aspp_dropout=0,patches=%d", patches);
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = (int)config_value(fx, "width")},
                           .image_size = size, .bands = (int)config_value(fx, "bands"), .batch = batch,
                           .proj_hidden = (int)config_value(fx, "proj_hidden"),
                           .proj_dim = (int)config_value(fx, "proj_dim"), .options = options};
    const gs_method_ops *ops = gs_method_find("glcnet");
    cr_assert_not_null(ops);
    cr_assert_eq(ops->optimizer, GS_OPTIM_ADAMW);
    gs_method m;
    cr_assert_eq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s", ctx.error);
    cr_expect_float_eq(m.config.temperature, (float)config_value(fx, "temperature"), 1e-7f);
    char msg[256];
    cr_assert(reference_load_params(fx, &m.trainable, msg, sizeof msg), "%s", msg);

    gs_optimizer_config oc = gs_optimizer_defaults(ops->optimizer);
    oc.weight_decay = (float)config_value(fx, "weight_decay");
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    const fixture_tensor *lrs = fixture_get(fx, "lrs"), *want = fixture_get(fx, "losses");
    const fixture_tensor *want_g = fixture_get(fx, "global_losses"), *want_l = fixture_get(fx, "local_losses");
    cr_assert(lrs && want && want_g && want_l && lrs->numel == STEPS && want->numel == STEPS);
    const int64_t pairs = (int64_t)batch * patches;
    gs_box *b1 = calloc((size_t)pairs, sizeof *b1), *b2 = calloc((size_t)pairs, sizeof *b2);
    for (int step = 0; step < STEPS; step++) {
        gs_step_begin(&ctx);
        gs_tensor *views[2];
        char name[64];
        for (int v = 0; v < 2; v++) {
            snprintf(name, sizeof name, "view/%d/%d", step, v);
            views[v] = reference_tensor(&ctx, fx, name);
        }
        snprintf(name, sizeof name, "boxes/%d", step);
        const fixture_tensor *boxes = fixture_get(fx, name);
        cr_assert(boxes && boxes->numel == pairs * 4, "%s", name);
        for (int64_t r = 0; r < pairs; r++) {
            const float *row = boxes->data + r * 4;
            b1[r] = (gs_box){(int32_t)(r / patches), (int32_t)row[0], (int32_t)row[1], patch, patch};
            b2[r] = (gs_box){(int32_t)(r / patches), (int32_t)row[2], (int32_t)row[3], patch, patch};
        }
        cr_assert_eq(gs_glcnet_set_regions(&ctx, &m, b1, b2, pairs), GS_OK, "%s", ctx.error);
        gs_tensor *loss;
        if (step == 0) {
            /* gs_method_step by hand, to see the gradients before Adam's
             * weight decay joins them. */
            gs_optimizer_zero_grad(&opt);
            loss = ops->loss(&ctx, &m, views, 2, step);
            cr_assert_not_null(loss, "%s", ctx.error);
            cr_assert_eq(gs_backward(&ctx, loss), GS_OK, "%s", ctx.error);
            char worst[256] = "";
            double ratio = reference_worst_grad(fx, &m.trainable, 1e-3, worst, sizeof worst);
            cr_expect_leq(ratio, 1.0, "step 0: gradient of %s off by %.3g x the 1e-3 tolerance", worst, ratio);
            fprintf(stderr, "glcnet step 0: worst gradient %s at %.2g of the tolerance\n", worst, ratio);
            cr_assert_eq(ops->before_update(&ctx, &m, &opt, step), GS_OK, "%s", ctx.error);
            cr_assert_eq(gs_optimizer_step(&ctx, &opt, lrs->data[step]), GS_OK, "%s", ctx.error);
        } else {
            loss = gs_method_step(&ctx, &m, &opt, views, 2, step, lrs->data[step]);
            cr_assert_not_null(loss, "step %d: %s", step, ctx.error);
        }
        gs_glcnet_stats st = gs_glcnet_last_stats(&m);
        double got = loss->data[0], expected = want->data[step];
        double rel = fabs(got - expected) / fabs(expected);
        cr_expect_leq(rel, 1e-4, "step %d: loss %.7f, PyTorch %.7f (relative error %.2g)", step, got, expected, rel);
        cr_expect_leq(fabs(st.global_loss - want_g->data[step]), 1e-4 * fabs(want_g->data[step]), "step %d global",
                      step);
        cr_expect_leq(fabs(st.local_loss - want_l->data[step]), 1e-4 * fabs(want_l->data[step]), "step %d local",
                      step);
        cr_expect_eq(st.regions, (int)pairs);
        fprintf(stderr, "glcnet step %d: %.7f vs %.7f (%.1e); global %.5f, local %.5f\n", step, got, expected, rel,
                (double)st.global_loss, (double)st.local_loss);
    }
    /* torch's Adam: beta2 0.99, the decay moved into the gradients. */
    cr_expect_float_eq(opt.config.beta2, (float)config_value(fx, "beta2"), 1e-7f);
    cr_expect_eq(opt.config.weight_decay, 0.0f);
    free(b1);
    free(b2);
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
    fixture_free(fx);
}

/* ---- layout and options ---- */

Test(methods_glcnet, layout_defaults_and_options) {
    const gs_method_ops *ops = gs_method_find("glcnet");
    cr_assert_not_null(ops);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = 16}, .image_size = 64, .bands = 4, .batch = 4};
    cr_assert_eq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s", ctx.error);
    cr_expect_float_eq(m.config.temperature, 0.5f, 1e-7f);
    /* The authors' DeepLab ResNet: layer4's first block dilated too. */
    cr_expect_str_eq(m.encoder.arch, "resnet18 bands=4 width=16 stem=imagenet classes=0 os=16 dilation=deeplab");
    cr_expect_eq(m.encoder.resnet.blocks[m.encoder.resnet.stage_end[2]].conv2.dilation, 2);
    cr_expect_eq(m.encoder.resnet.stage_stride[4], 16);
    /* The ASPP first, every name "aspp.*", then the decoder and the heads. */
    int aspp = 0;
    while (aspp < m.heads.count && !strncmp(m.heads.items[aspp].tensor->name, "aspp.", 5)) aspp++;
    cr_expect_gt(aspp, 0);
    for (int i = aspp; i < m.heads.count; i++)
        cr_expect(strncmp(m.heads.items[i].tensor->name, "aspp.", 5), "%s after the ASPP",
                  m.heads.items[i].tensor->name);
    /* Width 16: 64 ASPP channels, 12 low-level, a 64-channel output. */
    gs_tensor *t = gs_param_find(&m.heads, "aspp.project.conv.weight");
    cr_assert_not_null(t);
    cr_expect(t->shape[0] == 64 && t->shape[1] == 5 * 64);
    cr_expect_eq(gs_param_find(&m.heads, "decoder.low_level.conv.weight")->shape[0], 12);
    cr_expect_eq(gs_param_find(&m.heads, "decoder.classifier.weight")->shape[0], 64);
    t = gs_param_find(&m.heads, "global_proj.0.weight");
    cr_expect(t && t->shape[0] == 256 && t->shape[1] == 128);
    cr_expect_eq(gs_param_find(&m.heads, "global_proj.2.weight")->shape[0], 64);
    cr_expect_eq(gs_param_find(&m.heads, "local_proj.2.weight")->shape[1], 64);
    cr_expect_float_eq(m.encoder.resnet.bn1.momentum, 0.9f, 1e-7f);
    /* A forward pass at 64 px: 14 px regions, from identical geometry. */
    gs_step_begin(&ctx);
    gs_tensor *views[2] = {gs_activation(&ctx, GS_DIMS(4, 4, 64, 64)), gs_activation(&ctx, GS_DIMS(4, 4, 64, 64))};
    gs_tensor_fill_uniform(&ctx, views[0], 1.0f);
    gs_tensor_fill_uniform(&ctx, views[1], 1.0f);
    gs_tensor *loss = ops->loss(&ctx, &m, views, 2, 0);
    cr_assert_not_null(loss, "%s", ctx.error);
    cr_expect(isfinite(loss->data[0]));
    gs_glcnet_stats st = gs_glcnet_last_stats(&m);
    cr_expect_eq(st.regions, 16);
    cr_expect_eq(st.unmatched, 0);
    cr_expect_float_eq(loss->data[0], 0.5f * (st.global_loss + st.local_loss), 1e-5f);
    gs_method_free(&m);
    gs_context_free(&ctx);

    /* output_stride=8 dilates layer3 too; lambda weighs the two terms. */
    gradcheck_context(&ctx, 1);
    mc.options = "output_stride=8,head_channels=24,lambda=1,patch_size=9,patches=2,dilation=torchvision";
    cr_assert_eq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s", ctx.error);
    cr_expect_eq(m.encoder.resnet.stage_stride[4], 8);
    /* torchvision's rule: a dilated stage's first block at the previous rate. */
    cr_expect_eq(m.encoder.resnet.blocks[m.encoder.resnet.stage_end[1]].conv2.dilation, 1);
    cr_expect_eq(m.encoder.resnet.blocks[m.encoder.resnet.stage_end[2]].conv2.dilation, 2);
    cr_expect_null(strstr(m.encoder.arch, "dilation"), "%s", m.encoder.arch);
    cr_expect_eq(gs_param_find(&m.heads, "aspp.project.conv.weight")->shape[0], 24);
    gs_step_begin(&ctx);
    views[0] = gs_activation(&ctx, GS_DIMS(2, 4, 32, 32));
    views[1] = gs_activation(&ctx, GS_DIMS(2, 4, 32, 32));
    gs_tensor_fill_uniform(&ctx, views[0], 1.0f);
    gs_tensor_fill_uniform(&ctx, views[1], 1.0f);
    loss = ops->loss(&ctx, &m, views, 2, 0);
    cr_assert_not_null(loss, "%s", ctx.error);
    st = gs_glcnet_last_stats(&m);
    cr_expect_eq(st.regions, 4);
    cr_expect_float_eq(loss->data[0], st.global_loss, 1e-6f, "lambda=1: the global loss only");
    gs_method_free(&m);
    gs_context_free(&ctx);

    gs_error err = {0};
    cr_expect_eq(gs_method_options_check(ops, "patch_size=16,patches=4,lambda=0.5,aspp_dropout=0.1,head_channels=8,"
                                              "output_stride=8,bn_momentum=0.1,gray_p=0,denominator=all,"
                                              "adam=decoupled,beta2=0.999",
                                         &err),
                 GS_OK, "%s", err.message);
    cr_expect_eq(gs_method_options_check(ops, "tau=1", &err), GS_ERR_ARGUMENT);
    const char *bad[] = {"output_stride=32", "lambda=2", "denominator=some", "patch_size=65", "adam=sgd"};
    for (int i = 0; i < 5; i++) {
        gradcheck_context(&ctx, 1);
        mc.options = bad[i];
        cr_expect_neq(gs_method_init(&ctx, &m, ops, &mc), GS_OK, "%s accepted", bad[i]);
        gs_method_free(&m);
        gs_context_free(&ctx);
    }
    /* A ViT has no stage features for DeepLabv3+. */
    gradcheck_context(&ctx, 1);
    gs_method_config vit = {.backbone = {.name = "vit-tiny", .width = 24, .patch = 8}, .image_size = 32, .bands = 3,
                            .batch = 4};
    cr_expect_eq(gs_method_init(&ctx, &m, ops, &vit), GS_ERR_ARGUMENT);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* The schedule: cosine from the peak, no warm-up, to 4e-5 of it. */
Test(methods_glcnet, cosine_schedule_without_warm_up) {
    const gs_method_ops *ops = gs_method_find("glcnet");
    cr_assert(ops && ops->lr_at && ops->schedule);
    cr_expect_float_eq(ops->lr_at(1e-3, 0, 100), 1e-3, 1e-12);
    cr_expect_float_eq(ops->lr_at(1e-3, 50, 100), 0.5 * (1e-3 + 4e-8), 1e-12);
    cr_expect_float_eq(ops->lr_at(1e-3, 100, 100), 4e-8, 1e-12);
}

/* ---- kill and resume ---- */

#define RESUME_WIDTH 8
#define RESUME_SIZE 32
#define RESUME_BATCH 8

typedef struct run_dir {
    char dir[256], data[300];
} run_dir;

static gs_pretrain_result pretrain(run_dir *r, int epochs, const char *ckpt, bool resume, int64_t stop_after) {
    gs_error err = {0};
    gs_dataset ds;
    char spec[400];
    snprintf(spec, sizeof spec, "potsdam:%s", r->data);
    gs_dataset_options dopt = {.patch_size = RESUME_SIZE};
    cr_assert_eq(gs_dataset_open(spec, &dopt, &ds, &err), GS_OK, "%s", err.message);
    gs_context ctx;
    gs_context_options co = {.n_threads = 2, .seed = 4};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {.method = "glcnet", .backbone = {.name = "resnet18", .width = RESUME_WIDTH},
                             .epochs = epochs, .batch = RESUME_BATCH, .weight_decay = -1, .optimizer = -1, .seed = 9,
                             .workers = 2, .checkpoint = ckpt, .resume = resume, .stop_after = stop_after,
                             .stats_dir = r->dir, .head_hidden = 32, .head_dim = 16};
    gs_pretrain_result out;
    cr_assert_eq(gs_pretrain(&ctx, &ds, &pc, &out, &err), GS_OK, "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
    return out;
}

/* The encoder, the heads (ASPP, decoder, projections, their batchnorm
 * statistics) and Adam's moments in a checkpoint, each hashed. */
static void checkpoint_hashes(const char *ckpt, uint64_t hashes[3]) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method m;
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = RESUME_WIDTH}, .image_size = RESUME_SIZE,
                           .bands = 4, .batch = RESUME_BATCH, .proj_hidden = 32, .proj_dim = 16};
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("glcnet"), &mc), GS_OK, "%s", ctx.error);
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_ADAMW);
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    gs_checkpoint_group groups[3] = {{"model", m.encoder.params}, {"heads", &m.heads}, {"optimizer", &opt.state}};
    cr_assert_eq(gs_checkpoint_load(&ctx, ckpt, groups, 3, NULL, NULL), GS_OK, "%s", ctx.error);
    for (int g = 0; g < 3; g++) hashes[g] = gs_params_hash(groups[g].params, 0);
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
}

/* The regions, the ASPP dropout and band-to-gray draw from the context's
 * generator, which the checkpoint carries; Adam's moments and step counts
 * travel as optimizer state. */
Test(methods_glcnet, resumes_bit_identically) {
    run_dir r;
    test_temp_dir(r.dir, sizeof r.dir);
    snprintf(r.data, sizeof r.data, "%s/potsdam", r.dir);
    gs_error err = {0};
    /* One 128 px training tile (and one test tile): 16 patches of 32 px,
     * 2 steps of 8 per epoch. */
    gs_synth_options so = {.seed = 1, .count = 1, .size = 128};
    cr_assert_eq(gs_synth_write("potsdam", r.data, &so, &err), GS_OK, "%s", err.message);
    char straight[400], split[400];
    snprintf(straight, sizeof straight, "%s/straight.h5", r.dir);
    snprintf(split, sizeof split, "%s/split.h5", r.dir);
    gs_pretrain_result a = pretrain(&r, 2, straight, false, 0);
    cr_expect(isfinite(a.final_loss) && a.steps == 4, "%lld steps, final loss %g", (long long)a.steps,
              (double)a.final_loss);
    gs_pretrain_result k = pretrain(&r, 2, split, false, 2);
    cr_expect_eq(k.steps, 2);
    gs_pretrain_result b = pretrain(&r, 2, split, true, 0);
    cr_expect_eq(b.start_step, 2, "resumed at step %lld", (long long)b.start_step);
    cr_expect_eq(b.steps, a.steps);
    cr_expect(b.final_loss == a.final_loss, "final loss %.7f after resume, %.7f straight", (double)b.final_loss,
              (double)a.final_loss);
    const char *groups[] = {"encoder", "heads", "optimizer state"};
    uint64_t want[3], got[3];
    checkpoint_hashes(straight, want);
    checkpoint_hashes(split, got);
    for (int g = 0; g < 3; g++) cr_expect_eq(got[g], want[g], "the resumed %s differs", groups[g]);
    test_remove_tree(r.dir);
}
