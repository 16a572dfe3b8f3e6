/* Multi-head attention: gradients of q, k and v by finite differences, and
 * the forward pass against a naive per-head loop. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

static gs_tensor *apply_attention(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_attention(ctx, in[0], in[1], in[2], *(int *)user);
}

static void check(int64_t n, int64_t t, int64_t d, int heads) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_tensor *in[3];
    for (int i = 0; i < 3; i++) in[i] = gradcheck_input(&ctx, GS_DIMS(n, t, d), 1.0f, true);
    gradcheck_report report;
    cr_expect(gradcheck_run(&ctx, apply_attention, in, 3, &heads, NULL, &report), "%s", report.message);
    gs_context_free(&ctx);
}

Test(gradcheck_attention, two_heads_odd_tokens) { check(2, 5, 8, 2); }
Test(gradcheck_attention, three_heads_one_sample) { check(1, 7, 9, 3); }

Test(forward_attention, matches_naive_heads) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    const int64_t n = 2, t = 4, d = 6;
    const int heads = 3, dh = 2;
    gs_tensor *q = gradcheck_input(&ctx, GS_DIMS(n, t, d), 1.0f, false);
    gs_tensor *k = gradcheck_input(&ctx, GS_DIMS(n, t, d), 1.0f, false);
    gs_tensor *v = gradcheck_input(&ctx, GS_DIMS(n, t, d), 1.0f, false);
    gs_step_begin(&ctx);
    gs_tensor *y = gs_attention(&ctx, q, k, v, heads);
    cr_assert_not_null(y, "%s", ctx.error);
    for (int64_t b = 0; b < n; b++)
        for (int h = 0; h < heads; h++)
            for (int64_t i = 0; i < t; i++) {
                double scores[4], max = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j < t; j++) {
                    double s = 0.0;
                    for (int e = 0; e < dh; e++)
                        s += (double)q->data[(b * t + i) * d + h * dh + e] * k->data[(b * t + j) * d + h * dh + e];
                    scores[j] = s / sqrt((double)dh);
                    if (scores[j] > max) max = scores[j];
                }
                for (int64_t j = 0; j < t; j++) sum += exp(scores[j] - max);
                for (int e = 0; e < dh; e++) {
                    double out = 0.0;
                    for (int64_t j = 0; j < t; j++)
                        out += exp(scores[j] - max) / sum * v->data[(b * t + j) * d + h * dh + e];
                    cr_expect_float_eq(y->data[(b * t + i) * d + h * dh + e], (float)out, 1e-5f);
                }
            }
    gs_context_free(&ctx);
}

Test(shape_attention, width_not_divisible_by_heads) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    gs_tensor *q = gradcheck_input(&ctx, GS_DIMS(1, 2, 5), 1.0f, false);
    gs_step_begin(&ctx);
    cr_expect_null(gs_attention(&ctx, q, q, q, 2));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    gs_context_free(&ctx);
}

/* The fused kernel over a (N, T, 3D) qkv buffer. */
static gs_tensor *apply_attention_qkv(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_attention_qkv(ctx, in[0], *(int *)user);
}

static void check_fused(int64_t n, int64_t t, int64_t d, int heads) {
    gs_context ctx;
    gradcheck_context(&ctx, 11);
    gs_tensor *qkv = gradcheck_input(&ctx, GS_DIMS(n, t, 3 * d), 1.0f, true);
    gradcheck_report report;
    cr_expect(gradcheck_run(&ctx, apply_attention_qkv, &qkv, 1, &heads, NULL, &report), "%s", report.message);
    gs_context_free(&ctx);
}

Test(gradcheck_attention, fused_qkv_two_heads_odd_tokens) { check_fused(2, 5, 8, 2); }
Test(gradcheck_attention, fused_qkv_three_heads) { check_fused(3, 7, 9, 3); }

/* The fused kernel equals the composed op on slices of the same buffer,
 * forward and backward. */
Test(forward_attention, fused_matches_composed) {
    gs_context ctx;
    gradcheck_context(&ctx, 13);
    const int64_t n = 3, t = 9, d = 12;
    const int heads = 3;
    gs_tensor *qkv = gradcheck_input(&ctx, GS_DIMS(n, t, 3 * d), 1.0f, true);
    float *seed = malloc(sizeof(float) * n * t * d), *fused_grad = malloc(sizeof(float) * n * t * 3 * d);
    for (int64_t i = 0; i < n * t * d; i++) seed[i] = sinf((float)i);
    gs_step_begin(&ctx);
    gs_tensor *a = gs_attention_qkv(&ctx, qkv, heads);
    cr_assert_eq(gs_backward_from(&ctx, a, seed), GS_OK, "%s", ctx.error);
    memcpy(fused_grad, qkv->grad, sizeof(float) * n * t * 3 * d);
    float *fused_out = malloc(sizeof(float) * n * t * d);
    memcpy(fused_out, a->data, sizeof(float) * n * t * d);
    gs_step_begin(&ctx);
    qkv->grad = NULL;
    gs_tensor *b = gs_attention(&ctx, gs_slice(&ctx, qkv, 2, 0, d), gs_slice(&ctx, qkv, 2, d, 2 * d),
                                gs_slice(&ctx, qkv, 2, 2 * d, 3 * d), heads);
    cr_assert_eq(gs_backward_from(&ctx, b, seed), GS_OK, "%s", ctx.error);
    for (int64_t i = 0; i < n * t * d; i++) cr_expect_float_eq(fused_out[i], b->data[i], 1e-5f);
    for (int64_t i = 0; i < n * t * 3 * d; i++) cr_expect_float_eq(fused_grad[i], qkv->grad[i], 1e-5f);
    free(seed);
    free(fused_grad);
    free(fused_out);
    gs_context_free(&ctx);
}
