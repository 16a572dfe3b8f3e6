/* CPU bilinear resize, index and weight rules copied from torch's
 * compute_source_index_and_lambda (aten/src/ATen/native/UpSample.h) so that
 * results match F.interpolate(mode="bilinear") for both align_corners. */
#include <math.h>

#include "cpu_kernels.h"

typedef struct lerp {
    int64_t i0, i1;
    float l0, l1;
} lerp;

static void lerp_table(int64_t in, int64_t out, bool align_corners, lerp *t) {
    const float scale = align_corners ? (out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f) : (float)in / (float)out;
    for (int64_t o = 0; o < out; o++) {
        if (in == out) {
            t[o] = (lerp){o, o, 1.0f, 0.0f};
            continue;
        }
        float src = align_corners ? scale * (float)o : scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0.0f) src = 0.0f;
        int64_t i0 = (int64_t)floorf(src);
        if (i0 > in - 1) i0 = in - 1;
        float l1 = src - (float)i0;
        l1 = l1 < 0.0f ? 0.0f : l1 > 1.0f ? 1.0f : l1;
        t[o] = (lerp){i0, i0 + (i0 < in - 1 ? 1 : 0), 1.0f - l1, l1};
    }
}

/* Rows then columns in one scratch buffer; NULL (context error) on OOM. */
static lerp *lerp_tables(gs_context *ctx, int64_t h, int64_t w, int64_t out_h, int64_t out_w, bool align_corners) {
    lerp *t = gs_scratch(ctx, (size_t)(out_h + out_w) * sizeof *t);
    if (!t) return NULL;
    lerp_table(h, out_h, align_corners, t);
    lerp_table(w, out_w, align_corners, t + out_h);
    return t;
}

static void bilinear_forward(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                             bool align_corners, const float *x, float *y) {
    const lerp *t = lerp_tables(ctx, h, w, out_h, out_w, align_corners);
    if (!t) return;
    const lerp *th = t, *tw = t + out_h;
    const int64_t rows = planes * out_h;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * out_w > 16384)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t plane = row / out_h, oh = row % out_h;
        const float *r0 = x + plane * h * w + th[oh].i0 * w, *r1 = x + plane * h * w + th[oh].i1 * w;
        const float a0 = th[oh].l0, a1 = th[oh].l1;
        float *dst = y + row * out_w;
        for (int64_t ow = 0; ow < out_w; ow++) {
            const lerp c = tw[ow];
            dst[ow] = a0 * (c.l0 * r0[c.i0] + c.l1 * r0[c.i1]) + a1 * (c.l0 * r1[c.i0] + c.l1 * r1[c.i1]);
        }
    }
}

static void bilinear_backward(gs_context *ctx, int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                              bool align_corners, const float *dy, float *dx) {
    const lerp *t = lerp_tables(ctx, h, w, out_h, out_w, align_corners);
    if (!t) return;
    const lerp *th = t, *tw = t + out_h;
    /* One thread per plane: source pixels are shared between outputs. */
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (planes * out_h * out_w > 16384)
    for (int64_t plane = 0; plane < planes; plane++) {
        float *dxp = dx + plane * h * w;
        const float *dyp = dy + plane * out_h * out_w;
        for (int64_t oh = 0; oh < out_h; oh++) {
            float *r0 = dxp + th[oh].i0 * w, *r1 = dxp + th[oh].i1 * w;
            const float a0 = th[oh].l0, a1 = th[oh].l1;
            for (int64_t ow = 0; ow < out_w; ow++) {
                const lerp c = tw[ow];
                const float g = dyp[oh * out_w + ow];
                r0[c.i0] += a0 * c.l0 * g;
                r0[c.i1] += a0 * c.l1 * g;
                r1[c.i0] += a1 * c.l0 * g;
                r1[c.i1] += a1 * c.l1 * g;
            }
        }
    }
}

const gs_upsample_kernels gs_cpu_upsample_kernels = {
    .bilinear_forward = bilinear_forward,
    .bilinear_backward = bilinear_backward,
};
