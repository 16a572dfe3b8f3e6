/* Gradient checks of batch normalization in both modes and layouts, the
 * running-statistics update, and the eval formula. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct bn_arg {
    gs_tensor *running_mean, *running_var;
    bool training;
} bn_arg;

/* in: x, gamma, beta.  In training mode every call also moves the running
 * statistics, which the output does not read. */
static gs_tensor *apply_bn(gs_context *ctx, gs_tensor *const *in, void *user) {
    bn_arg *a = user;
    return gs_batchnorm(ctx, in[0], in[1], in[2], a->running_mean, a->running_var, a->training, BN_MOMENTUM,
                        BN_EPS);
}

static gs_tensor *apply_bn_plain(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_batchnorm(ctx, in[0], NULL, NULL, NULL, NULL, true, BN_MOMENTUM, BN_EPS);
}

/* Running statistics away from 0 and 1, so eval mode is not the identity. */
static void make_running(gs_context *ctx, int64_t c, gs_tensor **mean, gs_tensor **var) {
    *mean = gs_tensor_new(ctx, &ctx->params, GS_DIMS(c));
    *var = gs_tensor_new(ctx, &ctx->params, GS_DIMS(c));
    for (int64_t i = 0; i < c; i++) {
        (*mean)->data[i] = 0.3f * (float)i - 0.2f;
        (*var)->data[i] = 0.5f + 0.4f * (float)i;
    }
}

static void check(bool training, int ndim, const int64_t *shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 51);
    int64_t c = shape[1];
    bn_arg arg = {.training = training};
    make_running(&ctx, c, &arg.running_mean, &arg.running_var);
    gs_tensor *in[3] = {
        gradcheck_input(&ctx, ndim, shape, 1.0f, true),
        gradcheck_input(&ctx, GS_DIMS(c), 1.0f, true),
        gradcheck_input(&ctx, GS_DIMS(c), 1.0f, true),
    };
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_bn, in, 3, &arg, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, in[0]->numel + 2 * c);
    cr_expect_eq(report.skipped, 0);
    gs_context_free(&ctx);
}

Test(gradcheck_batchnorm, train_1d_flat) { check(true, GS_DIMS(5, 3)); }
Test(gradcheck_batchnorm, train_1d_sequence) { check(true, GS_DIMS(3, 2, 5)); }
Test(gradcheck_batchnorm, train_2d_odd) { check(true, GS_DIMS(2, 3, 5, 3)); }
Test(gradcheck_batchnorm, eval_1d_flat) { check(false, GS_DIMS(5, 3)); }
Test(gradcheck_batchnorm, eval_1d_sequence) { check(false, GS_DIMS(3, 2, 5)); }
Test(gradcheck_batchnorm, eval_2d_odd) { check(false, GS_DIMS(2, 3, 5, 3)); }

Test(gradcheck_batchnorm, train_without_affine_or_running_stats) {
    gs_context ctx;
    gradcheck_context(&ctx, 52);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(7, 4), 1.0f, true);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_bn_plain, &x, 1, NULL, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, 28);
    gs_context_free(&ctx);
}

static gs_tensor *tensor_of(gs_context *ctx, int ndim, const int64_t *shape, const float *values) {
    gs_tensor *t = gs_tensor_new(ctx, &ctx->params, ndim, shape);
    memcpy(t->data, values, (size_t)t->numel * sizeof(float));
    return t;
}

static void expect_near(double got, double want, double tol, const char *what) {
    cr_expect(fabs(got - want) <= tol, "%s: got %.9g, want %.9g", what, got, want);
}

/* (N, C) = (4, 2): channel 0 is 1..4 (mean 2.5, biased variance 1.25,
 * unbiased 5/3), channel 1 is 2, 4, 6, 8 (mean 5, variance 5 and 20/3). */
Test(gradcheck_batchnorm, running_stats_after_one_training_forward) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = tensor_of(&ctx, GS_DIMS(4, 2), (float[]){1, 2, 2, 4, 3, 6, 4, 8});
    gs_tensor *gamma = tensor_of(&ctx, GS_DIMS(2), (float[]){1.5f, 1});
    gs_tensor *beta = tensor_of(&ctx, GS_DIMS(2), (float[]){0, -2});
    gs_tensor *rm = tensor_of(&ctx, GS_DIMS(2), (float[]){0, 1});
    gs_tensor *rv = tensor_of(&ctx, GS_DIMS(2), (float[]){1, 2});
    gs_tensor *y = gs_batchnorm(&ctx, x, gamma, beta, rm, rv, true, 0.1f, 1e-5f);
    cr_assert_not_null(y, "%s", ctx.error);
    expect_near(rm->data[0], 0.9 * 0 + 0.1 * 2.5, 1e-6, "running_mean[0]");
    expect_near(rm->data[1], 0.9 * 1 + 0.1 * 5.0, 1e-6, "running_mean[1]");
    expect_near(rv->data[0], 0.9 * 1 + 0.1 * (5.0 / 3.0), 1e-6, "running_var[0]");
    expect_near(rv->data[1], 0.9 * 2 + 0.1 * (20.0 / 3.0), 1e-6, "running_var[1]");
    /* The output uses the biased variance. */
    for (int i = 0; i < 4; i++) {
        expect_near(y->data[2 * i], 1.5 * ((i + 1) - 2.5) / sqrt(1.25 + 1e-5), 1e-5, "y channel 0");
        expect_near(y->data[2 * i + 1], (2.0 * (i + 1) - 5.0) / sqrt(5.0 + 1e-5) - 2.0, 1e-5, "y channel 1");
    }
    gs_context_free(&ctx);
}

/* The unbiased correction counts every value of a channel, N * H * W = 4,
 * not N = 2: x = (2, 1, 1, 2) holds 1, 2 | 3, 4. */
Test(gradcheck_batchnorm, running_var_counts_spatial_values) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = tensor_of(&ctx, GS_DIMS(2, 1, 1, 2), (float[]){1, 2, 3, 4});
    gs_tensor *rm = tensor_of(&ctx, GS_DIMS(1), (float[]){0});
    gs_tensor *rv = tensor_of(&ctx, GS_DIMS(1), (float[]){1});
    gs_tensor *y = gs_batchnorm(&ctx, x, NULL, NULL, rm, rv, true, 0.25f, 0.0f);
    cr_assert_not_null(y, "%s", ctx.error);
    expect_near(rm->data[0], 0.25 * 2.5, 1e-6, "running_mean");
    expect_near(rv->data[0], 0.75 + 0.25 * (5.0 / 3.0), 1e-6, "running_var");
    expect_near(y->data[0], -1.5 / sqrt(1.25), 1e-6, "y[0]");
    gs_context_free(&ctx);
}

/* Eval mode against (x - rm) / sqrt(rv + eps) * gamma + beta, and the
 * running statistics are left alone. */
Test(gradcheck_batchnorm, eval_forward_matches_naive_formula) {
    gs_context ctx;
    gradcheck_context(&ctx, 53);
    int64_t n = 3, c = 4, h = 3, w = 5;
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(n, c, h, w), 2.0f, false);
    gs_tensor *gamma = gradcheck_input(&ctx, GS_DIMS(c), 1.0f, false);
    gs_tensor *beta = gradcheck_input(&ctx, GS_DIMS(c), 1.0f, false);
    gs_tensor *rm, *rv;
    make_running(&ctx, c, &rm, &rv);
    float rm0[4], rv0[4];
    memcpy(rm0, rm->data, sizeof rm0);
    memcpy(rv0, rv->data, sizeof rv0);
    gs_tensor *y = gs_batchnorm(&ctx, x, gamma, beta, rm, rv, false, 0.1f, 1e-3f);
    cr_assert_not_null(y, "%s", ctx.error);
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t k = 0; k < h * w; k++) {
                int64_t at = (i * c + ch) * h * w + k;
                double want = (x->data[at] - (double)rm0[ch]) / sqrt((double)rv0[ch] + 1e-3) * gamma->data[ch] +
                              beta->data[ch];
                expect_near(y->data[at], want, 1e-5 * (1.0 + fabs(want)), "eval y");
            }
    cr_expect(memcmp(rm0, rm->data, sizeof rm0) == 0 && memcmp(rv0, rv->data, sizeof rv0) == 0,
              "eval mode changed the running statistics");
    gs_context_free(&ctx);
}

/* Large enough for the threaded path: train forward against a naive double
 * loop, and outputs, running stats and gradients bitwise equal for 1 and 2
 * threads.  An offset of 50 would break a one-pass float variance. */
static void run_large(gs_context *ctx, int threads, float **out) {
    gs_context_options options = {.n_threads = threads, .seed = 61};
    gs_context_init(ctx, &options);
    int64_t n = 6, c = 5, hw = 29 * 31;
    gs_tensor *x = gradcheck_input(ctx, GS_DIMS(n, c, 29, 31), 1.0f, true);
    gs_tensor *gamma = gradcheck_input(ctx, GS_DIMS(c), 1.0f, true);
    gs_tensor *beta = gradcheck_input(ctx, GS_DIMS(c), 1.0f, true);
    for (int64_t i = 0; i < x->numel; i++) x->data[i] += 50.0f;
    gs_tensor *rm, *rv;
    make_running(ctx, c, &rm, &rv);
    gs_tensor *y = gs_batchnorm(ctx, x, gamma, beta, rm, rv, true, 0.1f, 1e-5f);
    cr_assert_not_null(y, "%s", ctx->error);
    float *seed = gs_arena_alloc(&ctx->activations, (size_t)y->numel * sizeof(float));
    for (int64_t i = 0; i < y->numel; i++) seed[i] = (float)((i * 7919) % 13) - 6.0f;
    gs_backward_from(ctx, y, seed);
    cr_assert(!gs_failed(ctx), "%s", ctx->error);
    out[0] = y->data;
    out[1] = x->grad;
    out[2] = gamma->grad;
    out[3] = beta->grad;
    out[4] = rv->data;
    for (int64_t ch = 0; ch < c; ch++) {
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < hw; k++) mean += x->data[(i * c + ch) * hw + k];
        mean /= (double)(n * hw);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < hw; k++) {
                double d = x->data[(i * c + ch) * hw + k] - mean;
                var += d * d;
            }
        var /= (double)(n * hw);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < hw; k += 97) {
                int64_t at = (i * c + ch) * hw + k;
                double want = (x->data[at] - mean) / sqrt(var + 1e-5) * gamma->data[ch] + beta->data[ch];
                expect_near(y->data[at], want, 2e-4 * (1.0 + fabs(want)), "large train y");
            }
    }
}

Test(gradcheck_batchnorm, large_train_naive_and_threads_bitwise_equal) {
    gs_context one, two;
    float *a[5], *b[5];
    run_large(&one, 1, a);
    run_large(&two, 2, b);
    int64_t sizes[5] = {6 * 5 * 29 * 31, 6 * 5 * 29 * 31, 5, 5, 5};
    const char *names[5] = {"y", "dx", "dgamma", "dbeta", "running_var"};
    for (int i = 0; i < 5; i++)
        cr_expect(memcmp(a[i], b[i], (size_t)sizes[i] * sizeof(float)) == 0, "%s differs by threads", names[i]);
    gs_context_free(&one);
    gs_context_free(&two);
}

Test(gradcheck_batchnorm, wrong_shapes_are_shape_errors) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(4, 3, 5, 5), 1.0f, true);
    gs_tensor *g4 = gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true);
    gs_tensor *g3 = gradcheck_input(&ctx, GS_DIMS(3), 1.0f, true);
    gs_tensor *rm, *rv;
    make_running(&ctx, 3, &rm, &rv);
    cr_expect_null(gs_batchnorm(&ctx, x, g4, g3, rm, rv, true, 0.1f, 1e-5f));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    cr_expect(strstr(ctx.error, "batchnorm") && strstr(ctx.error, "(4, 3, 5, 5)") && strstr(ctx.error, "(4)"), "%s",
              ctx.error);
    gs_clear_error(&ctx);
    gs_tensor *flat = gradcheck_input(&ctx, GS_DIMS(12), 1.0f, true);
    cr_expect_null(gs_batchnorm(&ctx, flat, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_clear_error(&ctx);
    /* One value per channel cannot be normalized by batch statistics. */
    gs_tensor *single = gradcheck_input(&ctx, GS_DIMS(1, 3), 1.0f, true);
    cr_expect_null(gs_batchnorm(&ctx, single, g3, g3, rm, rv, true, 0.1f, 1e-5f));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_not_null(gs_batchnorm(&ctx, single, g3, g3, rm, rv, false, 0.1f, 1e-5f), "%s", ctx.error);
    gs_context_free(&ctx);
}

/* relu(batchnorm(x)) fused: gradients by finite differences, and the same
 * values as the two ops composed. */
static gs_tensor *apply_bn_relu(gs_context *ctx, gs_tensor *const *in, void *user) {
    bool training = *(bool *)user;
    return gs_batchnorm_relu(ctx, in[0], in[1], in[2], in[3], in[4], training, 0.1f, 1e-5f);
}

static void check_bn_relu(bool training) {
    gs_context ctx;
    gradcheck_context(&ctx, 21);
    gs_tensor *in[5] = {
        gradcheck_input(&ctx, GS_DIMS(3, 4, 5, 3), 1.0f, true), gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true),
        gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true),          gradcheck_input(&ctx, GS_DIMS(4), 0.1f, false),
        gradcheck_input(&ctx, GS_DIMS(4), 0.1f, false)};
    for (int i = 0; i < 4; i++) in[4]->data[i] = 1.0f + fabsf(in[4]->data[i]);
    gradcheck_report report;
    /* gamma scales 45 values each: a step of 1e-2 moves some across the
     * relu's kink, so take a finer one. */
    gradcheck_options opt = {.eps = 1e-3f};
    cr_expect(gradcheck_run(&ctx, apply_bn_relu, in, 5, &training, &opt, &report), "%s", report.message);
    gs_step_begin(&ctx);
    bool previous = gs_set_grad_enabled(&ctx, false);
    gs_tensor *fused = gs_batchnorm_relu(&ctx, in[0], in[1], in[2], in[3], in[4], false, 0.1f, 1e-5f);
    gs_tensor *composed = gs_relu(&ctx, gs_batchnorm(&ctx, in[0], in[1], in[2], in[3], in[4], false, 0.1f, 1e-5f));
    gs_set_grad_enabled(&ctx, previous);
    for (int64_t i = 0; i < fused->numel; i++) cr_expect_eq(fused->data[i], composed->data[i]);
    gs_context_free(&ctx);
}

Test(gradcheck_batchnorm, fused_relu_train) { check_bn_relu(true); }
Test(gradcheck_batchnorm, fused_relu_eval) { check_bn_relu(false); }
