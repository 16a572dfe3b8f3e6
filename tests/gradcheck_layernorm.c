/* Gradient checks and forward values of layer normalization. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

#define LN_EPS 1e-5f

static gs_tensor *apply_layernorm(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_layernorm(ctx, in[0], in[1], in[2], LN_EPS);
}

static gs_tensor *apply_layernorm_plain(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_layernorm(ctx, in[0], NULL, NULL, LN_EPS);
}

/* x, gamma and beta all differentiable. */
static void check_affine(int ndim, const int64_t *shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 21);
    int64_t d = shape[ndim - 1];
    gs_tensor *in[3] = {
        gradcheck_input(&ctx, ndim, shape, 1.0f, true),
        gradcheck_input(&ctx, GS_DIMS(d), 1.0f, true),
        gradcheck_input(&ctx, GS_DIMS(d), 1.0f, true),
    };
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_layernorm, in, 3, NULL, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, in[0]->numel + 2 * d);
    gs_context_free(&ctx);
}

Test(gradcheck_layernorm, affine_three_dims) { check_affine(GS_DIMS(2, 5, 7)); }
Test(gradcheck_layernorm, affine_two_dims) { check_affine(GS_DIMS(3, 9)); }
Test(gradcheck_layernorm, affine_four_dims) { check_affine(GS_DIMS(2, 1, 3, 5)); }

Test(gradcheck_layernorm, without_affine) {
    gs_context ctx;
    gradcheck_context(&ctx, 22);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 4, 5), 1.0f, true);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_layernorm_plain, &x, 1, NULL, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_gt(report.checked, 0);
    gs_context_free(&ctx);
}

/* Only gamma and beta differentiable: the parameter pass alone. */
Test(gradcheck_layernorm, parameters_only) {
    gs_context ctx;
    gradcheck_context(&ctx, 23);
    gs_tensor *in[3] = {
        gradcheck_input(&ctx, GS_DIMS(5, 3, 7), 1.0f, false),
        gradcheck_input(&ctx, GS_DIMS(7), 1.0f, true),
        gradcheck_input(&ctx, GS_DIMS(7), 1.0f, true),
    };
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_layernorm, in, 3, NULL, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, 14);
    gs_context_free(&ctx);
}

/* x = (0, 1): mean 0.5, biased variance 0.25; with eps 0.75 inside the root
 * the scale is exactly 1 (unbiased variance or eps outside would differ). */
Test(gradcheck_layernorm, forward_by_hand) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gs_tensor_new(&ctx, &ctx.params, GS_DIMS(2, 2));
    gs_tensor *gamma = gs_tensor_new(&ctx, &ctx.params, GS_DIMS(2));
    gs_tensor *beta = gs_tensor_new(&ctx, &ctx.params, GS_DIMS(2));
    memcpy(x->data, (float[]){0.0f, 1.0f, 4.0f, 2.0f}, 4 * sizeof(float));
    memcpy(gamma->data, (float[]){2.0f, 3.0f}, 2 * sizeof(float));
    memcpy(beta->data, (float[]){0.5f, -1.0f}, 2 * sizeof(float));
    gs_tensor *y = gs_layernorm(&ctx, x, gamma, beta, 0.75f);
    cr_assert_not_null(y, "%s", ctx.error);
    /* row 1: mean 3, variance 1, scale 1 / sqrt(1.75) */
    double s = 1.0 / sqrt(1.75);
    double want[4] = {2.0 * -0.5 + 0.5, 3.0 * 0.5 - 1.0, 2.0 * s + 0.5, 3.0 * -s - 1.0};
    for (int i = 0; i < 4; i++)
        cr_expect(fabs(y->data[i] - want[i]) < 1e-6, "element %d: got %.8g, want %.8g", i, (double)y->data[i],
                  want[i]);
    gs_context_free(&ctx);
}

static void naive_layernorm(int64_t rows, int64_t d, const float *x, const float *g, const float *b, double eps,
                            double *y) {
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0.0, var = 0.0;
        for (int64_t j = 0; j < d; j++) mean += x[r * d + j];
        mean /= (double)d;
        for (int64_t j = 0; j < d; j++) var += (x[r * d + j] - mean) * (x[r * d + j] - mean);
        var /= (double)d;
        for (int64_t j = 0; j < d; j++) y[r * d + j] = (x[r * d + j] - mean) / sqrt(var + eps) * g[j] + b[j];
    }
}

/* Large enough for the threaded paths; values offset by 100 so a one-pass
 * E[x^2] - E[x]^2 variance in float would lose digits. */
static void run_large(int threads, gs_tensor **out_y, float **grads, gs_context *ctx) {
    gs_context_options options = {.n_threads = threads, .seed = 31};
    gs_context_init(ctx, &options);
    int64_t rows = 96, d = 301;
    gs_tensor *in[3] = {
        gradcheck_input(ctx, GS_DIMS(rows, d), 1.0f, true),
        gradcheck_input(ctx, GS_DIMS(d), 1.0f, true),
        gradcheck_input(ctx, GS_DIMS(d), 1.0f, true),
    };
    for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] += 100.0f;
    gs_tensor *y = gs_layernorm(ctx, in[0], in[1], in[2], LN_EPS);
    cr_assert_not_null(y, "%s", ctx->error);
    float *seed = gs_arena_alloc(&ctx->activations, (size_t)y->numel * sizeof(float));
    for (int64_t i = 0; i < y->numel; i++) seed[i] = (float)((i * 7919) % 13) - 6.0f;
    gs_backward_from(ctx, y, seed);
    cr_assert(!gs_failed(ctx), "%s", ctx->error);
    *out_y = y;
    for (int i = 0; i < 3; i++) grads[i] = in[i]->grad;
    if (threads == 1) {
        double *want = malloc((size_t)y->numel * sizeof *want);
        naive_layernorm(rows, d, in[0]->data, in[1]->data, in[2]->data, LN_EPS, want);
        for (int64_t i = 0; i < y->numel; i++)
            cr_expect(fabs(y->data[i] - want[i]) <= 1e-4 * (1.0 + fabs(want[i])), "element %lld: %.7g vs %.7g",
                      (long long)i, (double)y->data[i], want[i]);
        free(want);
    }
}

Test(gradcheck_layernorm, large_forward_naive_and_threads_bitwise_equal) {
    gs_context one, two;
    gs_tensor *y1, *y2;
    float *g1[3], *g2[3];
    run_large(1, &y1, g1, &one);
    run_large(2, &y2, g2, &two);
    cr_expect(memcmp(y1->data, y2->data, (size_t)y1->numel * sizeof(float)) == 0, "forward differs by threads");
    int64_t sizes[3] = {y1->numel, y1->shape[1], y1->shape[1]};
    for (int i = 0; i < 3; i++)
        cr_expect(memcmp(g1[i], g2[i], (size_t)sizes[i] * sizeof(float)) == 0, "gradient %d differs by threads", i);
    gs_context_free(&one);
    gs_context_free(&two);
}

Test(gradcheck_layernorm, wrong_gamma_is_a_shape_error) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 5, 7), 1.0f, true);
    gs_tensor *gamma = gradcheck_input(&ctx, GS_DIMS(6), 1.0f, true);
    gs_tensor *beta = gradcheck_input(&ctx, GS_DIMS(7), 1.0f, true);
    cr_expect_null(gs_layernorm(&ctx, x, gamma, beta, LN_EPS));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    cr_expect(strstr(ctx.error, "layernorm") != NULL, "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_layernorm(&ctx, x, beta, gamma, LN_EPS));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
