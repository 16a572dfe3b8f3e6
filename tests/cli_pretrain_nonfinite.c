/* A non-finite number stops pretraining at the step that made it: the loss,
 * a gradient, or a weight or running statistic after the update.  The error
 * names what went non-finite and at which step; the weights are not updated
 * with it; the run points only to a checkpoint that exists (the last one,
 * saved before the problem and still loadable), and a run that never saved
 * one leaves no folder. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
#include "gradcheck.h"
#include "io/checkpoint.h"
#include "method.h"
#include "optim/optimizer.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct work {
    char dir[256], data[320], spec[400], run[320], checkpoint[360];
} work;

static void make_data(work *w) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->data, sizeof w->data, "%s/eurosat", w->dir);
    snprintf(w->spec, sizeof w->spec, "eurosat-rgb:%s", w->data);
    snprintf(w->run, sizeof w->run, "%s/run", w->dir);
    snprintf(w->checkpoint, sizeof w->checkpoint, "%s/checkpoint.h5", w->run);
    gs_synth_options so = {.seed = 1, .count = 5};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", w->data, &so, &err), GS_OK, "%s", err.message);
}

static captured pretrain(work *w, const char *epochs, const char *lr, bool resume) {
    return run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w->spec, "--out", w->run,
                                           "--epochs", (char *)epochs, "--lr", (char *)lr, "--batch", "8", "--width",
                                           "8", "--stem", "small", "--size", "32", "--threads", "1", "--workers", "1",
                                           resume ? "--resume" : NULL, NULL});
}

/* --lr 1e30 blows up within two steps of the first update (the weights
 * reach ~1e27, the next forward pass overflows), well inside an epoch of 3
 * steps, so the checkpoint before it is the last one written. */
Test(cli_pretrain_nonfinite, an_exploding_run_stops_at_the_step_and_points_to_the_last_checkpoint) {
    work w;
    make_data(&w);
    captured c = pretrain(&w, "1", "0.1", false);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_checkpoint_info before;
    cr_assert_eq(gs_checkpoint_read_info(&ctx, w.checkpoint, &before), GS_OK, "%s", ctx.error);

    c = pretrain(&w, "20", "1e30", true);
    cr_expect_eq(c.rc, 1, "%s", c.err);
    cr_expect(strstr(c.err, "became") || strstr(c.err, "loss is") || strstr(c.err, "gradient of"),
              "the error names what went non-finite: %s", c.err);
    cr_expect(strstr(c.err, " step "), "and the step: %s", c.err);
    cr_expect(strstr(c.err, w.checkpoint) && strstr(c.err, "--resume"), "points to the checkpoint: %s", c.err);
    cr_expect_null(strstr(c.out, " (from "), "no summary of a finished run: %s", c.out);
    /* The checkpoint it points to exists, loads, and is the one from before. */
    gs_checkpoint_info after;
    cr_assert_eq(gs_checkpoint_read_info(&ctx, w.checkpoint, &after), GS_OK, "%s", ctx.error);
    cr_expect_eq(after.step, before.step, "the last checkpoint is from step %lld, not the blown-up run's %lld",
                 (long long)before.step, (long long)after.step);
    gs_checkpoint_info_free(&before);
    gs_checkpoint_info_free(&after);
    gs_context_free(&ctx);
    test_remove_tree(w.dir);
}

Test(cli_pretrain_nonfinite, a_run_that_blows_up_before_its_first_checkpoint_leaves_nothing) {
    work w;
    make_data(&w);
    captured c = pretrain(&w, "20", "1e30", false);
    cr_expect_eq(c.rc, 1, "%s", c.err);
    cr_expect(strstr(c.err, " step "), "%s", c.err);
    cr_expect_null(strstr(c.err, "--resume"), "a hint to resume nothing: %s", c.err);
    cr_expect_neq(access(w.run, F_OK), 0, "%s was left behind", w.run);
    test_remove_tree(w.dir);
}

/* In process: a NaN in the input is refused before the backward pass and
 * the update, so no trained weight changes.  (It reaches the batchnorm
 * running statistics in the forward pass; the loss itself can come out
 * finite, since an L2 normalization's max(norm, eps) turns a NaN norm into
 * eps: the statistics are what catches it.) */
Test(cli_pretrain_nonfinite, a_nan_loss_is_refused_before_the_update) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_method_config mc = {.backbone = {.name = "resnet18", .width = 8, .stem = GS_STEM_SMALL}, .bands = 3,
                           .image_size = 16, .batch = 4};
    gs_method m;
    cr_assert_eq(gs_method_init(&ctx, &m, gs_method_find("simclr"), &mc), GS_OK, "%s", ctx.error);
    gs_optimizer opt;
    gs_optimizer_config oc = {.kind = GS_OPTIM_SGD, .momentum = 0.9f};
    cr_assert_eq(gs_optimizer_init(&ctx, &opt, &m.trainable, &oc), GS_OK, "%s", ctx.error);
    int64_t total = 0;
    for (int i = 0; i < m.trainable.count; i++) total += m.trainable.items[i].tensor->numel;
    float *copy = malloc((size_t)total * sizeof *copy);
    for (int i = 0, at = 0; i < m.trainable.count; at += (int)m.trainable.items[i].tensor->numel, i++)
        memcpy(copy + at, m.trainable.items[i].tensor->data, (size_t)m.trainable.items[i].tensor->numel * sizeof *copy);

    gs_step_begin(&ctx);
    gs_tensor *views[2];
    for (int v = 0; v < 2; v++) {
        views[v] = gs_activation(&ctx, GS_DIMS(4, 3, 16, 16));
        for (int64_t i = 0; i < views[v]->numel; i++) views[v]->data[i] = (float)((i * 7 + v) % 13) / 13.0f;
    }
    views[1]->data[5] = NAN;
    cr_expect_null(gs_method_step(&ctx, &m, &opt, views, 2, 0, 0.1f));
    cr_expect_eq(ctx.status, GS_ERR_NONFINITE, "%s", ctx.error);
    cr_expect(strstr(ctx.error, "nan") && strstr(ctx.error, "step 1"), "%s", ctx.error);
    for (int i = 0, at = 0; i < m.trainable.count; at += (int)m.trainable.items[i].tensor->numel, i++) {
        const gs_param *p = &m.trainable.items[i];
        if (p->kind == GS_PARAM_BUFFER) continue; /* the forward pass moved the running statistics */
        cr_expect(!memcmp(copy + at, p->tensor->data, (size_t)p->tensor->numel * sizeof *copy), "%s changed",
                  p->tensor->name);
    }
    free(copy);
    gs_optimizer_free(&opt);
    gs_method_free(&m);
    gs_context_free(&ctx);
}
