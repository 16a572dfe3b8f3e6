/* Bilinear resize: finite-difference gradient checks, hand-computed values
 * (torch F.interpolate(mode="bilinear") semantics), a double-precision
 * reference of torch's coordinate rule, and shape errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

typedef struct resize_args {
    int64_t out_h, out_w;
    bool align_corners;
} resize_args;

static gs_tensor *apply_resize(gs_context *ctx, gs_tensor *const *in, void *user) {
    const resize_args *a = user;
    return gs_upsample_bilinear(ctx, in[0], a->out_h, a->out_w, a->align_corners);
}

static void check(resize_args args, int ndim, const int64_t *shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 29);
    gs_tensor *x = gradcheck_input(&ctx, ndim, shape, 1.0f, true);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_resize, &x, 1, &args, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, x->numel);
    cr_expect_eq(report.skipped, 0);
    gs_context_free(&ctx);
}

Test(gradcheck_upsample, up_3x5_to_7x9_half_pixel) { check((resize_args){7, 9, false}, GS_DIMS(2, 3, 3, 5)); }
Test(gradcheck_upsample, up_3x5_to_7x9_align_corners) { check((resize_args){7, 9, true}, GS_DIMS(2, 3, 3, 5)); }
Test(gradcheck_upsample, down_7x9_to_3x4_half_pixel) { check((resize_args){3, 4, false}, GS_DIMS(2, 2, 7, 9)); }
Test(gradcheck_upsample, down_7x9_to_3x4_align_corners) { check((resize_args){3, 4, true}, GS_DIMS(2, 2, 7, 9)); }
Test(gradcheck_upsample, mixed_4x6_to_7x3_half_pixel) { check((resize_args){7, 3, false}, GS_DIMS(1, 2, 4, 6)); }
Test(gradcheck_upsample, mixed_4x6_to_7x3_align_corners) { check((resize_args){7, 3, true}, GS_DIMS(1, 2, 4, 6)); }
Test(gradcheck_upsample, same_height_5x5_to_5x8) { check((resize_args){5, 8, false}, GS_DIMS(2, 2, 5, 5)); }
Test(gradcheck_upsample, to_single_pixel_align_corners) { check((resize_args){1, 1, true}, GS_DIMS(2, 2, 3, 4)); }

/* Backward must add into existing gradients (see gradcheck_accumulates). */
static void check_accumulates(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n_in, void *user) {
    char msg[256];
    cr_expect(gradcheck_accumulates(ctx, fn, in, n_in, user, msg, sizeof msg), "%s", msg);
}

static void accumulates(resize_args args) {
    gs_context ctx;
    gradcheck_context(&ctx, 47);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 4, 5), 1.0f, true);
    check_accumulates(&ctx, apply_resize, &x, 1, &args);
    gs_context_free(&ctx);
}

Test(accumulate_upsample, up_half_pixel) { accumulates((resize_args){7, 9, false}); }
Test(accumulate_upsample, down_align_corners) { accumulates((resize_args){3, 2, true}); }

static gs_tensor *resize_values(gs_context *ctx, const float *values, int64_t h, int64_t w, int64_t out_h,
                                int64_t out_w, bool align_corners) {
    gs_tensor *x = gradcheck_input(ctx, GS_DIMS(1, 1, h, w), 1.0f, false);
    memcpy(x->data, values, (size_t)(h * w) * sizeof(float));
    gs_tensor *y = gs_upsample_bilinear(ctx, x, out_h, out_w, align_corners);
    cr_assert_not_null(y, "%s", ctx->error);
    cr_assert(y->ndim == 4 && y->shape[2] == out_h && y->shape[3] == out_w);
    return y;
}

static void expect_values(const gs_tensor *y, const float *want) {
    for (int64_t i = 0; i < y->numel; i++)
        cr_expect(fabsf(y->data[i] - want[i]) < 1e-6f, "y[%lld] = %g, want %g", (long long)i, y->data[i], want[i]);
}

Test(forward_upsample, hand_2x2_to_4x4_half_pixel) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    const float x[4] = {1, 2, 3, 4};
    const float want[16] = {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                            2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f};
    expect_values(resize_values(&ctx, x, 2, 2, 4, 4, false), want);
    gs_context_free(&ctx);
}

Test(forward_upsample, hand_2x2_to_3x3_align_corners) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    const float x[4] = {1, 2, 3, 4};
    const float want[9] = {1.0f, 1.5f, 2.0f, 2.0f, 2.5f, 3.0f, 3.0f, 3.5f, 4.0f};
    expect_values(resize_values(&ctx, x, 2, 2, 3, 3, true), want);
    gs_context_free(&ctx);
}

/* scale 0.6: sources -0.2 (clamped to 0), 0.4, 1.0, 1.6, 2.2 (clamped to the last pixel). */
Test(forward_upsample, hand_1x3_to_1x5_half_pixel) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    const float x[3] = {0, 1, 2};
    const float want[5] = {0.0f, 0.4f, 1.0f, 1.6f, 2.0f};
    expect_values(resize_values(&ctx, x, 1, 3, 1, 5, false), want);
    gs_context_free(&ctx);
}

Test(forward_upsample, hand_1x4_to_1x2_down) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    const float x[4] = {1, 2, 3, 4};
    const float half_pixel[2] = {1.5f, 3.5f}; /* sources 0.5 and 2.5 */
    const float corners[2] = {1.0f, 4.0f};    /* sources 0 and 3 */
    expect_values(resize_values(&ctx, x, 1, 4, 1, 2, false), half_pixel);
    expect_values(resize_values(&ctx, x, 1, 4, 1, 2, true), corners);
    gs_context_free(&ctx);
}

/* torch's source coordinate in double, sampled with clamping. */
static double source(int64_t dst, int64_t in, int64_t out, bool align_corners) {
    if (align_corners) return out > 1 ? (double)dst * (double)(in - 1) / (double)(out - 1) : 0.0;
    double src = ((double)dst + 0.5) * (double)in / (double)out - 0.5;
    return src < 0.0 ? 0.0 : src;
}

static double sample(const float *plane, int64_t h, int64_t w, double sy, double sx) {
    int64_t y0 = (int64_t)floor(sy), x0 = (int64_t)floor(sx);
    if (y0 > h - 1) y0 = h - 1;
    if (x0 > w - 1) x0 = w - 1;
    int64_t y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
    double fy = fmin(sy - (double)y0, 1.0), fx = fmin(sx - (double)x0, 1.0);
    return (1 - fy) * ((1 - fx) * plane[y0 * w + x0] + fx * plane[y0 * w + x1]) +
           fy * ((1 - fx) * plane[y1 * w + x0] + fx * plane[y1 * w + x1]);
}

static void check_reference(int64_t h, int64_t w, int64_t out_h, int64_t out_w, bool align_corners) {
    gs_context ctx;
    gradcheck_context(&ctx, 31);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, h, w), 1.0f, false);
    gs_tensor *y = gs_upsample_bilinear(&ctx, x, out_h, out_w, align_corners);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 4 && y->shape[0] == 2 && y->shape[1] == 3 && y->shape[2] == out_h && y->shape[3] == out_w);
    int64_t bad = 0;
    for (int64_t plane = 0; plane < 6; plane++)
        for (int64_t i = 0; i < out_h; i++)
            for (int64_t j = 0; j < out_w; j++) {
                double ref = sample(x->data + plane * h * w, h, w, source(i, h, out_h, align_corners),
                                    source(j, w, out_w, align_corners));
                if (fabs(y->data[(plane * out_h + i) * out_w + j] - ref) > 1e-5 * (1.0 + fabs(ref))) bad++;
            }
    cr_expect_eq(bad, 0, "%lld outputs differ from the reference", (long long)bad);
    gs_context_free(&ctx);
}

Test(forward_upsample, reference_up_half_pixel) { check_reference(3, 5, 7, 9, false); }
Test(forward_upsample, reference_up_align_corners) { check_reference(3, 5, 7, 9, true); }
Test(forward_upsample, reference_down_half_pixel) { check_reference(13, 11, 4, 5, false); }
Test(forward_upsample, reference_down_align_corners) { check_reference(13, 11, 4, 5, true); }
Test(forward_upsample, reference_large_half_pixel) { check_reference(24, 20, 96, 80, false); }

Test(forward_upsample, same_size_is_identity) {
    gs_context ctx;
    gradcheck_context(&ctx, 37);
    for (int ac = 0; ac < 2; ac++) {
        gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 2, 5, 6), 1.0f, false);
        gs_tensor *y = gs_upsample_bilinear(&ctx, x, 5, 6, ac);
        cr_assert_not_null(y);
        for (int64_t i = 0; i < x->numel; i++) cr_expect_eq(y->data[i], x->data[i]);
    }
    gs_context_free(&ctx);
}

Test(shape_upsample, three_dims) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 5, 5), 1.0f, true);
    cr_expect_null(gs_upsample_bilinear(&ctx, x, 10, 10, false));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    cr_expect(strstr(ctx.error, "upsample_bilinear") != NULL, "%s", ctx.error);
    gs_context_free(&ctx);
}

Test(shape_upsample, zero_output) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 2, 5, 5), 1.0f, true);
    cr_expect_null(gs_upsample_bilinear(&ctx, x, 0, 10, true));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "%s", ctx.error);
    gs_context_free(&ctx);
}
