/* Gradient and forward checks of gather_tokens and scatter_tokens. */
#include <criterion/criterion.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

/* Two samples of T = 7 tokens; K = 3 kept per sample.  Sample 1 of the
 * gather indices repeats token 4, whose gradient must then add up. */
static const int32_t keep[6] = {5, 0, 3, 6, 2, 1};
static const int32_t keep_repeat[6] = {5, 0, 3, 4, 2, 4};

static gs_tensor *apply_gather(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_gather_tokens(ctx, in[0], user, 3);
}

static gs_tensor *apply_scatter_fill(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_scatter_tokens(ctx, in[0], user, 7, in[1]);
}

static gs_tensor *apply_scatter_zeros(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_scatter_tokens(ctx, in[0], user, 7, NULL);
}

/* The MAE round trip: keep 3 tokens, put them back among mask tokens. */
static gs_tensor *apply_round_trip(gs_context *ctx, gs_tensor *const *in, void *user) {
    gs_tensor *kept = gs_gather_tokens(ctx, in[0], user, 3);
    return gs_scatter_tokens(ctx, kept, user, 7, in[1]);
}

static void expect_gradcheck(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n, const void *user) {
    gradcheck_report report;
    cr_expect(gradcheck_run(ctx, fn, in, n, (void *)user, NULL, &report), "%s", report.message);
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += in[i]->numel;
    cr_expect_eq(report.checked, total);
}

Test(gradcheck_tokens, gather) {
    gs_context ctx;
    gradcheck_context(&ctx, 51);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 7, 5), 1.0f, true);
    gs_tensor *y = gs_gather_tokens(&ctx, x, keep, 3);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 3 && y->shape[2] == 5);
    for (int n = 0; n < 2; n++)
        for (int j = 0; j < 3; j++)
            for (int d = 0; d < 5; d++)
                cr_expect_eq(y->data[(n * 3 + j) * 5 + d], x->data[(n * 7 + keep[n * 3 + j]) * 5 + d]);
    expect_gradcheck(&ctx, apply_gather, &x, 1, keep);
    expect_gradcheck(&ctx, apply_gather, &x, 1, keep_repeat);
    gs_context_free(&ctx);
}

/* The indices are copied: the caller's buffer may change before backward. */
Test(gradcheck_tokens, gather_copies_indices) {
    gs_context ctx;
    gradcheck_context(&ctx, 52);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 4, 2), 1.0f, true);
    int32_t idx[2] = {3, 1};
    gs_tensor *y = gs_gather_tokens(&ctx, x, idx, 2);
    cr_assert_not_null(y, "%s", ctx.error);
    idx[0] = 0;
    idx[1] = 0;
    float dy[4] = {1, 2, 3, 4};
    cr_assert_eq(gs_backward_from(&ctx, y, dy), GS_OK, "%s", ctx.error);
    float want[8] = {0, 0, 3, 4, 0, 0, 1, 2};
    for (int i = 0; i < 8; i++) cr_expect_eq(x->grad[i], want[i], "dx[%d]", i);
    gs_context_free(&ctx);
}

Test(gradcheck_tokens, scatter_with_fill) {
    gs_context ctx;
    gradcheck_context(&ctx, 53);
    gs_tensor *in[2] = {gradcheck_input(&ctx, GS_DIMS(2, 3, 5), 1.0f, true),
                        gradcheck_input(&ctx, GS_DIMS(5), 1.0f, true)};
    gs_tensor *y = gs_scatter_tokens(&ctx, in[0], keep, 7, in[1]);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 7 && y->shape[2] == 5);
    for (int n = 0; n < 2; n++)
        for (int t = 0; t < 7; t++) {
            int src = -1;
            for (int j = 0; j < 3; j++)
                if (keep[n * 3 + j] == t) src = j;
            for (int d = 0; d < 5; d++)
                cr_expect_eq(y->data[(n * 7 + t) * 5 + d],
                             src >= 0 ? in[0]->data[(n * 3 + src) * 5 + d] : in[1]->data[d], "y[%d,%d,%d]", n, t, d);
        }
    expect_gradcheck(&ctx, apply_scatter_fill, in, 2, keep);
    expect_gradcheck(&ctx, apply_round_trip, (gs_tensor *[]){gradcheck_input(&ctx, GS_DIMS(2, 7, 5), 1.0f, true),
                                                             in[1]},
                     2, keep);
    gs_context_free(&ctx);
}

Test(gradcheck_tokens, scatter_without_fill) {
    gs_context ctx;
    gradcheck_context(&ctx, 54);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 5), 1.0f, true);
    gs_tensor *y = gs_scatter_tokens(&ctx, x, keep, 7, NULL);
    cr_assert_not_null(y, "%s", ctx.error);
    for (int d = 0; d < 5; d++) {
        cr_expect_eq(y->data[1 * 5 + d], 0.0f, "token 1 of sample 0 is not kept");
        cr_expect_eq(y->data[5 * 5 + d], x->data[d], "token 5 of sample 0 is x[0, 0]");
    }
    expect_gradcheck(&ctx, apply_scatter_zeros, &x, 1, keep);
    gs_context_free(&ctx);
}

/* Big enough for threads: fill gradient against a naive sum. */
Test(gradcheck_tokens, scatter_fill_gradient_large) {
    gs_context ctx;
    gradcheck_context(&ctx, 55);
    enum { N = 6, K = 40, T = 160, D = 48 };
    int32_t idx[N * K];
    for (int n = 0; n < N; n++)
        for (int j = 0; j < K; j++) idx[n * K + j] = (int32_t)((j * 7 + n * 3) % T); /* 7 is coprime to 160 */
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(N, K, D), 1.0f, true);
    gs_tensor *fill = gradcheck_input(&ctx, GS_DIMS(D), 1.0f, true);
    gs_tensor *y = gs_scatter_tokens(&ctx, x, idx, T, fill);
    cr_assert_not_null(y, "%s", ctx.error);
    static float dy[N * T * D];
    for (int i = 0; i < N * T * D; i++) dy[i] = (float)(i % 17) - 8.0f;
    cr_assert_eq(gs_backward_from(&ctx, y, dy), GS_OK, "%s", ctx.error);
    for (int d = 0; d < D; d++) {
        double want = 0.0;
        for (int n = 0; n < N; n++)
            for (int t = 0; t < T; t++) {
                bool kept = false;
                for (int j = 0; j < K; j++) kept |= idx[n * K + j] == t;
                if (!kept) want += dy[(n * T + t) * D + d];
            }
        cr_expect_float_eq(fill->grad[d], (float)want, 1e-6, "dfill[%d]", d);
    }
    for (int n = 0; n < N; n++)
        for (int j = 0; j < K; j++)
            for (int d = 0; d < D; d++)
                cr_assert_eq(x->grad[(n * K + j) * D + d], dy[(n * T + idx[n * K + j]) * D + d]);
    gs_context_free(&ctx);
}

Test(gradcheck_tokens, bad_arguments_fail_cleanly) {
    gs_context ctx;
    gradcheck_context(&ctx, 56);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 7, 5), 1.0f, true);
    gs_tensor *kept = gradcheck_input(&ctx, GS_DIMS(2, 3, 5), 1.0f, true);
    gs_tensor *bad_fill = gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true);
    int32_t out_of_range[6] = {5, 0, 3, 6, 7, 1};
    int32_t negative[6] = {5, -1, 3, 6, 2, 1};
    int32_t repeated[6] = {5, 0, 3, 6, 2, 6};

    cr_expect_null(gs_gather_tokens(&ctx, x, out_of_range, 3));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    cr_expect_not_null(strstr(ctx.error, "idx[4] = 7"), "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_gather_tokens(&ctx, x, negative, 3));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    cr_expect_not_null(strstr(ctx.error, "idx[1] = -1"), "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_scatter_tokens(&ctx, kept, out_of_range, 7, NULL));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    cr_expect_not_null(strstr(ctx.error, "idx[4] = 7"), "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_scatter_tokens(&ctx, kept, repeated, 7, NULL));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    cr_expect_not_null(strstr(ctx.error, "idx[5] = 6"), "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_scatter_tokens(&ctx, kept, keep, 7, bad_fill));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_scatter_tokens(&ctx, kept, keep, 2, NULL));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_clear_error(&ctx);
    cr_expect_null(gs_gather_tokens(&ctx, bad_fill, keep, 3));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
