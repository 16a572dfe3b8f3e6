/* Pooling: finite-difference gradient checks, forward values against naive
 * loops and hand-computed cases, and shape errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

/* Distinct values 0.05 apart in random order: a +-eps perturbation (eps =
 * 1e-2) never changes a window's maximum, so max pooling is smooth there. */
static void fill_separated(gs_tensor *t, unsigned long long seed) {
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = 0.05f * (float)(i - t->numel / 2);
    for (int64_t i = t->numel - 1; i > 0; i--) {
        int64_t j = (int64_t)gs_rng_below(&rng, (uint64_t)i + 1);
        float v = t->data[i];
        t->data[i] = t->data[j];
        t->data[j] = v;
    }
}

typedef struct pool_args {
    int kernel, stride, padding;
    int64_t out_h, out_w;
} pool_args;

static gs_tensor *apply_maxpool(gs_context *ctx, gs_tensor *const *in, void *user) {
    const pool_args *a = user;
    return gs_maxpool2d(ctx, in[0], a->kernel, a->stride, a->padding);
}

static gs_tensor *apply_adaptive(gs_context *ctx, gs_tensor *const *in, void *user) {
    const pool_args *a = user;
    return gs_adaptive_avgpool2d(ctx, in[0], a->out_h, a->out_w);
}

static gs_tensor *apply_global(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_global_avgpool(ctx, in[0]);
}

static void check(gradcheck_fn fn, pool_args args, int ndim, const int64_t *shape, bool separated) {
    gs_context ctx;
    gradcheck_context(&ctx, 13);
    gs_tensor *x = gradcheck_input(&ctx, ndim, shape, 1.0f, true);
    if (separated) fill_separated(x, 99);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, fn, &x, 1, &args, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, x->numel);
    cr_expect_eq(report.skipped, 0, "%lld elements skipped as kinks", report.skipped);
    gs_context_free(&ctx);
}

Test(gradcheck_pool, maxpool_k3_s2_p1_odd) {
    check(apply_maxpool, (pool_args){3, 2, 1, 0, 0}, GS_DIMS(2, 3, 7, 9), true);
}
Test(gradcheck_pool, maxpool_k3_s2_p1_odd_small) {
    check(apply_maxpool, (pool_args){3, 2, 1, 0, 0}, GS_DIMS(2, 2, 5, 5), true);
}
Test(gradcheck_pool, maxpool_k3_s1_p1_overlapping) {
    check(apply_maxpool, (pool_args){3, 1, 1, 0, 0}, GS_DIMS(2, 2, 6, 5), true);
}
Test(gradcheck_pool, maxpool_k2_s2_p0) { check(apply_maxpool, (pool_args){2, 2, 0, 0, 0}, GS_DIMS(2, 3, 6, 7), true); }
Test(gradcheck_pool, adaptive_non_divisible) {
    check(apply_adaptive, (pool_args){0, 0, 0, 3, 2}, GS_DIMS(2, 3, 7, 5), false);
}
Test(gradcheck_pool, adaptive_5_to_3) { check(apply_adaptive, (pool_args){0, 0, 0, 3, 3}, GS_DIMS(2, 2, 5, 5), false); }
Test(gradcheck_pool, adaptive_larger_output) {
    check(apply_adaptive, (pool_args){0, 0, 0, 5, 4}, GS_DIMS(2, 2, 3, 3), false);
}
Test(gradcheck_pool, adaptive_divisible) {
    check(apply_adaptive, (pool_args){0, 0, 0, 2, 3}, GS_DIMS(2, 2, 4, 6), false);
}
Test(gradcheck_pool, global_avgpool) { check(apply_global, (pool_args){0}, GS_DIMS(2, 3, 5, 7), false); }

/* Backward must add into existing gradients (see gradcheck_accumulates). */
static void check_accumulates(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n_in, void *user) {
    char msg[256];
    cr_expect(gradcheck_accumulates(ctx, fn, in, n_in, user, msg, sizeof msg), "%s", msg);
}

static void accumulates(gradcheck_fn fn, pool_args args, int ndim, const int64_t *shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 43);
    gs_tensor *x = gradcheck_input(&ctx, ndim, shape, 1.0f, true);
    check_accumulates(&ctx, fn, &x, 1, &args);
    gs_context_free(&ctx);
}

Test(accumulate_pool, maxpool) { accumulates(apply_maxpool, (pool_args){3, 2, 1, 0, 0}, GS_DIMS(2, 3, 7, 9)); }
Test(accumulate_pool, adaptive) { accumulates(apply_adaptive, (pool_args){0, 0, 0, 3, 2}, GS_DIMS(2, 3, 7, 5)); }
Test(accumulate_pool, global) { accumulates(apply_global, (pool_args){0}, GS_DIMS(2, 3, 5, 7)); }

/* Naive max pooling: padding is -inf, so it never wins. */
static void check_maxpool_forward(int64_t n, int64_t c, int64_t h, int64_t w, int k, int s, int p, bool record) {
    gs_context ctx;
    gradcheck_context(&ctx, 17);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(n, c, h, w), 1.0f, record);
    gs_tensor *y = gs_maxpool2d(&ctx, x, k, s, p);
    cr_assert_not_null(y, "%s", ctx.error);
    const int64_t oh_n = (h + 2 * p - k) / s + 1, ow_n = (w + 2 * p - k) / s + 1;
    cr_assert(y->ndim == 4 && y->shape[0] == n && y->shape[1] == c && y->shape[2] == oh_n && y->shape[3] == ow_n);
    int64_t bad = 0;
    for (int64_t plane = 0; plane < n * c; plane++)
        for (int64_t i = 0; i < oh_n; i++)
            for (int64_t j = 0; j < ow_n; j++) {
                float best = -INFINITY;
                for (int kh = 0; kh < k; kh++)
                    for (int kw = 0; kw < k; kw++) {
                        int64_t ih = i * s - p + kh, iw = j * s - p + kw;
                        if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                        float v = x->data[(plane * h + ih) * w + iw];
                        if (v > best) best = v;
                    }
                if (y->data[(plane * oh_n + i) * ow_n + j] != best) bad++;
            }
    cr_expect_eq(bad, 0, "%lld outputs differ from the naive maximum", (long long)bad);
    gs_context_free(&ctx);
}

Test(forward_pool, maxpool_k3_s2_p1_odd) { check_maxpool_forward(2, 3, 7, 9, 3, 2, 1, true); }
Test(forward_pool, maxpool_k3_s2_p1_no_recording) { check_maxpool_forward(2, 3, 9, 7, 3, 2, 1, false); }
Test(forward_pool, maxpool_k2_s2_p0) { check_maxpool_forward(1, 4, 8, 6, 2, 2, 0, true); }
Test(forward_pool, maxpool_k5_s3_p2) { check_maxpool_forward(2, 2, 11, 10, 5, 3, 2, true); }
Test(forward_pool, maxpool_large_planes) { check_maxpool_forward(2, 16, 57, 57, 3, 2, 1, false); }

/* All-negative input: a padded 0 must not win. */
Test(forward_pool, maxpool_padding_never_wins) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 1, 3, 3), 1.0f, false);
    for (int i = 0; i < 9; i++) x->data[i] = -1.0f - (float)i; /* -1 .. -9 */
    gs_tensor *y = gs_maxpool2d(&ctx, x, 3, 2, 1);
    cr_assert_not_null(y);
    /* windows: rows/cols {0,1} and {1,2} */
    const float want[4] = {-1.0f, -2.0f, -4.0f, -5.0f};
    for (int i = 0; i < 4; i++) cr_expect_eq(y->data[i], want[i], "y[%d] = %g, want %g", i, y->data[i], want[i]);
    gs_context_free(&ctx);
}

/* The gradient goes to the maximum only, and accumulates where windows share it. */
Test(forward_pool, maxpool_gradient_routes_to_argmax) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 1, 3, 3), 1.0f, true);
    for (int i = 0; i < 9; i++) x->data[i] = (float)i;
    x->data[4] = 100.0f; /* the center is in all four 2x2 windows of stride 1 */
    gs_tensor *y = gs_maxpool2d(&ctx, x, 2, 1, 0);
    cr_assert_not_null(y);
    const float dy[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    cr_assert_eq(gs_backward_from(&ctx, y, dy), GS_OK);
    for (int i = 0; i < 9; i++) cr_expect_eq(x->grad[i], i == 4 ? 10.0f : 0.0f, "dx[%d] = %g", i, x->grad[i]);
    gs_context_free(&ctx);
}

static void check_adaptive_forward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oh_n, int64_t ow_n) {
    gs_context ctx;
    gradcheck_context(&ctx, 19);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(n, c, h, w), 1.0f, false);
    gs_tensor *y = gs_adaptive_avgpool2d(&ctx, x, oh_n, ow_n);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 4 && y->shape[0] == n && y->shape[1] == c && y->shape[2] == oh_n && y->shape[3] == ow_n);
    int64_t bad = 0;
    for (int64_t plane = 0; plane < n * c; plane++)
        for (int64_t i = 0; i < oh_n; i++)
            for (int64_t j = 0; j < ow_n; j++) {
                int64_t hs = (int64_t)floor((double)i * h / oh_n), he = (int64_t)ceil((double)(i + 1) * h / oh_n);
                int64_t ws = (int64_t)floor((double)j * w / ow_n), we = (int64_t)ceil((double)(j + 1) * w / ow_n);
                double sum = 0.0;
                for (int64_t ih = hs; ih < he; ih++)
                    for (int64_t iw = ws; iw < we; iw++) sum += x->data[(plane * h + ih) * w + iw];
                double ref = sum / (double)((he - hs) * (we - ws));
                if (fabs(y->data[(plane * oh_n + i) * ow_n + j] - ref) > 1e-5 * (1.0 + fabs(ref))) bad++;
            }
    cr_expect_eq(bad, 0, "%lld outputs differ from the naive average", (long long)bad);
    gs_context_free(&ctx);
}

Test(forward_pool, adaptive_7x5_to_3x2) { check_adaptive_forward(2, 3, 7, 5, 3, 2); }
Test(forward_pool, adaptive_10x13_to_4x6) { check_adaptive_forward(2, 3, 10, 13, 4, 6); }
Test(forward_pool, adaptive_3x3_to_5x7) { check_adaptive_forward(1, 2, 3, 3, 5, 7); }
Test(forward_pool, adaptive_to_1x1) { check_adaptive_forward(3, 4, 6, 5, 1, 1); }

/* torch: F.adaptive_avg_pool2d(tensor([1, 2, 3, 4, 5]).view(1, 1, 1, 5), (1, 3))
 * -> bins [0, 2), [1, 4), [3, 5) -> 1.5, 3, 4.5. */
Test(forward_pool, adaptive_hand_values) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 1, 1, 5), 1.0f, false);
    for (int i = 0; i < 5; i++) x->data[i] = (float)(i + 1);
    gs_tensor *y = gs_adaptive_avgpool2d(&ctx, x, 1, 3);
    cr_assert_not_null(y);
    const float want[3] = {1.5f, 3.0f, 4.5f};
    for (int i = 0; i < 3; i++) cr_expect_float_eq(y->data[i], want[i], 1e-6f, "y[%d] = %g", i, y->data[i]);
    gs_context_free(&ctx);
}

Test(forward_pool, global_avgpool_means) {
    gs_context ctx;
    gradcheck_context(&ctx, 23);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 5, 7, 6), 1.0f, false);
    gs_tensor *y = gs_global_avgpool(&ctx, x);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 2 && y->shape[0] == 3 && y->shape[1] == 5);
    for (int64_t plane = 0; plane < 15; plane++) {
        double sum = 0.0;
        for (int64_t i = 0; i < 42; i++) sum += x->data[plane * 42 + i];
        cr_expect(fabs(y->data[plane] - sum / 42.0) < 1e-5, "plane %lld: %g vs %g", (long long)plane,
                  y->data[plane], sum / 42.0);
    }
    gs_context_free(&ctx);
}

static gs_context *shape_ctx(gs_context *ctx, gs_tensor **x3, gs_tensor **x4) {
    gradcheck_context(ctx, 1);
    *x3 = gradcheck_input(ctx, GS_DIMS(3, 5, 5), 1.0f, true);
    *x4 = gradcheck_input(ctx, GS_DIMS(1, 3, 2, 2), 1.0f, true);
    return ctx;
}

static void expect_error(gs_context *ctx, gs_tensor *y, gs_status status, const char *op) {
    cr_expect_null(y);
    cr_expect_eq(ctx->status, status, "status %d: %s", ctx->status, ctx->error);
    cr_expect(strstr(ctx->error, op) != NULL, "message should name %s: %s", op, ctx->error);
    gs_context_free(ctx);
}

Test(shape_pool, maxpool_three_dims) {
    gs_context ctx;
    gs_tensor *x3, *x4;
    shape_ctx(&ctx, &x3, &x4);
    expect_error(&ctx, gs_maxpool2d(&ctx, x3, 3, 2, 1), GS_ERR_SHAPE, "maxpool2d");
}

Test(shape_pool, maxpool_kernel_larger_than_input) {
    gs_context ctx;
    gs_tensor *x3, *x4;
    shape_ctx(&ctx, &x3, &x4);
    expect_error(&ctx, gs_maxpool2d(&ctx, x4, 5, 1, 1), GS_ERR_SHAPE, "maxpool2d");
}

Test(shape_pool, maxpool_padding_over_half_kernel) {
    gs_context ctx;
    gs_tensor *x3, *x4;
    shape_ctx(&ctx, &x3, &x4);
    expect_error(&ctx, gs_maxpool2d(&ctx, x4, 3, 1, 2), GS_ERR_ARGUMENT, "maxpool2d");
}

Test(shape_pool, adaptive_three_dims) {
    gs_context ctx;
    gs_tensor *x3, *x4;
    shape_ctx(&ctx, &x3, &x4);
    expect_error(&ctx, gs_adaptive_avgpool2d(&ctx, x3, 2, 2), GS_ERR_SHAPE, "adaptive_avgpool2d");
}

Test(shape_pool, adaptive_zero_output) {
    gs_context ctx;
    gs_tensor *x3, *x4;
    shape_ctx(&ctx, &x3, &x4);
    expect_error(&ctx, gs_adaptive_avgpool2d(&ctx, x4, 0, 2), GS_ERR_SHAPE, "adaptive_avgpool2d");
}

Test(shape_pool, global_three_dims) {
    gs_context ctx;
    gs_tensor *x3, *x4;
    shape_ctx(&ctx, &x3, &x4);
    expect_error(&ctx, gs_global_avgpool(&ctx, x3), GS_ERR_SHAPE, "global_avgpool");
}

/* As torch: NaN anywhere in a window propagates; among equal maxima the
 * first one (row-major) wins and receives the gradient. */
Test(forward_pool, maxpool_nan_and_ties) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 1, 2, 4), 1.0f, true);
    const float values[8] = {1.0f, NAN, 5.0f, 5.0f, 0.0f, 2.0f, 1.0f, 5.0f};
    memcpy(x->data, values, sizeof values);
    gs_step_begin(&ctx);
    gs_tensor *y = gs_maxpool2d(&ctx, x, 2, 2, 0);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_expect(isnan(y->data[0]), "the window holding NaN must give NaN, got %g", (double)y->data[0]);
    cr_expect_eq(y->data[1], 5.0f);
    const float seed[2] = {0.0f, 1.0f};
    cr_assert_eq(gs_backward_from(&ctx, y, seed), GS_OK, "%s", ctx.error);
    cr_expect_eq(x->grad[2], 1.0f, "the first of the tied maxima gets the gradient");
    cr_expect_eq(x->grad[3], 0.0f);
    cr_expect_eq(x->grad[7], 0.0f);
    gs_context_free(&ctx);
}
