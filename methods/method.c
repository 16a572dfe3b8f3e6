#include "method.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "io/checkpoint.h"
#include "ops/ops.h"
#include "optim/ema.h"

/* The encoder a method trains: features out, the data's bands and size. */
static gs_backbone_config encoder_config(const gs_method_config *cfg) {
    gs_backbone_config bc = cfg->backbone;
    bc.num_classes = 0;
    bc.bands = cfg->bands;
    bc.img_size = cfg->image_size;
    return bc;
}

gs_status gs_method_init(gs_context *ctx, gs_method *m, const gs_method_ops *ops, const gs_method_config *cfg) {
    memset(m, 0, sizeof *m);
    m->ops = ops;
    m->config = *cfg;
    gs_error err = {0};
    if (gs_method_options_check(ops, cfg->options, &err) != GS_OK) return gs_fail(ctx, err.status, "%s", err.message);
    gs_backbone_config bc = encoder_config(cfg);
    if (gs_backbone_init(ctx, &m->encoder, &bc) != GS_OK) return ctx->status;
    if (ops->init(ctx, m) != GS_OK) return ctx->status;
    for (int i = 0; i < m->encoder.params->count; i++) gs_param_add_existing(ctx, &m->trainable, m->encoder.params->items[i]);
    for (int i = 0; i < m->heads.count; i++) gs_param_add_existing(ctx, &m->trainable, m->heads.items[i]);
    return ctx->status;
}

gs_status gs_method_load_pretrained(gs_context *ctx, gs_method *m, const char *checkpoint) {
    gs_checkpoint_group groups[2] = {{"model", m->encoder.params}, {"heads", &m->heads}};
    gs_checkpoint_load_options options = {.architecture = m->encoder.arch, .allow_unused = true};
    return gs_checkpoint_load(ctx, checkpoint, groups, 2, NULL, &options);
}

void gs_method_free(gs_method *m) {
    if (m->ops && m->ops->free) m->ops->free(m);
    gs_param_list_free(&m->trainable);
    gs_param_list_free(&m->heads);
    gs_param_list_free(&m->state);
    gs_backbone_free(&m->encoder);
}

gs_status gs_method_target_init(gs_context *ctx, gs_method *m, const gs_param_list *heads, gs_method_target *t) {
    gs_backbone_config bc = encoder_config(&m->config);
    if (gs_backbone_init(ctx, &t->encoder, &bc) != GS_OK) return ctx->status;
    if (heads->count > m->heads.count)
        return gs_fail(ctx, GS_ERR_INTERNAL, "%s: the target has %d head parameters, the online network %d",
                       m->ops->name, heads->count, m->heads.count);
    for (int i = 0; i < t->encoder.params->count; i++) {
        gs_param_add_existing(ctx, &t->network, t->encoder.params->items[i]);
        gs_param_add_existing(ctx, &t->online, m->encoder.params->items[i]);
    }
    for (int i = 0; i < heads->count; i++) {
        gs_param_add_existing(ctx, &t->network, heads->items[i]);
        gs_param_add_existing(ctx, &t->online, m->heads.items[i]);
    }
    for (int i = 0; i < t->network.count; i++) {
        t->network.items[i].tensor->requires_grad = false; /* never trained */
        gs_param_add_existing(ctx, &m->state, t->network.items[i]);
    }
    if (gs_failed(ctx)) return ctx->status;
    return gs_params_copy(ctx, &t->network, &t->online);
}

gs_status gs_method_target_update(gs_context *ctx, gs_method_target *t, double momentum) {
    return gs_ema_update(ctx, &t->network, &t->online, momentum);
}

void gs_method_target_free(gs_method_target *t) {
    gs_backbone_free(&t->encoder);
    gs_param_list_free(&t->network);
    gs_param_list_free(&t->online);
}

/* The index of the first non-finite value of x, or -1. */
static int64_t first_nonfinite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

static bool is_running_variance(const char *name) {
    size_t n = strlen(name), k = strlen("running_var");
    return n >= k && !strcmp(name + n - k, "running_var");
}

/* Every value of a list finite, and batchnorm running variances
 * non-negative: what a checkpoint of this state would have to refuse, found
 * at the step that made it instead of at the epoch's end. */
static gs_status check_state(gs_context *ctx, const gs_param_list *list, const char *group, int64_t step,
                             const char *when) {
    for (int i = 0; i < list->count; i++) {
        const gs_tensor *t = list->items[i].tensor;
        int64_t at = first_nonfinite(t->data, t->numel);
        if (at >= 0)
            return gs_fail(ctx, GS_ERR_NONFINITE, "%s '%s/%s' became %g at index %lld %s step %lld",
                           list->items[i].kind == GS_PARAM_BUFFER ? "the statistic" : "the weight", group, t->name,
                           (double)t->data[at], (long long)at, when, (long long)step + 1);
        if (is_running_variance(t->name))
            for (int64_t j = 0; j < t->numel; j++)
                if (t->data[j] < 0)
                    return gs_fail(ctx, GS_ERR_NONFINITE,
                                   "the batchnorm running variance '%s/%s' became negative (%g at index %lld) %s step "
                                   "%lld",
                                   group, t->name, (double)t->data[j], (long long)j, when, (long long)step + 1);
    }
    return GS_OK;
}

gs_tensor *gs_method_step(gs_context *ctx, gs_method *m, gs_optimizer *opt, gs_tensor *const *views, int n_views,
                          int64_t step, float lr) {
    const gs_method_ops *ops = m->ops;
    gs_optimizer_zero_grad(opt);
    gs_tensor *loss = ops->loss(ctx, m, views, n_views, step);
    if (!loss && !gs_failed(ctx)) gs_fail(ctx, GS_ERR_INTERNAL, "%s returned no loss", ops->name);
    if (!loss) return NULL;
    /* Across ranks the loss is the mean of every rank's (each computed it on
     * its shard), so every rank reports, and stops on, the same value. */
    if (gs_data_parallel_mean(ctx, &loss->data[0]) != GS_OK) return NULL;
    /* A non-finite number stops training at the step that made it, naming
     * it, before it reaches the weights (loss, gradients) or right after
     * (an update that overflowed, a running statistic): a run never goes on
     * training on NaN, and never writes it into a checkpoint. */
    if (!isfinite(loss->data[0])) {
        gs_fail(ctx, GS_ERR_NONFINITE, "the %s loss is %g at step %lld (the weights are not updated)", ops->name,
                (double)loss->data[0], (long long)step + 1);
        return NULL;
    }
    if (check_state(ctx, m->encoder.params, "model", step, "in the forward pass of") != GS_OK) return NULL;
    if (gs_data_parallel_backward(ctx, loss, &m->trainable) != GS_OK) return NULL;
    if (ops->before_update && ops->before_update(ctx, m, opt, step) != GS_OK) return NULL;
    if (gs_optimizer_step(ctx, opt, lr) != GS_OK) {
        /* The optimizer checks every gradient before it moves anything and
         * names the parameter; the step is added here. */
        if (ctx->status == GS_ERR_NONFINITE) {
            char what[sizeof ctx->error];
            snprintf(what, sizeof what, "%s", ctx->error);
            gs_clear_error(ctx);
            gs_fail(ctx, GS_ERR_NONFINITE, "%s at step %lld, with a finite loss %g (the weights are not updated)",
                    what, (long long)step + 1, (double)loss->data[0]);
        }
        return NULL;
    }
    if (ops->after_step && ops->after_step(ctx, m, step) != GS_OK) return NULL;
    if (gs_data_parallel_share_batchnorm_stats(ctx, m->encoder.params) != GS_OK ||
        gs_data_parallel_share_batchnorm_stats(ctx, &m->heads) != GS_OK ||
        gs_data_parallel_share_batchnorm_stats(ctx, &m->state) != GS_OK)
        return NULL;
    if (check_state(ctx, m->encoder.params, "model", step, "in the update of") != GS_OK ||
        check_state(ctx, &m->heads, "heads", step, "in the update of") != GS_OK ||
        check_state(ctx, &m->state, "state", step, "in the update of") != GS_OK)
        return NULL;
    return loss;
}

float gs_embedding_std(const gs_tensor *z) {
    if (!z || z->ndim != 2 || z->shape[0] < 2) return 0.0f;
    int64_t n = z->shape[0], d = z->shape[1];
    double *sum = calloc((size_t)(2 * d), sizeof *sum), *sq = sum + d;
    if (!sum) return 0.0f;
    for (int64_t i = 0; i < n; i++) {
        const float *row = z->data + i * d;
        double norm = 0.0;
        for (int64_t k = 0; k < d; k++) norm += (double)row[k] * row[k];
        norm = sqrt(norm) > 1e-12 ? sqrt(norm) : 1e-12;
        for (int64_t j = 0; j < d; j++) {
            double v = row[j] / norm;
            sum[j] += v;
            sq[j] += v * v;
        }
    }
    double total = 0.0;
    for (int64_t j = 0; j < d; j++) {
        double mean = sum[j] / (double)n, var = sq[j] / (double)n - mean * mean;
        total += var > 0 ? sqrt(var) : 0.0;
    }
    free(sum);
    return (float)(total / (double)d);
}

int64_t gs_method_queue_default(const gs_method_config *cfg, int64_t paper) {
    if (cfg->dataset_size <= 0 || cfg->batch <= 0) return paper;
    int64_t half_epoch = cfg->dataset_size / 2 / cfg->batch * cfg->batch;
    if (half_epoch < cfg->batch) half_epoch = cfg->batch;
    return half_epoch < paper ? half_epoch : paper;
}
