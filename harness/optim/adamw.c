/* AdamW, exactly torch.optim.AdamW (amsgrad off), with t the parameter's own
 * update count (slot "step", as torch's per-parameter state; it differs from
 * opt->step for a parameter that was frozen for a while):
 *   p *= 1 - lr * wd                       (decoupled; GS_PARAM_WEIGHT only)
 *   m = m + (1 - b1) (g - m)               (torch's lerp form of b1 m + (1-b1) g)
 *   v = b2 v + (1 - b2) g^2
 *   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Scalars are formed in double, as torch forms them in Python floats. */
#include <math.h>

#include "optimizer.h"

void gs_adamw_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay,
                     gs_tensor *const *slots, float lr) {
    const gs_optimizer_config *c = &opt->config;
    float *p = param->data, *m = slots[0]->data, *v = slots[1]->data;
    const float *g = param->grad;
    /* The count is a float: exact up to 2^24 updates. */
    double t = (double)slots[2]->data[0] + 1.0;
    slots[2]->data[0] = (float)t;
    const float shrink = decay ? (float)(1.0 - (double)lr * (double)c->weight_decay) : 1.0f;
    const float w1 = (float)(1.0 - (double)c->beta1), b2 = c->beta2, w2 = (float)(1.0 - (double)c->beta2);
    const float step_size = (float)((double)lr / (1.0 - pow((double)c->beta1, t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow((double)c->beta2, t));
    const float eps = c->eps;
    int64_t n = param->numel;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        m[i] += w1 * (gi - m[i]);
        v[i] = b2 * v[i] + w2 * gi * gi;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] = p[i] * shrink - step_size * (m[i] / denom);
    }
}
