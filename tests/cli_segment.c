/* geossl eval's segmentation options: --decoder, --freeze-encoder,
 * --iterations and --tile.  An out-of-range or contradictory value is exit 2
 * with one line before any work; a checkpoint whose heads group holds an
 * ASPP starts the DeepLabv3+ head's ASPP (said on stderr, recorded as
 * aspp=pretrained in the settings column), one without says the ASPP starts
 * fresh.  (Named cli_ because only those tests link the commands.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_capture.h"
#include "commands.h"
#include "io/checkpoint.h"
#include "nn/backbone.h"
#include "nn/deeplab.h"
#include "results_store.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct cli_run {
    char dir[256], data[300], spec[320], results[320];
} cli_run;

static void setup(cli_run *w) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->data, sizeof w->data, "%s/potsdam", w->dir);
    snprintf(w->spec, sizeof w->spec, "potsdam:%s", w->data);
    snprintf(w->results, sizeof w->results, "%s/results.csv", w->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 5, .count = 2, .size = 256};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("potsdam", w->data, &so, &err), GS_OK, "%s", err.message);
}

Test(cli_segment, bad_or_contradictory_options_are_one_line_and_exit_2) {
    cli_run w;
    setup(&w);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--protocol", "segment",
                                             "--iterations", "0", NULL});
    REFUSED(c, "--iterations", "0", "1 to");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--decoder", "deeplabv3plus",
                                    "--protocol", "knn", NULL});
    REFUSED(c, "--decoder deeplabv3plus", "segment", "knn");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--decoder", "unet", "--protocol",
                                    "segment", NULL});
    REFUSED(c, "--decoder", "fpn, deeplabv3plus");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--protocol", "segment", "--epochs",
                                    "2", "--iterations", "5", NULL});
    REFUSED(c, "--iterations 5", "--epochs 2");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--protocol", "linear",
                                    "--freeze-encoder", NULL});
    REFUSED(c, "--freeze-encoder", "linear");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--protocol", "knn", "--iterations",
                                    "3", NULL});
    REFUSED(c, "--iterations", "knn");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--protocol", "segment", "--backbone",
                                    "vit-tiny", NULL});
    REFUSED(c, "segment", "vit-tiny", "not a ResNet");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--tile", "8", NULL});
    REFUSED(c, "--tile", "16 to");
    test_remove_tree(w.dir);
}

/* A checkpoint as a GLCNet pretraining run leaves it: the encoder in
 * "model", the ASPP (with_aspp) and a pretraining decoder in "heads", and
 * the run configuration eval reads the backbone from. */
static void write_checkpoint(const char *path, bool with_aspp) {
    gs_context ctx;
    gs_context_options co = {.n_threads = 1, .seed = 3};
    gs_context_init(&ctx, &co);
    gs_backbone bb;
    gs_backbone_config bc = {.name = "resnet18", .bands = 4, .img_size = 64, .width = 8, .output_stride = 16};
    cr_assert_eq(gs_backbone_init(&ctx, &bb, &bc), GS_OK, "%s", ctx.error);
    gs_deeplab_config dc = gs_deeplab_default_config(bb.resnet.stage_channels[3], bb.resnet.stage_channels[0], 16, 64);
    gs_param_list aspp = {0}, decoder = {0}, heads = {0};
    gs_deeplab dl;
    cr_assert_eq(gs_deeplab_init(&ctx, &aspp, &decoder, &dl, &dc), GS_OK, "%s", ctx.error);
    for (int i = 0; with_aspp && i < aspp.count; i++) gs_param_add_existing(&ctx, &heads, aspp.items[i]);
    for (int i = 0; i < decoder.count; i++) gs_param_add_existing(&ctx, &heads, decoder.items[i]);
    gs_checkpoint_group groups[2] = {{"model", bb.params}, {"heads", &heads}};
    gs_checkpoint_meta meta = {.architecture = bb.arch,
                               .config = "pretrain method=glcnet backbone=resnet18 width=8 patch=16 stem=imagenet "
                                         "bands=4 data=potsdam"};
    cr_assert_eq(gs_checkpoint_save(&ctx, path, groups, 2, &meta), GS_OK, "%s", ctx.error);
    gs_param_list_free(&heads);
    gs_param_list_free(&aspp);
    gs_param_list_free(&decoder);
    gs_backbone_free(&bb);
    gs_context_free(&ctx);
}

Test(cli_segment, a_checkpoints_aspp_starts_the_deeplab_head) {
    cli_run w;
    setup(&w);
    char with[400], without[400];
    snprintf(with, sizeof with, "%s/glcnet.h5", w.dir);
    snprintf(without, sizeof without, "%s/plain.h5", w.dir);
    write_checkpoint(with, true);
    write_checkpoint(without, false);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", with, "--data", w.spec, "--tile", "64",
                                             "--protocol", "segment", "--decoder", "deeplabv3plus", "--iterations",
                                             "2", "--batch", "4", "--threads", "1", "--workers", "1",
                                             "--freeze-encoder", "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "the ASPP starts from") && strstr(c.err, "decoder fresh"), "stderr: %s", c.err);
    cr_expect(strstr(c.out, "miou_tile_mean") != NULL, "stdout: %s", c.out);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    cr_assert_gt(r.n_rows, 0);
    const char *want = "iterations=2;batch=4;lr=0.01;weight_decay=0.0001;encoder=frozen;decoder=deeplabv3plus;"
                       "aspp=pretrained;splits=official;pretrain_steps=0;data=48:"; /* a hand-made checkpoint: step 0 */
    cr_expect(!strncmp(r.rows[0].settings, want, strlen(want)) && strlen(r.rows[0].settings) == strlen(want) + 8,
              "settings: %s", r.rows[0].settings);
    cr_expect_str_eq(r.rows[0].method, "glcnet");
    gs_results_free(&r);

    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", without, "--data", w.spec, "--tile", "64", "--protocol",
                                    "segment", "--decoder", "deeplabv3plus", "--iterations", "1", "--batch", "4",
                                    "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "the ASPP starts fresh") && strstr(c.err, "holds no aspp"), "stderr: %s", c.err);
    cr_expect(strstr(c.err, "the ASPP starts from") == NULL, "stderr: %s", c.err);
    test_remove_tree(w.dir);
}

/* GLCNet's pretraining builds its ASPP at 256 x width / 64 channels: a
 * narrow run's checkpoint still starts the DeepLabv3+ head that evaluates
 * it (the ASPP keeps the checkpoint's width). */
Test(cli_segment, a_narrow_glcnet_run_is_evaluated_with_its_aspp) {
    cli_run w;
    setup(&w);
    char run_dir[400];
    snprintf(run_dir, sizeof run_dir, "%s/glcnet", w.dir);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "glcnet", "--data", w.spec, "--out", run_dir,
                                                 "--size", "64", "--width", "8", "--batch", "2", "--epochs", "1",
                                                 "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", run_dir, "--data", w.spec, "--protocol", "segment",
                                    "--decoder", "deeplabv3plus", "--iterations", "2", "--batch", "2", "--tile", "64",
                                    "--threads", "1", "--workers", "1", "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "ASPP starts from"), "%s", c.err);
    /* The run's DeepLab dilation (GLCNet's default) is the evaluated encoder's too, and the row says so. */
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    cr_assert_gt(r.n_rows, 0);
    cr_expect(strstr(r.rows[0].settings, ";aspp=pretrained;dilation=deeplab;"), "%s", r.rows[0].settings);
    gs_results_free(&r);
    test_remove_tree(w.dir);
}
