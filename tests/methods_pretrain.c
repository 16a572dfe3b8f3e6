/* Methods: the NT-Xent identity, losses going down, and a pretraining run
 * stopped after one epoch and resumed ending with the same weights as an
 * uninterrupted one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "gradcheck.h"
#include "io/checkpoint.h"
#include "nn/backbone.h"
#include "pretrain.h"
#include "simclr.h"
#include "synthetic.h"
#include "test_paths.h"
#include "train/smoke.h"



/* All 2N embeddings equal: every logit but the masked diagonal is the same,
 * so the loss is log(2N - 1) for any temperature. */
Test(methods_pretrain, nt_xent_of_identical_embeddings_is_log_2n_minus_1) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    for (int n = 2; n <= 8; n *= 2) {
        gs_step_begin(&ctx);
        gs_tensor *z = gs_activation(&ctx, GS_DIMS(2 * n, 5));
        for (int64_t i = 0; i < z->numel; i++) z->data[i] = (float)(i % 5) + 1.0f;
        gs_tensor *loss = gs_nt_xent(&ctx, z, 0.2f);
        cr_assert_not_null(loss, "%s", ctx.error);
        cr_expect_float_eq(loss->data[0], logf((float)(2 * n - 1)), 1e-5f, "N=%d: %g", n, (double)loss->data[0]);
    }
    gs_context_free(&ctx);
}

typedef struct run_dir {
    char dir[256], spec[320];
    gs_dataset ds;
} run_dir;

static void make_data(run_dir *r) {
    test_temp_dir(r->dir, sizeof r->dir);
    char data[300];
    snprintf(data, sizeof data, "%s/eurosat", r->dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 8};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(r->spec, sizeof r->spec, "eurosat-rgb:%s", data);
}

static gs_pretrain_result pretrain_logged(run_dir *r, const char *method, int epochs, const char *ckpt, bool resume,
                                          int64_t stop_after, const char *log_csv) {
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(r->spec, NULL, &r->ds, &err), GS_OK, "%s", err.message);
    gs_context ctx;
    gs_context_options co = {.n_threads = 2, .seed = 4};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {.method = method, .backbone = {.name = "resnet18", .width = 16}, .epochs = epochs,
                             .batch = 16, .weight_decay = -1, .optimizer = -1, .seed = 9, .workers = 2,
                             .checkpoint = ckpt, .resume = resume, .stop_after = stop_after, .stats_dir = r->dir,
                             .head_hidden = 64, .head_dim = 256, .local_crops = 2, .log_csv = log_csv};
    gs_pretrain_result out;
    cr_assert_eq(gs_pretrain(&ctx, &r->ds, &pc, &out, &err), GS_OK, "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&r->ds);
    return out;
}

static gs_pretrain_result pretrain(run_dir *r, const char *method, int epochs, const char *ckpt, bool resume,
                                   int64_t stop_after) {
    return pretrain_logged(r, method, epochs, ckpt, resume, stop_after, NULL);
}

/* The encoder's weights in a checkpoint, hashed. */
static uint64_t encoder_hash(const char *ckpt) {
    gs_context ctx;
    gradcheck_context(&ctx, 1);
    gs_backbone bb;
    gs_backbone_config bc = {.name = "resnet18", .bands = 3, .img_size = 64, .width = 16};
    cr_assert_eq(gs_backbone_init(&ctx, &bb, &bc), GS_OK);
    gs_checkpoint_group g = {"model", bb.params};
    gs_checkpoint_load_options lo = {.allow_unused = true};
    cr_assert_eq(gs_checkpoint_load(&ctx, ckpt, &g, 1, NULL, &lo), GS_OK, "%s", ctx.error);
    uint64_t h = gs_params_hash(bb.params, 0);
    gs_backbone_free(&bb);
    gs_context_free(&ctx);
    return h;
}

static void resume_matches(const char *method) {
    run_dir r;
    make_data(&r);
    char straight[400], split[400];
    snprintf(straight, sizeof straight, "%s/straight.h5", r.dir);
    snprintf(split, sizeof split, "%s/split.h5", r.dir);
    gs_pretrain_result a = pretrain(&r, method, 2, straight, false, 0);
    cr_expect(isfinite(a.final_loss));
    /* The same run killed after its first epoch (80 images, batch 16: 5 steps)... */
    gs_pretrain_result k = pretrain(&r, method, 2, split, false, 5);
    cr_expect_eq(k.steps, 5);
    /* ...and resumed from its checkpoint. */
    gs_pretrain_result b = pretrain(&r, method, 2, split, true, 0);
    cr_expect_eq(b.start_step, a.steps / 2, "resumed at step %lld", (long long)b.start_step);
    cr_expect_eq(b.steps, a.steps);
    cr_expect_eq(encoder_hash(split), encoder_hash(straight), "%s: resumed weights differ", method);
    test_remove_tree(r.dir);
}

Test(methods_pretrain, simclr_resumes_bit_identically) { resume_matches("simclr"); }
Test(methods_pretrain, byol_resumes_bit_identically) { resume_matches("byol"); }
/* MoCo's queue and pointer, DINO's center and teacher, and AdamW's
 * per-parameter counts travel in the checkpoint too. */
Test(methods_pretrain, moco_resumes_bit_identically) { resume_matches("mocov2"); }
Test(methods_pretrain, dino_resumes_bit_identically) { resume_matches("dino"); }

/* Several dates per location are for seasonal methods: the four
 * single-image methods refuse them, naming the data and the method. */
Test(methods_pretrain, single_image_methods_refuse_multi_date_data) {
    run_dir r;
    test_temp_dir(r.dir, sizeof r.dir);
    char data[300];
    snprintf(data, sizeof data, "%s/seco", r.dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 4};
    cr_assert_eq(gs_synth_write("seco", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(r.spec, sizeof r.spec, "seco:%s", data);
    cr_assert_eq(gs_dataset_open(r.spec, NULL, &r.ds, &err), GS_OK, "%s", err.message);
    cr_assert_gt(r.ds.dates, 1);
    gs_context ctx;
    gs_context_options co = {.n_threads = 1, .seed = 4};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {.method = "mocov2", .backbone = {.name = "resnet18", .width = 8}, .epochs = 1, .batch = 2,
                             .weight_decay = -1, .optimizer = -1, .workers = 1, .stats_dir = r.dir};
    gs_pretrain_result out;
    cr_expect_eq(gs_pretrain(&ctx, &r.ds, &pc, &out, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "dates per sample") && strstr(err.message, "mocov2"), "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&r.ds);
    test_remove_tree(r.dir);
}

/* log.csv's (step, loss) rows. */
static int read_log(const char *path, long long *steps, double *losses, int max) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no training log %s", path);
    char line[512];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_expect_str_eq(line, "step,epoch,loss,lr,embedding_std,img_per_s\n");
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        long long epoch;
        double lr;
        cr_assert_eq(sscanf(line, "%lld,%lld,%lf,%lf", &steps[n], &epoch, &losses[n], &lr), 4, "row '%s'", line);
        n++;
    }
    fclose(f);
    return n;
}

/* A run killed two steps past its last checkpoint (step 5) has logged
 * steps 6 and 7 that the resumed run repeats: the log keeps each step once,
 * in order, with the losses of the uninterrupted run. */
Test(methods_pretrain, training_log_survives_a_kill_and_resume) {
    run_dir r;
    make_data(&r);
    char straight[400], split[400], straight_log[400], split_log[400];
    snprintf(straight, sizeof straight, "%s/straight.h5", r.dir);
    snprintf(split, sizeof split, "%s/split.h5", r.dir);
    snprintf(straight_log, sizeof straight_log, "%s/straight.csv", r.dir);
    snprintf(split_log, sizeof split_log, "%s/split.csv", r.dir);
    gs_pretrain_result a = pretrain_logged(&r, "simclr", 2, straight, false, 0, straight_log);
    pretrain_logged(&r, "simclr", 2, split, false, 7, split_log);
    long long steps[64], steps2[64];
    double losses[64], losses2[64];
    cr_assert_eq(read_log(split_log, steps2, losses2, 64), 7, "the killed run logged its 7 steps");
    pretrain_logged(&r, "simclr", 2, split, true, 0, split_log);
    int n = read_log(straight_log, steps, losses, 64), n2 = read_log(split_log, steps2, losses2, 64);
    cr_assert_eq(n, (int)a.steps);
    cr_assert_eq(n2, n, "resumed log has %d rows, the straight one %d", n2, n);
    for (int i = 0; i < n; i++) {
        cr_expect_eq(steps[i], i + 1);
        cr_expect_eq(steps2[i], i + 1, "row %d is step %lld", i, steps2[i]);
        cr_expect(losses2[i] == losses[i], "step %d: loss %.6f after resume, %.6f straight", i + 1, losses2[i],
                  losses[i]);
    }
    test_remove_tree(r.dir);
}

/* The warm-up: a zero-initialized config (suites, the demo, every caller
 * that predates --warmup-epochs) keeps 10% of the steps; a given one,
 * 0 included, is taken; a method with its own schedule refuses only a
 * given one. */
Test(methods_pretrain, warmup_defaults_to_a_tenth_and_zero_means_none) {
    gs_error err = {0};
    int64_t warmup = -1;
    gs_pretrain_config c = {.method = "simclr"};
    cr_assert_eq(gs_pretrain_warmup_steps(&c, 7, 70, &warmup, &err), GS_OK, "%s", err.message);
    cr_expect_eq(warmup, 7);
    c.has_warmup = true; /* warmup_epochs 0: none */
    cr_assert_eq(gs_pretrain_warmup_steps(&c, 7, 70, &warmup, &err), GS_OK, "%s", err.message);
    cr_expect_eq(warmup, 0);
    c.warmup_epochs = 1.5;
    cr_assert_eq(gs_pretrain_warmup_steps(&c, 7, 70, &warmup, &err), GS_OK, "%s", err.message);
    cr_expect_eq(warmup, 11); /* 10.5 rounded */
    c.warmup_epochs = 11;
    cr_expect_eq(gs_pretrain_warmup_steps(&c, 7, 70, &warmup, &err), GS_ERR_ARGUMENT);
    gs_pretrain_config own = {.method = "glcnet"};
    err = (gs_error){0};
    cr_expect_eq(gs_pretrain_warmup_steps(&own, 7, 70, &warmup, &err), GS_OK, "%s", err.message);
    own.has_warmup = true;
    cr_expect_eq(gs_pretrain_warmup_steps(&own, 7, 70, &warmup, &err), GS_ERR_ARGUMENT);
}
