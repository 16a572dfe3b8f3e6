/* Batchnorm over the global batch of a data-parallel job (--sync-bn): each
 * rank sums its shard per channel, the ranks add the sums up, and every rank
 * normalizes with the statistics of the whole global batch, which is what
 * one process holding that batch computes.  Backward likewise adds up the
 * per-channel sums of dy and dy * xhat; the gradients of gamma and beta stay
 * this rank's (the training step averages every parameter's gradient over
 * the ranks afterwards). */
#include <math.h>

#include "batchnorm.h"
#include "dist/dist.h"
#include "op_util.h"

bool gs_batchnorm_syncs(const gs_context *ctx) { return ctx->dist && ctx->dist->size > 1 && ctx->dist->sync_bn; }

static gs_status sum_over_ranks(gs_context *ctx, double *values, int64_t n) {
    gs_error err = {0};
    if (gs_dist_sum_f64(ctx->dist, values, n, &err) != GS_OK) return gs_fail(ctx, err.status, "%s", err.message);
    return GS_OK;
}

gs_status gs_batchnorm_sync_forward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x,
                                    const float *gamma, const float *beta, float momentum, float eps, float *y,
                                    float *save_mean, float *save_invstd, float *running_mean, float *running_var) {
    const gs_batchnorm_kernels *k = ctx->backend->batchnorm;
    /* c sums, then the value count (ranks may hold different shard sizes);
     * the step's arena, as every op's temporaries. */
    double *sums = gs_arena_alloc(&ctx->activations, (size_t)(2 * c + 1) * sizeof *sums);
    float *var = gs_arena_alloc(&ctx->activations, (size_t)c * sizeof *var);
    if (!sums || !var)
        return gs_fail(ctx, GS_ERR_MEMORY, "batchnorm: out of memory for %lld channel sums", (long long)c);
    double *mean = sums + c + 1;
    k->channel_sums(ctx, n, c, inner, x, NULL, sums);
    sums[c] = (double)(n * inner);
    if (sum_over_ranks(ctx, sums, c + 1) != GS_OK) return ctx->status;
    double m = sums[c];
    for (int64_t ch = 0; ch < c; ch++) mean[ch] = sums[ch] / m;
    /* A second pass over the centred values, as the one-process kernel does. */
    k->channel_sums(ctx, n, c, inner, x, mean, sums);
    if (sum_over_ranks(ctx, sums, c) != GS_OK) return ctx->status;
    for (int64_t ch = 0; ch < c; ch++) {
        double biased = sums[ch] / m;
        save_mean[ch] = (float)mean[ch];
        save_invstd[ch] = (float)(1.0 / sqrt(biased + (double)eps));
        /* forward_eval normalizes with 1/sqrt(var + eps): the biased variance. */
        var[ch] = (float)biased;
        if (running_mean) {
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean[ch]);
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] + momentum * sums[ch] / (m - 1.0));
        }
    }
    k->forward_eval(ctx, n, c, inner, x, gamma, beta, save_mean, var, eps, y);
    return ctx->status;
}

void gs_batchnorm_sync_backward(gs_context *ctx, int64_t n, int64_t c, int64_t inner, const float *x,
                                const float *gamma, const float *mean, const float *invstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta) {
    const gs_batchnorm_kernels *k = ctx->backend->batchnorm;
    double *sums = gs_arena_alloc(&ctx->activations, (size_t)(2 * c + 1) * sizeof *sums);
    float *means = gs_arena_alloc(&ctx->activations, (size_t)(2 * c) * sizeof *means);
    if (!sums || !means) {
        gs_fail(ctx, GS_ERR_MEMORY, "batchnorm: out of memory for %lld channel sums", (long long)c);
        return;
    }
    double *sum_dy = sums, *sum_dy_xhat = sums + c;
    k->backward_sums(ctx, n, c, inner, x, mean, invstd, dy, sum_dy, sum_dy_xhat);
    for (int64_t ch = 0; ch < c; ch++) {
        if (dgamma) dgamma[ch] += (float)sum_dy_xhat[ch];
        if (dbeta) dbeta[ch] += (float)sum_dy[ch];
    }
    sums[2 * c] = (double)(n * inner);
    if (dx && sum_over_ranks(ctx, sums, 2 * c + 1) == GS_OK) {
        double m = sums[2 * c];
        for (int64_t ch = 0; ch < c; ch++) {
            means[ch] = (float)(sum_dy[ch] / m);
            means[c + ch] = (float)(sum_dy_xhat[ch] / m);
        }
        k->backward_input(ctx, n, c, inner, x, gamma, mean, invstd, dy, means, means + c, dx);
    }
}
