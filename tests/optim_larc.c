/* The larc optimizer kind (harness/optim/larc.c): apex LARC around SGD as
 * FALSE's released recipe trains, checked by hand on one tensor and against
 * torch over 4 steps (tests/fixtures/false_larc.gsfx, written by
 * tools/reference/false_reference.py from specs/false.md section 5). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "nn/params.h"
#include "optim/optimizer.h"
#include "test_paths.h"

/* p = (3, 4): ||p|| = 5; g = (0.6, 0.8): ||g|| = 1; weight decay 0.1, trust
 * 0.01, eps 0:
 *   a = 0.01 * 5 / (1 + 0.1 * 5) = 0.05 / 1.5 = 1/30
 *   d = (g + 0.1 p) a = (0.9, 1.2) / 30 = (0.03, 0.04)
 * First step (buffer = d), lr 2: p = (3 - 0.06, 4 - 0.08) = (2.94, 3.92).
 * Second step, same gradient: ||p|| = ||(2.94, 3.92)|| = 4.9,
 * a = 0.049 / (1 + 0.49) = 0.049 / 1.49, g + 0.1 p = (0.894, 1.192) =
 * 1.49 (0.6, 0.8), so d = 0.049 (0.6, 0.8) = (0.0294, 0.0392);
 * buffer = 0.9 (0.03, 0.04) + d = (0.0564, 0.0752), lr 2:
 * p = (2.94 - 0.1128, 3.92 - 0.1504) = (2.8272, 3.7696). */
Test(optim_larc, one_tensor_by_hand) {
    gs_context ctx;
    gs_context_options co = {.n_threads = 1, .seed = 1};
    gs_context_init(&ctx, &co);
    gs_param_list list = {0};
    gs_tensor *p = gs_param_add(&ctx, &list, "w", GS_PARAM_WEIGHT, 1, (const int64_t[]){2});
    cr_assert_not_null(p, "%s", ctx.error);
    p->data[0] = 3.0f;
    p->data[1] = 4.0f;
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_LARC);
    oc.weight_decay = 0.1f;
    oc.lars_eta = 0.01f;
    oc.eps = 0.0f;
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &oc), GS_OK, "%s", ctx.error);
    cr_expect_str_eq(gs_optimizer_kind_name(GS_OPTIM_LARC), "larc");
    const float want[2][2] = {{2.94f, 3.92f}, {2.8272f, 3.7696f}};
    for (int step = 0; step < 2; step++) {
        p->grad[0] = 0.6f;
        p->grad[1] = 0.8f;
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, 2.0f), GS_OK, "%s", ctx.error);
        for (int i = 0; i < 2; i++)
            cr_expect_float_eq(p->data[i], want[step][i], 2e-6f, "step %d: p[%d] = %.7f, expected %.7f", step, i,
                               (double)p->data[i], (double)want[step][i]);
    }
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}

/* The fixture's tensors: a decayed weight, a decayed bias (VISSL's
 * regularize_bias), a batchnorm scale without decay (adapted all the same;
 * its gradient is zero at step 2: no adaptation, no decay, momentum only),
 * an all-zero weight (no adaptation, no decay), plus a buffer larc must not
 * touch. */
Test(optim_larc, matches_pytorch) {
    char path[512];
    fixture *fx = fixture_load(test_fixture_path("false_larc.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing fixture %s (tools/reference/false_reference.py writes it)", path);
    static const struct {
        const char *name;
        gs_param_kind kind;
    } SPEC[] = {{"layer.weight", GS_PARAM_WEIGHT},
                {"layer.bias", GS_PARAM_WEIGHT},
                {"bn.weight", GS_PARAM_NO_DECAY},
                {"zero.weight", GS_PARAM_WEIGHT}};
    gs_context ctx;
    gs_context_options co = {.n_threads = 2, .seed = 1};
    gs_context_init(&ctx, &co);
    gs_param_list list = {0};
    gs_tensor *t[4];
    for (int k = 0; k < 4; k++) {
        char key[64];
        snprintf(key, sizeof key, "param/%s", SPEC[k].name);
        const fixture_tensor *f = fixture_get(fx, key);
        cr_assert_not_null(f, "%s", key);
        t[k] = gs_param_add(&ctx, &list, SPEC[k].name, SPEC[k].kind, f->ndim, f->shape);
        cr_assert_not_null(t[k], "%s", ctx.error);
        memcpy(t[k]->data, f->data, (size_t)f->numel * sizeof(float));
    }
    gs_tensor *buffer = gs_param_add(&ctx, &list, "bn.running_mean", GS_PARAM_BUFFER, 1, (const int64_t[]){4});
    for (int i = 0; i < 4; i++) buffer->data[i] = 0.5f;

    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_LARC);
    oc.lars_eta = fixture_get(fx, "config/trust")->data[0];
    oc.weight_decay = fixture_get(fx, "config/weight_decay")->data[0];
    oc.momentum = fixture_get(fx, "config/momentum")->data[0];
    oc.eps = fixture_get(fx, "config/eps")->data[0];
    gs_optimizer opt;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &list, &oc), GS_OK, "%s", ctx.error);
    const fixture_tensor *lrs = fixture_get(fx, "lrs");
    cr_assert_not_null(lrs);
    for (int step = 0; step < lrs->numel; step++) {
        for (int k = 0; k < 4; k++) {
            char key[64];
            snprintf(key, sizeof key, "grad/%d/%s", step, SPEC[k].name);
            const fixture_tensor *g = fixture_get(fx, key);
            cr_assert(g && g->numel == t[k]->numel, "%s", key);
            memcpy(t[k]->grad, g->data, (size_t)g->numel * sizeof(float));
        }
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, lrs->data[step]), GS_OK, "%s", ctx.error);
        for (int k = 0; k < 4; k++) {
            char key[64];
            snprintf(key, sizeof key, "after/%d/%s", step, SPEC[k].name);
            const fixture_tensor *want = fixture_get(fx, key);
            cr_assert_not_null(want, "%s", key);
            int64_t worst;
            double err = fixture_max_rel_error(t[k]->data, want->data, want->numel, 1e-3, &worst);
            cr_expect_leq(err, 1e-6, "step %d %s[%lld]: %.8g, torch %.8g", step, SPEC[k].name, (long long)worst,
                          (double)t[k]->data[worst], (double)want->data[worst]);
        }
    }
    for (int i = 0; i < 4; i++) cr_expect_eq(buffer->data[i], 0.5f, "the buffer moved");
    gs_optimizer_free(&opt);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
    fixture_free(fx);
}

/* A negative eps is refused, as for the other kinds' bad settings. */
Test(optim_larc, refuses_a_negative_eps) {
    gs_context ctx;
    gs_context_init(&ctx, NULL);
    gs_param_list list = {0};
    gs_param_add(&ctx, &list, "w", GS_PARAM_WEIGHT, 1, (const int64_t[]){2});
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_LARC);
    oc.eps = -1.0f;
    gs_optimizer opt;
    cr_expect_eq(gs_optimizer_init(&ctx, &opt, &list, &oc), GS_ERR_ARGUMENT);
    cr_expect(strstr(ctx.error, "larc") != NULL, "%s", ctx.error);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}
