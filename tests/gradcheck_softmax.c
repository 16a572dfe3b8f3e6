/* Gradient checks and forward values of softmax and log-softmax. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

static gs_tensor *apply_softmax(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_softmax(ctx, in[0]);
}

static gs_tensor *apply_log_softmax(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_log_softmax(ctx, in[0]);
}

static void check(gradcheck_fn fn, int ndim, const int64_t *shape, float scale) {
    gs_context ctx;
    gradcheck_context(&ctx, 11);
    gs_tensor *x = gradcheck_input(&ctx, ndim, shape, scale, true);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, fn, &x, 1, NULL, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_gt(report.checked, 0);
    gs_context_free(&ctx);
}

Test(gradcheck_softmax, softmax_odd_shape) { check(apply_softmax, GS_DIMS(3, 5, 7), 1.0f); }
Test(gradcheck_softmax, softmax_wide_logits) { check(apply_softmax, GS_DIMS(4, 9), 3.0f); }
Test(gradcheck_softmax, log_softmax_odd_shape) { check(apply_log_softmax, GS_DIMS(3, 5, 7), 1.0f); }
Test(gradcheck_softmax, log_softmax_wide_logits) { check(apply_log_softmax, GS_DIMS(2, 1, 11), 3.0f); }

static gs_tensor *row_of(gs_context *ctx, int64_t d, const float *values) {
    gs_tensor *t = gs_tensor_new(ctx, &ctx->params, 2, (int64_t[]){1, d});
    memcpy(t->data, values, (size_t)d * sizeof(float));
    return t;
}

static void expect_row(const gs_tensor *y, const double *want, int64_t d, double tol) {
    cr_assert_not_null(y);
    for (int64_t j = 0; j < d; j++) {
        cr_expect(isfinite(y->data[j]), "element %lld is %g", (long long)j, (double)y->data[j]);
        cr_expect(fabs(y->data[j] - want[j]) <= tol, "element %lld: got %.9g, want %.9g", (long long)j,
                  (double)y->data[j], want[j]);
    }
}

Test(gradcheck_softmax, forward_small_row_by_hand) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = row_of(&ctx, 3, (float[]){1.0f, 2.0f, 3.0f});
    /* e^k / (e + e^2 + e^3) and k - 3 - log(1 + e^-1 + e^-2) */
    expect_row(gs_softmax(&ctx, x), (double[]){0.0900305732, 0.2447284711, 0.6652409558}, 3, 1e-6);
    expect_row(gs_log_softmax(&ctx, x), (double[]){-2.4076059644, -1.4076059644, -0.4076059644}, 3, 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_softmax, large_logits_stay_finite) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = row_of(&ctx, 2, (float[]){1000.0f, 1001.0f});
    /* 1 / (1 + e) and e / (1 + e); log: -log(1 + e), -log(1 + e^-1) */
    expect_row(gs_softmax(&ctx, x), (double[]){0.2689414214, 0.7310585786}, 2, 1e-6);
    expect_row(gs_log_softmax(&ctx, x), (double[]){-1.3132616875, -0.3132616875}, 2, 1e-6);
    /* log(softmax) would give -inf for the first entry here. */
    gs_tensor *far = row_of(&ctx, 2, (float[]){-1000.0f, 0.0f});
    expect_row(gs_log_softmax(&ctx, far), (double[]){-1000.0, 0.0}, 2, 1e-4);
    expect_row(gs_softmax(&ctx, far), (double[]){0.0, 1.0}, 2, 1e-7);
    cr_expect(!gs_failed(&ctx), "%s", ctx.error);
    gs_context_free(&ctx);
}

/* Rows must be independent and the parallel path must match a naive loop. */
Test(gradcheck_softmax, forward_many_rows_against_naive_loop) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    int64_t rows = 200, d = 131;
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(rows, d), 4.0f, false);
    gs_tensor *y = gs_softmax(&ctx, x), *ly = gs_log_softmax(&ctx, x);
    cr_assert(y && ly);
    for (int64_t r = 0; r < rows; r++) {
        double sum = 0.0;
        for (int64_t j = 0; j < d; j++) sum += exp((double)x->data[r * d + j]);
        for (int64_t j = 0; j < d; j++) {
            double p = exp((double)x->data[r * d + j]) / sum;
            cr_expect(fabs(y->data[r * d + j] - p) <= 1e-6 + 1e-5 * p, "softmax row %lld col %lld", (long long)r,
                      (long long)j);
            cr_expect(fabs(ly->data[r * d + j] - log(p)) <= 1e-5, "log_softmax row %lld col %lld", (long long)r,
                      (long long)j);
        }
    }
    gs_context_free(&ctx);
}

Test(gradcheck_softmax, scalar_input_is_a_shape_error) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    int64_t none[1] = {1};
    gs_tensor *x = gs_tensor_new(&ctx, &ctx.params, 0, none);
    cr_assert_not_null(x);
    cr_expect_null(gs_softmax(&ctx, x));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_log_softmax(&ctx, x));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
