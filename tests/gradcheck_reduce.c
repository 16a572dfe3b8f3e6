/* Gradient and forward checks of sum, mean and sum_last. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

static gs_tensor *apply_sum(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_sum(ctx, in[0]);
}

static gs_tensor *apply_mean(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_mean(ctx, in[0]);
}

static gs_tensor *apply_sum_last(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_sum_last(ctx, in[0]);
}

static void expect_gradcheck(gs_context *ctx, gradcheck_fn fn, gs_tensor *x) {
    gradcheck_report report;
    cr_expect(gradcheck_run(ctx, fn, &x, 1, NULL, NULL, &report), "%s", report.message);
    cr_expect_eq(report.checked, x->numel);
}

static double naive_sum(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}

Test(gradcheck_reduce, sum_and_mean) {
    gs_context ctx;
    gradcheck_context(&ctx, 41);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 5, 7), 1.0f, true);
    gs_tensor *s = gs_sum(&ctx, x), *m = gs_mean(&ctx, x);
    cr_assert(s && m, "%s", ctx.error);
    cr_expect(s->ndim == 0 && s->numel == 1 && m->ndim == 0 && m->numel == 1);
    double want = naive_sum(x->data, x->numel);
    cr_expect(fabs(s->data[0] - want) <= 1e-5, "sum %g, expected %g", s->data[0], want);
    cr_expect(fabs(m->data[0] - want / 105) <= 1e-6, "mean %g, expected %g", m->data[0], want / 105);
    /* A scalar loss: backward gives exactly 1 / numel to every element. */
    cr_assert_eq(gs_backward(&ctx, m), GS_OK, "%s", ctx.error);
    for (int64_t i = 0; i < x->numel; i++) cr_expect_float_eq(x->grad[i], 1.0f / 105, 1e-9);
    expect_gradcheck(&ctx, apply_sum, x);
    expect_gradcheck(&ctx, apply_mean, x);
    gs_context_free(&ctx);
}

Test(gradcheck_reduce, sum_last) {
    gs_context ctx;
    gradcheck_context(&ctx, 42);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 5), 1.0f, true);
    gs_tensor *y = gs_sum_last(&ctx, x);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 3);
    for (int r = 0; r < 6; r++) cr_expect_float_eq(y->data[r], (float)naive_sum(x->data + r * 5, 5), 1e-5);
    expect_gradcheck(&ctx, apply_sum_last, x);
    gs_tensor *v = gradcheck_input(&ctx, GS_DIMS(7), 1.0f, true);
    gs_step_begin(&ctx);
    gs_tensor *s = gs_sum_last(&ctx, v);
    cr_assert_not_null(s, "%s", ctx.error);
    cr_expect(s->ndim == 0 && s->numel == 1);
    cr_expect_float_eq(s->data[0], (float)naive_sum(v->data, 7), 1e-5);
    expect_gradcheck(&ctx, apply_sum_last, v);
    gs_context_free(&ctx);
}

/* Long rows go through the blocked path; the bits must not depend on the
 * thread count. */
Test(gradcheck_reduce, long_sums_are_accurate_and_thread_independent) {
    float results[2][3];
    for (int threads = 1; threads <= 2; threads++) {
        gs_context ctx;
        gs_context_options options = {.n_threads = threads, .seed = 43};
        gs_context_init(&ctx, &options);
        gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 100003), 1.0f, true);
        gs_tensor *row = gradcheck_input(&ctx, GS_DIMS(1, 200001), 1.0f, true);
        gs_tensor *s = gs_sum(&ctx, x), *m = gs_mean(&ctx, x), *l = gs_sum_last(&ctx, row);
        cr_assert(s && m && l, "%s", ctx.error);
        double want = naive_sum(x->data, x->numel), want_row = naive_sum(row->data, row->numel);
        cr_expect(fabs(s->data[0] - want) <= 1e-6 * fabs(want) + 1e-3, "sum %.9g, expected %.9g", s->data[0], want);
        cr_expect(fabs(m->data[0] - want / x->numel) <= 1e-6, "mean %.9g", m->data[0]);
        cr_expect(fabs(l->data[0] - want_row) <= 1e-6 * fabs(want_row) + 1e-3, "sum_last %.9g, expected %.9g",
                  l->data[0], want_row);
        results[threads - 1][0] = s->data[0];
        results[threads - 1][1] = m->data[0];
        results[threads - 1][2] = l->data[0];
        /* The backward of a long mean spreads the same value everywhere. */
        cr_assert_eq(gs_backward(&ctx, m), GS_OK, "%s", ctx.error);
        for (int64_t i = 0; i < x->numel; i += 9973) cr_expect_eq(x->grad[i], (float)(1.0 / x->numel));
        gs_context_free(&ctx);
    }
    for (int i = 0; i < 3; i++)
        cr_expect_eq(memcmp(&results[0][i], &results[1][i], sizeof(float)), 0, "result %d: %.9g vs %.9g", i,
                     results[0][i], results[1][i]);
}

Test(gradcheck_reduce, sum_last_of_a_scalar_fails_cleanly) {
    gs_context ctx;
    gradcheck_context(&ctx, 44);
    gs_tensor *v = gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true);
    gs_tensor *s = gs_sum(&ctx, v);
    cr_assert_not_null(s, "%s", ctx.error);
    cr_expect_null(gs_sum_last(&ctx, s));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
