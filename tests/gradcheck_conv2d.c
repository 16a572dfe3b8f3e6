/* conv2d: finite-difference gradient checks, forward values against a naive
 * 7-loop reference, and shape errors.  Shapes cover the kernel's paths: im2col
 * with samples grouped into one GEMM (small outputs), one sample per GEMM
 * (outputs of >= 512 pixels), a partial last group, and the 1x1 stride-1
 * plain-GEMM path in both group modes.  Dilated cases run on every backend
 * built (the default one is oneDNN when found, so the im2col kernel would
 * otherwise go unchecked). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "gradcheck.h"
#include "ops/ops.h"

typedef struct conv_case {
    int64_t n, c_in, h, w, c_out, k;
    int stride, padding;
    bool bias;
    bool x_grad; /* false: input without gradient (the first layer) */
    int dilation; /* 1: the plain gs_conv2d */
} conv_case;

static gs_tensor *apply_conv(gs_context *ctx, gs_tensor *const *in, void *user) {
    const conv_case *c = user;
    if (c->dilation != 1)
        return gs_conv2d_dilated(ctx, in[0], in[1], c->bias ? in[2] : NULL, c->stride, c->padding, c->dilation);
    return gs_conv2d(ctx, in[0], in[1], c->bias ? in[2] : NULL, c->stride, c->padding);
}

/* A test context on the named backend ("default": gradcheck_context's). */
static void backend_context(gs_context *ctx, unsigned long long seed, const char *backend) {
    gradcheck_context(ctx, seed);
    if (!strcmp(backend, "default")) return;
    int threads = ctx->n_threads;
    gs_context_free(ctx);
    gs_context_options options = {.n_threads = threads, .seed = seed, .backend = gs_backend_by_name(backend)};
    gs_context_init(ctx, &options);
}

static void check_gradients_on(conv_case c, const char *backend) {
    gs_context ctx;
    backend_context(&ctx, 11, backend);
    gs_tensor *in[3];
    in[0] = gradcheck_input(&ctx, GS_DIMS(c.n, c.c_in, c.h, c.w), 1.0f, c.x_grad);
    in[1] = gradcheck_input(&ctx, GS_DIMS(c.c_out, c.c_in, c.k, c.k), 0.5f, true);
    in[2] = c.bias ? gradcheck_input(&ctx, GS_DIMS(c.c_out), 1.0f, true) : NULL;
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_conv, in, c.bias ? 3 : 2, &c, NULL, &report);
    cr_expect(ok, "%s", report.message);
    int64_t expected = in[1]->numel + (c.bias ? c.c_out : 0) + (c.x_grad ? in[0]->numel : 0);
    cr_expect_eq(report.checked, expected, "checked %lld of %lld elements", report.checked, (long long)expected);
    cr_expect_eq(report.skipped, 0);
    gs_context_free(&ctx);
}

static void check_gradients(conv_case c) { check_gradients_on(c, "default"); }

/* The backends this build has: "cpu" always, "onednn" when it was found. */
static const char *const BACKENDS[] = {"cpu", "onednn"};
#define N_BACKENDS (sizeof BACKENDS / sizeof *BACKENDS)

static void check_gradients_every_backend(conv_case c) {
    for (size_t b = 0; b < N_BACKENDS; b++) {
        if (!gs_backend_by_name(BACKENDS[b])) continue;
        cr_log_info("backend %s", BACKENDS[b]);
        check_gradients_on(c, BACKENDS[b]);
    }
}

Test(gradcheck_conv2d, k3_s1_p1_bias) { check_gradients((conv_case){2, 3, 6, 5, 4, 3, 1, 1, true, true, 1}); }
Test(gradcheck_conv2d, k3_s1_p1_no_bias) { check_gradients((conv_case){2, 3, 5, 5, 2, 3, 1, 1, false, true, 1}); }
Test(gradcheck_conv2d, k3_s2_p1_odd_input) { check_gradients((conv_case){2, 2, 7, 7, 3, 3, 2, 1, false, true, 1}); }
Test(gradcheck_conv2d, k3_s2_p1_odd_input_bias) { check_gradients((conv_case){2, 3, 7, 9, 2, 3, 2, 1, true, true, 1}); }
Test(gradcheck_conv2d, k7_s2_p3_stem) { check_gradients((conv_case){2, 3, 11, 11, 4, 7, 2, 3, true, true, 1}); }
Test(gradcheck_conv2d, k1_s1_gemm_path_bias) { check_gradients((conv_case){2, 3, 5, 7, 4, 1, 1, 0, true, true, 1}); }
Test(gradcheck_conv2d, k1_s1_gemm_path_no_bias) {
    check_gradients((conv_case){2, 4, 3, 5, 3, 1, 1, 0, false, true, 1});
}
Test(gradcheck_conv2d, k1_s2_downsample) { check_gradients((conv_case){2, 4, 7, 7, 3, 1, 2, 0, false, true, 1}); }
Test(gradcheck_conv2d, k1_s2_downsample_bias) { check_gradients((conv_case){2, 3, 8, 6, 5, 1, 2, 0, true, true, 1}); }
/* 23 x 23 = 529 output pixels: one sample per GEMM, no grouping copies. */
Test(gradcheck_conv2d, k3_one_sample_per_gemm) {
    check_gradients((conv_case){2, 2, 23, 23, 2, 3, 1, 1, true, true, 1});
}
Test(gradcheck_conv2d, k1_s1_one_sample_per_gemm) {
    check_gradients((conv_case){2, 2, 23, 23, 3, 1, 1, 0, true, true, 1});
}
/* 10 x 10 outputs: groups of 6 samples, the last group holds 1. */
Test(gradcheck_conv2d, partial_last_group) { check_gradients((conv_case){7, 1, 10, 10, 2, 3, 1, 1, true, true, 1}); }
Test(gradcheck_conv2d, weight_only_first_layer) {
    check_gradients((conv_case){2, 3, 9, 9, 2, 3, 2, 1, true, false, 1});
}

/* Dilation 2 and 3 with stride 1 and 2 and padding from none to "same"
 * (p = d for a 3x3 kernel, as DeepLab's atrous layers use). */
Test(gradcheck_conv2d, dilated_d2_s1_same) {
    check_gradients_every_backend((conv_case){2, 3, 7, 6, 4, 3, 1, 2, true, true, 2});
}
Test(gradcheck_conv2d, dilated_d2_s1_p0) {
    check_gradients_every_backend((conv_case){2, 2, 8, 9, 3, 3, 1, 0, false, true, 2});
}
Test(gradcheck_conv2d, dilated_d2_s2_p1_odd) {
    check_gradients_every_backend((conv_case){2, 3, 9, 7, 2, 3, 2, 1, true, true, 2});
}
Test(gradcheck_conv2d, dilated_d3_s1_same) {
    check_gradients_every_backend((conv_case){2, 2, 8, 8, 3, 3, 1, 3, true, true, 3});
}
Test(gradcheck_conv2d, dilated_d3_s2_p2) {
    check_gradients_every_backend((conv_case){2, 2, 10, 11, 3, 3, 2, 2, false, true, 3});
}
/* Padding larger than the dilation: rows of the window lie wholly outside. */
Test(gradcheck_conv2d, dilated_d3_s1_p5_wide_padding) {
    check_gradients_every_backend((conv_case){1, 2, 5, 6, 2, 3, 1, 5, true, true, 3});
}
/* 24 x 24 outputs: one sample per GEMM on the im2col path. */
Test(gradcheck_conv2d, dilated_d2_one_sample_per_gemm) {
    check_gradients_every_backend((conv_case){2, 1, 24, 24, 2, 3, 1, 2, true, true, 2});
}
/* Dilation does not change a 1x1 convolution (the plain-GEMM path). */
Test(gradcheck_conv2d, dilated_k1_pointwise) {
    check_gradients_every_backend((conv_case){2, 3, 5, 4, 2, 1, 1, 0, true, true, 2});
}
Test(gradcheck_conv2d, dilated_weight_only_first_layer) {
    check_gradients_every_backend((conv_case){2, 3, 9, 9, 2, 3, 2, 2, true, false, 2});
}

/* Backward must add into existing gradients (see gradcheck_accumulates). */
static void check_accumulates(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *in, int n_in, void *user) {
    char msg[256];
    cr_expect(gradcheck_accumulates(ctx, fn, in, n_in, user, msg, sizeof msg), "%s", msg);
}

static void accumulates(conv_case c) {
    gs_context ctx;
    gradcheck_context(&ctx, 41);
    gs_tensor *in[3];
    in[0] = gradcheck_input(&ctx, GS_DIMS(c.n, c.c_in, c.h, c.w), 1.0f, true);
    in[1] = gradcheck_input(&ctx, GS_DIMS(c.c_out, c.c_in, c.k, c.k), 0.5f, true);
    in[2] = gradcheck_input(&ctx, GS_DIMS(c.c_out), 1.0f, true);
    check_accumulates(&ctx, apply_conv, in, 3, &c);
    gs_context_free(&ctx);
}

Test(accumulate_conv2d, k3_grouped) { accumulates((conv_case){3, 2, 5, 5, 3, 3, 1, 1, true, true, 1}); }
Test(accumulate_conv2d, k3_one_sample_per_gemm) { accumulates((conv_case){2, 2, 23, 23, 3, 3, 1, 1, true, true, 1}); }
Test(accumulate_conv2d, k1_grouped) { accumulates((conv_case){3, 3, 4, 5, 2, 1, 1, 0, true, true, 1}); }
Test(accumulate_conv2d, k1_one_sample_per_gemm) { accumulates((conv_case){2, 3, 23, 23, 2, 1, 1, 0, true, true, 1}); }
Test(accumulate_conv2d, k1_s2_grouped) { accumulates((conv_case){2, 3, 7, 7, 2, 1, 2, 0, true, true, 1}); }
Test(accumulate_conv2d, dilated_d2) { accumulates((conv_case){2, 2, 7, 7, 3, 3, 1, 2, true, true, 2}); }

/* y[n,o,i,j] = b[o] + sum_{c,kh,kw} w[o,c,kh,kw] * x[n,c,i*s-p+kh*d,j*s-p+kw*d], in double. */
static double naive_conv(const gs_tensor *x, const gs_tensor *w, const gs_tensor *b, int s, int p, int d, int64_t n,
                         int64_t o, int64_t i, int64_t j) {
    const int64_t c_in = x->shape[1], h = x->shape[2], wd = x->shape[3], kh_n = w->shape[2], kw_n = w->shape[3];
    double sum = b ? b->data[o] : 0.0;
    for (int64_t c = 0; c < c_in; c++)
        for (int64_t kh = 0; kh < kh_n; kh++)
            for (int64_t kw = 0; kw < kw_n; kw++) {
                int64_t ih = i * s - p + kh * d, iw = j * s - p + kw * d;
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                sum += (double)w->data[((o * c_in + c) * kh_n + kh) * kw_n + kw] *
                       (double)x->data[((n * c_in + c) * h + ih) * wd + iw];
            }
    return sum;
}

static void check_forward_on(const char *backend, int64_t n, int64_t c_in, int64_t h, int64_t wd, int64_t c_out,
                             int64_t kh, int64_t kw, int s, int p, int d, bool bias) {
    gs_context ctx;
    backend_context(&ctx, 5, backend);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(n, c_in, h, wd), 1.0f, false);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(c_out, c_in, kh, kw), 1.0f, false);
    gs_tensor *b = bias ? gradcheck_input(&ctx, GS_DIMS(c_out), 1.0f, false) : NULL;
    gs_tensor *y = d == 1 ? gs_conv2d(&ctx, x, w, b, s, p) : gs_conv2d_dilated(&ctx, x, w, b, s, p, d);
    cr_assert_not_null(y, "%s", ctx.error);
    const int64_t oh_n = (h + 2 * p - d * (kh - 1) - 1) / s + 1, ow_n = (wd + 2 * p - d * (kw - 1) - 1) / s + 1;
    cr_assert_eq(y->ndim, 4);
    cr_assert(y->shape[0] == n && y->shape[1] == c_out && y->shape[2] == oh_n && y->shape[3] == ow_n);
    int64_t bad = 0;
    for (int64_t in = 0; in < n; in++)
        for (int64_t o = 0; o < c_out; o++)
            for (int64_t i = 0; i < oh_n; i++)
                for (int64_t j = 0; j < ow_n; j++) {
                    double ref = naive_conv(x, w, b, s, p, d, in, o, i, j);
                    float got = y->data[((in * c_out + o) * oh_n + i) * ow_n + j];
                    if (fabs(got - ref) > 1e-4 * (1.0 + fabs(ref)) && bad++ == 0)
                        cr_log_error("y[%lld,%lld,%lld,%lld] = %g, reference %g", (long long)in, (long long)o,
                                     (long long)i, (long long)j, got, ref);
                }
    cr_expect_eq(bad, 0, "%s: %lld outputs differ from the reference", backend, (long long)bad);
    gs_context_free(&ctx);
}

static void check_forward(int64_t n, int64_t c_in, int64_t h, int64_t wd, int64_t c_out, int64_t kh, int64_t kw,
                          int s, int p, bool bias) {
    check_forward_on("default", n, c_in, h, wd, c_out, kh, kw, s, p, 1, bias);
}

static void check_forward_dilated(int64_t n, int64_t c_in, int64_t h, int64_t wd, int64_t c_out, int64_t kh,
                                  int64_t kw, int s, int p, int d, bool bias) {
    for (size_t b = 0; b < N_BACKENDS; b++)
        if (gs_backend_by_name(BACKENDS[b]))
            check_forward_on(BACKENDS[b], n, c_in, h, wd, c_out, kh, kw, s, p, d, bias);
}

Test(forward_conv2d, k3_s1_p1) { check_forward(2, 3, 6, 5, 4, 3, 3, 1, 1, true); }
Test(forward_conv2d, k3_s2_p1_odd) { check_forward(3, 4, 7, 7, 5, 3, 3, 2, 1, false); }
Test(forward_conv2d, k7_s2_p3_stem) { check_forward(2, 3, 32, 29, 8, 7, 7, 2, 3, true); }
Test(forward_conv2d, k1_s1) { check_forward(3, 5, 4, 6, 7, 1, 1, 1, 0, true); }
Test(forward_conv2d, k1_s2) { check_forward(2, 6, 9, 9, 4, 1, 1, 2, 0, false); }
Test(forward_conv2d, rectangular_kernel_no_padding) { check_forward(2, 2, 8, 9, 3, 2, 5, 1, 0, true); }
Test(forward_conv2d, large_stride_and_padding) { check_forward(2, 2, 9, 8, 3, 3, 3, 3, 2, true); }
Test(forward_conv2d, one_sample_per_gemm) { check_forward(3, 3, 30, 25, 4, 3, 3, 1, 1, true); }
Test(forward_conv2d, k1_one_sample_per_gemm) { check_forward(2, 3, 24, 24, 4, 1, 1, 1, 0, true); }
Test(forward_conv2d, partial_last_group) { check_forward(9, 2, 10, 10, 3, 3, 3, 1, 1, true); }
Test(forward_conv2d, tiny_outputs_many_samples) { check_forward(20, 8, 2, 2, 6, 3, 3, 1, 1, true); }
Test(forward_conv2d, dilated_d2_same) { check_forward_dilated(2, 3, 12, 10, 4, 3, 3, 1, 2, 2, true); }
Test(forward_conv2d, dilated_d3_s2) { check_forward_dilated(3, 2, 13, 11, 5, 3, 3, 2, 1, 3, false); }
Test(forward_conv2d, dilated_rectangular_kernel) { check_forward_dilated(2, 2, 11, 12, 3, 2, 3, 1, 0, 2, true); }
/* Rates 6 and 12 on a 9 x 9 map, as ASPP at output stride 16 on small inputs:
 * most taps fall in the padding. */
Test(forward_conv2d, dilated_aspp_rates_on_small_map) {
    check_forward_dilated(2, 4, 9, 9, 3, 3, 3, 1, 6, 6, true);
    check_forward_dilated(2, 4, 9, 9, 3, 3, 3, 1, 12, 12, false);
}
Test(forward_conv2d, dilated_one_sample_per_gemm) { check_forward_dilated(2, 3, 28, 26, 4, 3, 3, 1, 2, 2, true); }

/* The kernel's result does not depend on whether the tape records. */
Test(forward_conv2d, same_values_with_and_without_recording) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 7, 7), 1.0f, true);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(4, 3, 3, 3), 1.0f, true);
    gs_tensor *a = gs_conv2d(&ctx, x, w, NULL, 2, 1);
    gs_set_grad_enabled(&ctx, false);
    gs_tensor *b = gs_conv2d(&ctx, x, w, NULL, 2, 1);
    cr_assert(a && b);
    cr_expect(a->requires_grad);
    cr_expect_not(b->requires_grad);
    for (int64_t i = 0; i < a->numel; i++) cr_expect_eq(a->data[i], b->data[i]);
    gs_context_free(&ctx);
}

static void expect_shape_error(int64_t c_in_w, int64_t h, int64_t k, int64_t bias_n, int ndim_x) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = ndim_x == 4 ? gradcheck_input(&ctx, GS_DIMS(2, 3, h, h), 1.0f, true)
                               : gradcheck_input(&ctx, GS_DIMS(3, h, h), 1.0f, true);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(4, c_in_w, k, k), 1.0f, true);
    gs_tensor *b = bias_n ? gradcheck_input(&ctx, GS_DIMS(bias_n), 1.0f, true) : NULL;
    gs_tensor *y = gs_conv2d(&ctx, x, w, b, 1, 0);
    cr_expect_null(y);
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "status %d: %s", ctx.status, ctx.error);
    cr_expect(strstr(ctx.error, "conv2d") != NULL, "message should name the op: %s", ctx.error);
    gs_context_free(&ctx);
}

Test(shape_conv2d, channel_mismatch) { expect_shape_error(2, 5, 3, 0, 4); }
Test(shape_conv2d, wrong_bias_length) { expect_shape_error(3, 5, 3, 5, 4); }
Test(shape_conv2d, three_dim_input) { expect_shape_error(3, 5, 3, 0, 3); }
Test(shape_conv2d, kernel_larger_than_input) { expect_shape_error(3, 4, 5, 0, 4); }

/* A 3x3 kernel at dilation 3 spans 7 pixels: too wide for 5 + 2 * 0. */
Test(shape_conv2d, dilated_kernel_larger_than_input) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 2, 5, 5), 1.0f, true);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(2, 2, 3, 3), 1.0f, true);
    cr_expect_null(gs_conv2d_dilated(&ctx, x, w, NULL, 1, 0, 3));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "status %d: %s", ctx.status, ctx.error);
    gs_context_free(&ctx);
}

Test(shape_conv2d, dilation_zero_is_an_argument_error) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(1, 2, 5, 5), 1.0f, true);
    gs_tensor *w = gradcheck_input(&ctx, GS_DIMS(2, 2, 3, 3), 1.0f, true);
    cr_expect_null(gs_conv2d_dilated(&ctx, x, w, NULL, 1, 1, 0));
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT, "status %d: %s", ctx.status, ctx.error);
    gs_context_free(&ctx);
}
