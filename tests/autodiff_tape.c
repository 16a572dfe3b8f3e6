/* The tape: no-grad mode, gradient accumulation over several forward passes,
 * the tape cleared after backward, and the errors backward reports. */
#include <criterion/criterion.h>
#include <math.h>

#include "gradcheck.h"
#include "nn/params.h"
#include "ops/ops.h"

static gs_tensor *square_sum(gs_context *ctx, gs_tensor *x) { return gs_sum(ctx, gs_mul(ctx, x, x)); }

Test(autodiff_tape, no_grad_mode_records_nothing) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 4), 1.0f, true);
    gs_step_begin(&ctx);
    bool previous = gs_set_grad_enabled(&ctx, false);
    gs_tensor *y = square_sum(&ctx, gs_relu(&ctx, x));
    gs_set_grad_enabled(&ctx, previous);
    cr_assert_not_null(y);
    cr_expect_eq(ctx.tape.count, 0u);
    cr_expect_not(y->requires_grad);
    cr_expect_eq(gs_backward(&ctx, y), GS_ERR_ARGUMENT, "backward through a no-grad result must be refused");
    gs_context_free(&ctx);
}

Test(autodiff_tape, gradients_accumulate_over_forward_passes) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_param_list params = {0};
    gs_tensor *x = gs_param_add(&ctx, &params, "x", GS_PARAM_WEIGHT, GS_DIMS(5));
    for (int i = 0; i < 5; i++) x->data[i] = (float)i - 2.0f;
    gs_step_begin(&ctx);
    /* Two passes (two "crops"), two backward calls: d/dx sum(x^2) twice. */
    cr_assert_eq(gs_backward(&ctx, square_sum(&ctx, x)), GS_OK, "%s", ctx.error);
    cr_expect_eq(ctx.tape.count, 0u, "the tape must be cleared after backward");
    cr_assert_eq(gs_backward(&ctx, square_sum(&ctx, x)), GS_OK, "%s", ctx.error);
    for (int i = 0; i < 5; i++) cr_expect_float_eq(x->grad[i], 4.0f * x->data[i], 1e-6f);
    /* One backward through the sum of both passes gives the same. */
    gs_params_zero_grad(&params);
    gs_step_begin(&ctx);
    cr_assert_eq(gs_backward(&ctx, gs_add(&ctx, square_sum(&ctx, x), square_sum(&ctx, x))), GS_OK);
    for (int i = 0; i < 5; i++) cr_expect_float_eq(x->grad[i], 4.0f * x->data[i], 1e-6f);
    gs_param_list_free(&params);
    gs_context_free(&ctx);
}

Test(autodiff_tape, teacher_branch_without_gradient) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *student = gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true);
    gs_tensor *teacher = gradcheck_input(&ctx, GS_DIMS(4), 1.0f, true);
    gs_step_begin(&ctx);
    bool previous = gs_set_grad_enabled(&ctx, false);
    gs_tensor *target = gs_scale(&ctx, teacher, 2.0f);
    gs_set_grad_enabled(&ctx, previous);
    gs_tensor *loss = gs_mse(&ctx, student, target);
    cr_assert_eq(gs_backward(&ctx, loss), GS_OK, "%s", ctx.error);
    cr_expect_null(teacher->grad, "no gradient may reach the teacher");
    for (int i = 0; i < 4; i++)
        cr_expect_float_eq(student->grad[i], 2.0f * (student->data[i] - 2.0f * teacher->data[i]) / 4.0f, 1e-6f);
    gs_context_free(&ctx);
}

Test(autodiff_tape, nonfinite_loss_is_reported) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3), 1.0f, true);
    x->data[1] = NAN;
    gs_step_begin(&ctx);
    cr_expect_eq(gs_backward(&ctx, square_sum(&ctx, x)), GS_ERR_NONFINITE);
    cr_expect(strstr(ctx.error, "nan") || strstr(ctx.error, "NaN"), "%s", ctx.error);
    gs_context_free(&ctx);
}

Test(autodiff_tape, errors_are_sticky_and_backward_needs_a_scalar) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3), 1.0f, true);
    gs_step_begin(&ctx);
    cr_expect_eq(gs_backward(&ctx, gs_relu(&ctx, x)), GS_ERR_SHAPE, "a vector is not a loss");
    gs_clear_error(&ctx);
    gs_tensor *bad = gs_add(&ctx, x, gradcheck_input(&ctx, GS_DIMS(2), 1.0f, true));
    cr_expect_null(bad);
    cr_expect_eq(ctx.status, GS_ERR_SHAPE);
    cr_expect_null(gs_relu(&ctx, x), "ops after a failure return NULL");
    cr_expect(strstr(ctx.error, "(3)") && strstr(ctx.error, "(2)"), "the message names both shapes: %s", ctx.error);
    gs_context_free(&ctx);
}
