/* CPU conv2d: im2col + OpenBLAS sgemm.
 *
 * Samples are processed in groups of G whose columns sit side by side in one
 * (K, G * P) matrix, K = C_in * KH * KW and P = H_out * W_out: late ResNet
 * stages have tiny P (2x2 at 64 px inputs) and one GEMM per sample would be
 * starved.  With G = 1 the GEMM writes straight into y, and a 1x1 stride-1
 * pad-0 convolution reads x directly (no im2col at all).  Everything is
 * deterministic: im2col rows and col2im channels are written by exactly one
 * thread each, and dW accumulates groups in order.  Dilation only moves where
 * a kernel tap reads: tap kh sits kh * dilation rows below the window's top. */
#include <cblas.h>
#include <string.h>

#include "cpu_kernels.h"

/* Columns per GEMM we aim for when P alone is smaller. */
#define GS_CONV_TARGET_COLUMNS 512

static int64_t group_size(const gs_conv2d_shape *s) {
    int64_t p = s->h_out * s->w_out;
    int64_t g = (GS_CONV_TARGET_COLUMNS + p - 1) / p;
    return g < 1 ? 1 : g > s->n ? s->n : g;
}

static bool is_pointwise(const gs_conv2d_shape *s) {
    return s->k_h == 1 && s->k_w == 1 && s->stride == 1 && s->padding == 0;
}

/* Outputs o in [lo, hi) read input o * stride + offset inside [0, in). */
static void valid_range(int64_t offset, int64_t stride, int64_t in, int64_t out, int64_t *lo, int64_t *hi) {
    int64_t l = offset < 0 ? (-offset + stride - 1) / stride : 0;
    int64_t h = in - 1 - offset < 0 ? 0 : (in - 1 - offset) / stride + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* col[r, p] (row length ld) for one sample; r = (c * KH + kh) * KW + kw. */
static void im2col(gs_context *ctx, const gs_conv2d_shape *s, const float *x, float *col, int64_t ld) {
    const int64_t kk = s->k_h * s->k_w, rows = s->c_in * kk;
    const int64_t stride = s->stride, pad = s->padding, dil = s->dilation;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * s->h_out * s->w_out > 32768)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t c = r / kk, kh = (r % kk) / s->k_w, kw = r % s->k_w;
        const float *xc = x + c * s->h_in * s->w_in;
        float *dst = col + r * ld;
        int64_t lo, hi;
        valid_range(kw * dil - pad, stride, s->w_in, s->w_out, &lo, &hi);
        for (int64_t oh = 0; oh < s->h_out; oh++, dst += s->w_out) {
            const int64_t ih = oh * stride - pad + kh * dil;
            if (ih < 0 || ih >= s->h_in) {
                memset(dst, 0, (size_t)s->w_out * sizeof *dst);
                continue;
            }
            const float *row = xc + ih * s->w_in;
            const int64_t off = kw * dil - pad;
            for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
            if (stride == 1) {
                if (hi > lo) memcpy(dst + lo, row + lo + off, (size_t)(hi - lo) * sizeof *dst);
            } else {
                for (int64_t ow = lo; ow < hi; ow++) dst[ow] = row[ow * stride + off];
            }
            for (int64_t ow = hi; ow < s->w_out; ow++) dst[ow] = 0.0f;
        }
    }
}

/* dx += col2im(dcol) for one sample; one thread per input channel. */
static void col2im_add(gs_context *ctx, const gs_conv2d_shape *s, const float *dcol, int64_t ld, float *dx) {
    const int64_t kk = s->k_h * s->k_w;
    const int64_t stride = s->stride, pad = s->padding, dil = s->dilation;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (s->c_in * kk * s->h_out * s->w_out > 32768)
    for (int64_t c = 0; c < s->c_in; c++) {
        float *dxc = dx + c * s->h_in * s->w_in;
        for (int64_t kh = 0; kh < s->k_h; kh++)
            for (int64_t kw = 0; kw < s->k_w; kw++) {
                const float *src = dcol + ((c * s->k_h + kh) * s->k_w + kw) * ld;
                int64_t lo, hi;
                valid_range(kw * dil - pad, stride, s->w_in, s->w_out, &lo, &hi);
                for (int64_t oh = 0; oh < s->h_out; oh++, src += s->w_out) {
                    const int64_t ih = oh * stride - pad + kh * dil;
                    if (ih < 0 || ih >= s->h_in) continue;
                    float *row = dxc + ih * s->w_in;
                    const int64_t off = kw * dil - pad;
                    for (int64_t ow = lo; ow < hi; ow++) row[ow * stride + off] += src[ow];
                }
            }
    }
}

static void forward(gs_context *ctx, const gs_conv2d_shape *s, const float *x, const float *w, const float *bias,
                    float *y) {
    const int64_t p = s->h_out * s->w_out, k = s->c_in * s->k_h * s->k_w;
    const int64_t x_step = s->c_in * s->h_in * s->w_in, y_step = s->c_out * p;
    const bool pointwise = is_pointwise(s);
    const int64_t g = group_size(s), gp = g * p;

    float *col = NULL, *tmp = NULL;
    if (!pointwise || g > 1) {
        size_t floats = (size_t)(k * gp) + (g > 1 ? (size_t)(s->c_out * gp) : 0);
        col = gs_scratch(ctx, floats * sizeof(float));
        if (!col) return;
        tmp = col + k * gp;
    }

    for (int64_t n0 = 0; n0 < s->n; n0 += g) {
        const int64_t gn = s->n - n0 < g ? s->n - n0 : g;
        const float *b_mat = x + n0 * x_step;
        int64_t ld = p;
        if (!(pointwise && g == 1)) {
            for (int64_t i = 0; i < gn; i++) im2col(ctx, s, x + (n0 + i) * x_step, col + i * p, gp);
            b_mat = col;
            ld = gp;
        }
        /* With g == 1 the GEMM lands in y, seeded with the bias. */
        float *out = g == 1 ? y + n0 * y_step : tmp;
        const int64_t cols = gn * p;
        float beta = 0.0f;
        if (g == 1 && bias) {
            for (int64_t o = 0; o < s->c_out; o++)
                for (int64_t j = 0; j < p; j++) out[o * p + j] = bias[o];
            beta = 1.0f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->c_out, (int)cols, (int)k, 1.0f, w, (int)k,
                    b_mat, (int)ld, beta, out, (int)ld);
        if (g == 1) continue;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (s->c_out * cols > 32768)
        for (int64_t o = 0; o < s->c_out; o++) {
            const float b = bias ? bias[o] : 0.0f;
            for (int64_t i = 0; i < gn; i++) {
                float *dst = y + (n0 + i) * y_step + o * p;
                const float *src = tmp + o * gp + i * p;
                for (int64_t j = 0; j < p; j++) dst[j] = src[j] + b;
            }
        }
    }
}

static void bias_backward(gs_context *ctx, const gs_conv2d_shape *s, const float *dy, float *db) {
    const int64_t p = s->h_out * s->w_out;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (s->n * s->c_out * p > 32768)
    for (int64_t o = 0; o < s->c_out; o++) {
        double sum = 0.0;
        for (int64_t n = 0; n < s->n; n++) {
            const float *src = dy + (n * s->c_out + o) * p;
            for (int64_t j = 0; j < p; j++) sum += src[j];
        }
        db[o] += (float)sum;
    }
}

static void backward(gs_context *ctx, const gs_conv2d_shape *s, const float *x, const float *w, const float *dy,
                     float *dx, float *dw, float *db) {
    if (db) bias_backward(ctx, s, dy, db);
    if (!dx && !dw) return;
    const int64_t p = s->h_out * s->w_out, k = s->c_in * s->k_h * s->k_w;
    const int64_t x_step = s->c_in * s->h_in * s->w_in, y_step = s->c_out * p;
    const bool pointwise = is_pointwise(s);
    const int64_t g = group_size(s), gp = g * p;

    /* col holds im2col(x) for dW, then is overwritten by W^T dy for dx. */
    float *col = NULL, *dyg = NULL;
    if (!pointwise || g > 1) {
        size_t floats = (size_t)(k * gp) + (g > 1 ? (size_t)(s->c_out * gp) : 0);
        col = gs_scratch(ctx, floats * sizeof(float));
        if (!col) return;
        dyg = col + k * gp;
    }

    for (int64_t n0 = 0; n0 < s->n; n0 += g) {
        const int64_t gn = s->n - n0 < g ? s->n - n0 : g;
        const int64_t cols = gn * p;
        const float *dy_mat = dy + n0 * y_step;
        int64_t ld = p;
        if (g > 1) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (s->c_out * cols > 32768)
            for (int64_t o = 0; o < s->c_out; o++)
                for (int64_t i = 0; i < gn; i++)
                    memcpy(dyg + o * gp + i * p, dy + (n0 + i) * y_step + o * p, (size_t)p * sizeof(float));
            dy_mat = dyg;
            ld = gp;
        }
        if (pointwise && g == 1) {
            if (dw)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->c_out, (int)k, (int)p, 1.0f, dy_mat,
                            (int)p, x + n0 * x_step, (int)p, 1.0f, dw, (int)k);
            if (dx)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)p, (int)s->c_out, 1.0f, w, (int)k,
                            dy_mat, (int)p, 1.0f, dx + n0 * x_step, (int)p);
            continue;
        }
        if (dw) {
            for (int64_t i = 0; i < gn; i++) im2col(ctx, s, x + (n0 + i) * x_step, col + i * p, gp);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->c_out, (int)k, (int)cols, 1.0f, dy_mat,
                        (int)ld, col, (int)gp, 1.0f, dw, (int)k);
        }
        if (dx) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)cols, (int)s->c_out, 1.0f, w, (int)k,
                        dy_mat, (int)ld, 0.0f, col, (int)gp);
            for (int64_t i = 0; i < gn; i++) col2im_add(ctx, s, col + i * p, gp, dx + (n0 + i) * x_step);
        }
    }
}

const gs_conv2d_kernels gs_cpu_conv2d_kernels = {
    .forward = forward,
    .backward = backward,
};
