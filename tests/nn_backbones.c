/* Backbone shapes for several band counts, sizes, stems and patch sizes;
 * the fixed sin-cos position table; the MLP head's gradients. */
#include <criterion/criterion.h>
#include <math.h>

#include "gradcheck.h"
#include "nn/backbone.h"
#include "nn/mlp_head.h"
#include "ops/ops.h"

static void expect_features(const char *name, int bands, int size, gs_stem stem, int patch, int64_t dim) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_backbone bb;
    gs_backbone_config cfg = {.name = name, .bands = bands, .img_size = size, .width = 16, .stem = stem,
                              .patch = patch, .pos = GS_POS_SINCOS};
    if (!strncmp(name, "vit", 3)) cfg.width = 48;
    cr_assert_eq(gs_backbone_init(&ctx, &bb, &cfg), GS_OK, "%s", ctx.error);
    gs_step_begin(&ctx);
    gs_tensor *x = gs_activation(&ctx, GS_DIMS(2, bands, size, size));
    gs_tensor_fill_normal(&ctx, x, 1.0f);
    gs_tensor *y = gs_backbone_forward(&ctx, &bb, x, true);
    cr_assert_not_null(y, "%s: %s", name, ctx.error);
    cr_expect_eq(y->ndim, 2);
    cr_expect_eq(y->shape[0], 2);
    cr_expect_eq(y->shape[1], dim, "%s: feature width %lld, expected %lld", name, (long long)y->shape[1],
                 (long long)dim);
    cr_expect_eq(gs_first_nonfinite(y->data, y->numel), -1);
    gs_backbone_free(&bb);
    gs_context_free(&ctx);
}

Test(nn_backbones, resnet18_13_bands_odd_size) { expect_features("resnet18", 13, 37, GS_STEM_IMAGENET, 0, 128); }
Test(nn_backbones, resnet18_small_stem_2_bands) { expect_features("resnet18", 2, 16, GS_STEM_SMALL, 0, 128); }
Test(nn_backbones, resnet50_bottleneck_width) { expect_features("resnet50", 4, 32, GS_STEM_IMAGENET, 0, 512); }
Test(nn_backbones, vit_patch16) { expect_features("vit-tiny", 12, 32, GS_STEM_IMAGENET, 16, 48); }
Test(nn_backbones, vit_patch8) { expect_features("vit-small", 3, 24, GS_STEM_IMAGENET, 8, 48); }

Test(nn_backbones, sincos_positions_are_fixed_and_correct) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_vit vit;
    gs_vit_config cfg = gs_vit_tiny_config(32, 8, 3);
    cfg.dim = 16;
    cfg.heads = 2;
    cfg.pos = GS_POS_SINCOS;
    cr_assert_eq(gs_vit_init(&ctx, &vit, &cfg), GS_OK, "%s", ctx.error);
    cr_expect_not(vit.pos_embed->requires_grad, "a fixed table must not be trained");
    const float *p = vit.pos_embed->data;
    for (int i = 0; i < 16; i++) cr_expect_eq(p[i], 0.0f, "the cls row is zero");
    /* Patch (row 1, column 2) of the 4x4 grid is token 1 + 1*4 + 2 = 7;
     * its first row frequency is 10000^0 = 1. */
    const float *row = p + 7 * 16;
    cr_expect_float_eq(row[0], sinf(1.0f), 1e-6f);
    cr_expect_float_eq(row[4], cosf(1.0f), 1e-6f);
    cr_expect_float_eq(row[8], sinf(2.0f), 1e-6f);
    cr_expect_float_eq(row[12], cosf(2.0f), 1e-6f);
    cr_expect_float_eq(row[9], sinf(2.0f * powf(10000.0f, -0.25f)), 1e-6f);
    gs_vit_free(&vit);
    gs_context_free(&ctx);
}

typedef struct head_case {
    gs_mlp_head head;
} head_case;

static gs_tensor *apply_head(gs_context *ctx, gs_tensor *const *in, void *user) {
    return gs_mlp_head_forward(ctx, &((head_case *)user)->head, in[0], true);
}

Test(nn_backbones, mlp_head_gradients) {
    gs_context ctx;
    gradcheck_context(&ctx, 2);
    gs_param_list list = {0};
    head_case c;
    cr_assert_eq(gs_mlp_head_init(&ctx, &list, "projector", &c.head, 6, 5, 3, true), GS_OK);
    cr_expect_not_null(gs_param_find(&list, "projector.1.running_var"));
    cr_expect_not_null(gs_param_find(&list, "projector.3.weight"));
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(4, 6), 1.0f, true);
    gs_tensor *inputs[] = {x, c.head.fc1.weight, c.head.bn.weight, c.head.fc2.weight, c.head.fc2.bias};
    gradcheck_report report;
    cr_expect(gradcheck_run(&ctx, apply_head, inputs, 5, &c, NULL, &report), "%s", report.message);
    gs_param_list_free(&list);
    gs_context_free(&ctx);
}
