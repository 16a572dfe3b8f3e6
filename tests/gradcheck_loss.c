/* Gradient checks and forward values of the losses. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

typedef struct ce_args {
    const int32_t *labels;
    int32_t ignore_index;
} ce_args;

static gs_tensor *apply_ce(gs_context *ctx, gs_tensor *const *in, void *user) {
    const ce_args *a = user;
    return gs_cross_entropy(ctx, in[0], a->labels, a->ignore_index);
}

static gs_tensor *apply_soft_ce(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_cross_entropy_soft(ctx, in[0], in[1]);
}

static gs_tensor *apply_bce(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_bce_with_logits(ctx, in[0], in[1]);
}

static gs_tensor *apply_mse(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_mse(ctx, in[0], in[1]);
}

static void expect_gradcheck(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n_in, void *user) {
    gradcheck_report report;
    bool ok = gradcheck_run(ctx, fn, in, n_in, user, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_gt(report.checked, 0);
    cr_expect_eq(report.skipped, 0, "%lld elements skipped on a smooth loss", report.skipped);
}

/* A tensor in the parameter arena with values uniform in [lo, hi). */
static gs_tensor *uniform_input(gs_context *ctx, int ndim, const int64_t *shape, float lo, float hi, bool grad) {
    gs_tensor *t = gradcheck_input(ctx, ndim, shape, 1.0f, grad);
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = lo + (hi - lo) * gs_rng_uniform(&ctx->rng);
    return t;
}

/* Naive double reference: logits (n, c, inner), mean over counted entries. */
static double naive_ce(const gs_tensor *x, const int32_t *labels, int32_t ignore) {
    int64_t n = x->shape[0], c = x->shape[1], inner = x->numel / (n * c), count = 0;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = 0; p < inner; p++) {
            int32_t y = labels[i * inner + p];
            if (y == ignore) continue;
            double z = 0.0;
            for (int64_t j = 0; j < c; j++) z += exp((double)x->data[(i * c + j) * inner + p]);
            sum += log(z) - (double)x->data[(i * c + y) * inner + p];
            count++;
        }
    return count ? sum / (double)count : 0.0;
}

static void expect_close(double got, double want, double tol) {
    cr_expect(fabs(got - want) <= tol * (1.0 + fabs(want)), "got %.9g, want %.9g", got, want);
}

/* ---- gradient checks ---- */

Test(gradcheck_loss, cross_entropy_logits_2d) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(5, 7), 2.0f, true);
    const int32_t labels[5] = {0, 6, 3, 3, 1};
    ce_args a = {labels, GS_NO_IGNORE_INDEX};
    expect_gradcheck(&ctx, apply_ce, &x, 1, &a);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_dense_with_ignore) {
    gs_context ctx;
    gradcheck_context(&ctx, 4);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 3, 5), 1.5f, true);
    int32_t labels[30];
    for (int i = 0; i < 30; i++) labels[i] = i % 7 == 3 ? 255 : (i * 5) % 3;
    ce_args a = {labels, 255};
    expect_gradcheck(&ctx, apply_ce, &x, 1, &a);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_soft_logits_and_target) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    gs_tensor *in[2];
    in[0] = gradcheck_input(&ctx, GS_DIMS(4, 9), 1.5f, true);
    /* Rows that do not sum to one exercise the sum_c target term. */
    in[1] = uniform_input(&ctx, GS_DIMS(4, 9), 0.0f, 0.5f, true);
    expect_gradcheck(&ctx, apply_soft_ce, in, 2, NULL);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, bce_logits_and_target) {
    gs_context ctx;
    gradcheck_context(&ctx, 6);
    gs_tensor *in[2];
    in[0] = gradcheck_input(&ctx, GS_DIMS(3, 5, 7), 2.0f, true);
    in[1] = uniform_input(&ctx, GS_DIMS(3, 5, 7), 0.0f, 1.0f, true);
    expect_gradcheck(&ctx, apply_bce, in, 2, NULL);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, bce_logits_only) {
    gs_context ctx;
    gradcheck_context(&ctx, 7);
    gs_tensor *in[2];
    in[0] = gradcheck_input(&ctx, GS_DIMS(11, 3), 3.0f, true);
    in[1] = uniform_input(&ctx, GS_DIMS(11, 3), 0.0f, 1.0f, false);
    expect_gradcheck(&ctx, apply_bce, in, 2, NULL);
    cr_expect_null(in[1]->grad, "a target that needs no gradient got one");
    gs_context_free(&ctx);
}

Test(gradcheck_loss, mse_both_sides) {
    gs_context ctx;
    gradcheck_context(&ctx, 8);
    gs_tensor *in[2];
    in[0] = gradcheck_input(&ctx, GS_DIMS(3, 7, 5), 1.0f, true);
    in[1] = gradcheck_input(&ctx, GS_DIMS(3, 7, 5), 1.0f, true);
    expect_gradcheck(&ctx, apply_mse, in, 2, NULL);
    gs_context_free(&ctx);
}

/* ---- forward values ---- */

Test(gradcheck_loss, cross_entropy_uniform_logits_is_log_c) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 7), 1.0f, false);
    gs_tensor_fill(x, 0.3f);
    const int32_t labels[3] = {0, 4, 6};
    gs_tensor *loss = gs_cross_entropy(&ctx, x, labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx.error);
    cr_expect_eq(loss->ndim, 0);
    expect_close(loss->data[0], log(7.0), 1e-6);

    gs_tensor *dense = gradcheck_input(&ctx, GS_DIMS(2, 5, 3, 3), 1.0f, false);
    gs_tensor_fill(dense, -2.0f);
    int32_t dense_labels[18];
    for (int i = 0; i < 18; i++) dense_labels[i] = i % 5;
    loss = gs_cross_entropy(&ctx, dense, dense_labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], log(5.0), 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_by_hand) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3), 1.0f, false);
    const float values[6] = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 4.0f};
    memcpy(x->data, values, sizeof values);
    const int32_t labels[2] = {2, 0};
    gs_tensor *loss = gs_cross_entropy(&ctx, x, labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx.error);
    /* row 0: log(1 + e^-1 + e^-2); row 1: log(e^-1 + e^0.5 + e^4) + 1 */
    double want = 0.5 * (log(1.0 + exp(-1.0) + exp(-2.0)) + log(exp(-1.0) + exp(0.5) + exp(4.0)) + 1.0);
    expect_close(loss->data[0], want, 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_dense_matches_naive_layout) {
    gs_context ctx;
    gradcheck_context(&ctx, 2);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 4, 5, 7), 3.0f, false);
    int32_t labels[105];
    for (int i = 0; i < 105; i++) labels[i] = (i * 7 + 3) % 4;
    labels[10] = labels[50] = labels[104] = -100;
    gs_tensor *loss = gs_cross_entropy(&ctx, x, labels, -100);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], naive_ce(x, labels, -100), 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_stable_for_large_logits) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 2), 1.0f, false);
    x->data[0] = 1000.0f;
    x->data[1] = 0.0f;
    const int32_t labels[1] = {1};
    gs_tensor *loss = gs_cross_entropy(&ctx, x, labels, GS_NO_IGNORE_INDEX);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], 1000.0, 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_ignored_entries_get_no_gradient) {
    gs_context ctx;
    gradcheck_context(&ctx, 9);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 2, 2), 1.0f, true);
    const int32_t labels[8] = {0, 255, 2, 1, 255, 255, 1, 0};
    gs_tensor *loss = gs_cross_entropy(&ctx, x, labels, 255);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], naive_ce(x, labels, 255), 1e-6);
    cr_assert_eq(gs_backward(&ctx, loss), GS_OK, "%s", ctx.error);
    cr_assert_not_null(x->grad);
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 4; p++)
            for (int j = 0; j < 3; j++) {
                float g = x->grad[(i * 3 + j) * 4 + p];
                if (labels[i * 4 + p] == 255)
                    cr_expect_eq(g, 0.0f, "ignored position %d,%d has gradient %g", i, p, (double)g);
                else
                    cr_expect_neq(g, 0.0f);
            }
    /* Each counted position's gradient sums to zero over the classes and the
     * label's entry is (p - 1)/count with count 5. */
    double s = 0.0;
    for (int j = 0; j < 3; j++) s += x->grad[j * 4 + 0];
    expect_close(s, 0.0, 1e-6);
    cr_expect_lt(x->grad[0], 0.0f);
    cr_expect_gt(x->grad[0], -0.2f);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_all_ignored_is_zero_not_nan) {
    gs_context ctx;
    gradcheck_context(&ctx, 9);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 4), 1.0f, true);
    const int32_t labels[3] = {-1, -1, -1};
    gs_tensor *loss = gs_cross_entropy(&ctx, x, labels, -1);
    cr_assert_not_null(loss, "%s", ctx.error);
    cr_expect_eq(loss->data[0], 0.0f);
    cr_assert_eq(gs_backward(&ctx, loss), GS_OK, "%s", ctx.error);
    for (int i = 0; i < 12; i++) cr_expect(x->grad && x->grad[i] == 0.0f);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_label_out_of_range) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(4, 7), 1.0f, true);
    const int32_t too_big[4] = {0, 1, 7, 2};
    cr_expect_null(gs_cross_entropy(&ctx, x, too_big, GS_NO_IGNORE_INDEX));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "label 7") && strstr(ctx.error, "position 2"), "message: %s", ctx.error);

    gs_clear_error(&ctx);
    const int32_t negative[4] = {255, -1, 0, 0};
    cr_expect_null(gs_cross_entropy(&ctx, x, negative, 255));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "label -1") != NULL, "message: %s", ctx.error);

    gs_clear_error(&ctx);
    cr_expect_null(gs_cross_entropy(&ctx, x, NULL, GS_NO_IGNORE_INDEX));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, cross_entropy_soft_values) {
    gs_context ctx;
    gradcheck_context(&ctx, 2);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 6), 2.0f, false);
    gs_tensor *t = gradcheck_input(&ctx, GS_DIMS(3, 6), 1.0f, false);
    const int32_t labels[3] = {5, 0, 2};
    gs_tensor_fill(t, 0.0f);
    for (int i = 0; i < 3; i++) t->data[i * 6 + labels[i]] = 1.0f;
    gs_tensor *soft = gs_cross_entropy_soft(&ctx, x, t);
    cr_assert_not_null(soft, "%s", ctx.error);
    expect_close(soft->data[0], naive_ce(x, labels, GS_NO_IGNORE_INDEX), 1e-6);

    /* Uniform logits: -sum_c t_c log(1/C) = log C * sum_c t_c per row. */
    gs_tensor_fill(x, 1.25f);
    gs_tensor_fill(t, 0.25f);
    soft = gs_cross_entropy_soft(&ctx, x, t);
    cr_assert_not_null(soft, "%s", ctx.error);
    expect_close(soft->data[0], 1.5 * log(6.0), 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, bce_values) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3), 1.0f, false);
    gs_tensor *t = gradcheck_input(&ctx, GS_DIMS(3), 1.0f, false);
    gs_tensor_fill(x, 0.0f);
    const float tv[3] = {0.0f, 0.3f, 1.0f};
    memcpy(t->data, tv, sizeof tv);
    gs_tensor *loss = gs_bce_with_logits(&ctx, x, t);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], log(2.0), 1e-6);

    /* x = 1, t = 0.25: log(1 + e^-1) + 1 - 0.25; the extremes stay finite. */
    const float xv[3] = {1.0f, 100.0f, -100.0f};
    const float tv2[3] = {0.25f, 1.0f, 1.0f};
    memcpy(x->data, xv, sizeof xv);
    memcpy(t->data, tv2, sizeof tv2);
    loss = gs_bce_with_logits(&ctx, x, t);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], (log1p(exp(-1.0)) + 0.75 + log1p(exp(-100.0)) + 100.0 + log1p(exp(-100.0))) / 3.0,
                 1e-6);
    gs_context_free(&ctx);
}

Test(gradcheck_loss, mse_values) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(1, 3), 1.0f, true);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(1, 3), 1.0f, true);
    const float av[3] = {1.0f, 2.0f, 3.0f}, bv[3] = {0.0f, 0.0f, 1.0f};
    memcpy(a->data, av, sizeof av);
    memcpy(b->data, bv, sizeof bv);
    gs_tensor *loss = gs_mse(&ctx, a, b);
    cr_assert_not_null(loss, "%s", ctx.error);
    expect_close(loss->data[0], 3.0, 1e-7);
    cr_assert_eq(gs_backward(&ctx, loss), GS_OK, "%s", ctx.error);
    /* d/da = 2(a - b)/3 */
    const float want[3] = {2.0f / 3.0f, 4.0f / 3.0f, 4.0f / 3.0f};
    for (int i = 0; i < 3; i++) {
        expect_close(a->grad[i], want[i], 1e-6);
        expect_close(b->grad[i], -want[i], 1e-6);
    }
    gs_context_free(&ctx);
}

Test(gradcheck_loss, wrong_shapes_fail_cleanly) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *v = gradcheck_input(&ctx, GS_DIMS(6), 1.0f, true);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(2, 3), 1.0f, true);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(3, 2), 1.0f, true);
    gs_tensor *c4 = gradcheck_input(&ctx, GS_DIMS(1, 2, 1, 3), 1.0f, true);
    const int32_t labels[6] = {0};

    cr_expect_null(gs_cross_entropy(&ctx, v, labels, GS_NO_IGNORE_INDEX));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_clear_error(&ctx);
    cr_expect_null(gs_cross_entropy_soft(&ctx, a, b));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    cr_expect(strstr(ctx.error, "cross_entropy_soft") && strstr(ctx.error, "(2, 3)"), "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_cross_entropy_soft(&ctx, c4, c4));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_clear_error(&ctx);
    cr_expect_null(gs_bce_with_logits(&ctx, a, b));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_clear_error(&ctx);
    cr_expect_null(gs_mse(&ctx, a, v));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    cr_expect(strstr(ctx.error, "mse") != NULL, "%s", ctx.error);
    gs_context_free(&ctx);
}

/* The fixed partition of the sums makes the loss independent of threads. */
Test(gradcheck_loss, deterministic_across_thread_counts) {
    float loss[2][3];
    for (int run = 0; run < 2; run++) {
        gs_context ctx;
        gs_context_options options = {.n_threads = run + 1, .seed = 42};
        gs_context_init(&ctx, &options);
        gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(16, 10, 16, 16), 3.0f, false);
        gs_tensor *y = gradcheck_input(&ctx, GS_DIMS(16, 10, 16, 16), 1.0f, false);
        int32_t *labels = malloc(16 * 256 * sizeof *labels);
        for (int i = 0; i < 16 * 256; i++) labels[i] = (int32_t)gs_rng_below(&ctx.rng, 10);
        loss[run][0] = gs_cross_entropy(&ctx, x, labels, GS_NO_IGNORE_INDEX)->data[0];
        loss[run][1] = gs_mse(&ctx, x, y)->data[0];
        loss[run][2] = gs_bce_with_logits(&ctx, x, y)->data[0];
        free(labels);
        gs_context_free(&ctx);
    }
    for (int k = 0; k < 3; k++) cr_expect_eq(memcmp(&loss[0][k], &loss[1][k], sizeof(float)), 0, "loss %d differs", k);
}
