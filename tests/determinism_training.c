/* Same seed and thread count -> bit-identical weights; a run checkpointed
 * and resumed ends bit-identical to an uninterrupted one; bad inputs give
 * clear errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "test_paths.h"
#include "train/smoke.h"

static gs_smoke_config small_run(int64_t steps) {
    gs_smoke_config c = gs_smoke_default_config();
    c.backbone.width = 16;
    c.backbone.img_size = 32;
    c.backbone.bands = 5;
    c.batch = 8;
    c.steps = steps;
    c.classes = 4;
    c.checkpoint_every = 0;
    return c;
}

static uint64_t train(gs_smoke_config c, int threads, gs_smoke_result *out) {
    gs_context ctx;
    gs_context_options options = {.n_threads = threads, .seed = c.seed, .log = {.sink = NULL}};
    gs_context_init(&ctx, &options);
    gs_smoke_result r;
    gs_status status = gs_smoke_train(&ctx, &c, &r);
    cr_assert_eq(status, GS_OK, "%s", ctx.error);
    gs_context_free(&ctx);
    if (out) *out = r;
    return r.weights_hash;
}

Test(determinism_training, same_seed_same_threads_same_bits_resnet) {
    gs_smoke_config c = small_run(4);
    uint64_t a = train(c, 2, NULL), b = train(c, 2, NULL);
    cr_expect_eq(a, b, "two runs with seed 0 and 2 threads differ: %016llx vs %016llx", (unsigned long long)a,
                 (unsigned long long)b);
    c.seed = 1;
    cr_expect_neq(train(c, 2, NULL), a, "a different seed gave the same weights: the hash tests nothing");
}

Test(determinism_training, same_seed_same_threads_same_bits_vit_adamw) {
    gs_smoke_config c = small_run(3);
    c.backbone.name = "vit-tiny";
    c.backbone.width = 48; /* 3 heads of 16 */
    c.backbone.patch = 8;
    c.optimizer = gs_optimizer_defaults(GS_OPTIM_ADAMW);
    c.optimizer.lr = 1e-3f;
    c.clip_norm = 1.0f;
    cr_expect_eq(train(c, 2, NULL), train(c, 2, NULL));
}

Test(determinism_training, resumed_run_is_bit_identical) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/checkpoint.h5", dir);
    gs_smoke_config straight = small_run(6);
    straight.optimizer = gs_optimizer_defaults(GS_OPTIM_LARS);
    straight.optimizer.lr = 0.1f;
    straight.optimizer.momentum = 0.9f;
    straight.optimizer.weight_decay = 1e-4f;
    uint64_t expected = train(straight, 2, NULL);

    gs_smoke_config first = straight; /* a run killed after step 3 */
    first.steps = 3;
    first.checkpoint_path = path;
    train(first, 2, NULL);
    gs_smoke_config rest = straight;
    rest.checkpoint_path = path;
    rest.resume = true;
    gs_smoke_result r;
    uint64_t resumed = train(rest, 2, &r);
    cr_expect_eq(r.start_step, 3);
    cr_expect_eq(resumed, expected, "resumed %016llx, uninterrupted %016llx", (unsigned long long)resumed,
                 (unsigned long long)expected);
    remove(path);
    remove(dir);
}

static gs_status train_expect_failure(gs_smoke_config c, char *error, size_t size) {
    gs_context ctx;
    gs_context_options options = {.n_threads = 2, .log = {.sink = NULL}};
    gs_context_init(&ctx, &options);
    gs_smoke_result r;
    gs_status status = gs_smoke_train(&ctx, &c, &r);
    snprintf(error, size, "%s", ctx.error);
    gs_context_free(&ctx);
    return status;
}

Test(bad_input_training, diverging_run_names_the_nan_and_keeps_the_checkpoint) {
    char dir[256], path[300], error[512];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/checkpoint.h5", dir);
    gs_smoke_config c = small_run(2);
    c.checkpoint_path = path;
    train(c, 2, NULL);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "no checkpoint after a good run");
    fclose(f);
    /* An absurd learning rate makes the loss overflow to Inf/NaN. */
    c.steps = 40;
    c.resume = true;
    c.optimizer.lr = 1e30f;
    c.warmup_steps = 0;
    gs_status status = train_expect_failure(c, error, sizeof error);
    cr_expect_eq(status, GS_ERR_NONFINITE, "status %d: %s", status, error);
    cr_expect(strstr(error, "diverged") != NULL, "message does not say what happened: %s", error);
    /* The checkpoint written before the divergence still loads. */
    c.optimizer.lr = 0.01f;
    c.steps = 2;
    cr_expect_eq(train_expect_failure(c, error, sizeof error), GS_OK, "%s", error);
    remove(path);
    remove(dir);
}

Test(bad_input_training, resume_from_another_architecture_is_refused) {
    char dir[256], path[300], error[512];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/checkpoint.h5", dir);
    gs_smoke_config c = small_run(1);
    c.checkpoint_path = path;
    train(c, 2, NULL);
    c.backbone.bands = 3;
    c.resume = true;
    c.steps = 2;
    cr_expect_eq(train_expect_failure(c, error, sizeof error), GS_ERR_MISMATCH, "%s", error);
    cr_expect(strstr(error, "bands=5") && strstr(error, "bands=3"), "message should name both: %s", error);
    remove(path);
    remove(dir);
}

Test(bad_input_training, truncated_checkpoint_is_refused) {
    char dir[256], path[300], error[512];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/checkpoint.h5", dir);
    FILE *f = fopen(path, "wb");
    fputs("\x89HDF\r\n\x1a\n truncated", f);
    fclose(f);
    gs_smoke_config c = small_run(2);
    c.checkpoint_path = path;
    c.resume = true;
    cr_expect_eq(train_expect_failure(c, error, sizeof error), GS_ERR_FORMAT, "%s", error);
    cr_expect(strstr(error, path) != NULL, "message should name the file: %s", error);
    remove(path);
    remove(dir);
}

Test(bad_input_training, invalid_setup_is_an_argument_error) {
    char error[512];
    gs_smoke_config c = small_run(2);
    c.batch = 1;
    cr_expect_eq(train_expect_failure(c, error, sizeof error), GS_ERR_ARGUMENT, "%s", error);
    c = small_run(2);
    c.backbone.name = "resnet34";
    cr_expect_eq(train_expect_failure(c, error, sizeof error), GS_ERR_ARGUMENT, "%s", error);
    cr_expect(strstr(error, "resnet34") != NULL, "%s", error);
}
