/* Gradient checks and forward values of l2_normalize and cosine_similarity,
 * on both sides of the eps clamp. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

typedef struct eps_arg {
    float eps;
} eps_arg;

static gs_tensor *apply_l2(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_l2_normalize(ctx, in[0], ((eps_arg *)user)->eps);
}

static gs_tensor *apply_cosine(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_cosine_similarity(ctx, in[0], in[1], ((eps_arg *)user)->eps);
}

/* Multiplies rows r % every == 0 of a (..., D) tensor by `factor`, to put
 * their norms under the clamp. */
static void shrink_rows(gs_tensor *t, int every, float factor) {
    int64_t d = t->shape[t->ndim - 1];
    for (int64_t r = 0; r < t->numel / d; r += every)
        for (int64_t j = 0; j < d; j++) t->data[r * d + j] *= factor;
}

static void check(gradcheck_fn fn, int n_inputs, bool b_requires_grad, float eps, float shrink, int ndim,
                  const int64_t *shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 41);
    gs_tensor *in[2] = {gradcheck_input(&ctx, ndim, shape, 1.0f, true),
                        gradcheck_input(&ctx, ndim, shape, 1.0f, b_requires_grad)};
    if (shrink != 1.0f) {
        shrink_rows(in[0], 2, shrink);
        shrink_rows(in[1], 3, shrink);
    }
    eps_arg arg = {eps};
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, fn, in, n_inputs, &arg, NULL, &report);
    cr_expect(ok, "%s", report.message);
    int64_t want = in[0]->numel * (n_inputs == 2 && b_requires_grad ? 2 : 1);
    cr_expect_eq(report.checked, want, "checked %lld of %lld", report.checked, (long long)want);
    cr_expect_eq(report.skipped, 0);
    gs_context_free(&ctx);
}

Test(gradcheck_normalize, l2_odd_shape) { check(apply_l2, 1, false, 1e-12f, 1.0f, GS_DIMS(3, 5, 7)); }
Test(gradcheck_normalize, l2_single_vector) { check(apply_l2, 1, false, 1e-12f, 1.0f, GS_DIMS(9)); }
/* eps 0.5 with some rows scaled to norm ~0.05: the clamped branch (dy / eps);
 * a 1e-2 step cannot cross the clamp from either side. */
Test(gradcheck_normalize, l2_rows_under_the_clamp) { check(apply_l2, 1, false, 0.5f, 0.03f, GS_DIMS(6, 5)); }

Test(gradcheck_normalize, cosine_both_inputs) { check(apply_cosine, 2, true, 1e-8f, 1.0f, GS_DIMS(3, 5, 7)); }
Test(gradcheck_normalize, cosine_only_a) { check(apply_cosine, 2, false, 1e-8f, 1.0f, GS_DIMS(4, 7)); }
Test(gradcheck_normalize, cosine_one_dim_to_scalar) { check(apply_cosine, 2, true, 1e-8f, 1.0f, GS_DIMS(11)); }
Test(gradcheck_normalize, cosine_rows_under_the_clamp) { check(apply_cosine, 2, true, 0.5f, 0.03f, GS_DIMS(7, 5)); }

static gs_tensor *tensor_of(gs_context *ctx, int ndim, const int64_t *shape, const float *values) {
    gs_tensor *t = gs_tensor_new(ctx, &ctx->params, ndim, shape);
    memcpy(t->data, values, (size_t)t->numel * sizeof(float));
    return t;
}

static void expect_values(const gs_tensor *y, const double *want, int64_t n) {
    cr_assert_not_null(y);
    cr_assert_eq(y->numel, n);
    for (int64_t i = 0; i < n; i++)
        cr_expect(fabs(y->data[i] - want[i]) <= 1e-6, "element %lld: got %.9g, want %.9g", (long long)i,
                  (double)y->data[i], want[i]);
}

Test(gradcheck_normalize, l2_forward_by_hand) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    /* (3, 4) has norm 5; (0.003, 0.004) has norm 0.005 < eps = 0.01, so it is
     * divided by eps; the zero row stays zero. */
    gs_tensor *x = tensor_of(&ctx, GS_DIMS(3, 2), (float[]){3, 4, 0.003f, 0.004f, 0, 0});
    expect_values(gs_l2_normalize(&ctx, x, 0.01f), (double[]){0.6, 0.8, 0.3, 0.4, 0.0, 0.0}, 6);
    gs_context_free(&ctx);
}

Test(gradcheck_normalize, cosine_forward_by_hand) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    /* row 0: <(1,2,2), (2,0,1)> = 4, norms 3 and sqrt 5.
     * row 1: a = (0.003, 0.004, 0), norm 0.005 clamped to eps = 0.01;
     *        b = (3, 4, 0), norm 5: 0.025 / (0.01 * 5) = 0.5
     *        (torch.cosine_similarity of older versions gives 1 here).
     * row 2: opposite vectors: -1. */
    gs_tensor *a = tensor_of(&ctx, GS_DIMS(3, 3), (float[]){1, 2, 2, 0.003f, 0.004f, 0, 1, -1, 3});
    gs_tensor *b = tensor_of(&ctx, GS_DIMS(3, 3), (float[]){2, 0, 1, 3, 4, 0, -2, 2, -6});
    gs_tensor *s = gs_cosine_similarity(&ctx, a, b, 0.01f);
    cr_assert_not_null(s, "%s", ctx.error);
    cr_expect_eq(s->ndim, 1);
    cr_expect_eq(s->shape[0], 3);
    expect_values(s, (double[]){4.0 / (3.0 * sqrt(5.0)), 0.5, -1.0}, 3);
    gs_context_free(&ctx);
}

Test(gradcheck_normalize, cosine_keeps_leading_shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(2, 3, 4), 1.0f, false);
    gs_tensor *s = gs_cosine_similarity(&ctx, a, a, 1e-8f);
    cr_assert_not_null(s, "%s", ctx.error);
    cr_expect_eq(s->ndim, 2);
    cr_expect(s->shape[0] == 2 && s->shape[1] == 3);
    for (int64_t i = 0; i < s->numel; i++) cr_expect(fabs(s->data[i] - 1.0) < 1e-6, "self-similarity %g", s->data[i]);
    gs_tensor *v = gradcheck_input(&ctx, GS_DIMS(5), 1.0f, false);
    gs_tensor *scalar = gs_cosine_similarity(&ctx, v, v, 1e-8f);
    cr_assert_not_null(scalar, "%s", ctx.error);
    cr_expect_eq(scalar->ndim, 0);
    cr_expect_eq(scalar->numel, 1);
    gs_context_free(&ctx);
}

Test(gradcheck_normalize, mismatched_shapes_are_shape_errors) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(3, 5), 1.0f, true);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(3, 4), 1.0f, true);
    cr_expect_null(gs_cosine_similarity(&ctx, a, b, 1e-8f));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    cr_expect(strstr(ctx.error, "cosine_similarity") && strstr(ctx.error, "(3, 5)") && strstr(ctx.error, "(3, 4)"),
              "%s", ctx.error);
    gs_clear_error(&ctx);
    int64_t none[1] = {1};
    gs_tensor *scalar = gs_tensor_new(&ctx, &ctx.params, 0, none);
    cr_expect_null(gs_l2_normalize(&ctx, scalar, 1e-12f));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
