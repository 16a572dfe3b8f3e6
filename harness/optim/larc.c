/* LARC: the "scale" form of layer-wise adaptive rate control that NVIDIA
 * apex ships (apex/parallel/LARC.py) and VISSL wraps around SGD when a
 * config says `use_larc: True` (FALSE's released recipe: trust coefficient
 * 0.001, clip False, eps 1e-8; specs/false.md section 5).  Before SGD steps,
 * every parameter with a gradient, decayed or not, is rescaled:
 *   wd = weight_decay for GS_PARAM_WEIGHT, 0 otherwise
 *   if ||p|| != 0 and ||g|| != 0:
 *       a = eta * ||p|| / (||g|| + wd * ||p|| + eps)
 *       d = (g + wd * p) * a
 *   else
 *       d = g                       (apex adds no weight decay then either)
 *   buf = momentum * buf + d;  p -= lr * buf     (torch SGD, its own decay 0)
 * It differs from lars.c (the SimCLR / BYOL form) in three ways: the
 * denominator is ||g|| + wd ||p|| + eps rather than ||g + wd p||, parameters
 * without weight decay (biases, norms) are adapted too, and a zero norm
 * leaves the gradient without its weight decay.  eta is config.lars_eta,
 * eps is config.eps.  The norms are accumulated in double over a fixed
 * partition of the tensor, so the update does not depend on the thread
 * count. */
#include <math.h>

#include "optimizer.h"


void gs_larc_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay, gs_tensor *const *slots,
                    float lr) {
    float *p = param->data, *buf = slots ? slots[0]->data : NULL;
    const float *g = param->grad;
    const float m = opt->config.momentum;
    const int64_t n = param->numel;
    const float wd = decay ? opt->config.weight_decay : 0.0f;
    double p_norm, g_norm;
    gs_trust_norms(ctx, p, g, 0.0f, n, &p_norm, &g_norm);
    const bool adapt = p_norm != 0.0 && g_norm != 0.0;
    const float scale = adapt ? (float)((double)opt->config.lars_eta * p_norm /
                                        (g_norm + (double)wd * p_norm + (double)opt->config.eps))
                              : 1.0f;
    const float decay_now = adapt ? wd : 0.0f;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
        float d = (g[i] + decay_now * p[i]) * scale;
        if (buf) {
            buf[i] = m * buf[i] + d;
            d = buf[i];
        }
        p[i] -= lr * d;
    }
}
