/* Box mean pooling: finite-difference gradients (overlapping boxes, several
 * per sample, boxes touching the map's edges, a single pixel), forward values
 * against a direct sum, and the checks on boxes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "ops/ops.h"

typedef struct box_case {
    const gs_box *boxes;
    int64_t n_boxes;
} box_case;

static gs_tensor *apply_pool(gs_context *ctx, gs_tensor *const *in, void *user) {
    const box_case *c = user;
    return gs_box_mean_pool(ctx, in[0], c->boxes, c->n_boxes);
}

/* Sample-major as GLCNet orders its regions: two boxes per sample,
 * overlapping in sample 0, at the corners in sample 1, one pixel in 2. */
static const gs_box BOXES[] = {
    {0, 1, 1, 3, 3}, {0, 2, 2, 3, 4}, {1, 0, 0, 2, 2}, {1, 4, 4, 2, 3}, {2, 3, 5, 1, 1}, {2, 0, 0, 6, 7},
};
#define N_BOXES ((int64_t)(sizeof BOXES / sizeof *BOXES))

Test(gradcheck_box_pool, overlapping_edges_and_single_pixel) {
    gs_context ctx;
    gradcheck_context(&ctx, 23);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 4, 6, 7), 1.0f, true);
    box_case c = {BOXES, N_BOXES};
    gradcheck_report report;
    bool ok = gradcheck_run(&ctx, apply_pool, &x, 1, &c, NULL, &report);
    cr_expect(ok, "%s", report.message);
    cr_expect_eq(report.checked, x->numel);
    cr_expect_eq(report.skipped, 0);
    gs_context_free(&ctx);
}

/* Many boxes x channels: the threaded path. */
Test(gradcheck_box_pool, many_boxes_threaded) {
    gs_context ctx;
    gradcheck_context(&ctx, 29);
    gs_box boxes[16];
    for (int i = 0; i < 16; i++) boxes[i] = (gs_box){i % 2, i % 4, (i * 3) % 5, 2 + i % 3, 1 + i % 4};
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 8, 8, 9), 1.0f, true);
    box_case c = {boxes, 16};
    gradcheck_report report;
    cr_expect(gradcheck_run(&ctx, apply_pool, &x, 1, &c, NULL, &report), "%s", report.message);
    gs_context_free(&ctx);
}

Test(accumulate_box_pool, adds_into_existing_gradients) {
    gs_context ctx;
    gradcheck_context(&ctx, 5);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, 2, 6, 7), 1.0f, true);
    box_case c = {BOXES, N_BOXES};
    char msg[256];
    cr_expect(gradcheck_accumulates(&ctx, apply_pool, &x, 1, &c, msg, sizeof msg), "%s", msg);
    gs_context_free(&ctx);
}

Test(forward_box_pool, means_of_the_boxes) {
    gs_context ctx;
    gradcheck_context(&ctx, 3);
    const int64_t c = 5, h = 6, w = 7;
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(3, c, h, w), 1.0f, false);
    gs_tensor *y = gs_box_mean_pool(&ctx, x, BOXES, N_BOXES);
    cr_assert_not_null(y, "%s", ctx.error);
    cr_assert(y->ndim == 2 && y->shape[0] == N_BOXES && y->shape[1] == c);
    for (int64_t k = 0; k < N_BOXES; k++)
        for (int64_t ch = 0; ch < c; ch++) {
            const gs_box *b = &BOXES[k];
            double sum = 0.0;
            for (int i = b->top; i < b->top + b->height; i++)
                for (int j = b->left; j < b->left + b->width; j++)
                    sum += x->data[((b->sample * c + ch) * h + i) * w + j];
            double mean = sum / (b->height * b->width);
            cr_expect(fabs(y->data[k * c + ch] - mean) <= 1e-6 * (1.0 + fabs(mean)), "box %lld channel %lld: %g vs %g",
                      (long long)k, (long long)ch, (double)y->data[k * c + ch], mean);
        }
    gs_context_free(&ctx);
}

static void expect_box_error(gs_box box) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_tensor *x = gradcheck_input(&ctx, GS_DIMS(2, 3, 6, 7), 1.0f, false);
    cr_expect_null(gs_box_mean_pool(&ctx, x, &box, 1));
    cr_expect_eq(ctx.status, GS_ERR_SHAPE, "status %d: %s", ctx.status, ctx.error);
    cr_expect(strstr(ctx.error, "box_mean_pool") != NULL, "%s", ctx.error);
    gs_context_free(&ctx);
}

Test(shape_box_pool, sample_out_of_range) { expect_box_error((gs_box){2, 0, 0, 2, 2}); }
Test(shape_box_pool, past_the_bottom) { expect_box_error((gs_box){0, 5, 0, 2, 2}); }
Test(shape_box_pool, past_the_right) { expect_box_error((gs_box){1, 0, 6, 1, 2}); }
Test(shape_box_pool, negative_corner) { expect_box_error((gs_box){0, -1, 0, 2, 2}); }
Test(shape_box_pool, empty) { expect_box_error((gs_box){0, 1, 1, 0, 2}); }
