#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gradcheck_context(gs_context *ctx, unsigned long long seed) {
    /* GEOSSL_TEST_THREADS overrides the default of 2 threads. */
    const char *env = getenv("GEOSSL_TEST_THREADS");
    gs_context_options options = {.n_threads = env && atoi(env) > 0 ? atoi(env) : 2, .seed = seed};
    gs_context_init(ctx, &options);
}

gs_tensor *gradcheck_input(gs_context *ctx, int ndim, const int64_t *shape, float scale, bool requires_grad) {
    gs_tensor *t = gs_tensor_new(ctx, &ctx->params, ndim, shape);
    if (!t) return NULL;
    gs_tensor_fill_normal(ctx, t, scale);
    t->requires_grad = requires_grad;
    return t;
}

/* L = sum(R * y) in double, gradients off. */
static bool evaluate(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *inputs, void *user, const float *r,
                     int64_t n, double *out) {
    gs_step_begin(ctx);
    bool previous = gs_set_grad_enabled(ctx, false);
    gs_tensor *y = fn(ctx, inputs, user);
    gs_set_grad_enabled(ctx, previous);
    if (!y || gs_failed(ctx) || y->numel != n) return false;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)r[i] * (double)y->data[i];
    *out = sum;
    return true;
}

static bool numeric_at(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *inputs, void *user, const float *r,
                       int64_t n, float *value, float eps, double *grad) {
    float saved = *value;
    double plus = 0.0, minus = 0.0;
    *value = saved + eps;
    bool ok = evaluate(ctx, fn, inputs, user, r, n, &plus);
    *value = saved - eps;
    ok = ok && evaluate(ctx, fn, inputs, user, r, n, &minus);
    *value = saved;
    /* The perturbation actually applied, in float arithmetic. */
    double step = (double)(saved + eps) - (double)(saved - eps);
    *grad = (plus - minus) / step;
    return ok;
}

static bool close_enough(double a, double b, double rtol, double atol) {
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= rtol * scale + atol;
}

bool gradcheck_run(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *inputs, int n_inputs, void *user,
                   const gradcheck_options *opt, gradcheck_report *report) {
    gradcheck_options o = {.eps = 1e-2f, .rtol = 1e-2, .atol = 1e-4, .max_skip_fraction = 0.05};
    if (opt) {
        if (opt->eps > 0) o.eps = opt->eps;
        if (opt->rtol > 0) o.rtol = opt->rtol;
        if (opt->atol > 0) o.atol = opt->atol;
        if (opt->max_skip_fraction > 0) o.max_skip_fraction = opt->max_skip_fraction;
    }
    memset(report, 0, sizeof *report);

    /* Analytic pass: one forward with recording, backward seeded with R. */
    gs_step_begin(ctx);
    /* Parameters keep their gradient buffer (it lives in the gradient arena);
     * other inputs get a fresh one from this step's activation arena. */
    for (int i = 0; i < n_inputs; i++) {
        if (inputs[i]->is_param && inputs[i]->grad)
            memset(inputs[i]->grad, 0, (size_t)inputs[i]->numel * sizeof(float));
        else
            inputs[i]->grad = NULL;
    }
    gs_tensor *y = fn(ctx, inputs, user);
    if (!y || gs_failed(ctx)) {
        snprintf(report->message, sizeof report->message, "forward failed: %s", ctx->error);
        return false;
    }
    int64_t n = y->numel;
    float *r = malloc((size_t)n * sizeof *r);
    gs_rng rng;
    gs_rng_seed(&rng, 12345);
    for (int64_t i = 0; i < n; i++) r[i] = gs_rng_normal(&rng);
    gs_backward_from(ctx, y, r);
    if (gs_failed(ctx)) {
        snprintf(report->message, sizeof report->message, "backward failed: %s", ctx->error);
        free(r);
        return false;
    }
    float **analytic = calloc((size_t)n_inputs, sizeof *analytic);
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i]->requires_grad) continue;
        analytic[i] = calloc((size_t)inputs[i]->numel, sizeof(float));
        /* No gradient reached this input: it is all zeros. */
        if (inputs[i]->grad) memcpy(analytic[i], inputs[i]->grad, (size_t)inputs[i]->numel * sizeof(float));
    }

    bool ok = true;
    for (int i = 0; i < n_inputs && ok; i++) {
        if (!analytic[i]) continue;
        for (int64_t j = 0; j < inputs[i]->numel; j++) {
            double numeric;
            if (!numeric_at(ctx, fn, inputs, user, r, n, &inputs[i]->data[j], o.eps, &numeric)) {
                snprintf(report->message, sizeof report->message, "forward failed while perturbing: %s", ctx->error);
                ok = false;
                break;
            }
            report->checked++;
            double a = analytic[i][j];
            if (close_enough(a, numeric, o.rtol, o.atol)) continue;
            double finer;
            numeric_at(ctx, fn, inputs, user, r, n, &inputs[i]->data[j], o.eps / 2, &finer);
            if (!close_enough(numeric, finer, o.rtol, o.atol) && !close_enough(a, finer, o.rtol, o.atol)) {
                report->skipped++; /* a kink: the function is not smooth here */
                continue;
            }
            if (close_enough(a, finer, o.rtol, o.atol)) continue;
            if (report->failed++ == 0)
                snprintf(report->message, sizeof report->message,
                         "input %d element %lld: analytic %.6g, numeric %.6g (eps/2: %.6g)", i, (long long)j, a,
                         numeric, finer);
        }
    }
    if (ok && report->failed > 0) ok = false;
    if (ok && report->skipped > o.max_skip_fraction * (double)report->checked) {
        snprintf(report->message, sizeof report->message, "%lld of %lld elements skipped as kinks (limit %.0f%%)",
                 report->skipped, report->checked, 100 * o.max_skip_fraction);
        ok = false;
    }
    if (ok && report->checked == 0) {
        snprintf(report->message, sizeof report->message, "no element was checked");
        ok = false;
    }
    for (int i = 0; i < n_inputs; i++) free(analytic[i]);
    free(analytic);
    free(r);
    return ok;
}

bool gradcheck_accumulates(gs_context *ctx, gradcheck_fn fn, gs_tensor *const *inputs, int n_inputs, void *user,
                           char *msg, size_t msg_size) {
    float **clean = calloc((size_t)n_inputs, sizeof *clean), **prefilled = calloc((size_t)n_inputs, sizeof *prefilled);
    bool ok = true;
    msg[0] = '\0';
    for (int pass = 0; pass < 2 && ok; pass++) {
        gs_step_begin(ctx);
        for (int i = 0; i < n_inputs; i++) {
            inputs[i]->grad = NULL;
            if (pass == 1) {
                prefilled[i] = malloc((size_t)inputs[i]->numel * sizeof(float));
                for (int64_t j = 0; j < inputs[i]->numel; j++) prefilled[i][j] = 1.0f;
                inputs[i]->grad = prefilled[i];
            }
        }
        gs_tensor *y = fn(ctx, inputs, user);
        float *dy = y ? malloc((size_t)y->numel * sizeof(float)) : NULL;
        for (int64_t j = 0; dy && j < y->numel; j++) dy[j] = (float)((j * 7) % 11) - 5.0f;
        if (!y || gs_backward_from(ctx, y, dy) != GS_OK) {
            snprintf(msg, msg_size, "forward or backward failed: %s", ctx->error);
            ok = false;
        }
        free(dy);
        for (int i = 0; ok && pass == 0 && i < n_inputs; i++) {
            clean[i] = calloc((size_t)inputs[i]->numel, sizeof(float));
            if (inputs[i]->grad) memcpy(clean[i], inputs[i]->grad, (size_t)inputs[i]->numel * sizeof(float));
        }
    }
    for (int i = 0; i < n_inputs; i++) {
        long long bad = 0;
        for (int64_t j = 0; ok && j < inputs[i]->numel; j++)
            if (fabsf(prefilled[i][j] - (clean[i][j] + 1.0f)) > 1e-4f * (1.0f + fabsf(clean[i][j]))) bad++;
        if (bad && ok) {
            snprintf(msg, msg_size, "input %d: %lld gradient elements were overwritten, not accumulated", i, bad);
            ok = false;
        }
        inputs[i]->grad = NULL;
        free(clean[i]);
        free(prefilled[i]);
    }
    free(clean);
    free(prefilled);
    return ok;
}
