/* Optimizers, schedules, EMA and clipping against naive double-precision
 * references written here from the torch formulas. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nn/params.h"
#include "optim/clip.h"
#include "optim/ema.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

#define N_PARAMS 4
#define MAX_NUMEL 16

/* A tiny model: a decayed weight, an undecayed bias, a buffer, and an
 * all-zero weight (LARS falls back to trust 1 there). */
static const struct {
    const char *name;
    gs_param_kind kind;
    int ndim;
    int64_t shape[2];
} SPEC[N_PARAMS] = {
    {"layer.weight", GS_PARAM_WEIGHT, 2, {3, 5}},
    {"layer.bias", GS_PARAM_NO_DECAY, 1, {5}},
    {"bn.running_mean", GS_PARAM_BUFFER, 1, {5}},
    {"zero.weight", GS_PARAM_WEIGHT, 2, {2, 2}},
};

static double init_value(int k, int i) { return k == 3 ? 0.0 : 0.5 * sin(1.3 * i + k) + 0.1 * k; }
static double grad_value(int k, int i, int step) { return 0.2 * cos(0.7 * i + step + 2.0 * k) + 0.05 * k; }

static void build(gs_context *ctx, gs_param_list *list) {
    gs_context_options options = {.n_threads = 2, .seed = 1};
    gs_context_init(ctx, &options);
    memset(list, 0, sizeof *list);
    for (int k = 0; k < N_PARAMS; k++) {
        gs_tensor *t = gs_param_add(ctx, list, SPEC[k].name, SPEC[k].kind, SPEC[k].ndim, SPEC[k].shape);
        cr_assert_not_null(t, "%s", ctx->error);
        for (int64_t i = 0; i < t->numel; i++) t->data[i] = (float)init_value(k, (int)i);
    }
}

static void set_grads(const gs_param_list *list, int step) {
    for (int k = 0; k < list->count; k++) {
        gs_tensor *t = list->items[k].tensor;
        if (t->grad)
            for (int64_t i = 0; i < t->numel; i++) t->grad[i] = (float)grad_value(k, (int)i, step);
    }
}

/* ---- the naive reference, in double ---- */

typedef struct ref_state {
    double p[N_PARAMS][MAX_NUMEL], s1[N_PARAMS][MAX_NUMEL], s2[N_PARAMS][MAX_NUMEL];
    int numel[N_PARAMS];
} ref_state;

static void ref_init(ref_state *r) {
    memset(r, 0, sizeof *r);
    for (int k = 0; k < N_PARAMS; k++) {
        r->numel[k] = (int)(SPEC[k].shape[0] * (SPEC[k].ndim == 2 ? SPEC[k].shape[1] : 1));
        for (int i = 0; i < r->numel[k]; i++) r->p[k][i] = (float)init_value(k, i);
    }
}

static void ref_step(ref_state *r, const gs_optimizer_config *c, double lr, int step) {
    for (int k = 0; k < N_PARAMS; k++) {
        if (SPEC[k].kind == GS_PARAM_BUFFER) continue;
        bool decay = SPEC[k].kind == GS_PARAM_WEIGHT;
        int n = r->numel[k];
        double g[MAX_NUMEL], *p = r->p[k];
        for (int i = 0; i < n; i++) g[i] = (float)grad_value(k, i, step);
        if (c->kind == GS_OPTIM_ADAMW) {
            double b1 = c->beta1, b2 = c->beta2, t = step + 1;
            for (int i = 0; i < n; i++) {
                if (decay) p[i] *= 1.0 - lr * c->weight_decay;
                r->s1[k][i] = b1 * r->s1[k][i] + (1.0 - b1) * g[i];
                r->s2[k][i] = b2 * r->s2[k][i] + (1.0 - b2) * g[i] * g[i];
                double m_hat = r->s1[k][i] / (1.0 - pow(b1, t)), v_hat = r->s2[k][i] / (1.0 - pow(b2, t));
                p[i] -= lr * m_hat / (sqrt(v_hat) + c->eps);
            }
            continue;
        }
        double d[MAX_NUMEL], wd = decay ? c->weight_decay : 0.0, trust = 1.0;
        for (int i = 0; i < n; i++) d[i] = g[i] + wd * p[i];
        if (c->kind == GS_OPTIM_LARS && decay) {
            double pn = 0.0, dn = 0.0;
            for (int i = 0; i < n; i++) {
                pn += p[i] * p[i];
                dn += d[i] * d[i];
            }
            if (pn > 0.0 && dn > 0.0) trust = c->lars_eta * sqrt(pn) / sqrt(dn);
        }
        for (int i = 0; i < n; i++) {
            r->s1[k][i] = c->momentum * r->s1[k][i] + trust * d[i];
            p[i] -= lr * r->s1[k][i];
        }
    }
}

static void expect_near(double got, double want, double rtol, double atol, const char *what, int k, int i) {
    cr_expect(fabs(got - want) <= rtol * fabs(want) + atol, "%s of %s[%d]: got %.9g, want %.9g", what, SPEC[k].name,
              i, got, want);
}

/* Runs 3 steps with changing learning rates and compares parameters and
 * state with the reference after each step. */
static void check_against_reference(gs_optimizer_config cfg) {
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    ref_state ref;
    ref_init(&ref);
    const float lrs[3] = {0.1f, 0.05f, 0.2f};
    for (int step = 0; step < 3; step++) {
        set_grads(&list, step);
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, lrs[step]), GS_OK, "%s", ctx.error);
        ref_step(&ref, &opt.config, lrs[step], step);
        for (int k = 0; k < N_PARAMS; k++) {
            const gs_tensor *t = list.items[k].tensor;
            for (int i = 0; i < ref.numel[k]; i++) {
                expect_near(t->data[i], ref.p[k][i], 1e-5, 1e-7, "value", k, i);
                if (SPEC[k].kind == GS_PARAM_BUFFER || opt.n_slots == 0) continue;
                expect_near(opt.slots[k * opt.n_slots]->data[i], ref.s1[k][i], 1e-5, 1e-8, "first moment", k, i);
                if (opt.config.kind == GS_OPTIM_ADAMW)
                    expect_near(opt.slots[k * opt.n_slots + 1]->data[i], ref.s2[k][i], 1e-5, 1e-10, "second moment", k,
                                i);
            }
        }
    }
    cr_expect_eq(opt.step, 3);
    if (opt.config.kind == GS_OPTIM_ADAMW) /* each trained parameter counted its own 3 updates */
        for (int k = 0; k < N_PARAMS; k++)
            if (SPEC[k].kind != GS_PARAM_BUFFER) cr_expect_eq(opt.slots[k * opt.n_slots + 2]->data[0], 3.0f);
    /* The buffer is never touched. */
    for (int i = 0; i < 5; i++) cr_expect_eq(list.items[2].tensor->data[i], (float)init_value(2, i));
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

Test(optim_updates, sgd_momentum_matches_torch_formula) {
    gs_optimizer_config cfg = {.kind = GS_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f};
    check_against_reference(cfg);
}

Test(optim_updates, sgd_without_momentum) {
    gs_optimizer_config cfg = {.kind = GS_OPTIM_SGD, .lr = 0.1f, .weight_decay = 0.05f};
    check_against_reference(cfg);
}

Test(optim_updates, lars_matches_reference) {
    /* A large eta makes the adapted updates big enough to check sharply. */
    gs_optimizer_config cfg = {.kind = GS_OPTIM_LARS, .lr = 0.5f, .momentum = 0.9f, .weight_decay = 0.05f,
                               .lars_eta = 0.02f};
    check_against_reference(cfg);
}

Test(optim_updates, lars_default_eta) {
    gs_optimizer_config cfg = {.kind = GS_OPTIM_LARS, .lr = 0.5f, .momentum = 0.9f, .weight_decay = 1e-6f};
    check_against_reference(cfg);
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_eq(opt.config.lars_eta, 0.001f);
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

Test(optim_updates, adamw_matches_torch_formula) {
    /* eps 1e-3 is large next to sqrt(v_hat) ~ 0.2, so its place in the
     * denominator (after the bias correction) is checked too. */
    gs_optimizer_config cfg = {.kind = GS_OPTIM_ADAMW, .lr = 0.01f, .weight_decay = 0.1f, .beta1 = 0.9f,
                               .beta2 = 0.999f, .eps = 1e-3f};
    check_against_reference(cfg);
    cfg.beta1 = 0.8f;
    cfg.beta2 = 0.95f;
    cfg.eps = 1e-8f;
    check_against_reference(cfg);
}

Test(optim_updates, state_is_a_named_buffer_list) {
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    gs_optimizer_config cfg = gs_optimizer_defaults(GS_OPTIM_ADAMW);
    cfg.lr = 1e-3f;
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_eq(opt.state.count, 9, "three slots for each of 3 trainable parameters, got %d", opt.state.count);
    /* torch keeps AdamW's step count per parameter: one value each. */
    const char *counts[] = {"layer.weight.step", "layer.bias.step", "zero.weight.step"};
    for (int i = 0; i < 3; i++) {
        gs_tensor *t = gs_param_find(&opt.state, counts[i]);
        cr_expect(t && t->numel == 1, "missing or misshapen state %s", counts[i]);
    }
    const char *names[] = {"layer.weight.exp_avg", "layer.weight.exp_avg_sq", "layer.bias.exp_avg",
                           "layer.bias.exp_avg_sq", "zero.weight.exp_avg", "zero.weight.exp_avg_sq"};
    for (int i = 0; i < 6; i++) {
        gs_tensor *t = gs_param_find(&opt.state, names[i]);
        cr_expect_not_null(t, "missing state %s", names[i]);
        if (t) cr_expect_eq(t->numel, gs_param_find(&list, SPEC[i / 2 == 2 ? 3 : i / 2].name)->numel);
    }
    for (int i = 0; i < opt.state.count; i++) {
        cr_expect_eq(opt.state.items[i].kind, GS_PARAM_BUFFER);
        cr_expect_null(opt.state.items[i].tensor->grad);
        for (int64_t j = 0; j < opt.state.items[i].tensor->numel; j++)
            cr_expect_eq(opt.state.items[i].tensor->data[j], 0.0f);
    }
    cr_expect_null(gs_param_find(&opt.state, "bn.running_mean.exp_avg"));
    cr_expect_eq(opt.step, 0);
    gs_optimizer_free(&opt);

    cfg = gs_optimizer_defaults(GS_OPTIM_SGD);
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_not_null(gs_param_find(&opt.state, "layer.weight.momentum_buffer"));
    cr_expect_eq(opt.state.count, 3);
    gs_optimizer_free(&opt);
    cfg.momentum = 0.0f;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_eq(opt.state.count, 0, "SGD without momentum keeps no state (as torch)");
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

Test(optim_updates, nonfinite_gradient_changes_nothing) {
    const gs_optimizer_kind kinds[3] = {GS_OPTIM_SGD, GS_OPTIM_LARS, GS_OPTIM_ADAMW};
    for (int kind = 0; kind < 3; kind++) {
        gs_context ctx;
        gs_param_list list;
        build(&ctx, &list);
        gs_optimizer_config cfg = gs_optimizer_defaults(kinds[kind]);
        cfg.weight_decay = 0.1f;
        gs_optimizer opt;
        cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
        set_grads(&list, 0);
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, 0.1f), GS_OK, "%s", ctx.error);

        float before[N_PARAMS][MAX_NUMEL], state_before[3 * N_PARAMS][MAX_NUMEL]; /* up to 3 slots each */
        for (int k = 0; k < N_PARAMS; k++)
            memcpy(before[k], list.items[k].tensor->data, (size_t)list.items[k].tensor->numel * sizeof(float));
        cr_assert_leq(opt.state.count, 3 * N_PARAMS);
        for (int s = 0; s < opt.state.count; s++)
            memcpy(state_before[s], opt.state.items[s].tensor->data,
                   (size_t)opt.state.items[s].tensor->numel * sizeof(float));
        set_grads(&list, 1);
        /* The bad value sits in the last trainable parameter: the first ones
         * must not have moved when it is found. */
        list.items[3].tensor->grad[2] = kind == 1 ? INFINITY : NAN;
        cr_expect_eq(gs_optimizer_step(&ctx, &opt, 0.1f), GS_ERR_NONFINITE);
        cr_expect(strstr(ctx.error, "zero.weight") != NULL, "message: %s", ctx.error);
        for (int k = 0; k < N_PARAMS; k++)
            cr_expect_eq(memcmp(before[k], list.items[k].tensor->data,
                                (size_t)list.items[k].tensor->numel * sizeof(float)),
                         0, "%s (%s) changed", SPEC[k].name, gs_optimizer_kind_name(kinds[kind]));
        for (int s = 0; s < opt.state.count; s++)
            cr_expect_eq(memcmp(state_before[s], opt.state.items[s].tensor->data,
                                (size_t)opt.state.items[s].tensor->numel * sizeof(float)),
                         0, "state %s changed", opt.state.items[s].tensor->name);
        cr_expect_eq(opt.step, 1);
        gs_optimizer_free(&opt);
        gs_param_list_free(&list);
        gs_context_free(&ctx);
    }
}

Test(optim_updates, bad_arguments) {
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    gs_optimizer opt;
    gs_optimizer_config cfg = gs_optimizer_defaults(GS_OPTIM_ADAMW);
    cfg.eps = 0.0f;
    cr_expect_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "eps") != NULL, "%s", ctx.error);
    gs_clear_error(&ctx);
    cfg = gs_optimizer_defaults(GS_OPTIM_SGD);
    cfg.momentum = 1.0f;
    cr_expect_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    cfg.momentum = 0.9f;
    cfg.weight_decay = -1.0f;
    cr_expect_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    cfg.weight_decay = 0.0f;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    set_grads(&list, 0);
    cr_expect_eq(gs_optimizer_step(&ctx, &opt, NAN), GS_ERR_ARGUMENT);
    cr_expect_eq(list.items[0].tensor->data[0], (float)init_value(0, 0));
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

Test(optim_updates, zero_grad) {
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    gs_optimizer opt;
    gs_optimizer_config cfg = gs_optimizer_defaults(GS_OPTIM_SGD);
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    set_grads(&list, 0);
    cr_assert_eq(gs_optimizer_step(&ctx, &opt, 0.1f), GS_OK, "%s", ctx.error);
    cr_expect_neq(list.items[0].tensor->grad[0], 0.0f, "step must leave the gradients alone");
    gs_optimizer_zero_grad(&opt);
    for (int k = 0; k < N_PARAMS; k++)
        if (list.items[k].tensor->grad)
            for (int64_t i = 0; i < list.items[k].tensor->numel; i++) cr_expect_eq(list.items[k].tensor->grad[i], 0.0f);
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

/* ---- schedules ---- */

static void expect_value(double got, double want) {
    cr_expect(fabs(got - want) <= 1e-12 * (1.0 + fabs(want)), "got %.15g, want %.15g", got, want);
}

Test(optim_updates, cosine_lr_endpoints) {
    gs_cosine_schedule s = {.base = 0.8, .final = 0.002, .warmup_steps = 10, .total_steps = 110};
    expect_value(gs_cosine_lr(&s, 0), 0.08);  /* warm-up start: base / W */
    expect_value(gs_cosine_lr(&s, 4), 0.4);
    expect_value(gs_cosine_lr(&s, 9), 0.8);   /* peak at the end of warm-up */
    expect_value(gs_cosine_lr(&s, 10), 0.8);  /* cosine starts at the peak */
    expect_value(gs_cosine_lr(&s, 60), 0.401); /* half way: the mean of base and final */
    expect_value(gs_cosine_lr(&s, 110), 0.002);
    expect_value(gs_cosine_lr(&s, 500), 0.002);
    double last = gs_cosine_lr(&s, 109);
    cr_expect(last > 0.002 && last < 0.0025, "last step lr %g", last);
    for (int64_t k = 10; k < 110; k++) cr_expect_geq(gs_cosine_lr(&s, k), gs_cosine_lr(&s, k + 1));
    for (int64_t k = 0; k < 9; k++) cr_expect_lt(gs_cosine_lr(&s, k), gs_cosine_lr(&s, k + 1));

    gs_cosine_schedule none = {.base = 1.0, .final = 0.0, .warmup_steps = 0, .total_steps = 4};
    expect_value(gs_cosine_lr(&none, 0), 1.0);
    expect_value(gs_cosine_lr(&none, 2), 0.5);
    expect_value(gs_cosine_lr(&none, 4), 0.0);
}

Test(optim_updates, cosine_momentum_byol) {
    expect_value(gs_cosine_momentum(0.996, 0, 1000), 0.996);
    expect_value(gs_cosine_momentum(0.996, 500, 1000), 0.998);
    expect_value(gs_cosine_momentum(0.996, 1000, 1000), 1.0);
    expect_value(gs_cosine_momentum(0.996, 250, 1000), 1.0 - 0.004 * (sqrt(0.5) + 1.0) / 2.0);
    for (int k = 0; k < 1000; k++) cr_expect_leq(gs_cosine_momentum(0.99, k, 1000), gs_cosine_momentum(0.99, k + 1, 1000));
}

/* ---- EMA ---- */

static void fill_online(gs_param_list *list) {
    for (int k = 0; k < list->count; k++) {
        gs_tensor *t = list->items[k].tensor;
        for (int64_t i = 0; i < t->numel; i++) t->data[i] = (float)(1.0 + 0.3 * (double)i - 0.5 * k);
    }
}

Test(optim_updates, ema_copy_keep_and_average) {
    gs_context ctx;
    gs_param_list target;
    build(&ctx, &target);
    gs_param_list online = {0};
    for (int k = 0; k < N_PARAMS; k++)
        cr_assert_not_null(gs_param_add(&ctx, &online, SPEC[k].name, SPEC[k].kind, SPEC[k].ndim, SPEC[k].shape));
    fill_online(&online);

    cr_assert_eq(gs_ema_update(&ctx, &target, &online, 1.0), GS_OK, "%s", ctx.error);
    for (int k = 0; k < N_PARAMS; k++)
        for (int64_t i = 0; i < target.items[k].tensor->numel; i++) {
            float want = k == 2 ? online.items[k].tensor->data[i] : (float)init_value(k, (int)i);
            cr_expect_eq(target.items[k].tensor->data[i], want, "m=1 must keep %s (buffers: copied)", SPEC[k].name);
        }

    cr_assert_eq(gs_ema_update(&ctx, &target, &online, 0.99), GS_OK, "%s", ctx.error);
    for (int64_t i = 0; i < 15; i++) {
        double want = 0.99 * (float)init_value(0, (int)i) + 0.01 * online.items[0].tensor->data[i];
        cr_expect(fabs(target.items[0].tensor->data[i] - want) <= 1e-6, "m=0.99 element %lld", (long long)i);
    }

    cr_assert_eq(gs_ema_update(&ctx, &target, &online, 0.0), GS_OK, "%s", ctx.error);
    for (int k = 0; k < N_PARAMS; k++)
        cr_expect_eq(memcmp(target.items[k].tensor->data, online.items[k].tensor->data,
                            (size_t)online.items[k].tensor->numel * sizeof(float)),
                     0, "m=0 must copy %s", SPEC[k].name);

    cr_expect_eq(gs_ema_update(&ctx, &target, &online, 1.5), GS_ERR_ARGUMENT);
    gs_param_list_free(&online);
    gs_param_list_free(&target);
    gs_context_free(&ctx);
}

Test(optim_updates, ema_mismatch_changes_nothing) {
    gs_context ctx;
    gs_param_list target;
    build(&ctx, &target);
    gs_param_list online = {0};
    for (int k = 0; k < N_PARAMS; k++) {
        /* The last entry differs in shape. */
        int64_t shape[2] = {SPEC[k].shape[0], k == 3 ? 3 : SPEC[k].shape[1]};
        cr_assert_not_null(gs_param_add(&ctx, &online, SPEC[k].name, SPEC[k].kind, SPEC[k].ndim, shape));
    }
    fill_online(&online);
    cr_expect_eq(gs_ema_update(&ctx, &target, &online, 0.5), GS_ERR_MISMATCH);
    cr_expect(strstr(ctx.error, "zero.weight") != NULL, "%s", ctx.error);
    for (int k = 0; k < N_PARAMS; k++)
        for (int64_t i = 0; i < target.items[k].tensor->numel; i++)
            cr_expect_eq(target.items[k].tensor->data[i], (float)init_value(k, (int)i));

    gs_clear_error(&ctx);
    gs_param_list other = {0};
    for (int k = 0; k < N_PARAMS; k++)
        gs_param_add(&ctx, &other, k == 1 ? "layer.other" : SPEC[k].name, SPEC[k].kind, SPEC[k].ndim, SPEC[k].shape);
    cr_expect_eq(gs_ema_update(&ctx, &target, &other, 0.5), GS_ERR_MISMATCH);
    cr_expect(strstr(ctx.error, "layer.other") != NULL, "%s", ctx.error);
    gs_param_list_free(&other);
    gs_param_list_free(&online);
    gs_param_list_free(&target);
    gs_context_free(&ctx);
}

/* ---- clipping ---- */

Test(optim_updates, clip_grad_norm) {
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    set_grads(&list, 0);
    double sq = 0.0;
    for (int k = 0; k < N_PARAMS; k++) {
        if (SPEC[k].kind == GS_PARAM_BUFFER) continue;
        for (int64_t i = 0; i < list.items[k].tensor->numel; i++) sq += pow((float)grad_value(k, (int)i, 0), 2);
    }
    double want = sqrt(sq);

    double norm = gs_clip_grad_norm(&ctx, &list, (float)(2.0 * want));
    cr_expect(fabs(norm - want) <= 1e-9 * want, "norm %.12g, want %.12g", norm, want);
    cr_expect_eq(list.items[0].tensor->grad[3], (float)grad_value(0, 3, 0), "a norm under the limit changes nothing");

    norm = gs_clip_grad_norm(&ctx, &list, 0.25f);
    cr_expect(fabs(norm - want) <= 1e-9 * want, "norm %.12g, want %.12g", norm, want);
    double coef = 0.25 / (want + 1e-6);
    for (int k = 0; k < N_PARAMS; k++) {
        if (SPEC[k].kind == GS_PARAM_BUFFER) continue;
        for (int64_t i = 0; i < list.items[k].tensor->numel; i++) {
            double g = (float)grad_value(k, (int)i, 0) * coef;
            cr_expect(fabs(list.items[k].tensor->grad[i] - g) <= 1e-6 * fabs(g) + 1e-9, "%s[%lld]", SPEC[k].name,
                      (long long)i);
        }
    }
    cr_expect(fabs(gs_grad_norm(&ctx, &list) - 0.25) < 1e-6, "clipped norm %g", gs_grad_norm(&ctx, &list));

    cr_expect_lt(gs_clip_grad_norm(&ctx, &list, 0.0f), 0.0);
    cr_expect_eq(ctx.status, GS_ERR_ARGUMENT);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

/* Large enough for the parallel paths: identical bits on 1 and 2 threads,
 * and the first LARS step against the reference formula. */
Test(optim_updates, large_parameters_deterministic_across_threads) {
    const gs_optimizer_kind kinds[3] = {GS_OPTIM_SGD, GS_OPTIM_LARS, GS_OPTIM_ADAMW};
    enum { N = 70001 };
    static float result[2][3][N];
    static double clipped[2];
    for (int threads = 1; threads <= 2; threads++)
        for (int kind = 0; kind < 3; kind++) {
            gs_context ctx;
            gs_context_options options = {.n_threads = threads, .seed = 1};
            gs_context_init(&ctx, &options);
            gs_param_list list = {0};
            gs_tensor *w = gs_param_add(&ctx, &list, "big.weight", GS_PARAM_WEIGHT, 1, (int64_t[]){N});
            cr_assert_not_null(w, "%s", ctx.error);
            for (int64_t i = 0; i < N; i++) {
                w->data[i] = (float)sin(0.001 * (double)i);
                w->grad[i] = (float)cos(0.37 * (double)i);
            }
            gs_optimizer_config cfg = gs_optimizer_defaults(kinds[kind]);
            cfg.weight_decay = 0.01f;
            gs_optimizer opt;
            cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
            if (kind == 1) {
                double pn = 0.0, dn = 0.0;
                for (int64_t i = 0; i < N; i++) {
                    double d = (double)w->grad[i] + 0.01 * (double)w->data[i];
                    pn += (double)w->data[i] * w->data[i];
                    dn += d * d;
                }
                double trust = 0.001 * sqrt(pn) / sqrt(dn), p0 = w->data[7], d7 = w->grad[7] + 0.01 * p0;
                cr_assert_eq(gs_optimizer_step(&ctx, &opt, 0.5f), GS_OK, "%s", ctx.error);
                double want = p0 - 0.5 * trust * d7;
                cr_expect(fabs(w->data[7] - want) <= 1e-6 * fabs(want), "got %.9g want %.9g", w->data[7], want);
            }
            cr_assert_eq(gs_optimizer_step(&ctx, &opt, 0.5f), GS_OK, "%s", ctx.error);
            cr_assert_eq(gs_optimizer_step(&ctx, &opt, 0.25f), GS_OK, "%s", ctx.error);
            memcpy(result[threads - 1][kind], w->data, sizeof result[0][0]);
            if (kind == 0) clipped[threads - 1] = gs_clip_grad_norm(&ctx, &list, 1.0f);
            gs_optimizer_free(&opt);
            gs_param_list_free(&list);
            gs_context_free(&ctx);
        }
    for (int kind = 0; kind < 3; kind++)
        cr_expect_eq(memcmp(result[0][kind], result[1][kind], sizeof result[0][0]), 0, "%s differs by threads",
                     gs_optimizer_kind_name(kinds[kind]));
    cr_expect_eq(memcmp(&clipped[0], &clipped[1], sizeof(double)), 0);
}

/* A frozen parameter (requires_grad off, as DINO's last layer in its first
 * epoch) is skipped entirely: no decay, no moments, and its own AdamW count
 * stays put, so its first real update uses bias correction for step 1, as
 * torch's per-parameter state does. */
Test(optim_updates, frozen_parameter_is_skipped_and_keeps_its_own_count) {
    gs_context ctx;
    gs_param_list list;
    build(&ctx, &list);
    gs_optimizer_config cfg = gs_optimizer_defaults(GS_OPTIM_ADAMW);
    cfg.lr = 1e-2f;
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &cfg), GS_OK, "%s", ctx.error);
    gs_tensor *w = list.items[0].tensor;
    float before[64];
    int64_t n = w->numel < 64 ? w->numel : 64;
    for (int64_t i = 0; i < n; i++) before[i] = w->data[i];
    w->requires_grad = false;
    for (int step = 0; step < 2; step++) {
        set_grads(&list, step);
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, cfg.lr), GS_OK, "%s", ctx.error);
    }
    for (int64_t i = 0; i < n; i++) cr_expect_eq(w->data[i], before[i], "frozen value %lld moved", (long long)i);
    cr_expect_eq(gs_param_find(&opt.state, "layer.weight.step")->data[0], 0.0f);
    cr_expect_eq(gs_param_find(&opt.state, "layer.bias.step")->data[0], 2.0f);
    /* Unfrozen: AdamW's first step moves each value by about lr (m/sqrt(v) = sign(g)). */
    w->requires_grad = true;
    set_grads(&list, 2);
    cr_assert_eq(gs_optimizer_step(&ctx, &opt, cfg.lr), GS_OK, "%s", ctx.error);
    for (int64_t i = 0; i < n; i++) {
        if (w->grad[i] == 0.0f) continue;
        float decayed = before[i] * (1.0f - cfg.lr * cfg.weight_decay);
        cr_expect_float_eq(fabsf(w->data[i] - decayed), cfg.lr, 1e-4f, "value %lld moved by %g", (long long)i,
                           (double)fabsf(w->data[i] - decayed));
    }
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}
