/* geossl export --checkpoint RUN --out FILE.safetensors writes the encoder
 * of a pretraining run under torchvision's names: gs_weights_import reads it
 * back into the same network, every tensor equal to the checkpoint's, with
 * nothing left over; the metadata name the architecture, the bands, the
 * method and the data; an existing file is kept unless --force. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/weights_import.h"
#include "nn/backbone.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct run_dir {
    char dir[256], data[320], spec[400], run[320], out[320];
} run_dir;

/* Generated EuroSAT and one tiny SimCLR run (width 8, small stem, 1 epoch). */
static void pretrain_once(run_dir *w) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->data, sizeof w->data, "%s/eurosat", w->dir);
    snprintf(w->spec, sizeof w->spec, "eurosat-rgb:%s", w->data);
    snprintf(w->run, sizeof w->run, "%s/run", w->dir);
    snprintf(w->out, sizeof w->out, "%s/encoder.safetensors", w->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = 5};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", w->data, &so, &err), GS_OK, "%s", err.message);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w->spec, "--out", w->run,
                                                 "--epochs", "1", "--batch", "8", "--width", "8", "--stem", "small",
                                                 "--size", "32", "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "pretrain failed: %s", c.err);
}

/* The run's encoder: width 8, small stem, 3 bands, no classifier. */
static void build_encoder(gs_context *ctx, gs_backbone *bb) {
    gs_backbone_config bc = {.name = "resnet18", .bands = 3, .img_size = 32, .width = 8, .stem = GS_STEM_SMALL};
    cr_assert_eq(gs_backbone_init(ctx, bb, &bc), GS_OK, "%s", ctx->error);
}

Test(cli_export, the_exported_encoder_imports_back_equal_to_the_checkpoint) {
    run_dir w;
    pretrain_once(&w);
    captured c = run(gs_cmd_export, (char *[]){"export", "--checkpoint", w.run, "--out", w.out, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "wrote ") && strstr(c.out, w.out) && strstr(c.out, "resnet18"), "%s", c.out);

    gs_context ctx;
    gs_context_init(&ctx, NULL);
    gs_backbone from_checkpoint, imported;
    build_encoder(&ctx, &from_checkpoint);
    build_encoder(&ctx, &imported);
    char checkpoint[400];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.h5", w.run);
    gs_checkpoint_group group = {"model", from_checkpoint.params};
    cr_assert_eq(gs_checkpoint_load(&ctx, checkpoint, &group, 1, NULL, NULL), GS_OK, "%s", ctx.error);
    /* Strict: the file's names are exactly the network's (no prefix stripped,
     * nothing unused, every tensor present). */
    const char *no_prefix[] = {""};
    gs_weights_import_options strict = {.strip_prefixes = no_prefix, .n_strip_prefixes = 0, .unused_is_error = true};
    gs_weights_import_report report;
    cr_assert_eq(gs_weights_import(&ctx, w.out, imported.params, &strict, &report), GS_OK, "%s", ctx.error);
    cr_expect_eq(report.loaded, imported.params->count, "%d of %d tensors", report.loaded, imported.params->count);
    cr_expect_eq(report.unused, 0);
    for (int i = 0; i < imported.params->count; i++) {
        const gs_tensor *a = from_checkpoint.params->items[i].tensor, *b = imported.params->items[i].tensor;
        cr_assert_str_eq(a->name, b->name);
        cr_expect_eq(memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)), 0, "%s differs", a->name);
    }
    /* torchvision's names: the stem, the stages, batchnorm's running statistics. */
    const char *names[] = {"conv1.weight", "bn1.running_mean", "layer4.1.conv2.weight", "layer1.0.bn1.running_var"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_expect_not_null(gs_param_find(imported.params, names[i]), "no %s", names[i]);
    cr_expect_null(gs_param_find(imported.params, "fc.weight"), "the encoder has no classifier");

    gs_safetensors st;
    cr_assert_eq(gs_safetensors_open(&ctx, w.out, &st), GS_OK, "%s", ctx.error);
    cr_expect_str_eq(gs_safetensors_meta(&st, "method"), "simclr");
    cr_expect_str_eq(gs_safetensors_meta(&st, "band_names"), "red,green,blue");
    cr_expect_str_eq(gs_safetensors_meta(&st, "pretrain_data"), "eurosat-rgb");
    cr_expect(strstr(gs_safetensors_meta(&st, "architecture"), "resnet18"));
    gs_safetensors_close(&st);
    gs_backbone_free(&from_checkpoint);
    gs_backbone_free(&imported);
    gs_context_free(&ctx);
    test_remove_tree(w.dir);
}

Test(cli_export, an_existing_file_is_kept_and_bad_usage_is_refused) {
    run_dir w;
    pretrain_once(&w);
    captured c = run(gs_cmd_export, (char *[]){"export", "--checkpoint", w.run, NULL});
    REFUSED(c, "--out FILE.safetensors");
    FILE *f = fopen(w.out, "w");
    cr_assert_not_null(f);
    fputs("keep me", f);
    fclose(f);
    c = run(gs_cmd_export, (char *[]){"export", "--checkpoint", w.run, "--out", w.out, NULL});
    REFUSED(c, w.out, "exists", "--force");
    c = run(gs_cmd_export, (char *[]){"export", "--checkpoint", w.run, "--out", w.out, "--force", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    /* A checkpoint that is not there: a runtime error naming it. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nothing", w.dir);
    c = run(gs_cmd_export, (char *[]){"export", "--checkpoint", missing, "--out", w.out, "--force", NULL});
    cr_expect_eq(c.rc, 1, "%s", c.err);
    cr_expect(strstr(c.err, missing), "%s", c.err);
    test_remove_tree(w.dir);
}
