/* Per-channel spatial mean and variance: finite-difference gradients (both
 * variance conventions, one and several samples, a 1 x k map), forward values
 * against a double-precision reference, and the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

typedef struct stats_case {
    int64_t n, c, h, w;
    bool unbiased;
} stats_case;

static gs_tensor *apply_stats(gs_context *ctx, gs_tensor *const *in, void *user) {
    const stats_case *c = user;
    return gs_channel_mean_var(ctx, in[0], c->unbiased);
}

static void check_gradients(stats_case c) {
    gs_context ctx;
    gradcheck_context(&ctx, 17);
    /* An offset mean: the variance's gradient must not depend on it. */
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(c.n, c.c, c.h, c.w), 1.0f, true);
    for (int64_t i = 0; i < x->numel; i++) x->data[i] += 3.0f;
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_stats, &x, 1, &c, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, x->numel);
    cr_expect_eq(report.skipped, 0);
    gs_context_free(&ctx);
}

Test(gradcheck_channel_stats, unbiased) { check_gradients((stats_case){2, 3, 4, 5, true}); }
Test(gradcheck_channel_stats, biased) { check_gradients((stats_case){2, 3, 4, 5, false}); }
Test(gradcheck_channel_stats, one_sample_one_row) { check_gradients((stats_case){1, 4, 1, 6, true}); }
Test(gradcheck_channel_stats, large_planes_threaded) { check_gradients((stats_case){3, 2, 17, 19, true}); }

Test(accumulate_channel_stats, adds_into_existing_gradients) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 4, 4), 1.0f, true);
    stats_case c = {2, 3, 4, 4, true};
    char msg[256];
    cr_expect(gradcheck_accumulates(&ctx, apply_stats, &x, 1, &c, msg, sizeof msg), "%s", msg);
    gs_context_free(&ctx);
}

static void check_forward(int64_t n, int64_t c, int64_t h, int64_t w, bool unbiased) {
    gs_context ctx;
    gradcheck_context(&ctx, 9);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(n, c, h, w), 2.0f, false);
    for (int64_t i = 0; i < x->numel; i++) x->data[i] += 100.0f; /* large mean, small spread */
    gs_tensor *y = gs_channel_mean_var(&ctx, x, unbiased);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 2 && y->shape[0] == n && y->shape[1] == 2 * c);
    const int64_t hw = h * w;
    for (int64_t s = 0; s < n; s++)
        for (int64_t ch = 0; ch < c; ch++) {
            const float *p = x->data + (s * c + ch) * hw;
            double mean = 0.0, var = 0.0;
            for (int64_t i = 0; i < hw; i++) mean += p[i];
            mean /= (double)hw;
            for (int64_t i = 0; i < hw; i++) var += (p[i] - mean) * (p[i] - mean);
            var /= (double)(unbiased ? hw - 1 : hw);
            cr_expect(fabs(y->data[s * 2 * c + ch] - mean) <= 1e-6 * fabs(mean), "mean %g vs %g",
                      (double)y->data[s * 2 * c + ch], mean);
            cr_expect(fabs(y->data[s * 2 * c + c + ch] - var) <= 1e-5 * var, "variance %g vs %g",
                      (double)y->data[s * 2 * c + c + ch], var);
        }
    gs_context_free(&ctx);
}

Test(forward_channel_stats, unbiased_large_mean) { check_forward(3, 4, 9, 7, true); }
Test(forward_channel_stats, biased) { check_forward(2, 5, 6, 6, false); }

/* A constant map: mean = the constant, variance exactly 0. */
Test(forward_channel_stats, constant_map) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 2, 3, 3), 1.0f, false);
    gs_tensor_fill(x, 2.5f);
    gs_tensor *y = gs_channel_mean_var(&ctx, x, true);
    cr_assert_not_null(y);
    cr_expect(y->data[0] == 2.5f && y->data[1] == 2.5f && y->data[2] == 0.0f && y->data[3] == 0.0f);
    gs_context_free(&ctx);
}

Test(shape_channel_stats, errors) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *flat = gradcheck_input(&ctx, GS_DIMS(2, 3), 1.0f, false);
    cr_expect_null(gs_channel_mean_var(&ctx, flat, true));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    cr_expect(strstr(ctx.error, "channel_mean_var") != NULL, "%s", ctx.error);
    gs_context_free(&ctx);
    gradcheck_context(&ctx, 1);
    gs_tensor *one = gradcheck_input(&ctx, GS_DIMS(2, 3, 1, 1), 1.0f, false);
    cr_expect_null(gs_channel_mean_var(&ctx, one, true), "one position has no unbiased variance");
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_context_free(&ctx);
    gradcheck_context(&ctx, 1);
    one = gradcheck_input(&ctx, GS_DIMS(2, 3, 1, 1), 1.0f, false);
    cr_expect_not_null(gs_channel_mean_var(&ctx, one, false), "%s", ctx.error);
    gs_context_free(&ctx);
}
