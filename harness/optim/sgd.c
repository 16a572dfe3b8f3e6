/* SGD with momentum, exactly torch.optim.SGD (dampening 0, no nesterov):
 *   d = g + wd * p             (wd only for GS_PARAM_WEIGHT)
 *   buf = momentum * buf + d   (torch starts buf at the first d; a zeroed
 *                               buffer gives the same first step)
 *   p -= lr * buf              (p -= lr * d when momentum is 0) */
#include "optimizer.h"

void gs_sgd_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay, gs_tensor *const *slots,
                   float lr) {
    float *p = param->data, *buf = slots ? slots[0]->data : NULL;
    const float *g = param->grad;
    const float wd = decay ? opt->config.weight_decay : 0.0f, m = opt->config.momentum;
    int64_t n = param->numel;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
        float d = wd != 0.0f ? g[i] + wd * p[i] : g[i];
        if (buf) {
            buf[i] = m * buf[i] + d;
            d = buf[i];
        }
        p[i] -= lr * d;
    }
}
