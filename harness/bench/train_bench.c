#include "train_bench.h"
#include "../core/clock.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "../ops/ops.h"
#include "../optim/optimizer.h"

gs_status gs_train_bench(gs_context *ctx, const gs_train_bench_config *c, FILE *log, gs_train_bench_result *result) {
    if (c->batch < 1 || c->steps < 1 || c->warmup_steps < 0)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "bench: batch and steps must be positive");
    gs_backbone_config bc = c->backbone;
    bc.num_classes = 128;
    gs_backbone bb;
    if (gs_backbone_init(ctx, &bb, &bc) != GS_OK) return ctx->status;
    gs_optimizer opt;
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_SGD);
    oc.lr = 1e-3f; /* small: the benchmark must not diverge over its steps */
    oc.momentum = 0.9f;
    if (!c->inference) gs_optimizer_init(ctx, &opt, bb.params, &oc);
    result->parameters = gs_params_count(bb.params);

    double *rates = calloc((size_t)c->steps, sizeof *rates);
    int64_t size = c->backbone.img_size;
    for (int step = 0; step < c->warmup_steps + c->steps && !gs_failed(ctx); step++) {
        gs_step_begin(ctx);
        gs_tensor *x = gs_activation(ctx, GS_DIMS(c->batch, c->backbone.bands, size, size));
        if (!x) break;
        gs_tensor_fill_normal(ctx, x, 1.0f); /* generated outside the timed region */
        double t0 = gs_now_s();
        if (c->inference) {
            bool previous = gs_set_grad_enabled(ctx, false);
            gs_backbone_forward(ctx, &bb, x, false);
            gs_set_grad_enabled(ctx, previous);
        } else {
            gs_optimizer_zero_grad(&opt);
            gs_tensor *out = gs_backbone_forward(ctx, &bb, x, true);
            gs_tensor *loss = gs_mean(ctx, gs_mul(ctx, out, out));
            if (gs_backward(ctx, loss) != GS_OK) break;
            gs_optimizer_step(ctx, &opt, oc.lr);
        }
        double elapsed = gs_now_s() - t0;
        if (step >= c->warmup_steps) rates[step - c->warmup_steps] = c->batch / elapsed;
        if (log)
            fprintf(log, "%s step %d/%d: %.1f img/s\n", step < c->warmup_steps ? "warm-up" : "timed",
                    step < c->warmup_steps ? step + 1 : step - c->warmup_steps + 1,
                    step < c->warmup_steps ? c->warmup_steps : c->steps, c->batch / elapsed);
    }
    if (!gs_failed(ctx)) {
        result->median_img_per_s = gs_median(rates, c->steps); /* sorts: min and max follow */
        result->min_img_per_s = rates[0];
        result->max_img_per_s = rates[c->steps - 1];
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    result->peak_rss_kb = usage.ru_maxrss;
    result->activations_peak = ctx->activations.peak;
    result->parameters_bytes = ctx->params.used;
    result->gradients_bytes = ctx->grads.used;
    result->optimizer_bytes = ctx->optim_state.used;
    result->scratch_bytes = ctx->scratch_size;
    free(rates);
    if (!c->inference) gs_optimizer_free(&opt);
    gs_backbone_free(&bb);
    return ctx->status;
}
