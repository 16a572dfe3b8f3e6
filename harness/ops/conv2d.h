/* 2-d convolution, NCHW input, OIHW weight (torch layout), optional bias. */
#ifndef GS_OPS_CONV2D_H
#define GS_OPS_CONV2D_H

#include "../core/context.h"
#include "../core/tensor.h"

/* x (N, C_in, H, W), w (C_out, C_in, KH, KW), bias (C_out) or NULL.
 * Output (N, C_out, (H + 2p - KH) / s + 1, (W + 2p - KW) / s + 1). */
gs_tensor *gs_conv2d(gs_context *ctx, gs_tensor *x, gs_tensor *w, gs_tensor *bias, int stride, int padding);
/* The same with dilation d >= 1 (torch's `dilation`: kernel taps d pixels
 * apart, the "atrous" convolution of DeepLab).  The kernel then spans
 * d * (K - 1) + 1 pixels: output (N, C_out, (H + 2p - d (KH - 1) - 1) / s + 1,
 * (W + 2p - d (KW - 1) - 1) / s + 1).  gs_conv2d is dilation 1. */
gs_tensor *gs_conv2d_dilated(gs_context *ctx, gs_tensor *x, gs_tensor *w, gs_tensor *bias, int stride, int padding,
                             int dilation);

typedef struct gs_conv2d_shape {
    int64_t n, c_in, h_in, w_in;
    int64_t c_out, k_h, k_w;
    int64_t h_out, w_out;
    int stride, padding;
    int dilation; /* >= 1; tap (kh, kw) reads input (i s - p + kh d, j s - p + kw d) */
} gs_conv2d_shape;

/* Backend kernels.  bias/db may be NULL; dx, dw, db may each be NULL when
 * that gradient is not needed; backward ADDS into them. */
typedef struct gs_conv2d_kernels {
    void (*forward)(gs_context *ctx, const gs_conv2d_shape *s, const float *x, const float *w, const float *bias,
                    float *y);
    void (*backward)(gs_context *ctx, const gs_conv2d_shape *s, const float *x, const float *w, const float *dy,
                     float *dx, float *dw, float *db);
} gs_conv2d_kernels;

#endif
