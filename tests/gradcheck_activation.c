/* Finite-difference gradient checks of relu and gelu. */
#include <criterion/criterion.h>

#include "gradcheck.h"
#include "ops/ops.h"

static gs_tensor *apply_relu(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_relu(ctx, in[0]);
}

static gs_tensor *apply_gelu(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    return gs_gelu(ctx, in[0]);
}

static void check(gradcheck_fn fn, int ndim, const int64_t *shape) {
    gs_context ctx;
    gradcheck_context(&ctx, 7);
    gs_tensor *x = gradcheck_input(&ctx, ndim, shape, 1.0f, true);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, fn, &x, 1, NULL, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_gt(report.checked, 0);
    gs_context_free(&ctx);
}

Test(gradcheck_activation, relu_odd_shape) { check(apply_relu, GS_DIMS(3, 5, 7)); }
Test(gradcheck_activation, gelu_odd_shape) { check(apply_gelu, GS_DIMS(2, 3, 5, 5)); }

/* The checker itself must catch a wrong gradient: an op computing y = 2x
 * whose backward claims dy/dx = 3. */
static void wrong_backward(gs_context *ctx, const gs_tape_node *node) {
    float *dx = gs_tensor_grad(ctx, node->in[0]);
    for (int64_t i = 0; i < node->out->numel; i++) dx[i] += 3.0f * node->out->grad[i];
}

static gs_tensor *doubled_with_wrong_gradient(gs_context *ctx, gs_tensor *const *in, void *user) {
    (void)user;
    gs_tensor *x = in[0];
    gs_tensor *y = gs_activation_like(ctx, x);
    for (int64_t i = 0; i < x->numel; i++) y->data[i] = 2.0f * x->data[i];
    gs_tape_record(ctx, "doubled", wrong_backward, y, 1, &x);
    return y;
}

Test(gradcheck_activation, checker_rejects_a_wrong_gradient) {
    gs_context ctx;
    gradcheck_context(&ctx, 7);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(4, 6), 1.0f, true);
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, doubled_with_wrong_gradient, &x, 1, NULL, NULL, &report);
    cr_expect_not(ok, "a wrong gradient passed the checker");
    cr_expect_eq(report.failed, 24, "every element should fail, %lld did", report.failed);
    gs_context_free(&ctx);
}
