/* Gradient and forward checks of reshape, detach, permute, slice, concat. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "ops/ops.h"

static void expect_gradcheck(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n, void *user) {
    gradcheck_report report;
    bool ok = gradcheck_run(ctx, fn, in, n, user, NULL, &report);
    cr_expect(ok, "%s", report.message);
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += in[i]->requires_grad ? in[i]->numel : 0;
    cr_expect_eq(report.checked, total);
}

/* ---- reshape and detach ---- */

/* (3, 10) -> (6, 5) with an inferred dim, then an op that mixes positions. */
static gs_tensor *apply_reshape_mul(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    gs_tensor *r = gs_reshape(ctx, in[0], GS_DIMS(-1, 5));
    return gs_mul(ctx, r, in[1]);
}

Test(gradcheck_shape, reshape_then_mul) {
    gs_context ctx;
    gradcheck_context(&ctx, 31);
    gs_tensor *in[2] = {gradcheck_input(&ctx, GS_DIMS(3, 10), 1.0f, true),
                        gradcheck_input(&ctx, GS_DIMS(6, 1), 1.0f, true)};
    gs_tensor *r = gs_reshape(&ctx, in[0], GS_DIMS(6, -1));
    cr_assert_not_null(r, "%s", ctx.error);
    cr_expect(r->ndim == 2 && r->shape[0] == 6 && r->shape[1] == 5);
    cr_expect_eq(r->data, in[0]->data, "a reshape is a view");
    expect_gradcheck(&ctx, apply_reshape_mul, in, 2, NULL);
    gs_context_free(&ctx);
}

Test(gradcheck_shape, reshape_without_grad_records_nothing) {
    gs_context ctx;
    gradcheck_context(&ctx, 32);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(4, 6), 1.0f, false);
    gs_tensor *r = gs_reshape(&ctx, x, GS_DIMS(2, 3, 4));
    cr_assert_not_null(r, "%s", ctx.error);
    cr_expect_eq(ctx.tape.count, 0);
    cr_expect_not(r->requires_grad);
    cr_expect_null(gs_reshape(&ctx, x, GS_DIMS(5, 5)));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}

/* y = detach(x) * x: only the second factor carries a gradient, so
 * dL/dx = R * x, not 2 R x. */
static gs_tensor *apply_detached_square(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_mul(ctx, gs_detach(ctx, in[0]), in[0]);
}

Test(gradcheck_shape, detach_stops_the_gradient) {
    gs_context ctx;
    gradcheck_context(&ctx, 33);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 4), 1.0f, true);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(3, 4), 1.0f, true);
    gs_tensor *d = gs_detach(&ctx, x);
    cr_assert_not_null(d, "%s", ctx.error);
    cr_expect_not(d->requires_grad);
    cr_expect_eq(d->data, x->data);
    cr_expect_eq(ctx.tape.count, 0);
    gs_tensor *y = gs_mul(&ctx, d, w);
    float dy[12];
    for (int i = 0; i < 12; i++) dy[i] = 1.0f + i;
    cr_assert_eq(gs_backward_from(&ctx, y, dy), GS_OK, "%s", ctx.error);
    cr_expect_null(x->grad, "no gradient may reach a detached input");
    for (int i = 0; i < 12; i++) cr_expect_float_eq(w->grad[i], dy[i] * x->data[i], 1e-6);

    gs_step_begin(&ctx);
    x->grad = NULL;
    y = apply_detached_square(&ctx, &x, NULL);
    cr_assert_eq(gs_backward_from(&ctx, y, dy), GS_OK, "%s", ctx.error);
    for (int i = 0; i < 12; i++) cr_expect_float_eq(x->grad[i], dy[i] * x->data[i], 1e-6);
    /* The finite differences see 2 R x; the analytic gradient is R x by design. */
    gradcheck_report report;
    cr_expect_not(gradcheck_run(&ctx, apply_detached_square, &x, 1, NULL, NULL, &report));
    gs_context_free(&ctx);
}

/* ---- permute ---- */

static gs_tensor *apply_permute(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_permute(ctx, in[0], user);
}

/* y against naive index arithmetic, then the backward of a seeded dy. */
static void expect_permute(gs_context *ctx, gs_tensor *x, const int *perm) {
    gs_step_begin(ctx);
    x->grad = NULL;
    gs_tensor *y = gs_permute(ctx, x, perm);
    cr_assert_not_null(y, "%s", ctx->error);
    int nd = x->ndim;
    int64_t xstride[GS_MAX_DIMS], step = 1;
    for (int i = nd - 1; i >= 0; i--) {
        xstride[i] = step;
        step *= x->shape[i];
    }
    for (int i = 0; i < nd; i++) cr_assert_eq(y->shape[i], x->shape[perm[i]]);
    float *dy = malloc((size_t)y->numel * sizeof *dy);
    for (int64_t i = 0; i < y->numel; i++) dy[i] = (float)(i % 101);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t rem = i, off = 0;
        for (int d = nd - 1; d >= 0; d--) {
            off += rem % y->shape[d] * xstride[perm[d]];
            rem /= y->shape[d];
        }
        cr_assert_eq(y->data[i], x->data[off], "y[%lld]", (long long)i);
    }
    cr_assert_eq(gs_backward_from(ctx, y, dy), GS_OK, "%s", ctx->error);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t rem = i, off = 0;
        for (int d = nd - 1; d >= 0; d--) {
            off += rem % y->shape[d] * xstride[perm[d]];
            rem /= y->shape[d];
        }
        cr_assert_eq(x->grad[off], dy[i], "dx[%lld]", (long long)off);
    }
    free(dy);
}

Test(gradcheck_shape, permute_4d) {
    gs_context ctx;
    gradcheck_context(&ctx, 34);
    int perm[4] = {2, 0, 3, 1};
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 4, 5), 1.0f, true);
    expect_permute(&ctx, x, perm);
    expect_gradcheck(&ctx, apply_permute, &x, 1, perm);
    int heads[4] = {0, 2, 1, 3}; /* (N, T, H, Dh) -> (N, H, T, Dh) keeps rows contiguous */
    expect_gradcheck(&ctx, apply_permute, &x, 1, heads);
    gs_context_free(&ctx);
}

/* Large enough for threads and tiles, with edges that are not tile multiples. */
Test(gradcheck_shape, permute_large_and_6d) {
    gs_context ctx;
    gradcheck_context(&ctx, 35);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 70, 45, 5), 1.0f, true);
    expect_permute(&ctx, x, (int[]){0, 3, 1, 2});
    expect_permute(&ctx, x, (int[]){2, 1, 3, 0});
    expect_permute(&ctx, x, (int[]){1, 0, 2, 3});
    expect_permute(&ctx, x, (int[]){0, 1, 2, 3});
    gs_tensor *z = gradcheck_input(&ctx, GS_DIMS(2, 3, 1, 4, 5, 3), 1.0f, true);
    expect_permute(&ctx, z, (int[]){5, 3, 0, 2, 4, 1});
    gs_clear_error(&ctx);
    cr_expect_null(gs_permute(&ctx, x, (int[]){0, 1, 1, 3}));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}

/* ---- slice ---- */

static gs_tensor *apply_slice(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_slice(ctx, in[0], 1, 2, 5);
}

Test(gradcheck_shape, slice_middle_dim) {
    gs_context ctx;
    gradcheck_context(&ctx, 36);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 7, 4), 1.0f, true);
    gs_tensor *y = gs_slice(&ctx, x, 1, 2, 5);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 3 && y->shape[0] == 3 && y->shape[1] == 3 && y->shape[2] == 4);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 4; c++)
                cr_expect_eq(y->data[(a * 3 + b) * 4 + c], x->data[(a * 7 + b + 2) * 4 + c]);
    expect_gradcheck(&ctx, apply_slice, &x, 1, NULL);
    /* Rows outside the slice get exactly zero. */
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 7; b++)
            if (b < 2 || b >= 5)
                for (int c = 0; c < 4; c++) cr_expect_eq(x->grad[(a * 7 + b) * 4 + c], 0.0f);
    gs_context_free(&ctx);
}

Test(gradcheck_shape, slice_bad_bounds_fail_cleanly) {
    gs_context ctx;
    gradcheck_context(&ctx, 37);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 7, 4), 1.0f, true);
    int64_t bounds[][3] = {{1, -1, 3}, {1, 2, 8}, {1, 4, 4}, {1, 5, 2}, {3, 0, 1}, {-1, 0, 1}};
    for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
        gs_clear_error(&ctx);
        cr_expect_null(gs_slice(&ctx, x, (int)bounds[i][0], bounds[i][1], bounds[i][2]));
        cr_expect_eq(ctx.status, GS_ERR_SHAPE, "case %zu: %s", i, ctx.error);
    }
    gs_context_free(&ctx);
}

/* ---- concat ---- */

static gs_tensor *apply_concat(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_concat(ctx, in, *(const int *)user, 1);
}

Test(gradcheck_shape, concat_three_along_dim1) {
    gs_context ctx;
    gradcheck_context(&ctx, 38);
    gs_tensor *in[3] = {gradcheck_input(&ctx, GS_DIMS(2, 3, 4), 1.0f, true),
                        gradcheck_input(&ctx, GS_DIMS(2, 1, 4), 1.0f, true),
                        gradcheck_input(&ctx, GS_DIMS(2, 5, 4), 1.0f, true)};
    gs_tensor *y = gs_concat(&ctx, in, 3, 1);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 9 && y->shape[2] == 4);
    int first[3] = {0, 3, 4};
    for (int t = 0; t < 3; t++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < in[t]->shape[1]; b++)
                for (int c = 0; c < 4; c++)
                    cr_expect_eq(y->data[(a * 9 + first[t] + b) * 4 + c],
                                 in[t]->data[(a * in[t]->shape[1] + b) * 4 + c]);
    int n = 3;
    expect_gradcheck(&ctx, apply_concat, in, 3, &n);
    gs_context_free(&ctx);
}

/* More inputs than a small fixed array would hold, one without a gradient. */
Test(gradcheck_shape, concat_many_inputs) {
    gs_context ctx;
    gradcheck_context(&ctx, 39);
    gs_tensor *in[6];
    for (int i = 0; i < 6; i++) in[i] = gradcheck_input(&ctx, GS_DIMS(2, 1 + i % 3, 3), 1.0f, i != 4);
    int n = 6;
    expect_gradcheck(&ctx, apply_concat, in, 6, &n);
    cr_expect_null(in[4]->grad);
    gs_tensor *bad = gradcheck_input(&ctx, GS_DIMS(2, 2, 4), 1.0f, true);
    gs_tensor *pair[2] = {in[0], bad};
    cr_expect_null(gs_concat(&ctx, pair, 2, 1));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_concat(&ctx, pair, 2, 3));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
