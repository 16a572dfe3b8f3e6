/* Gradient and forward checks of add / sub / mul with broadcasting, scale
 * and add_scalar. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "ops/ops.h"

static gs_tensor *apply_binary(gs_context *ctx, gs_tensor *const *in, void *user) {
    switch (*(const gs_binary_op *)user) {
    case GS_BINARY_ADD: return gs_add(ctx, in[0], in[1]);
    case GS_BINARY_SUB: return gs_sub(ctx, in[0], in[1]);
    case GS_BINARY_MUL: return gs_mul(ctx, in[0], in[1]);
    }
    return NULL;
}

static double op_value(gs_binary_op op, double a, double b) {
    return op == GS_BINARY_ADD ? a + b : op == GS_BINARY_SUB ? a - b : a * b;
}

/* Offset in t of output index `flat` of a broadcast to (nd, shape): the
 * torch rule written out naively. */
static int64_t naive_offset(const gs_tensor *t, int nd, const int64_t *shape, int64_t flat) {
    int64_t off = 0, step = 1;
    for (int i = nd - 1; i >= 0; i--) {
        int64_t idx = flat % shape[i];
        flat /= shape[i];
        int ti = i - (nd - t->ndim);
        if (ti < 0) continue;
        if (t->shape[ti] != 1) off += idx * step;
        step *= t->shape[ti];
    }
    return off;
}

/* Forward against naive loops; then backward seeded with dy against naive
 * accumulation of the stretched sums. */
static void expect_naive(gs_context *ctx, gs_binary_op op, gs_tensor *a, gs_tensor *b, int nd, const int64_t *shape) {
    gs_step_begin(ctx);
    a->grad = b->grad = NULL;
    gs_tensor *y = apply_binary(ctx, (gs_tensor *[]){a, b}, &op);
    cr_assert_not_null(y, "%s", ctx->error);
    cr_assert_eq(y->ndim, nd);
    for (int i = 0; i < nd; i++) cr_assert_eq(y->shape[i], shape[i], "dim %d", i);
    double *ga = calloc((size_t)a->numel, sizeof *ga), *gb = calloc((size_t)b->numel, sizeof *gb);
    float *dy = malloc((size_t)y->numel * sizeof *dy);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t ia = naive_offset(a, nd, shape, i), ib = naive_offset(b, nd, shape, i);
        double want = op_value(op, a->data[ia], b->data[ib]);
        cr_assert(fabs(y->data[i] - want) <= 1e-6 * (1 + fabs(want)), "y[%lld] = %g, expected %g", (long long)i,
                  y->data[i], want);
        dy[i] = (float)((i * 7919) % 13) / 13.0f - 0.5f;
        ga[ia] += op == GS_BINARY_MUL ? dy[i] * (double)b->data[ib] : dy[i];
        gb[ib] += op == GS_BINARY_MUL ? dy[i] * (double)a->data[ia] : op == GS_BINARY_SUB ? -dy[i] : dy[i];
    }
    cr_assert_eq(gs_backward_from(ctx, y, dy), GS_OK, "%s", ctx->error);
    for (int64_t i = 0; i < a->numel; i++)
        cr_assert(fabs(a->grad[i] - ga[i]) <= 1e-4 * (1 + fabs(ga[i])), "da[%lld] = %g, expected %g", (long long)i,
                  a->grad[i], ga[i]);
    for (int64_t i = 0; i < b->numel; i++)
        cr_assert(fabs(b->grad[i] - gb[i]) <= 1e-4 * (1 + fabs(gb[i])), "db[%lld] = %g, expected %g", (long long)i,
                  b->grad[i], gb[i]);
    free(ga);
    free(gb);
    free(dy);
}

/* Gradcheck of both inputs and the naive comparison, a of (na, sa), b of
 * (nb, sb), expected result (ny, sy). */
static void check(gs_binary_op op, int na, const int64_t *sa, int nb, const int64_t *sb, int ny, const int64_t *sy) {
    gs_context ctx;
    gradcheck_context(&ctx, 21);
    gs_tensor *in[2] = {gradcheck_input(&ctx, na, sa, 1.0f, true), gradcheck_input(&ctx, nb, sb, 1.0f, true)};
    expect_naive(&ctx, op, in[0], in[1], ny, sy);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_binary, in, 2, &op, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, in[0]->numel + in[1]->numel);
    gs_context_free(&ctx);
}

Test(gradcheck_elementwise, add_same_shape) { check(GS_BINARY_ADD, GS_DIMS(3, 5, 7), GS_DIMS(3, 5, 7), GS_DIMS(3, 5, 7)); }
Test(gradcheck_elementwise, sub_same_shape) { check(GS_BINARY_SUB, GS_DIMS(3, 5, 7), GS_DIMS(3, 5, 7), GS_DIMS(3, 5, 7)); }
Test(gradcheck_elementwise, mul_same_shape) { check(GS_BINARY_MUL, GS_DIMS(3, 5, 7), GS_DIMS(3, 5, 7), GS_DIMS(3, 5, 7)); }
Test(gradcheck_elementwise, add_trailing_vector) { check(GS_BINARY_ADD, GS_DIMS(2, 3, 4), GS_DIMS(4), GS_DIMS(2, 3, 4)); }
Test(gradcheck_elementwise, mul_both_stretch) { check(GS_BINARY_MUL, GS_DIMS(2, 1, 4), GS_DIMS(3, 1), GS_DIMS(2, 3, 4)); }
Test(gradcheck_elementwise, sub_smaller_left) { check(GS_BINARY_SUB, GS_DIMS(5), GS_DIMS(2, 5), GS_DIMS(2, 5)); }
Test(gradcheck_elementwise, sub_both_stretch) { check(GS_BINARY_SUB, GS_DIMS(4, 1, 3), GS_DIMS(1, 5, 1), GS_DIMS(4, 5, 3)); }
Test(gradcheck_elementwise, mul_channel_scale) {
    check(GS_BINARY_MUL, GS_DIMS(2, 3, 4, 5), GS_DIMS(1, 3, 1, 1), GS_DIMS(2, 3, 4, 5));
}
Test(gradcheck_elementwise, add_position_embedding) {
    check(GS_BINARY_ADD, GS_DIMS(3, 5, 4), GS_DIMS(1, 5, 4), GS_DIMS(3, 5, 4));
}
Test(gradcheck_elementwise, mul_by_scalar_tensor) {
    int64_t none[1] = {0};
    check(GS_BINARY_MUL, GS_DIMS(3, 4), 0, none, GS_DIMS(3, 4));
}

/* Sizes over the threading thresholds, every kernel path against naive. */
Test(gradcheck_elementwise, large_shapes_match_naive) {
    gs_context ctx;
    gradcheck_context(&ctx, 22);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(9, 50, 90), 1.0f, true);
    gs_tensor *same = gradcheck_input(&ctx, GS_DIMS(9, 50, 90), 1.0f, true);
    gs_tensor *col = gradcheck_input(&ctx, GS_DIMS(50, 1), 1.0f, true);
    gs_tensor *row = gradcheck_input(&ctx, GS_DIMS(90), 1.0f, true);
    gs_tensor *mid = gradcheck_input(&ctx, GS_DIMS(9, 1, 90), 1.0f, true);
    gs_binary_op ops[3] = {GS_BINARY_ADD, GS_BINARY_SUB, GS_BINARY_MUL};
    for (int i = 0; i < 3; i++) {
        expect_naive(&ctx, ops[i], x, same, GS_DIMS(9, 50, 90));
        expect_naive(&ctx, ops[i], x, col, GS_DIMS(9, 50, 90));
        expect_naive(&ctx, ops[i], row, x, GS_DIMS(9, 50, 90));
        expect_naive(&ctx, ops[i], mid, col, GS_DIMS(9, 50, 90));
    }
    gs_context_free(&ctx);
}

static gs_tensor *apply_scale(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_scale(ctx, in[0], -1.75f);
}

static gs_tensor *apply_add_scalar(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_add_scalar(ctx, in[0], 0.5f);
}

Test(gradcheck_elementwise, scale_and_add_scalar) {
    gs_context ctx;
    gradcheck_context(&ctx, 23);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 7), 1.0f, true);
    gs_tensor *s = gs_scale(&ctx, x, -1.75f), *t = gs_add_scalar(&ctx, x, 0.5f);
    cr_assert(s && t, "%s", ctx.error);
    for (int64_t i = 0; i < x->numel; i++) {
        cr_expect_float_eq(s->data[i], -1.75f * x->data[i], 1e-6);
        cr_expect_float_eq(t->data[i], x->data[i] + 0.5f, 1e-6);
    }
    gradcheck_report report;
    cr_expect(gradcheck_run(&ctx, apply_scale, &x, 1, NULL, NULL, &report), "%s", report.message);
    cr_expect(gradcheck_run(&ctx, apply_add_scalar, &x, 1, NULL, NULL, &report), "%s", report.message);
    gs_context_free(&ctx);
}

static void expect_mismatch(gs_context *ctx, gs_tensor *a, gs_tensor *b) {
    gs_clear_error(ctx);
    cr_expect_null(gs_add(ctx, a, b));
    cr_expect_eq(ctx->status, GS_ERR_SHAPE, "status %d: %s", ctx->status, ctx->error);
    gs_clear_error(ctx);
    cr_expect_null(gs_mul(ctx, b, a));
    cr_expect_eq(ctx->status, GS_ERR_SHAPE, "status %d: %s", ctx->status, ctx->error);
}

Test(gradcheck_elementwise, wrong_shapes_fail_cleanly) {
    gs_context ctx;
    gradcheck_context(&ctx, 24);
    gs_tensor *a = gradcheck_input(&ctx, GS_DIMS(2, 3), 1.0f, true);
    gs_tensor *b = gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true);
    gs_tensor *c = gradcheck_input(&ctx, GS_DIMS(3, 2, 1), 1.0f, true);
    gs_tensor *d = gradcheck_input(&ctx, GS_DIMS(3, 2), 1.0f, true);
    gs_tensor *e = gradcheck_input(&ctx, GS_DIMS(4, 1, 1), 1.0f, true);
    expect_mismatch(&ctx, a, b); /* 3 vs 4 */
    expect_mismatch(&ctx, a, d); /* (2, 3) vs (3, 2) */
    expect_mismatch(&ctx, c, e); /* 3 vs 4 in the leading dim */
    /* Legal broadcasts of the same tensors still work after an error is cleared. */
    gs_clear_error(&ctx);
    gs_tensor *y = gs_sub(&ctx, c, a); /* (3, 2, 1) - (2, 3) -> (3, 2, 3) */
    cr_assert_not_null(y, "%s", ctx.error);
    cr_expect(y->ndim == 3 && y->shape[0] == 3 && y->shape[1] == 2 && y->shape[2] == 3);
    gs_context_free(&ctx);
}
