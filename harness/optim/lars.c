/* LARS: layer-wise adaptive rate scaling (You, Gitman, Ginsburg 2017,
 * "Large Batch Training of Convolutional Networks", arXiv:1708.03888), in the
 * form SimCLR and BYOL train with, as written in PyTorch by
 * facebookresearch/barlowtwins (main.py, class LARS) and VISSL (lars.py):
 *   WEIGHT:   d = g + wd * p
 *             trust = eta * ||p|| / ||d||   when ||p|| > 0 and ||d|| > 0, else 1
 *             d *= trust
 *   NO_DECAY: d = g   (excluded from both weight decay and adaptation)
 *   buf = momentum * buf + d;  p -= lr * buf
 * The learning rate multiplies the buffer, not d (SimCLR's TensorFlow LARS
 * folds lr into the buffer instead; the two differ only while lr changes).
 * The norms are accumulated in double over a fixed partition of the tensor so
 * the update does not depend on the thread count. */
#include <math.h>

#include "optimizer.h"

#define LARS_CHUNKS 64

void gs_trust_norms(gs_context *ctx, const float *p, const float *g, float wd, int64_t n, double *p_norm,
                    double *d_norm) {
    double pp[LARS_CHUNKS], dd[LARS_CHUNKS];
    int64_t chunk = (n + LARS_CHUNKS - 1) / LARS_CHUNKS;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int k = 0; k < LARS_CHUNKS; k++) {
        double sp = 0.0, sd = 0.0;
        int64_t end = (k + 1) * chunk < n ? (k + 1) * chunk : n;
        for (int64_t i = k * chunk; i < end; i++) {
            float d = g[i] + wd * p[i];
            sp += (double)p[i] * (double)p[i];
            sd += (double)d * (double)d;
        }
        pp[k] = sp;
        dd[k] = sd;
    }
    double sum_p = 0.0, sum_d = 0.0;
    for (int k = 0; k < LARS_CHUNKS; k++) {
        sum_p += pp[k];
        sum_d += dd[k];
    }
    *p_norm = sqrt(sum_p);
    *d_norm = sqrt(sum_d);
}

void gs_lars_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay, gs_tensor *const *slots,
                    float lr) {
    float *p = param->data, *buf = slots ? slots[0]->data : NULL;
    const float *g = param->grad;
    const float m = opt->config.momentum;
    int64_t n = param->numel;
    float wd = 0.0f, trust = 1.0f;
    if (decay) {
        wd = opt->config.weight_decay;
        double p_norm, d_norm;
        gs_trust_norms(ctx, p, g, wd, n, &p_norm, &d_norm);
        if (p_norm > 0.0 && d_norm > 0.0) trust = (float)((double)opt->config.lars_eta * p_norm / d_norm);
    }
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
        float d = decay ? (g[i] + wd * p[i]) * trust : g[i];
        if (buf) {
            buf[i] = m * buf[i] + d;
            d = buf[i];
        }
        p[i] -= lr * d;
    }
}
