/* Gradient and forward checks of matmul (every transpose combination;
 * 2-d, batched and shared-b) and linear. */
#include <criterion/criterion.h>
#include <math.h>

#include "gradcheck.h"
#include "ops/ops.h"

typedef struct trans {
    bool a, b;
} trans;

static gs_tensor *apply_matmul(gs_context *ctx, gs_tensor *const *in, void *user) {
    const trans *t = user;
    return gs_matmul(ctx, in[0], in[1], t->a, t->b);
}

static gs_tensor *apply_gram(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_matmul(ctx, in[0], in[0], false, true);
}

static gs_tensor *apply_linear(gs_context *ctx, gs_tensor *const *in, void *user) {
    bool with_bias = *(const bool *)user;
    return gs_linear(ctx, in[0], in[1], with_bias ? in[2] : NULL);
}

static void expect_gradcheck(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n, void *user) {
    gradcheck_report report;
    bool ok = gradcheck_run(ctx, fn, in, n, user, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_gt(report.checked, 0);
}

/* Element (i, j) of op(x) for a stored 2-d matrix of row length ld. */
static float at(const float *x, int64_t ld, bool t, int64_t i, int64_t j) { return t ? x[j * ld + i] : x[i * ld + j]; }

/* c (batch, m, n) against naive loops; b_stride 0 shares b. */
static void expect_product(const float *a, const float *b, const float *c, int64_t batch, int64_t m, int64_t n,
                           int64_t k, trans t, int64_t b_stride) {
    int64_t lda = t.a ? m : k, ldb = t.b ? k : n;
    for (int64_t p = 0; p < batch; p++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0.0;
                for (int64_t q = 0; q < k; q++)
                    s += (double)at(a + p * m * k, lda, t.a, i, q) * at(b + p * b_stride, ldb, t.b, q, j);
                float got = c[(p * m + i) * n + j];
                cr_assert(fabs(got - s) <= 1e-4 * (1 + fabs(s)), "c[%lld,%lld,%lld] = %g, expected %g", (long long)p,
                          (long long)i, (long long)j, got, s);
            }
}

/* m = 3, k = 5, n = 4 with the stored layouts each transpose implies. */
static void check_matmul(int batch_a, int batch_b, trans t) {
    const int64_t m = 3, k = 5, n = 4;
    int64_t as[3], bs[3];
    int na = 0, nb = 0;
    if (batch_a) as[na++] = batch_a;
    if (batch_b) bs[nb++] = batch_b;
    as[na++] = t.a ? k : m;
    as[na++] = t.a ? m : k;
    bs[nb++] = t.b ? n : k;
    bs[nb++] = t.b ? k : n;
    gs_context ctx;
    gradcheck_context(&ctx, 11);
    gs_tensor *in[2] = {gradcheck_input(&ctx, na, as, 1.0f, true), gradcheck_input(&ctx, nb, bs, 1.0f, true)};
    gs_tensor *c = gs_matmul(&ctx, in[0], in[1], t.a, t.b);
    cr_assert_not_null(c, "%s", ctx.error);
    int64_t batch = batch_a ? batch_a : 1;
    cr_expect_eq(c->ndim, batch_a ? 3 : 2);
    cr_expect_eq(c->numel, batch * m * n);
    expect_product(in[0]->data, in[1]->data, c->data, batch, m, n, k, t, batch_b ? k * n : 0);
    expect_gradcheck(&ctx, apply_matmul, in, 2, &t);
    gs_context_free(&ctx);
}

Test(gradcheck_matmul, plain_nn) { check_matmul(0, 0, (trans){false, false}); }
Test(gradcheck_matmul, plain_nt) { check_matmul(0, 0, (trans){false, true}); }
Test(gradcheck_matmul, plain_tn) { check_matmul(0, 0, (trans){true, false}); }
Test(gradcheck_matmul, plain_tt) { check_matmul(0, 0, (trans){true, true}); }
Test(gradcheck_matmul, batched_nn) { check_matmul(3, 3, (trans){false, false}); }
Test(gradcheck_matmul, batched_nt) { check_matmul(3, 3, (trans){false, true}); }
Test(gradcheck_matmul, batched_tn) { check_matmul(3, 3, (trans){true, false}); }
Test(gradcheck_matmul, batched_tt) { check_matmul(3, 3, (trans){true, true}); }
Test(gradcheck_matmul, shared_b_nn) { check_matmul(3, 0, (trans){false, false}); }
Test(gradcheck_matmul, shared_b_nt) { check_matmul(3, 0, (trans){false, true}); }
Test(gradcheck_matmul, shared_b_tn) { check_matmul(3, 0, (trans){true, false}); }
Test(gradcheck_matmul, shared_b_tt) { check_matmul(3, 0, (trans){true, true}); }

/* Both operands are one tensor: its two gradient contributions must add. */
Test(gradcheck_matmul, gram_of_one_input) {
    gs_context ctx;
    gradcheck_context(&ctx, 12);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 5, 3), 1.0f, true);
    expect_gradcheck(&ctx, apply_gram, &x, 1, NULL);
    gs_context_free(&ctx);
}

/* Many small entries take the batch-parallel path; a large one takes
 * threaded BLAS.  Both must match naive loops. */
Test(gradcheck_matmul, forward_large_and_many_small) {
    gs_context ctx;
    gradcheck_context(&ctx, 13);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(64, 7, 9), 1.0f, false);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(64, 6, 9), 1.0f, false);
    gs_tensor *c = gs_matmul(&ctx, a, b, false, true);
    cr_assert_not_null(c, "%s", ctx.error);
    expect_product(a->data, b->data, c->data, 64, 7, 6, 9, (trans){false, true}, 6 * 9);
    gs_tensor *p = gradcheck_input(&ctx, GS_DIMS(2, 120, 130), 1.0f, false);
    gs_tensor *q = gradcheck_input(&ctx, GS_DIMS(120, 110), 1.0f, false);
    gs_tensor *r = gs_matmul(&ctx, p, q, true, false);
    cr_assert_not_null(r, "%s", ctx.error);
    expect_product(p->data, q->data, r->data, 2, 130, 110, 120, (trans){true, false}, 0);
    gs_context_free(&ctx);
}

static void check_linear(bool with_bias) {
    gs_context ctx;
    gradcheck_context(&ctx, 14);
    gs_tensor *in[3] = {gradcheck_input(&ctx, GS_DIMS(2, 3, 5), 1.0f, true),
                        gradcheck_input(&ctx, GS_DIMS(4, 5), 1.0f, true),
                        gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true)};
    gs_tensor *y = gs_linear(&ctx, in[0], in[1], with_bias ? in[2] : NULL);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert_eq(y->ndim, 3);
    cr_expect(y->shape[0] == 2 && y->shape[1] == 3 && y->shape[2] == 4);
    for (int r = 0; r < 6; r++)
        for (int o = 0; o < 4; o++) {
            double s = with_bias ? in[2]->data[o] : 0.0;
            for (int i = 0; i < 5; i++) s += (double)in[0]->data[r * 5 + i] * in[1]->data[o * 5 + i];
            cr_expect(fabs(y->data[r * 4 + o] - s) <= 1e-5 * (1 + fabs(s)), "y[%d,%d] = %g, expected %g", r, o,
                      y->data[r * 4 + o], s);
        }
    expect_gradcheck(&ctx, apply_linear, in, with_bias ? 3 : 2, &with_bias);
    gs_context_free(&ctx);
}

Test(gradcheck_matmul, linear_with_bias_3d) { check_linear(true); }
Test(gradcheck_matmul, linear_without_bias_3d) { check_linear(false); }

/* The bias gradient over many rows takes the threaded column-sum path. */
Test(gradcheck_matmul, linear_bias_gradient_many_rows) {
    gs_context ctx;
    gradcheck_context(&ctx, 15);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(300, 7), 1.0f, false);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(130, 7), 1.0f, false);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(130), 1.0f, true);
    gs_tensor *y = gs_linear(&ctx, x, w, b);
    cr_assert_not_null(y, "%s", ctx.error);
    float *dy = malloc((size_t)y->numel * sizeof *dy);
    for (int64_t i = 0; i < y->numel; i++) dy[i] = (float)((i * 37) % 11) - 5.0f;
    cr_assert_eq(gs_backward_from(&ctx, y, dy), GS_OK, "%s", ctx.error);
    cr_assert_null(x->grad, "x does not require a gradient");
    for (int o = 0; o < 130; o++) {
        double s = 0.0;
        for (int r = 0; r < 300; r++) s += dy[r * 130 + o];
        cr_expect_float_eq(b->grad[o], (float)s, 1e-6, "db[%d]", o);
    }
    free(dy);
    gs_context_free(&ctx);
}

static void expect_shape_error(gs_tensor *a, gs_tensor *b, bool ta, bool tb, gs_context *ctx) {
    gs_clear_error(ctx);
    cr_expect_null(gs_matmul(ctx, a, b, ta, tb));
    cr_expect_eq(ctx->status, GS_ERR_SHAPE, "status %d: %s", ctx->status, ctx->error);
}

Test(gradcheck_matmul, wrong_shapes_fail_cleanly) {
    gs_context ctx;
    gradcheck_context(&ctx, 16);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(3, 5), 1.0f, true);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(4, 5), 1.0f, true);
    gs_tensor *a3 = gradcheck_input(&ctx, GS_DIMS(2, 3, 5), 1.0f, true);
    gs_tensor *b3 = gradcheck_input(&ctx, GS_DIMS(3, 5, 4), 1.0f, true);
    gs_tensor *v = gradcheck_input(&ctx, GS_DIMS(5), 1.0f, true);
    expect_shape_error(a, b, false, false, &ctx);  /* (3,5) x (4,5) */
    expect_shape_error(a, b, true, true, &ctx);    /* (5,3) x (5,4) */
    expect_shape_error(a, b3, false, false, &ctx); /* 2-d x 3-d */
    expect_shape_error(a3, b3, false, false, &ctx); /* batch 2 vs 3 */
    expect_shape_error(v, b, false, false, &ctx);  /* 1-d */
    gs_clear_error(&ctx);
    cr_expect_not_null(gs_matmul(&ctx, a, b, false, true), "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_not_null(gs_linear(&ctx, a3, a, NULL), "%s", ctx.error); /* w (3, 5) fits x (2, 3, 5) */
    gs_clear_error(&ctx);
    cr_expect_null(gs_linear(&ctx, a3, b3, NULL));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_clear_error(&ctx);
    cr_expect_null(gs_linear(&ctx, a3, b, a));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_context_free(&ctx);
}
