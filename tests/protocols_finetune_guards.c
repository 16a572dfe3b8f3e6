/* Fine-tuning refuses, before any work, what would score a model that never
 * trained: a training split of fewer than 2 samples (every batchnorm step
 * would be skipped, as the real Potsdam crops once did: loss 0.0000 and an
 * mIoU reported), a batch of 1, an empty test split; and a training split
 * smaller than the batch trains on all of it, saying so. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "finetune.h"
#include "gradcheck.h"
#include "cache.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct guard_run {
    char dir[256], spec[320];
    gs_dataset ds;
    gs_band_stats stats;
    gs_context ctx;
    gs_backbone bb;
} guard_run;

static void setup(guard_run *g) {
    test_temp_dir(g->dir, sizeof g->dir);
    char data[300];
    snprintf(data, sizeof data, "%s/eurosat", g->dir);
    gs_error err = {0};
    gs_synth_options opt = {.seed = 5, .count = 2};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &opt, &err), GS_OK, "%s", err.message);
    snprintf(g->spec, sizeof g->spec, "eurosat-rgb:%s", data);
    cr_assert_eq(gs_dataset_open(g->spec, NULL, &g->ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_stats_get_in(&g->ds, g->dir, 1, NULL, &g->stats, &err), GS_OK, "%s", err.message);
    gradcheck_context(&g->ctx, 3);
    gs_backbone_config bc = {.name = "resnet18", .bands = 3, .img_size = 64, .width = 8};
    cr_assert_eq(gs_backbone_init(&g->ctx, &g->bb, &bc), GS_OK, "%s", g->ctx.error);
}

static void teardown(guard_run *g) {
    gs_backbone_free(&g->bb);
    gs_context_free(&g->ctx);
    gs_dataset_close(&g->ds);
    test_remove_tree(g->dir);
}

static gs_status finetune(guard_run *g, int64_t n_train, int64_t n_test, int batch, FILE *progress,
                          gs_finetune_result *r, gs_error *err) {
    int64_t train[20], test[20];
    for (int64_t i = 0; i < 10; i++) train[i] = i, test[i] = 10 + i;
    gs_finetune_config fc = {.epochs = 1, .batch = batch, .seed = 1, .workers = 1, .progress = progress};
    return gs_finetune(&g->ctx, &g->bb, &g->ds, train, n_train, test, n_test, &g->stats, &fc, r, err);
}

Test(protocols_finetune_guards, one_training_sample_is_refused_naming_the_split) {
    guard_run g;
    setup(&g);
    gs_finetune_result r;
    gs_error err = {0};
    cr_expect_eq(finetune(&g, 1, 5, 4, NULL, &r, &err), GS_ERR_ARGUMENT, "one sample was 'trained' on");
    cr_expect(strstr(err.message, "training split has 1 sample") != NULL, "message: %s", err.message);
    teardown(&g);
}

Test(protocols_finetune_guards, a_batch_of_one_and_an_empty_test_split_are_refused) {
    guard_run g;
    setup(&g);
    gs_finetune_result r;
    gs_error err = {0};
    cr_expect_eq(finetune(&g, 6, 5, 1, NULL, &r, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "batch of 1") != NULL, "message: %s", err.message);
    memset(&err, 0, sizeof err);
    cr_expect_eq(finetune(&g, 6, 0, 4, NULL, &r, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "test split is empty") != NULL, "message: %s", err.message);
    teardown(&g);
}

Test(protocols_finetune_guards, a_split_smaller_than_the_batch_trains_on_all_of_it_and_says_so) {
    guard_run g;
    setup(&g);
    gs_finetune_result r;
    gs_error err = {0};
    char said[4096] = {0};
    FILE *progress = fmemopen(said, sizeof said - 1, "w");
    cr_assert_eq(finetune(&g, 3, 5, 32, progress, &r, &err), GS_OK, "%s", err.message);
    fclose(progress);
    cr_expect(strstr(said, "fewer than a batch of 32") != NULL, "progress said: %s", said);
    cr_expect_gt(r.final_loss, 0.0, "a step was taken: loss %g", r.final_loss);
    gs_confusion_free(&r.confusion);
    teardown(&g);
}
