#include "smoke.h"
#include "../core/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../io/checkpoint.h"
#include "../ops/ops.h"
#include "../optim/clip.h"
#include "../optim/schedule.h"

gs_smoke_config gs_smoke_default_config(void) {
    gs_smoke_config c;
    memset(&c, 0, sizeof c);
    c.backbone = (gs_backbone_config){.name = "resnet18", .bands = 3, .img_size = 64, .stem = GS_STEM_IMAGENET,
                                      .patch = 8, .pos = GS_POS_LEARNED};
    c.batch = 32;
    c.steps = 30;
    c.classes = 10;
    c.optimizer = gs_optimizer_defaults(GS_OPTIM_SGD);
    c.optimizer.lr = 0.05f;
    c.optimizer.momentum = 0.9f;
    c.optimizer.weight_decay = 1e-4f;
    c.warmup_steps = 3;
    c.checkpoint_every = 10;
    return c;
}

void gs_smoke_batch(unsigned long long seed, int64_t step, int classes, gs_tensor *x, int32_t *labels) {
    gs_rng rng;
    gs_rng_seed(&rng, seed * 0x9E3779B97F4A7C15ULL + (unsigned long long)step + 1);
    int64_t n = x->shape[0], bands = x->shape[1], h = x->shape[2], w = x->shape[3];
    for (int64_t i = 0; i < n; i++) {
        int c = (int)gs_rng_below(&rng, (uint64_t)classes);
        labels[i] = c;
        double angle = 3.14159265358979 * c / classes + 0.15 * gs_rng_normal(&rng);
        double freq = (2.0 + c % 3) * 6.28318530717959 / (double)(h < w ? h : w) * (1.0 + 0.1 * gs_rng_normal(&rng));
        double fx = freq * cos(angle), fy = freq * sin(angle), phase = 6.28318530717959 * gs_rng_uniform(&rng);
        for (int64_t b = 0; b < bands; b++) {
            /* Per-band amplitudes tie the class to a "spectrum" as well. */
            double amplitude = 0.5 + 0.5 * sin(1.7 * (double)(b + 1) * (double)(c + 1));
            float *plane = x->data + (i * bands + b) * h * w;
            for (int64_t r = 0; r < h; r++)
                for (int64_t col = 0; col < w; col++)
                    plane[r * w + col] =
                        (float)(amplitude * sin(fx * (double)col + fy * (double)r + phase)) +
                        0.3f * gs_rng_normal(&rng);
        }
    }
}

uint64_t gs_params_hash(const gs_param_list *list, uint64_t hash) {
    if (!hash) hash = 1469598103934665603ULL;
    for (int i = 0; i < list->count; i++) {
        const gs_tensor *t = list->items[i].tensor;
        const unsigned char *bytes = (const unsigned char *)t->data;
        for (size_t j = 0; j < (size_t)t->numel * sizeof(float); j++) hash = (hash ^ bytes[j]) * 1099511628211ULL;
    }
    return hash;
}

static void describe(const gs_smoke_config *c, const char *arch, char *buf, size_t size) {
    snprintf(buf, size,
             "workload=smoke arch=\"%s\" batch=%d steps=%lld classes=%d size=%d optimizer=%d lr=%g momentum=%g "
             "weight_decay=%g warmup=%lld clip=%g seed=%llu",
             arch, c->batch, (long long)c->steps, c->classes, c->backbone.img_size, (int)c->optimizer.kind,
             (double)c->optimizer.lr, (double)c->optimizer.momentum, (double)c->optimizer.weight_decay,
             (long long)c->warmup_steps, (double)c->clip_norm, c->seed);
}

static gs_status save(gs_context *ctx, const gs_smoke_config *c, gs_backbone *bb, gs_optimizer *opt, int64_t step) {
    char config_text[1024];
    describe(c, bb->arch, config_text, sizeof config_text);
    gs_checkpoint_group groups[] = {{"model", bb->params}, {"optimizer", &opt->state}};
    gs_checkpoint_meta meta = {.step = step, .rng = ctx->rng, .architecture = bb->arch, .config = config_text};
    return gs_checkpoint_save(ctx, c->checkpoint_path, groups, 2, &meta);
}

static gs_status train_loop(gs_context *ctx, const gs_smoke_config *c, gs_backbone *bb, gs_optimizer *opt,
                            int64_t start, gs_smoke_result *result, double *rates) {
    int size = c->backbone.img_size, bands = c->backbone.bands;
    int32_t *labels = malloc((size_t)c->batch * sizeof *labels);
    if (!labels) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for labels");
    gs_cosine_schedule schedule = {.base = c->optimizer.lr, .final = 0.0, .warmup_steps = c->warmup_steps,
                                   .total_steps = c->steps};
    for (int64_t step = start; step < c->steps && !gs_failed(ctx); step++) {
        double t0 = gs_now_s();
        gs_step_begin(ctx);
        gs_optimizer_zero_grad(opt);
        gs_tensor *x = gs_activation(ctx, GS_DIMS(c->batch, bands, size, size));
        if (!x) break;
        gs_smoke_batch(c->seed, step, c->classes, x, labels);
        gs_tensor *logits = gs_backbone_forward(ctx, bb, x, true);
        gs_tensor *loss = gs_cross_entropy(ctx, logits, labels, GS_NO_IGNORE_INDEX);
        if (gs_backward(ctx, loss) != GS_OK) {
            gs_fail(ctx, ctx->status, " at step %lld", (long long)step); /* keeps the first message */
            break;
        }
        if (c->clip_norm > 0) gs_clip_grad_norm(ctx, bb->params, c->clip_norm);
        if (gs_optimizer_step(ctx, opt, (float)gs_cosine_lr(&schedule, step)) != GS_OK) break;

        int correct = 0;
        for (int i = 0; i < c->batch; i++) {
            const float *row = logits->data + (int64_t)i * c->classes;
            int best = 0;
            for (int k = 1; k < c->classes; k++)
                if (row[k] > row[best]) best = k;
            correct += best == labels[i];
        }
        double elapsed = gs_now_s() - t0;
        rates[step - start] = c->batch / elapsed;
        if (step == start) result->first_loss = loss->data[0];
        result->final_loss = loss->data[0];
        if (c->progress) {
            gs_smoke_progress p = {.step = step + 1, .total = c->steps, .loss = loss->data[0],
                                   .accuracy = (float)correct / (float)c->batch, .img_per_s = c->batch / elapsed,
                                   .eta_s = elapsed * (double)(c->steps - step - 1)};
            c->progress(c->progress_user, &p);
        }
        bool last = step + 1 == c->steps;
        if (c->checkpoint_path && (last || (c->checkpoint_every > 0 && (step + 1) % c->checkpoint_every == 0)))
            save(ctx, c, bb, opt, step + 1);
    }
    free(labels);
    return ctx->status;
}

gs_status gs_smoke_train(gs_context *ctx, const gs_smoke_config *c, gs_smoke_result *result) {
    memset(result, 0, sizeof *result);
    if (gs_failed(ctx)) return ctx->status;
    if (c->batch < 2 || c->steps < 1 || c->classes < 2 || c->backbone.img_size < 8 || c->backbone.bands < 1)
        return gs_fail(ctx, GS_ERR_ARGUMENT,
                       "invalid training setup: batch %d (>= 2), steps %lld (>= 1), classes %d (>= 2), size %d "
                       "(>= 8), bands %d (>= 1)",
                       c->batch, (long long)c->steps, c->classes, c->backbone.img_size, c->backbone.bands);
    if (c->resume && !c->checkpoint_path)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "resuming needs a checkpoint path");
    gs_backbone_config bc = c->backbone;
    bc.num_classes = c->classes;
    gs_backbone bb;
    gs_optimizer opt;
    memset(&opt, 0, sizeof opt);
    gs_backbone_init(ctx, &bb, &bc);
    if (gs_failed(ctx)) return ctx->status;
    gs_optimizer_init(ctx, &opt, bb.params, &c->optimizer);
    result->parameters = gs_params_count(bb.params);

    int64_t start = 0;
    if (!gs_failed(ctx) && c->resume) {
        gs_checkpoint_group groups[] = {{"model", bb.params}, {"optimizer", &opt.state}};
        gs_checkpoint_info info;
        gs_checkpoint_load_options options = {.architecture = bb.arch};
        if (gs_checkpoint_load(ctx, c->checkpoint_path, groups, 2, &info, &options) == GS_OK) {
            start = info.step;
            ctx->rng = info.rng;
            opt.step = info.step;
            char expected[1024];
            describe(c, bb.arch, expected, sizeof expected);
            /* Only the step count may change on resume (to extend a run). */
            const char *a = strstr(info.config, " steps="), *b = strstr(expected, " steps=");
            if (!a || !b || strncmp(info.config, expected, (size_t)(b - expected)) ||
                strcmp(strchr(a + 1, ' '), strchr(b + 1, ' ')))
                gs_log(ctx, GS_LOG_WARN, "resuming %s with a different configuration:\n  was: %s\n  now: %s",
                       c->checkpoint_path, info.config, expected);
            gs_checkpoint_info_free(&info);
            if (start > c->steps)
                gs_fail(ctx, GS_ERR_ARGUMENT, "checkpoint %s is at step %lld, beyond the %lld steps asked for",
                        c->checkpoint_path, (long long)start, (long long)c->steps);
        }
    }
    result->start_step = start;
    double *rates = calloc((size_t)(c->steps - start + 1), sizeof *rates);
    if (!gs_failed(ctx) && rates) train_loop(ctx, c, &bb, &opt, start, result, rates);
    int64_t done = c->steps - start;
    if (!gs_failed(ctx) && done > 0) {
        /* Skip the first step (allocation and warm-up) when there are others. */
        int64_t skip = done > 1 ? 1 : 0;
        result->median_img_per_s = gs_median(rates + skip, (int)(done - skip));
    }
    result->weights_hash = gs_params_hash(&opt.state, gs_params_hash(bb.params, 0));
    free(rates);
    gs_optimizer_free(&opt);
    gs_backbone_free(&bb);
    return ctx->status;
}
