/* The dense decoder: output shape at odd input sizes, gradients reaching
 * every parameter and the encoder stages, and a few training steps on a toy
 * segmentation task lowering the loss. */
#include <criterion/criterion.h>

#include "gradcheck.h"
#include "nn/decoder.h"
#include "nn/resnet.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

typedef struct seg_model {
    gs_resnet net;
    gs_decoder dec;
} seg_model;

static void build(gs_context *ctx, seg_model *m, int classes) {
    gs_resnet_config cfg = {.depth = 18, .in_bands = 4, .width = 16, .stem = GS_STEM_IMAGENET, .num_classes = 0};
    cr_assert_eq(gs_resnet_init(ctx, &m->net, &cfg), GS_OK, "%s", ctx->error);
    cr_assert_eq(gs_decoder_init(ctx, &m->net.params, &m->dec, m->net.stage_channels, 16, classes), GS_OK, "%s",
                 ctx->error);
}

static gs_tensor *forward(gs_context *ctx, seg_model *m, gs_tensor *x) {
    gs_tensor *stages[5];
    gs_resnet_forward_stages(ctx, &m->net, x, true, stages);
    return gs_decoder_forward(ctx, &m->dec, stages, x->shape[2], x->shape[3], true);
}

Test(nn_decoder, shapes_and_gradients_at_odd_sizes) {
    gs_context ctx;
    gradcheck_context(&ctx, 4);
    seg_model m;
    build(&ctx, &m, 6);
    gs_step_begin(&ctx);
    gs_tensor *x = gs_activation(&ctx, GS_DIMS(2, 4, 45, 37));
    gs_tensor_fill_normal(&ctx, x, 1.0f);
    gs_tensor *y = forward(&ctx, &m, x);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_expect(y->shape[0] == 2 && y->shape[1] == 6 && y->shape[2] == 45 && y->shape[3] == 37);
    int32_t labels[2 * 45 * 37];
    for (int i = 0; i < 2 * 45 * 37; i++) labels[i] = i % 7 == 6 ? -1 : i % 6;
    gs_params_zero_grad(&m.net.params);
    cr_assert_eq(gs_backward(&ctx, gs_cross_entropy(&ctx, y, labels, -1)), GS_OK, "%s", ctx.error);
    for (int i = 0; i < m.net.params.count; i++) {
        gs_tensor *t = m.net.params.items[i].tensor;
        if (m.net.params.items[i].kind == GS_PARAM_BUFFER) continue;
        double norm = 0;
        for (int64_t j = 0; j < t->numel; j++) norm += (double)t->grad[j] * t->grad[j];
        cr_expect_gt(norm, 0.0, "no gradient reached %s", t->name);
    }
    gs_resnet_free(&m.net);
    gs_context_free(&ctx);
}

/* Segmenting "bright band 0 vs not" is learnable in a few steps. */
Test(nn_decoder, learns_a_toy_task) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    seg_model m;
    build(&ctx, &m, 2);
    gs_optimizer opt;
    gs_optimizer_config oc = gs_optimizer_defaults(GS_OPTIM_ADAMW);
    oc.lr = 3e-3f;
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.net.params, &oc), GS_OK);
    float first = 0, last = 0;
    int32_t labels[4 * 32 * 32];
    for (int step = 0; step < 25; step++) {
        gs_step_begin(&ctx);
        gs_optimizer_zero_grad(&opt);
        gs_tensor *x = gs_activation(&ctx, GS_DIMS(4, 4, 32, 32));
        gs_tensor_fill_normal(&ctx, x, 0.3f);
        for (int n = 0; n < 4; n++)
            for (int i = 0; i < 32 * 32; i++) {
                int r = i / 32, c = i % 32;
                int inside = ((r / 8 + c / 8 + n + step) % 2) == 0; /* checkerboard of 8 px blocks */
                labels[n * 1024 + i] = inside;
                x->data[(n * 4 + 0) * 1024 + i] += inside ? 1.0f : -1.0f;
            }
        gs_tensor *loss = gs_cross_entropy(&ctx, forward(&ctx, &m, x), labels, -1);
        cr_assert_not_null(loss, "%s", ctx.error);
        if (step == 0) first = loss->data[0];
        last = loss->data[0];
        cr_assert_eq(gs_backward(&ctx, loss), GS_OK, "%s", ctx.error);
        cr_assert_eq(gs_optimizer_step(&ctx, &opt, oc.lr), GS_OK, "%s", ctx.error);
    }
    cr_expect_lt(last, 0.5f * first, "loss %g -> %g", (double)first, (double)last);
    gs_optimizer_free(&opt);
    gs_resnet_free(&m.net);
    gs_context_free(&ctx);
}
